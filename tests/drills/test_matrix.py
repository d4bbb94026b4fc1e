"""Drill: the role × resource authorization matrix (issue 12, item 5).

Five people act: a rep (Alice), a manager (Maya, Alice's and Bob's), a leader (Lee, above
both managers), an admin (Ada), and a manager of another organisation (Mallory, with her
rep Zed, reached through her own Slack workspace or Teams tenant). Each of them tries every
command of bot/command_table.py, every Slack action and view's service (the picker, a pick,
a plan's acknowledgement, an action item's status, adding a report, a modal's ownership,
the App Home) on each resource it could name: a rep of one's own team, a rep elsewhere in the
tree, the other organisation's rep, an escalation, a meeting, a plan, an action item, a
modal.

Every cell is run and observed (a conversation started about the rep, the escalation or
meeting changed, the rep's name shown, ...) and compared with the allowed cells written
out in ``ALLOWED``: the allowed cells must be exactly those. Whatever the cell, nobody
may see a name or an email of the other organisation's people. The figures: cells run,
cells allowed, cells allowed that should not be (0), cells refused that should be
allowed (0), names or emails leaked across organisations (0).

The whole matrix runs once as Slack users and once as Teams users (each organisation
linked to a workspace and a tenant of its own): the services and the runner are shared,
the identity (platform, tenant, user id) is each platform's. A modal's ownership is
Slack's only (Teams has no modal: a card's answer comes from the activity's sender).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from bot import command_table
from bot.bootstrap import App
from bot.channels.who import Who
from bot.cli.demo_org import DOMAIN
from bot.rhythm.due import rhythm_of, run_due
from bot.services import home, plans, team
from bot.services.context import ServiceContext
from bot.services.team import NewReport
from bot.slack.store import SlackStore
from flows.messages import Say, Submit
from storage import tenancy
from storage.models import (
    ActionItem,
    Cadence,
    CadenceOccurrence,
    CoachingSession,
    Conversation,
    Escalation,
    Organization,
    Person,
)
from tests.drills.figures import record
from tests.support import START, Console, full_session, make_app

pytestmark = pytest.mark.slow
ROLES = ("rep", "manager", "leader", "admin", "other tenant")
ACTORS = {"rep": "alice", "manager": "maya", "leader": "lee", "admin": "admin",
          "other tenant": "mallory"}
OURS, THEIRS = "T0TEAM", "T0OTHER"  # Slack workspaces, and Teams tenants with the same ids
PLATFORMS = ("slack", "teams")
SLACK_ONLY = {("modal buttons", "Maya's modal")}
OTHER_DOMAIN = "other.example"
EVERYONE = frozenset(ROLES)
COACHES = frozenset({"manager", "leader"})

# (operation, resource) → the roles allowed. METHOD §9: one coaches one's reports (a
# leader: the whole tree); an escalation is acted on by its owner or above; a meeting, a
# plan, an action item, a modal are their owner's; nobody reaches another organisation.
ALLOWED: dict[tuple[str, str], frozenset[str]] = {
    **{(f"/{verb}", rep): roles for verb in ("coach", "model", "review")
       for rep, roles in (("bob", COACHES), ("dev", frozenset({"leader"})),
                          ("zed", frozenset({"other tenant"})))},
    ("/checkin", "own"): frozenset({"rep"}),
    ("/escalations", "E1 listed"): frozenset({"manager"}),
    ("/escalations ack", "E1"): COACHES,
    ("/escalations resolve", "E1"): COACHES,
    ("/escalations reassign", "E1"): COACHES,
    ("/escalations ack", "E2"): frozenset({"other tenant"}),
    ("/meetings", "M1 listed"): frozenset({"manager"}),
    ("/meetings skip", "M1"): frozenset({"manager"}),
    ("/away", "own"): EVERYONE,
    ("/help", "own"): EVERYONE,
    ("/hello", "own"): EVERYONE,
    ("/pause", "Maya's conversation"): frozenset({"manager"}),
    ("/resume", "Maya's conversation"): frozenset({"manager"}),
    ("/back", "Maya's conversation"): frozenset({"manager"}),
    ("/cancel", "Maya's conversation"): frozenset({"manager"}),
    **{("picker view", rep): roles for rep, roles in (
        ("bob", COACHES), ("dev", frozenset({"leader"})), ("zed", frozenset({"other tenant"})))},
    **{("pick action", rep): roles for rep, roles in (
        ("bob", COACHES), ("dev", frozenset({"leader"})), ("zed", frozenset({"other tenant"})))},
    ("plan ack action", "Alice's plan"): frozenset({"rep"}),
    ("item status action", "Alice's action"): frozenset({"rep"}),
    ("team add", "a new rep"): frozenset({"manager", "leader", "other tenant"}),
    ("modal buttons", "Maya's modal"): frozenset({"manager"}),
    ("home view", "E1 listed"): frozenset({"manager"}),
}


@dataclass
class World:
    platform: str
    app: App
    services: ServiceContext
    store: SlackStore
    ids: dict[str, int]
    escalations: dict[str, int]
    meeting: int
    plan: int
    item: int
    view: str = "V0MAYA"
    said: list[tuple[str, str]] = field(default_factory=list)  # (role, reply) of every turn
    shown: list[tuple[str, str]] = field(default_factory=list)  # (role, what a pick showed)

    def who(self, role: str) -> Who:
        local = ACTORS[role]
        return Who(self.platform, THEIRS if role == "other tenant" else OURS,
                   user_key(self.platform, local))

    def email(self, local: str) -> str:
        return f"{local}@{OTHER_DOMAIN if local in ('mallory', 'zed') else DOMAIN}"

    def name(self, local: str) -> str:
        with self.app.sessions() as db:
            return db.scalar(select(Person.name).where(Person.id == self.ids[local])) or ""

    def turn(self, role: str, text: str) -> str:
        result = self.app.runner.run_turn(self.who(role), Say(text))
        said = "\n".join(m.text for m in result.messages)
        self.said.append((role, said))
        return said


def user_key(platform: str, local: str) -> str:
    return f"U0{local.upper()}" if platform == "slack" else f"29:1-{local}-entra"


def build(db_url: str, platform: str) -> World:
    app = make_app(db_url)
    now = START
    maya_alice = full_session(Console(app))  # Maya's plan for Alice: a session, two actions
    assert maya_alice
    with app.sessions.begin() as db:
        db.execute(insert(Organization).values(id=2, name="Other Co"))
        tenancy.link(db, 1, platform, OURS, now)
        tenancy.link(db, 2, platform, THEIRS, now)
        for local, name, role, boss in (("mallory", "Mallory Mint", "manager", None),
                                        ("zed", "Zed Zulu", "rep", "mallory")):
            manager = db.scalar(select(Person.id).where(Person.email == f"{boss}@{OTHER_DOMAIN}"))
            db.add(Person(org_id=2, email=f"{local}@{OTHER_DOMAIN}", name=name, role=role,
                          manager_id=manager, timezone="UTC", created_at=now, updated_at=now))
            db.flush()
        for person in db.scalars(select(Person)):
            key = user_key(platform, person.email.split("@")[0])
            if platform == "slack":
                person.slack_user_id = key
            else:
                person.teams_user_id = key
        ids = {p.email.split("@")[0]: p.id for p in db.scalars(select(Person))}
        session = db.scalars(select(CoachingSession)).one()
        item = db.scalars(select(ActionItem).where(ActionItem.owner_id == ids["alice"])).one()
        zed_session = CoachingSession(manager_id=ids["mallory"], rep_id=ids["zed"],
                                      status="done", started_at=now)
        db.add(zed_session)
        db.flush()
        escalations = {}
        for name, owner, raiser, sess in (("E1", "maya", "maya", session.id),
                                          ("E2", "mallory", "mallory", zed_session.id)):
            row = Escalation(session_id=sess, leaf="ESCALATE_SYSTEMIC", owner_id=ids[owner],
                             raised_by_id=ids[raiser], impact="Deals stall",
                             evidence="Three lost deals", created_at=now)
            db.add(row)
            db.flush()
            escalations[name] = row.id
    run_due(rhythm_of(app.sessions, app.playbook, app.runner), now)  # plans the meetings
    with app.sessions() as db:
        meeting = db.scalar(select(CadenceOccurrence.id).join(Cadence).where(
            Cadence.owner_id == ids["maya"], CadenceOccurrence.status == "planned")
            .order_by(CadenceOccurrence.scheduled_for))
    assert meeting is not None
    store = SlackStore(app.engine, app.sessions, app.clock)
    world = World(platform, app, ServiceContext(app.sessions, app.clock, app.playbook), store, ids,
                  escalations, meeting, session.id, item.id)
    if platform == "slack":
        store.remember_view(world.view, world.who("manager"))
    assert "Alice" in world.turn("manager", "/coach alice")  # Maya's conversation, open,
    world.app.runner.run_turn(world.who("manager"), Submit({  # one answer in
        "purpose": "p", "objectives": "o", "agenda": "a", "value_to_rep": "v"}))
    world.said.clear()
    return world


# Observations: did the cell reach its resource? --------------------------------------------


def conversations_about(w: World, actor: str, subject: str) -> int:
    with w.app.sessions() as db:
        return db.scalar(select(func.count(Conversation.id)).join(
            Person, Person.id == Conversation.person_id).where(
            Person.email == w.email(actor), Conversation.subject == str(w.ids[subject]))) or 0


def versions_of(w: World, actor: str) -> list[int]:
    with w.app.sessions() as db:
        return list(db.scalars(select(Conversation.version).join(
            Person, Person.id == Conversation.person_id).where(
            Person.email == w.email(actor)).order_by(Conversation.id)))


def escalation(w: World, name: str) -> tuple[Any, ...]:
    with w.app.sessions() as db:
        row = db.get(Escalation, w.escalations[name])
        assert row is not None
        return row.status, row.owner_id


def person_command(verb: str, rep: str) -> Callable[[World, str], bool]:
    def cell(w: World, role: str) -> bool:
        before = conversations_about(w, ACTORS[role], rep)
        said = w.turn(role, f"/{verb} {w.email(rep)}")
        return w.name(rep) in said or conversations_about(w, ACTORS[role], rep) > before
    return cell


def escalation_command(text: str, name: str) -> Callable[[World, str], bool]:
    def cell(w: World, role: str) -> bool:
        before = escalation(w, name)
        w.turn(role, text.format(id=w.escalations[name], omar=w.email("omar")))
        changed = escalation(w, name) != before
        with w.app.sessions.begin() as db:  # as it was, for the next cell
            db.execute(update(Escalation).where(Escalation.id == w.escalations[name]).values(
                status=before[0], owner_id=before[1], resolution=None))
        return changed
    return cell


def listed(text: str, marker: Callable[[World], str]) -> Callable[[World, str], bool]:
    def cell(w: World, role: str) -> bool:
        return marker(w) in w.turn(role, text)
    return cell


def checkin(w: World, role: str) -> bool:
    before = len(versions_of(w, ACTORS[role]))
    w.turn(role, "/checkin")
    return len(versions_of(w, ACTORS[role])) > before


def meeting_skip(w: World, role: str) -> bool:
    w.turn(role, f"/meetings {w.meeting} skip")
    with w.app.sessions.begin() as db:
        row = db.get(CadenceOccurrence, w.meeting)
        assert row is not None
        skipped, row.status = row.status == "skipped", "planned"
    return skipped


def away(w: World, role: str) -> bool:
    w.turn(role, "/away 2026-12-20")
    with w.app.sessions.begin() as db:
        person = db.get(Person, w.ids[ACTORS[role]])
        assert person is not None
        marked, person.away_until = person.away_until == date(2026, 12, 20), None
    return marked


def answered(text: str) -> Callable[[World, str], bool]:
    """A command about nothing but the speaker: it answers them."""
    def cell(w: World, role: str) -> bool:
        return bool(w.turn(role, text))
    return cell


def on_mayas(text: str) -> Callable[[World, str], bool]:
    def cell(w: World, role: str) -> bool:
        before = versions_of(w, "maya")
        w.turn(role, text)
        return versions_of(w, "maya") != before
    return cell


def picker(rep: str) -> Callable[[World, str], bool]:
    def cell(w: World, role: str) -> bool:
        shown = team.coachable(w.services, w.who(role), 50)
        return w.name(rep) in [name for _, name in shown]
    return cell


def pick(rep: str) -> Callable[[World, str], bool]:
    """A pick from the picker (Slack's coach.pick: the person's id), as the handler runs it:
    the id becomes an email, the email a /coach."""
    def cell(w: World, role: str) -> bool:
        before = conversations_about(w, ACTORS[role], rep)
        email = team.email_of(w.services, w.who(role), w.ids[rep])
        said = w.turn(role, f"/coach {email or ''}".strip())
        w.shown.append((role, said))  # they gave an id, not a name: nothing else to learn
        return w.name(rep) in said or conversations_about(w, ACTORS[role], rep) > before
    return cell


def plan_ack(w: World, role: str) -> bool:
    thanked = plans.acknowledge(w.services, w.who(role), w.plan)
    with w.app.sessions.begin() as db:
        db.execute(update(CoachingSession).where(CoachingSession.id == w.plan)
                   .values(rep_acknowledged_at=None))
    return thanked is not None


def item_status(w: World, role: str) -> bool:
    changed = plans.set_item_status(w.services, w.who(role), w.item, "done")
    with w.app.sessions.begin() as db:
        db.execute(update(ActionItem).where(ActionItem.id == w.item).values(status="open"))
    return changed is not None


def team_add(w: World, role: str) -> bool:
    new = NewReport(f"new-{ACTORS[role]}@{DOMAIN}", "New Rep", "UTC",
                    user_key(w.platform, f"new{role[:3]}"))
    return team.add_report(w.services, w.who(role), new).result == "added"


def modal(w: World, role: str) -> bool:
    return w.store.owns_view(w.view, w.who(role))


def home_view(w: World, role: str) -> bool:
    data = home.home_of(w.services, w.who(role))
    return data is not None and any(e.id == w.escalations["E1"] for e in data.escalations)


def operations(platform: str = "slack") -> dict[tuple[str, str], Callable[[World, str], bool]]:
    ops: dict[tuple[str, str], Callable[[World, str], bool]] = {}
    for text in ("/pause", "/resume 1", "/back", "/cancel yes"):  # before any other flow
        ops[(text.split()[0], "Maya's conversation")] = on_mayas(text)
    for verb in ("coach", "model", "review"):
        for rep in ("bob", "dev", "zed"):
            ops[(f"/{verb}", rep)] = person_command(verb, rep)
    ops[("/checkin", "own")] = checkin
    ops[("/escalations", "E1 listed")] = listed(
        "/escalations", lambda w: f"#{w.escalations['E1']} ")
    ops[("/escalations ack", "E1")] = escalation_command("/escalations ack {id}", "E1")
    ops[("/escalations resolve", "E1")] = escalation_command(
        "/escalations resolve {id} Fixed the routing", "E1")
    ops[("/escalations reassign", "E1")] = escalation_command(
        "/escalations reassign {id} {omar}", "E1")
    ops[("/escalations ack", "E2")] = escalation_command("/escalations ack {id}", "E2")
    ops[("/meetings", "M1 listed")] = listed("/meetings", lambda w: f"{w.meeting})")
    ops[("/meetings skip", "M1")] = meeting_skip
    ops[("/away", "own")] = away
    ops[("/help", "own")] = answered("/help")
    ops[("/hello", "own")] = answered("/hello")
    for rep in ("bob", "dev", "zed"):
        ops[("picker view", rep)] = picker(rep)
        ops[("pick action", rep)] = pick(rep)
    ops[("plan ack action", "Alice's plan")] = plan_ack
    ops[("item status action", "Alice's action")] = item_status
    ops[("team add", "a new rep")] = team_add
    ops[("modal buttons", "Maya's modal")] = modal
    ops[("home view", "E1 listed")] = home_view
    return {cell: op for cell, op in ops.items() if platform == "slack" or cell not in SLACK_ONLY}


def test_every_command_of_the_table_is_in_the_matrix() -> None:
    """A command added to bot/command_table.py without its cells fails here."""
    covered = {name.split()[0].lstrip("/") for name, _ in ALLOWED}
    assert {c.name for c in command_table.COMMANDS} - {"team"} <= covered
    assert set(operations()) == set(ALLOWED)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_drill_authorization_matrix(db_url: str, platform: str) -> None:
    w = build(db_url, platform)
    wrong_allowed, wrong_refused, cells = [], [], 0
    checked = operations(platform)
    for (operation, resource), cell in checked.items():
        for role in ROLES:
            cells += 1
            allowed = cell(w, role)
            expected = role in ALLOWED[(operation, resource)]
            if allowed and not expected:
                wrong_allowed.append((operation, resource, role))
            if expected and not allowed:
                wrong_refused.append((operation, resource, role))
    leaks = leaked(w)
    record(f"authorization matrix ({platform})", cells=cells,
           allowed=sum(len(ALLOWED[c]) for c in checked),
           allowed_that_should_not_be=len(wrong_allowed),
           refused_that_should_be_allowed=len(wrong_refused), cross_tenant_leaks=len(leaks))
    w.app.close()
    assert wrong_allowed == [] and wrong_refused == [], (wrong_allowed, wrong_refused)
    assert leaks == []


def leaked(w: World) -> list[tuple[str, str]]:
    """What a pick (an id, no name typed) showed of someone of the other organisation."""
    theirs = {"other tenant"}
    found = []
    for role, said in w.shown:
        strangers = (("mallory", "zed") if role not in theirs else
                     ("alice", "bob", "carmen", "dev", "maya", "lee", "omar"))
        for local in strangers:
            if w.email(local) in said or w.name(local) in said:
                found.append((role, local))
    return found

