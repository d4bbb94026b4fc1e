"""Someone the platform never showed us (no stored Slack id) still gets their check-in:
``coach serve``'s scheduler looks them up by email (users.lookupByEmail on the fake Slack
Web API, on loopback), binds them and runs the turn in the same tick; the rep answers it
in Slack. Someone Slack does not know waits, is logged once and is listed by ``coach
schedule``; found later, their check-in goes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.cli.demo_org import DOMAIN
from bot.rhythm.hosting import RhythmHost, due_work_for
from bot.rhythm.leader import SoleProcess
from storage.models import Checkin, Outbox, Person
from tests.bot.test_cli import run_cli
from tests.rhythm.test_hosting import QUICK, running, until
from tests.slack.conftest import IDS, NAMES, Harness, slack_settings, start
from tests.slack.driver import SECRET, find_choice
from tests.slack.fake_slack import FakeSlack
from tests.slack.test_dm import click_dm, last_dm
from tests.support import make_app

FRIDAY_NOON = datetime.fromisoformat("2027-03-05T17:00:00+00:00")  # 12:00 New York
ALICE_15 = datetime.fromisoformat("2027-03-05T20:00:00+00:00")  # Alice's check-in time
CARMEN_15 = datetime.fromisoformat("2027-03-05T23:00:00+00:00")  # Los Angeles
NOT_IN_SLACK = "carmen"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    for local, user_id in IDS.items():
        if local != NOT_IN_SLACK:
            fake.add_user(user_id, f"{local}@{DOMAIN}", NAMES[local])
    yield fake
    await fake.close()
    assert fake.problems == [], fake.problems


@pytest.fixture
async def harness(db_url: str, fake: FakeSlack) -> AsyncIterator[Harness]:
    async for h in start(make_app(db_url, start=FRIDAY_NOON, **slack_settings(fake)), fake):
        yield h


def host_of(harness: Harness) -> RhythmHost:
    """``coach serve``'s scheduler: the rhythm's due work with Slack as the surface of
    people bound to no platform, and Slack's finder."""
    app = harness.app
    return RhythmHost(due_work_for(app, ["slack"]), harness.slack.gateway, app.clock,
                      SoleProcess(), every=QUICK, retry_every=QUICK, check_every=QUICK,
                      finders={"slack": harness.slack.finder})


def slack_id(app: App, local: str) -> str | None:
    with app.sessions() as db:
        return db.scalar(select(Person.slack_user_id).where(
            Person.email == f"{local}@{DOMAIN}"))


def checkin_rows(app: App, local: str) -> list[Outbox]:
    with app.sessions() as db:
        return [r for r in db.scalars(select(Outbox).where(
            Outbox.target == f"{local}@{DOMAIN}").order_by(Outbox.id))
            if r.payload.get("scheduled", {}).get("kind") == "checkin"]


async def at(harness: Harness, host: RhythmHost, when: datetime) -> None:
    """Move the clock and wait for two ticks at the new time (the second finds nothing)."""
    harness.app.clock.set(when)  # type: ignore[attr-defined]
    ticks = host.ticks
    await until(lambda: host.ticks >= ticks + 2)
    await harness.slack.gateway.idle()  # what the ticks woke the outbox for, sent
    await harness.slack.gateway.outbox.run_once()


async def test_a_rep_never_seen_in_slack_is_found_by_email_and_answers_in_slack(
        harness: Harness, fake: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    app = harness.app
    assert slack_id(app, "alice") is None  # the demo org: nobody has used Slack yet
    host = host_of(harness)
    caplog.set_level(logging.INFO, logger="coach.rhythm")
    async with running(host):
        await at(harness, host, FRIDAY_NOON)  # the rhythm starts
        await at(harness, host, ALICE_15)
        # looked up by email, bound, and her check-in turn ran in the same tick
        assert [c.args["email"] for c in fake.of("users.lookupByEmail")] == [
            f"alice@{DOMAIN}"]
        assert slack_id(app, "alice") == IDS["alice"]
        assert [r.status for r in checkin_rows(app, "alice")] == ["sent"]
        assert "time for your weekly check-in" in last_dm(harness, IDS["alice"])["text"]
        # she answers in Slack: her conversation is the one the rhythm started
        await click_dm(harness, IDS["alice"], find_choice(
            last_dm(harness, IDS["alice"])["blocks"], "answer"))
        assert "How many" in last_dm(harness, IDS["alice"])["text"]

        # Carmen is not in Slack: her check-in waits, she is logged once, looked up once
        await at(harness, host, CARMEN_15)
        await at(harness, host, CARMEN_15.replace(minute=20))
        lookups = [c.args["email"] for c in fake.of("users.lookupByEmail", ok_only=False)]
        assert lookups.count(f"carmen@{DOMAIN}") == 1
        assert checkin_rows(app, "carmen") == []
        told = [r.getMessage() for r in caplog.records if "cannot be reached" in r.getMessage()]
        assert told == [f"carmen@{DOMAIN} cannot be reached on slack yet (not found by email "
                        "there, or the app is not installed for them): their messages wait"]
        with app.sessions() as db:
            waiting = db.scalar(select(Checkin).join(Person, Checkin.person_id == Person.id)
                                .where(Person.email == f"carmen@{DOMAIN}"))
            assert waiting is not None and (waiting.status, waiting.asked_at) == ("open", None)

        # she joins Slack; an hour later she is looked up again, found, and asked
        fake.add_user("U0CARMEN", f"carmen@{DOMAIN}", NAMES["carmen"])
        await at(harness, host, CARMEN_15.replace(minute=0, hour=0, day=6))
        assert slack_id(app, "carmen") == "U0CARMEN"
        assert [r.status for r in checkin_rows(app, "carmen")] == ["sent"]
    app.close()


def test_coach_schedule_lists_someone_slack_has_not_shown_us(
        db_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in (("SLACK_BOT_TOKEN", "xoxb-test"), ("SLACK_SIGNING_SECRET", SECRET)):
        monkeypatch.setenv(name, value)
    run_cli(["demo"], monkeypatch, db_url, capsys)
    code, out, _ = run_cli(["schedule", "--person", f"carmen@{DOMAIN}", "--now",
                            "2027-03-08T00:00:00Z"], monkeypatch, db_url, capsys)
    assert code == 0
    assert out.splitlines()[1] == (
        "  not seen on Slack yet: looked up by email when something is due for them; "
        "until then their check-in and messages wait")
    monkeypatch.delenv("SLACK_BOT_TOKEN")  # no platform: the console reaches everyone
    code, out, _ = run_cli(["schedule", "--person", f"carmen@{DOMAIN}", "--now",
                            "2027-03-08T00:00:00Z"], monkeypatch, db_url, capsys)
    assert "not seen" not in out and "unreachable" not in out
