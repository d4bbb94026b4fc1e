"""Everything stored about one person: the rows that refer to them (by id, by their chat
ids or their email) and the rows of anyone else whose text names them. One definition,
read by ``coach privacy export`` and acted on by ``coach privacy delete``
(storage/erasure.py), so the export shows exactly what a deletion touches.

A person is found by email within one organisation. Reading is not on any hot path: the
search for mentions reads every text and JSON column of every table, on purpose (free text
anywhere may name them)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    and_,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast

from storage.models import (
    DEFAULT_ORG,
    ActionItem,
    AuditEvent,
    Base,
    Cadence,
    CadenceOccurrence,
    Checkin,
    CoachingSession,
    Conversation,
    Escalation,
    EscalationEvent,
    LeafOutcome,
    Metric,
    ModelRequest,
    ModelRun,
    Organization,
    OrgWorkspace,
    Outbox,
    Person,
    PlannedSession,
    PrivateNote,
    Review,
    SessionStage,
    SlackView,
    Team,
    TeamsConversation,
    TransitionLog,
)

Row = dict[str, Any]
SKIPPED_TABLES = ("alembic_version",)


@dataclass(frozen=True, slots=True)
class Someone:
    """The person as stored: what identifies them anywhere in the database."""

    id: int
    org_id: int
    email: str
    name: str
    slack_user_id: str | None
    teams_user_id: str | None
    erased: bool


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def matching(conn: Connection, email: str, org_id: int | None = None) -> list[Someone]:
    """The people with this email (one per org), in ``org_id`` only when given."""
    p = _table(Person).c
    query = select(p.id, p.org_id, p.email, p.name, p.slack_user_id, p.teams_user_id,
                   p.erased_at.is_not(None)).where(p.email == email.strip().lower())
    if org_id is not None:
        query = query.where(p.org_id == org_id)
    return [Someone(*row) for row in conn.execute(query.order_by(p.org_id))]


@dataclass(frozen=True, slots=True)
class Related:
    """The ids a person's footprint is built from."""

    sessions_as_rep: tuple[int, ...]
    sessions: tuple[int, ...]  # as rep or as coach
    escalations: tuple[int, ...]
    cadences: tuple[int, ...]
    conversations: tuple[int, ...]  # their own, and others' about them
    own_conversations: tuple[int, ...]
    email_shared: bool  # someone of another org has the same email (outbox rows by tenant)


def _ids(conn: Connection, query: Any) -> tuple[int, ...]:
    return tuple(sorted({int(i) for i in conn.execute(query).scalars()}))


def related(conn: Connection, someone: Someone) -> Related:
    pid = someone.id
    s = _table(CoachingSession).c
    as_rep = _ids(conn, select(s.id).where(s.rep_id == pid))
    sessions = _ids(conn, select(s.id).where(or_(s.rep_id == pid, s.manager_id == pid)))
    e = _table(Escalation).c
    escalations = _ids(conn, select(e.id).where(or_(
        e.session_id.in_(sessions), e.owner_id == pid, e.raised_by_id == pid)))
    c = _table(Cadence).c
    cadences = _ids(conn, select(c.id).where(or_(c.owner_id == pid, c.subject_id == pid)))
    k = _table(Conversation).c
    own = _ids(conn, select(k.id).where(k.person_id == pid))
    about = _ids(conn, select(k.id).where(k.subject == str(pid)))
    p = _table(Person).c
    shared = bool(conn.execute(select(func.count()).where(
        p.email == someone.email, p.id != pid)).scalar())
    return Related(as_rep, sessions, escalations, cadences, tuple(sorted({*own, *about})), own,
                   shared)


def _to_them(someone: Someone, ids: Related) -> ColumnElement[bool]:
    """Outbox rows to the person: by email; when another org has the same email, only the
    rows sent through a workspace of their org (or the default org's console)."""
    box = _table(Outbox).c
    if not ids.email_shared:
        return box.target == someone.email
    links = _table(OrgWorkspace).c
    tenant = box.payload["tenant"].as_string()
    in_org = select(links.id).where(links.platform == box.kind, links.workspace_id == tenant,
                                    links.org_id == someone.org_id).exists()
    console = and_(box.kind == "console", literal(someone.org_id == DEFAULT_ORG))
    return and_(box.target == someone.email, or_(in_org, console))


def references(someone: Someone, ids: Related) -> dict[str, ColumnElement[bool]]:
    """Per table, the rows that refer to the person (the footprint's one definition)."""
    pid = someone.id
    chat_ids = [i for i in (someone.slack_user_id, someone.teams_user_id) if i]

    def c(model: type[Base]) -> Any:
        return _table(model).c

    return {
        "person": c(Person).id == pid,
        "team": c(Team).manager_id == pid,
        "coaching_session": c(CoachingSession).id.in_(ids.sessions),
        "session_stage": c(SessionStage).session_id.in_(ids.sessions),
        "model_run": c(ModelRun).session_id.in_(ids.sessions),
        "private_note": or_(c(PrivateNote).session_id.in_(ids.sessions),
                            c(PrivateNote).author_id == pid),
        "review": c(Review).session_id.in_(ids.sessions),
        "leaf_outcome": c(LeafOutcome).session_id.in_(ids.sessions),
        "planned_session": or_(c(PlannedSession).rep_id == pid,
                               c(PlannedSession).manager_id == pid),
        "action_item": or_(c(ActionItem).session_id.in_(ids.sessions),
                           c(ActionItem).rep_id == pid, c(ActionItem).owner_id == pid),
        "escalation": c(Escalation).id.in_(ids.escalations),
        "escalation_event": or_(c(EscalationEvent).escalation_id.in_(ids.escalations),
                                c(EscalationEvent).actor_id == pid,
                                c(EscalationEvent).from_owner_id == pid,
                                c(EscalationEvent).to_owner_id == pid),
        "checkin": c(Checkin).person_id == pid,
        "metric": c(Metric).person_id == pid,
        "cadence": c(Cadence).id.in_(ids.cadences),
        "cadence_occurrence": c(CadenceOccurrence).cadence_id.in_(ids.cadences),
        "conversation": c(Conversation).id.in_(ids.conversations),
        "transition_log": or_(c(TransitionLog).conversation_id.in_(ids.conversations),
                              c(TransitionLog).person_id == pid),
        "slack_view": c(SlackView).user_key.in_(chat_ids) if chat_ids else false(),
        "teams_conversation": (c(TeamsConversation).user_key.in_(chat_ids) if chat_ids
                               else false()),
        "outbox": _to_them(someone, ids),
        "model_request": c(ModelRequest).person_id == pid,
        "audit_event": or_(c(AuditEvent).actor_id == pid,
                           c(AuditEvent).subject == f"person:{pid}"),
    }


# Mentions: free text anywhere that names them ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Needles:
    """What names the person in text: email, chat ids, and their name unless someone else
    has the same one (then the name cannot tell them apart, and is left alone)."""

    exact: tuple[str, ...]
    name_shared: bool = False

    def pattern(self) -> re.Pattern[str]:
        words = "|".join(re.escape(n) for n in sorted(self.exact, key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)


def needles(conn: Connection, someone: Someone) -> Needles:
    p = _table(Person).c
    shared = bool(conn.execute(select(func.count()).where(
        p.name == someone.name, p.id != someone.id)).scalar())
    found = [someone.email, someone.slack_user_id, someone.teams_user_id]
    if not shared:
        found.append(someone.name.strip())
    return Needles(tuple(n for n in found if n and len(n) >= 3), shared)


def every_table(conn: Connection) -> list[Table]:
    """Our tables (typed) and any other in the database (slack_sdk's), reflected."""
    ours = {t.name: t for t in Base.metadata.sorted_tables}
    others = MetaData()
    others.reflect(conn, only=lambda name, _meta: name not in ours
                   and name not in SKIPPED_TABLES)
    return [*ours.values(), *others.sorted_tables]


def text_columns(table: Table) -> list[Any]:
    return [c for c in table.columns if isinstance(c.type, String | JSON)]


@dataclass
class Mention:
    table: str
    key: Mapping[str, Any]
    columns: dict[str, Any] = field(default_factory=dict)  # column → its value now


def mentions(conn: Connection, found: Needles, skip: Mapping[str, ColumnElement[bool]]
             ) -> Iterator[Mention]:
    """Rows naming the person in a text or JSON column, outside the rows ``skip`` names
    per table (their own footprint, handled on its own). Compared in SQL without case
    (PostgreSQL folds any letter, SQLite only ASCII: the exact spelling is matched too),
    then checked word by word in Python."""
    if not found.exact:
        return
    pattern = found.pattern()
    for table in every_table(conn):
        if table.name == "person":
            continue  # everyone's own identity row is theirs, never rewritten as a mention
        columns = text_columns(table)
        if not columns:
            continue
        hits = [cond for col in columns for n in found.exact for cond in (
            func.lower(sql_cast(col, Text)).contains(n.lower(), autoescape=True),
            sql_cast(col, Text).contains(n, autoescape=True))]
        keys = list(table.primary_key.columns)
        query = select(*keys, *columns).where(or_(*hits))
        if table.name in skip:
            query = query.where(~skip[table.name])
        for row in conn.execute(query.order_by(*keys)).mappings():
            named = {c.name: row[c.name] for c in columns if names_them(row[c.name], pattern)}
            if named:
                yield Mention(table.name, {k.name: row[k.name] for k in keys}, named)


def names_them(value: Any, pattern: re.Pattern[str]) -> bool:
    if isinstance(value, str):
        return pattern.search(value) is not None
    if isinstance(value, Mapping):
        return any(names_them(k, pattern) or names_them(v, pattern) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(names_them(v, pattern) for v in value)
    return False


# The export ---------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A stored value as JSON can hold it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def export(conn: Connection, someone: Someone, now: datetime) -> dict[str, Any]:
    """Everything stored about ``someone``: their rows by table, and the rows of others
    that name them (the columns that do)."""
    ids = related(conn, someone)
    where = references(someone, ids)
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    records: dict[str, list[Row]] = {}
    for name, condition in where.items():
        table = tables[name]
        rows = conn.execute(select(table).where(condition)
                            .order_by(*table.primary_key.columns)).mappings()
        found = [{k: plain(v) for k, v in row.items()} for row in rows]
        if found:
            records[name] = found
    named: dict[str, list[Row]] = {}
    for mention in mentions(conn, needles(conn, someone), where):
        named.setdefault(mention.table, []).append(
            {"key": plain(mention.key), "columns": plain(mention.columns)})
    org = conn.execute(select(_table(Organization)).where(
        _table(Organization).c.id == someone.org_id)).mappings().one()
    return {"exported_at": now.isoformat(), "organization": dict(org),
            "person": records.get("person", [{}])[0], "records": records, "mentions": named}


def extent(conn: Connection, someone: Someone) -> tuple[int, int]:
    """How many rows refer to ``someone``, and how many rows of others name them."""
    where = references(someone, related(conn, someone))
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    rows = sum(int(conn.execute(select(func.count()).select_from(tables[name])
                                .where(condition)).scalar() or 0)
               for name, condition in where.items())
    return rows, sum(1 for _ in mentions(conn, needles(conn, someone), where))


def counts(rows: Mapping[str, Sequence[Any]]) -> dict[str, int]:
    return {table: len(found) for table, found in rows.items()}
