"""Erase a person (``coach privacy delete``): afterwards nothing in the database names them
(email, name, chat ids), while the figures of everyone else stay as they were. Never
commits: the caller's one transaction does, with its audit row.

What happens, by kind of row (storage/footprint.py finds them):

- **their identity**: the person row stays (the reporting tree and the figures hang on it)
  but becomes "Erased person" with an ``erased-<id>@erased.invalid`` email, no chat ids,
  inactive (no check-ins, no nudges, not in any picker), ``erased_at`` set;
- **deleted**: their conversations and those of others about them (with their transition
  logs), their Slack modal owners and Teams chat references, every outbox row to them
  (sent or not), the stages, leaf records and private notes of the sessions where they
  were coached, their planned meetings from now on;
- **kept for the figures, free text dropped**: the sessions where they were coached
  (status, dates, focus, leaf and category stay: the digest counts them, anonymous), their
  reviews, action items (the description becomes "(erased)"), check-ins (the answer's
  status stays, its text and numbers go) and metrics; their model requests keep only
  sizes and tokens;
- **others' rows that name them** (a manager's outbox message, an escalation's evidence,
  a team's name): the email, chat ids and name are replaced where they stand;
- **the Slack app's installation they made** (slack_sdk's ``slack_installations``): the
  installer's user token and its scopes go (the bot's token, the workspace's, stays), and
  their user id becomes ``[erased]`` like any other mention. A name
  that someone else also has is left alone (it cannot tell them apart); so is a first
  name used on its own, which no search can attribute.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    MetaData,
    Table,
    and_,
    case,
    delete,
    null,
    select,
    update,
)

from storage.footprint import (
    Needles,
    Someone,
    every_table,
    mentions,
    needles,
    references,
    related,
)
from storage.models import (
    ActionItem,
    Base,
    Cadence,
    CadenceOccurrence,
    Checkin,
    CoachingSession,
    Conversation,
    LeafOutcome,
    ModelRequest,
    OrgWorkspace,
    Outbox,
    Person,
    PrivateNote,
    Review,
    SessionStage,
    SlackView,
    TeamsConversation,
    TransitionLog,
)

ERASED_NAME = "Erased person"
ERASED_TEXT = "(erased)"
ERASED_ID = "[erased]"


def erased_email(person_id: int) -> str:
    return f"erased-{person_id}@erased.invalid"  # RFC 2606: never a real address


@dataclass
class ErasureReport:
    deleted: Counter[str] = field(default_factory=Counter)
    cleared: Counter[str] = field(default_factory=Counter)
    rewritten: Counter[str] = field(default_factory=Counter)  # others' rows naming them
    name_shared: bool = False

    def as_detail(self) -> dict[str, Any]:
        def plain(counts: Counter[str]) -> dict[str, int]:
            return {str(table): n for table, n in sorted(counts.items())}  # not quoted_name

        return {"deleted": plain(self.deleted), "cleared": plain(self.cleared),
                "rewritten": plain(self.rewritten), "name_shared": self.name_shared}


def _t(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def erase(conn: Connection, someone: Someone, now: datetime) -> ErasureReport:
    """Erase ``someone`` (see the module's docstring); returns what changed."""
    if someone.erased:
        raise ValueError(f"person {someone.id} is already erased")
    report = ErasureReport()
    ids = related(conn, someone)
    found = needles(conn, someone)
    report.name_shared = found.name_shared
    own = references(someone, ids)

    def drop(model: type[Base], condition: Any) -> None:
        table = _t(model)
        count = conn.execute(delete(table).where(condition)).rowcount
        if count:
            report.deleted[table.name] += count

    def clear(model: type[Base], condition: Any, **values: Any) -> None:
        table = _t(model)
        count = conn.execute(update(table).where(condition).values(**values)).rowcount
        if count:
            report.cleared[table.name] += count

    drop(TransitionLog, own["transition_log"])
    drop(Conversation, _t(Conversation).c.id.in_(ids.conversations))
    drop(SlackView, own["slack_view"])
    drop(TeamsConversation, own["teams_conversation"])
    drop(Outbox, own["outbox"])
    coached = ids.sessions_as_rep
    drop(SessionStage, _t(SessionStage).c.session_id.in_(coached))
    drop(LeafOutcome, _t(LeafOutcome).c.session_id.in_(coached))
    drop(PrivateNote, _t(PrivateNote).c.session_id.in_(coached))
    occ = _t(CadenceOccurrence).c
    drop(CadenceOccurrence, and_(occ.cadence_id.in_(ids.cadences), occ.status == "planned",
                                 occ.scheduled_for > now))
    clear(Cadence, _t(Cadence).c.id.in_(ids.cadences), active=False, planned_until=None)

    clear(CoachingSession, _t(CoachingSession).c.id.in_(coached), roam_snapshot=null(),
          chart_answers=null(), agreed_solution=None, metric=None, baseline=None, target=None)
    clear(Review, _t(Review).c.session_id.in_(coached), notes=null(), metric_value=None)
    clear(ActionItem, _t(ActionItem).c.rep_id == someone.id, description=ERASED_TEXT,
          note=None)
    # A blocker's words go, that there was one stays (the digest counts untagged blockers).
    had_blockers = _t(Checkin).c.blockers.is_not(None)
    clear(Checkin, _t(Checkin).c.person_id == someone.id,
          blockers=case((had_blockers, ERASED_TEXT), else_=None), activity=null(),
          action_updates=null(), confidence=None)
    clear(ModelRequest, _t(ModelRequest).c.person_id == someone.id, person_id=None,
          content=null())
    _drop_user_tokens(conn, someone, report)
    conn.execute(update(_t(Person)).where(_t(Person).c.id == someone.id).values(
        name=ERASED_NAME, email=erased_email(someone.id), slack_user_id=None,
        teams_user_id=None, active=False, away_until=None, erased_at=now, updated_at=now))
    _rewrite_mentions(conn, someone, found, report)
    return report


INSTALLATIONS = "slack_installations"  # slack_sdk's table (migration 0002_slack_oauth)
USER_TOKEN_COLUMNS = ("user_token", "user_refresh_token", "user_scopes",
                      "user_token_expires_at")


def _drop_user_tokens(conn: Connection, someone: Someone, report: ErasureReport) -> None:
    """The Slack user token of an installation they made in one of their organisation's
    workspaces is theirs: it goes. Their user id on it is a mention, rewritten with the
    others."""
    if not someone.slack_user_id:
        return
    table = Table(INSTALLATIONS, MetaData(), autoload_with=conn)
    workspace = _t(OrgWorkspace).c
    theirs = select(workspace.workspace_id).where(workspace.org_id == someone.org_id,
                                                  workspace.platform == "slack")
    count = conn.execute(update(table).where(table.c.user_id == someone.slack_user_id,
                                             table.c.team_id.in_(theirs))
                         .values(dict.fromkeys(USER_TOKEN_COLUMNS))).rowcount
    if count:
        report.cleared[INSTALLATIONS] += count


def _rewrite_mentions(conn: Connection, someone: Someone, found: Needles,
                      report: ErasureReport) -> None:
    """Replace what names them in every other row: the email and name by the erased
    ones, a chat id by ``[erased]``."""
    by_needle = {someone.email.lower(): erased_email(someone.id), someone.name.lower():
                 ERASED_NAME}
    pattern = found.pattern()

    def replaced(match: re.Match[str]) -> str:
        return by_needle.get(match.group(0).lower(), ERASED_ID)

    tables = {t.name: t for t in every_table(conn)}
    # Theirs are gone by now: an outbox row still to this email is to someone of another
    # org with the same address, and stays theirs.
    others_mail = {"outbox": _t(Outbox).c.target == someone.email}
    for mention in mentions(conn, found, others_mail):
        table = tables[mention.table]
        where = and_(*(table.c[k] == v for k, v in mention.key.items()))
        values = {name: rewritten(value, pattern, replaced)
                  for name, value in mention.columns.items()}
        conn.execute(update(table).where(where).values(**values))
        report.rewritten[mention.table] += 1


def rewritten(value: Any, pattern: re.Pattern[str], replaced: Any) -> Any:
    if isinstance(value, str):
        return pattern.sub(replaced, value)
    if isinstance(value, Mapping):
        return {rewritten(k, pattern, replaced): rewritten(v, pattern, replaced)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rewritten(v, pattern, replaced) for v in value]
    return value

