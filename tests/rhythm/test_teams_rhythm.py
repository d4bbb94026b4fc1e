"""The operating rhythm over Teams, end to end through the Agents SDK and the fake Bot
Connector on loopback, after a restart (a new process: nothing in memory, the
conversation references stored on install): ``coach serve``'s scheduler sends a rep's
check-in and a manager's weekly digest proactively through their stored references; a rep
who installed the app but never wrote is found through their chat's roster and bound; one
without the app waits, is logged once and is listed by ``coach schedule``."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from sqlalchemy import select, update

from bot.bootstrap import App
from bot.cli.demo_org import DOMAIN
from bot.rhythm.hosting import RhythmHost, due_work_for
from bot.rhythm.leader import SoleProcess
from storage.models import Outbox, Person
from tests.bot.test_cli import run_cli
from tests.rhythm.test_hosting import QUICK, running, until
from tests.support import make_app
from tests.teams.conftest import USERS, Harness, anonymous, connector_with_every_user, start
from tests.teams.driver import BOT, TENANT, TeamsDriver, User
from tests.teams.fake_connector import FakeConnector

INSTALLED = datetime.fromisoformat("2027-03-05T14:00:00+00:00")  # Friday 09:00 New York
FRIDAY_NOON = datetime.fromisoformat("2027-03-05T17:00:00+00:00")
ALICE_15 = datetime.fromisoformat("2027-03-05T20:00:00+00:00")  # her check-in time
BOB_15 = datetime.fromisoformat("2027-03-05T21:00:00+00:00")  # Chicago
MONDAY_8 = datetime.fromisoformat("2027-03-08T13:00:00+00:00")  # the digest, New York


connector = pytest.fixture(connector_with_every_user)


def bind(app: App, local: str) -> None:
    """A Teams id from the people import (``teams_user_id``), as an admin would load it."""
    with app.sessions.begin() as db:
        db.execute(update(Person).where(Person.email == f"{local}@{DOMAIN}")
                   .values(teams_user_id=USERS[local].aad))


async def install(h: Harness, user: User) -> None:
    response = await h.http.post(h.http.activity(
        user, type="conversationUpdate", membersAdded=[{"id": BOT}], text=None))
    assert response.status in (200, 202)


def host_of(h: Harness) -> RhythmHost:
    return RhythmHost(due_work_for(h.app, ["teams"]), h.teams.gateway, h.app.clock,
                      SoleProcess(), every=QUICK, retry_every=QUICK, check_every=QUICK,
                      finders={"teams": h.teams.finder})


async def at(h: Harness, host: RhythmHost, when: datetime) -> None:
    h.app.clock.set(when)  # type: ignore[attr-defined]
    ticks = host.ticks
    await until(lambda: host.ticks >= ticks + 2)
    await h.teams.gateway.idle()
    await h.teams.gateway.outbox.run_once()


def rows_for(app: App, local: str, kind: str) -> list[Outbox]:
    with app.sessions() as db:
        return [r for r in db.scalars(select(Outbox).where(
            Outbox.target == f"{local}@{DOMAIN}").order_by(Outbox.id))
            if r.payload.get("scheduled", {}).get("kind") == kind]


async def test_check_ins_and_digests_reach_people_through_stored_references_after_a_restart(
        db_url: str, connector: FakeConnector, caplog: pytest.LogCaptureFixture) -> None:
    alice, maya = USERS["alice"], USERS["maya"]
    async for first in start(make_app(db_url, start=INSTALLED, **anonymous()), connector):
        bind(first.app, "maya")  # Maya's Teams id came with the import; Alice's did not
        bind(first.app, "bob")  # Bob's too, but he never installed the app
        await install(first, maya)
        await install(first, alice)  # installed, never wrote: bound to nobody yet
        await first.teams.gateway.idle()
    assert not [s for s in connector.sent if s.kind == "send"
                and "check-in" in s.said]  # nothing proactive before the restart

    caplog.set_level(logging.INFO, logger="coach.rhythm")
    app = make_app(db_url, demo=False, start=FRIDAY_NOON, **anonymous())
    async for h in start(app, connector):  # a new process
        host = host_of(h)
        async with running(host):
            await at(h, host, FRIDAY_NOON)  # the rhythm starts
            sent_before = len(connector.sent)
            await at(h, host, ALICE_15)
            with app.sessions() as db:  # found through her chat's roster, and bound
                bound = db.scalar(select(Person.teams_user_id).where(
                    Person.email == f"alice@{DOMAIN}"))
            assert bound == alice.aad
            proactive = connector.sent[sent_before:]
            assert proactive and all(s.kind == "send" and s.conversation == alice.chat
                                     for s in proactive)
            assert "Hi Alice, time for your weekly check-in." in proactive[0].said
            assert {r.status for r in rows_for(app, "alice", "checkin")} == {"sent"}
            # she answers on the card: the conversation the rhythm started goes on
            driver = TeamsDriver(h.http, alice)
            await driver.choose("answer")
            assert "How many" in driver.chat[-1].said

            # Bob never installed the app: his check-in waits; logged once
            await at(h, host, BOB_15)
            await at(h, host, BOB_15.replace(minute=30))
            assert rows_for(app, "bob", "checkin") == []
            told = [r.getMessage() for r in caplog.records
                    if r.getMessage().startswith(f"bob@{DOMAIN} cannot be reached")]
            assert len(told) == 1

            # Monday 08:00 New York: Maya's digest through her stored reference
            await at(h, host, MONDAY_8)
            (digest,) = rows_for(app, "maya", "digest")
            assert digest.status == "sent" and digest.kind == "teams"
            to_maya = [s for s in connector.to(maya.chat) if s.kind == "send"]
            assert to_maya[-1].said.startswith(
                "Weekly digest for Maya Manager: your team, week 2027-W09")
        await h.teams.gateway.idle()


def test_coach_schedule_lists_someone_without_the_teams_app(
        db_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TEAMS_TENANT_ID", TENANT)
    run_cli(["demo"], monkeypatch, db_url, capsys)
    app = make_app(db_url, demo=False)
    bind(app, "bob")  # his Teams id came with the import; he never installed the app
    app.close()
    code, out, _ = run_cli(["schedule", "--person", f"bob@{DOMAIN}", "--now",
                            "2027-03-08T00:00:00Z"], monkeypatch, db_url, capsys)
    assert code == 0
    assert out.splitlines()[1] == (
        "  unreachable on Teams: the app is not installed for them; their check-in and "
        "messages wait until they open it")


def test_the_chats_bound_to_nobody_are_read_by_index(db_url: str) -> None:
    """The Teams finder's read (a tenant's personal chats whose user is no person of the
    organisation) goes by ix_teams_conversation_user and the person's (org, Teams id)."""
    from storage import teams_conversations, tenancy
    from tests.storage.test_explain import NOW, captured, full_scans, org_with_history

    app, org = org_with_history(db_url)
    with app.engine.begin() as conn:
        tenancy.link(conn, 1, "teams", "tenant-x", NOW)
        for rep in org.reps:
            if rep % 2:  # every other rep is bound (imported with their Teams id)
                conn.execute(Person.__table__.update().where(Person.id == rep)
                             .values(teams_user_id=f"aad-{rep}"))
            for tenant in ("tenant-x", "tenant-y"):
                teams_conversations.remember(
                    conn, tenant=tenant, conversation_id=f"a:{rep}", user_key=f"aad-{rep}",
                    scope="personal", reference={"conversation": {"id": f"a:{rep}"}},
                    now=NOW)
    with captured(app.engine) as seen, app.engine.connect() as conn:
        found = teams_conversations.unbound_personal(conn, "tenant-x", 1)
    assert sorted(key for key, _ in found) == sorted(
        f"aad-{rep}" for rep in org.reps if not rep % 2)
    problems = [p for statement, params in seen
                for p in full_scans(app.engine, statement, params)]
    app.close()
    assert problems == []
