"""SQLAlchemy 2 typed models: the whole schema of smOS Coach.

Times are stored in UTC (aware on the way out); dates are calendar dates in the
owner's time zone. Schema changes go through Alembic (storage/migrations).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    false,
    func,
    literal_column,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


DEFAULT_ORG = 1  # the organisation a one-org deployment (the CLI, the console) works in


class Organization(Base):
    """A customer organisation (tenant): its people, and the chat workspaces that are its own."""

    __tablename__ = "organization"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The first run of the operating rhythm's due work for it (bot/rhythm/due.py): what
    # fell due before is not caught up.
    rhythm_started_at: Mapped[datetime | None]


class OrgWorkspace(Base):
    """A chat workspace (Slack team or enterprise, Teams tenant) that belongs to one org.

    Only people of that org can be reached from that workspace: identity is scoped here.
    """

    __tablename__ = "org_workspace"
    __table_args__ = (UniqueConstraint("platform", "workspace_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    platform: Mapped[str] = mapped_column(String(20))  # slack | teams
    workspace_id: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime]


class Team(Base):
    """A manager's group of direct reports (the unit of the digest's "across teams")."""

    __tablename__ = "team"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), unique=True)


class Person(Base):
    """Someone in an organisation; email and platform ids are unique within their org."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("org_id", "email"),
                      UniqueConstraint("org_id", "slack_user_id"),
                      UniqueConstraint("org_id", "teams_user_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # rep | manager | leader | admin
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    slack_user_id: Mapped[str | None] = mapped_column(String(64))
    teams_user_id: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Out of office through this local date (/away): no check-in, no nudges meanwhile.
    away_until: Mapped[date | None] = mapped_column(Date)
    # Erased (``coach privacy delete``): anonymous and inactive; their history stays
    # counted in the figures of the weeks around it (storage/digest.py).
    erased_at: Mapped[datetime | None]


class CoachingSession(Base):
    __tablename__ = "coaching_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    roam_snapshot: Mapped[dict[str, Any] | None]
    focus_area: Mapped[str | None] = mapped_column(String(64))
    rep_aligned: Mapped[bool | None]
    problem_agreed: Mapped[bool | None]
    chart_answers: Mapped[dict[str, Any] | None]
    leaf: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(40))
    agreed_solution: Mapped[str | None] = mapped_column(Text)
    metric: Mapped[str | None] = mapped_column(String(200))
    baseline: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    review_date: Mapped[date | None] = mapped_column(Date)
    next_model: Mapped[str | None] = mapped_column(String(20))
    rep_committed: Mapped[bool | None]
    rep_acknowledged_at: Mapped[datetime | None]


class SessionStage(Base):
    """What was recorded in one SLED stage (S, L, E, D) or one model stage."""

    __tablename__ = "session_stage"
    __table_args__ = (UniqueConstraint("session_id", "model", "stage", "round"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("coaching_session.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(20))  # sled | training | coaching
    stage: Mapped[str] = mapped_column(String(20))
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # its ModelRun's
    values: Mapped[dict[str, Any]]
    recorded_at: Mapped[datetime]


class ModelRun(Base):
    """A field-training or coaching run handed off from a session's D stage.

    ``round`` counts the runs of one model for one session (a training repeated is round
    2); ``review_due`` is set when a coaching run's Review is planned for a later day."""

    __tablename__ = "model_run"
    __table_args__ = (UniqueConstraint("session_id", "model", "round"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("coaching_session.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(20))
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    review_due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    decision: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class PrivateNote(Base):
    """A manager-only note: never shown to the rep, never in digest text or an LLM prompt."""

    __tablename__ = "private_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("coaching_session.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Escalation(Base):
    __tablename__ = "escalation"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("coaching_session.id", ondelete="CASCADE"))
    leaf: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    impact: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime]
    fix_owner: Mapped[str | None] = mapped_column(Text)  # who should own the fix
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id", ondelete="SET NULL"))
    # The owner's inbox (/escalations): status open → acknowledged → resolved (with a note).
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)


class EscalationEvent(Base):
    """An escalation's audit trail: who acknowledged, resolved or reassigned it, and when
    (a reassignment names the owner before and after)."""

    __tablename__ = "escalation_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(
        ForeignKey("escalation.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # acknowledged, resolved, reassigned
    actor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime]
    from_owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    to_owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    note: Mapped[str | None] = mapped_column(Text)


class ActionItem(Base):
    __tablename__ = "action_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("coaching_session.id", ondelete="CASCADE"), index=True
    )
    # by rep: ix_action_item_rep_status_due (its first column), so the planner has one path
    rep_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The rep sees it (plan DM, App Home, check-in): their own by default, never after a
    # private leaf. Only the owner may change its status.
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Review(Base):
    __tablename__ = "review"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("coaching_session.id", ondelete="CASCADE"))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    held_at: Mapped[datetime | None]
    metric_value: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str | None] = mapped_column(String(20))
    leaf: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[dict[str, Any] | None]


class PlannedSession(Base):
    """The next coaching session for a rep, chosen when a review closed a focus (METHOD §6:
    the loop goes on). ``/coach`` picks it up: status planned → started (``session_id``)."""

    __tablename__ = "planned_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    focus_area: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="planned")  # planned | started
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id", ondelete="SET NULL"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("coaching_session.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class LeafOutcome(Base):
    """What was agreed after a solution-chart leaf (METHOD §4): a typed record from
    flows/leaf_records.py, by kind, in a session or a review's rerun of the chart."""

    __tablename__ = "leaf_outcome"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("coaching_session.id", ondelete="CASCADE"), index=True)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"))
    leaf: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    values: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class Checkin(Base):
    __tablename__ = "checkin"
    __table_args__ = (UniqueConstraint("person_id", "period_start"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    period_start: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    answered_at: Mapped[datetime | None]
    got_coaching: Mapped[bool | None]
    blockers: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[int | None] = mapped_column(Integer)
    activity: Mapped[dict[str, Any] | None]
    action_updates: Mapped[dict[str, Any] | None]
    # The rhythm (bot/rhythm/checkins.py): when it was last put to the rep, and when a
    # snooze asks again. status: open | answered | snoozed | out_of_office | missed
    asked_at: Mapped[datetime | None]
    ask_again_at: Mapped[datetime | None]


class CheckinBlocker(Base):
    """One blocker a rep named in a check-in's free text, tagged by the language model after
    the check-in was stored (bot/llm): the digest counts them by tag. ``quote`` is the rep's
    own words as sent to the model (redacted); it never reaches a digest."""

    __tablename__ = "checkin_blocker"
    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkin.id", ondelete="CASCADE"),
                                            index=True)
    tag: Mapped[str] = mapped_column(String(40))
    quote: Mapped[str] = mapped_column(Text)


class Metric(Base):
    __tablename__ = "metric"
    __table_args__ = (UniqueConstraint("person_id", "period_start", "period_end", "metric"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    metric: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # result | activity
    target: Mapped[float] = mapped_column(Float)
    actual: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(40), default="import")


class Cadence(Base):
    __tablename__ = "cadence"
    __table_args__ = (UniqueConstraint("owner_id", "meeting_type", "subject_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    meeting_type: Mapped[str] = mapped_column(String(64))
    rhythm: Mapped[str] = mapped_column(String(20))
    day: Mapped[str] = mapped_column(String(3))
    time: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    planned_until: Mapped[datetime | None]  # occurrences are materialised up to here


class CadenceOccurrence(Base):
    __tablename__ = "cadence_occurrence"
    __table_args__ = (UniqueConstraint("cadence_id", "scheduled_for"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cadence_id: Mapped[int] = mapped_column(ForeignKey("cadence.id", ondelete="CASCADE"))
    scheduled_for: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="planned")  # held|moved|skipped
    held_at: Mapped[datetime | None]
    moved_to: Mapped[datetime | None]  # the new time is a planned occurrence of its own
    checked_at: Mapped[datetime | None]  # when the owner said held / moved / skipped


class Conversation(Base):
    """The persisted state of one conversation; ``version`` guards concurrent turns."""

    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("platform", "tenant", "user_key", "flow", "subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    tenant: Mapped[str] = mapped_column(String(64))
    user_key: Mapped[str] = mapped_column(String(128))
    flow: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    status: Mapped[str] = mapped_column(String(20))  # active | paused | ended
    state: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class TransitionLog(Base):
    """Append-only: every move of every conversation; also the audit trail."""

    __tablename__ = "transition_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime]
    flow: Mapped[str] = mapped_column(String(20))
    from_step: Mapped[str | None] = mapped_column(String(64))
    to_step: Mapped[str | None] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(40))
    version: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None]


class SlackView(Base):
    """Which Slack user a modal we opened belongs to: a button may only update its owner's
    view (Slack's payload does not say whose a view is)."""

    __tablename__ = "slack_view"
    view_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    user_key: Mapped[str] = mapped_column(String(128))
    opened_at: Mapped[datetime] = mapped_column(index=True)


class TeamsConversation(Base):
    """A Teams conversation the bot may write to later (a proactive message): the Bot
    Framework conversation reference, stored when the app is installed and on a person's
    first message, removed when it is uninstalled. ``user_key`` is the person's Entra
    object id in a personal chat, "" for a team or group chat."""

    __tablename__ = "teams_conversation"
    __table_args__ = (UniqueConstraint("tenant", "conversation_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(400))
    user_key: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(20))  # personal | team | groupChat
    reference: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class ProcessedEvent(Base):
    __tablename__ = "processed_event"
    __table_args__ = (UniqueConstraint("platform", "tenant", "event_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    tenant: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime]


class Outbox(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    created_at: Mapped[datetime]
    first_leased_at: Mapped[datetime | None]  # a later lease may be a resend: check first
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class ModelRequest(Base):
    """One request to the language model: what for, how big, how long, how it ended and
    what it cost in tokens. ``content`` (what was sent and received) is kept only when
    the org's playbook says ``llm.log_content``; otherwise it stays empty."""

    __tablename__ = "model_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    purpose: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200))
    api: Mapped[str] = mapped_column(String(20))
    request_chars: Mapped[int] = mapped_column(Integer)
    response_chars: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(String(500))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[dict[str, Any] | None]


class AuditEvent(Base):
    """An administrative act: who did what to what, and when (``coach audit log``). The
    subject is named by id ("person:12", "slack:T0123"), never by email or name, so the
    log itself holds nobody's personal data."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    actor: Mapped[str] = mapped_column(String(200))  # "cli:<user>", "person:<id>", "scheduler"
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))  # privacy.delete, people.import, ...
    subject: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any] | None]


# The unsent rows only (partial), each channel's in order with when they may go: a
# sender's lease walks its channel's, skipping in the index those not due yet; the
# /metrics backlog and the held digests read them all. None reads the sent history.
UNSENT_ROW = Outbox.status == "pending"
Index("ix_outbox_due", Outbox.kind, Outbox.id, Outbox.not_before,
      postgresql_where=UNSENT_ROW, sqlite_where=UNSENT_ROW)
# A turn's reply the platform would not take waits in the outbox under a key starting with
# REPLY_KEY_PREFIX (storage/replies.py); every Teams turn asks whether any of its
# speaker's still wait: only the waiting replies are in this index (none, most of the
# time), not every message queued to everyone.
REPLY_KEY_PREFIX = "reply:"
REPLY_WAITING = and_(UNSENT_ROW, Outbox.idempotency_key.like(
    literal_column(f"'{REPLY_KEY_PREFIX}%'")))
Index("ix_outbox_reply_waiting", Outbox.kind, Outbox.not_before,
      postgresql_where=REPLY_WAITING, sqlite_where=REPLY_WAITING)
# A proactive message finds the recipient's personal chat by (tenant, their Entra id).
Index("ix_teams_conversation_user", TeamsConversation.tenant, TeamsConversation.user_key,
      TeamsConversation.scope)
# The turn's first query matches all five: with only (person_id, status) SQLite preferred
# the unique key's (platform, tenant, user_key) and walked every ended conversation.
Index("ix_conversation_person", Conversation.person_id, Conversation.status,
      Conversation.platform, Conversation.tenant, Conversation.user_key)
# Issue "stay flat": the reads of /review, the escalation inbox and the open-action lists
# go by these columns; without them each scans a table that grows with history.
Index("ix_review_session_status", Review.session_id, Review.status)
Index("ix_escalation_owner_status", Escalation.owner_id, Escalation.status)
Index("ix_action_item_rep_status_due", ActionItem.rep_id, ActionItem.status, ActionItem.due_date)
Index("ix_coaching_session_rep_ended", CoachingSession.rep_id, CoachingSession.ended_at)
# The weekly digest of a whole org (a VP's) reads the reported weeks by these (0010), and
# finds in them every column it counts (0018): on PostgreSQL an index-only scan once the
# table is vacuumed, not a visit to every page of the window's rows.
Index("ix_coaching_session_ended", CoachingSession.ended_at,
      postgresql_include=["status", "rep_id", "manager_id", "category", "focus_area", "leaf"])
Index("ix_checkin_period_person", Checkin.period_start, Checkin.person_id,
      postgresql_include=["status", "got_coaching"])
Index("ix_metric_period", Metric.period_start,
      postgresql_include=["period_end", "kind", "person_id", "metric", "actual", "target"])
Index("ix_cadence_occurrence_scheduled_for", CadenceOccurrence.scheduled_for)
# The /coach picker's search of a large tree (storage.people.search): the start of a name
# (any case) or of an email, compared byte by byte (PostgreSQL's pattern operators).
Index("ix_person_name_search", Person.org_id, func.lower(Person.name).label("name_key"),
      postgresql_ops={"name_key": "text_pattern_ops"})
Index("ix_person_email_search", Person.org_id, Person.email,
      postgresql_ops={"email": "text_pattern_ops"})
# The leader's and VP's figures (storage.overviews.tree_figures) join the tree's reps to
# what is current, not to the history: open action items (storage.coaching.OPEN_ACTION, which
# imports this module), completed sessions by end time.
Index("ix_action_item_open", ActionItem.rep_id, ActionItem.due_date,
      postgresql_where=ActionItem.status.in_(["open", "in_progress", "blocked"]),
      sqlite_where=ActionItem.status.in_(["open", "in_progress", "blocked"]))
Index("ix_coaching_session_completed_ended", CoachingSession.ended_at, CoachingSession.rep_id,
      postgresql_where=CoachingSession.status == "completed",
      sqlite_where=CoachingSession.status == "completed")
# Issue 10: the rhythm reads windows of time by status, never the whole history.
Index("ix_cadence_occurrence_status_at", CadenceOccurrence.status, CadenceOccurrence.scheduled_for)
Index("ix_checkin_status_asked", Checkin.status, Checkin.asked_at)
Index("ix_action_item_status_due", ActionItem.status, ActionItem.due_date)
Index("ix_review_status_due", Review.status, Review.due_date)
# Issue 12: the retention job (storage/retention.py) finds the free text past its time by
# these; a row leaves its index once its text is cleared, so each run reads only new rows.
Index("ix_checkin_text_answered", Checkin.answered_at,
      postgresql_where=Checkin.blockers.is_not(None) | Checkin.action_updates.is_not(None),
      sqlite_where=Checkin.blockers.is_not(None) | Checkin.action_updates.is_not(None))
Index("ix_private_note_created_at", PrivateNote.created_at)
Index("ix_action_item_noted", ActionItem.updated_at,
      postgresql_where=ActionItem.note.is_not(None), sqlite_where=ActionItem.note.is_not(None))
Index("ix_conversation_ended", Conversation.updated_at,
      postgresql_where=Conversation.status == "ended",
      sqlite_where=Conversation.status == "ended")
# A pipeline review's prep nudge: a rep's actions opened or done since the last one (0016);
# the digest's action figures read the columns it includes (0018).
Index("ix_action_item_rep_changed", ActionItem.rep_id, ActionItem.updated_at,
      postgresql_include=["status", "created_at", "due_date"])
# Issue 11: a model's late answer updates the person's latest open Slack modal.
Index("ix_slack_view_user", SlackView.tenant, SlackView.user_key, SlackView.opened_at)
