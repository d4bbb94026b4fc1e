"""Messages for someone else go to the recipient's channel, not the sender's: a manager
on one platform reaches a rep bound on another through that platform's notifier."""

from __future__ import annotations

from sqlalchemy import select

from bot.bootstrap import App
from bot.channels.routing import Route, route
from bot.channels.who import Who
from bot.cli.demo_org import DOMAIN, MANAGER
from storage import tenancy
from storage.models import DEFAULT_ORG, Outbox, Person
from tests.channels.fakes import ALICE_TEAMS_ID, FakeNotifier, shared_gateway
from tests.support import Console, full_session, make_app

ALICE = f"alice@{DOMAIN}"


def bind(app: App, email: str, *, slack: str | None = None,
         teams: str | None = None) -> None:
    with app.sessions.begin() as db:
        person = db.scalar(select(Person).where(Person.email == email))
        person.slack_user_id, person.teams_user_id = slack, teams
        now = app.clock.now()
        if slack:
            tenancy.link(db, DEFAULT_ORG, "slack", "T0SLACK", now)
        if teams:
            tenancy.link(db, DEFAULT_ORG, "teams", "tenant-1", now)


async def test_a_console_managers_plan_reaches_a_rep_bound_on_another_platform(
        db_url: str) -> None:
    app = make_app(db_url)
    bind(app, ALICE, teams=ALICE_TEAMS_ID)
    console = Console(app)
    shown = full_session(console)
    assert not [r for r in shown if r.get("to") == ALICE]  # not in the manager's console
    with app.sessions() as db:
        rows = db.scalars(select(Outbox).where(Outbox.target == ALICE)).all()
        assert rows and {(r.kind, r.payload["tenant"]) for r in rows} == {("teams", "tenant-1")}
    teams = FakeNotifier("teams")
    gateway = shared_gateway(app)
    gateway.outbox.register(teams)
    try:
        assert await gateway.outbox.run_once() == len(rows)
    finally:
        gateway.close()
        app.close()
    assert [m.target for m in teams.sent] == [ALICE] * len(rows)
    assert all(m.tenant == "tenant-1" for m in teams.sent)
    assert any("action plan" in m.message.text.lower() for m in teams.sent)


async def test_an_unbound_rep_is_reached_where_the_manager_is(db_url: str) -> None:
    """Bound nowhere: the sender's platform, which may still find them by email."""
    app = make_app(db_url)
    try:
        full_session(Console(app))
        with app.sessions() as db:
            kinds = set(db.scalars(select(Outbox.kind).where(Outbox.target == ALICE)))
        assert kinds == {"console"}
    finally:
        app.close()


def test_route_prefers_the_recipients_platform_and_the_senders_when_bound_on_both(
        db_url: str) -> None:
    app = make_app(db_url)
    try:
        bind(app, ALICE, slack="U0ALICE")
        teams_manager = Who("teams", "tenant-1", "aad-maya")
        with app.engine.begin() as conn:
            assert route(conn, teams_manager, DEFAULT_ORG, ALICE) == Route("slack", "T0SLACK")
        bind(app, ALICE, slack="U0ALICE", teams=ALICE_TEAMS_ID)
        with app.engine.begin() as conn:
            assert route(conn, teams_manager, DEFAULT_ORG, ALICE) == Route("teams", "tenant-1")
            console = Who("console", "local", MANAGER)
            assert route(conn, console, DEFAULT_ORG, ALICE) == Route("slack", "T0SLACK")
    finally:
        app.close()
