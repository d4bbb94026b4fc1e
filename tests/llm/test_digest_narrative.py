"""The weekly digest's narrative (issue 11): with a model, each digest the due work queues
waits at most the model's turn budget for three to five sentences on top of its figures;
a sentence with a number that is not one of the figures is dropped; the model is asked
with no database connection in use; a failure, a slow model or no model at all sends the
plain digest, at once or when the hold ends. SQLite and PostgreSQL, the real openai
client, the fake server on loopback."""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.console.chat import Terminal
from bot.llm import narrator
from bot.llm.wiring import narrative_hold, narrator_for
from bot.rhythm.due import Rhythm, run_due
from bot.rhythm.hosting import due_work_for, rhythm_host
from bot.services import digest
from bot.surfaces import shared_gateway
from storage import outbox
from storage.models import Outbox
from tests.bot.test_cli import run_cli
from tests.bot.test_digest import cli, org
from tests.channels.fakes import FakeNotifier
from tests.llm.fake_openai import FakeOpenAI, Reply, good
from tests.llm.sessions import model_app, rhythm_running_since
from tests.rhythm.test_hosting import running, until
from tests.support import Console, make_app

__all__ = ["cli", "org"]  # the digest's hand-built organisation, from tests/bot
MONDAY = datetime.fromisoformat("2026-12-07T13:30:00+00:00")  # 08:30 New York, 13:30 London
RECIPIENTS = {"lee@demo.smos.example", "maya@demo.smos.example", "omar@demo.smos.example"}
SAID = ["The team kept its meeting rhythm this week.", "Coverage rose by 937 points.",
        "Check-in answers need the leader's attention."]
NARRATIVE = ("In short: The team kept its meeting rhythm this week. Check-in answers need "
             "the leader's attention. [narrative]")
NAMES = ("Alice", "Adams", "Bob", "Brown", "Maya", "Manager", "Carmen", "Cruz", "Lee",
         "Leader", "Omar", "Dev", "Desai", "Erin", "Evans")


def digests_shown(replies: list[dict[str, Any]]) -> dict[str, str]:
    return {r["to"]: r["text"] for r in replies if r.get("kind") == "digest"}


def no_connection_in_use(app: App, seen: list[int]) -> Any:
    """For the fake server: while the model is asked, no connection of the app is checked
    out of its pool (so no transaction can be open)."""
    def check(body: dict[str, Any]) -> None:
        seen.append(app.engine.pool.checkedout())  # type: ignore[attr-defined]
    return check


def test_each_digest_gets_the_narrative_on_top_and_only_known_numbers(
        db_url: str, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    # One digest at a time, so that another digest's own write cannot be mistaken for a
    # connection held while the model is asked.
    monkeypatch.setattr(narrator, "AT_ONCE", 1)
    app = model_app(db_url, fake_openai)
    in_use: list[int] = []
    fake_openai.on_request = no_connection_in_use(app, in_use)
    fake_openai.reply(*[good({"sentences": SAID})] * 3, task="narrative")
    try:
        rhythm_running_since(app)
        replies = Console(app).send({"clock": MONDAY.isoformat()})
        shown = digests_shown(replies)
        assert set(shown) == RECIPIENTS
        for text in shown.values():
            head, narrative, figures = text.split("\n\n", 2)
            assert head.startswith("Weekly digest for") and narrative == NARRATIVE
            assert "[coverage]" in figures and "937" not in text
        assert in_use == [0, 0, 0]  # the model was asked with no transaction open
        bodies = fake_openai.bodies_of("narrative")
        assert len(bodies) == 3
        for body in bodies:
            prompt = json.loads(body)["messages"][0]["content"]
            assert "@" not in prompt and "coverage.value" in prompt
            for name in NAMES:
                assert not re.search(rf"\b{name}\b", prompt), name
        with app.sessions() as db:
            rows = db.scalars(select(Outbox).where(Outbox.idempotency_key.startswith(
                "digest:"))).all()
        assert {r.status for r in rows} == {"sent"} and len(rows) == 3
        assert all(digest.NARRATIVE_KEY not in r.payload for r in rows)  # figures taken out
    finally:
        app.close()


@pytest.mark.parametrize("reply", [
    Reply(status=500), Reply("Things went fine."), Reply(status=429),
    good({"sentences": ["Coverage rose by 937 points."]}),  # every sentence dropped
    Reply(json.dumps({"sentences": SAID}), delay=3.0),  # past the turn's budget
], ids=["500", "not-json", "429", "only-invented-numbers", "too-late"])
def test_a_failed_narrative_sends_the_plain_digest_at_once(
        db_url: str, fake_openai: FakeOpenAI, reply: Reply) -> None:
    app = model_app(db_url, fake_openai)
    fake_openai.reply(*[reply] * 3, task="narrative")
    try:
        rhythm_running_since(app)
        replies = Console(app).send({"clock": MONDAY.isoformat()})
        shown = digests_shown(replies)
        assert set(shown) == RECIPIENTS
        for text in shown.values():
            assert "[narrative]" not in text and "937" not in text
            assert text.split("\n\n")[1].startswith("Coaching coverage")
        # released when the model gave up, not when the (manual) clock passes the hold
        assert app.clock.now() == MONDAY
    finally:
        app.close()


def test_without_a_model_nothing_is_held_or_asked(db_url: str) -> None:
    app = make_app(db_url)
    try:
        assert narrative_hold(app.settings, app.playbook) is None
        rhythm_running_since(app)
        shown = digests_shown(Console(app).send({"clock": MONDAY.isoformat()}))
        assert set(shown) == RECIPIENTS
        assert all("[narrative]" not in t for t in shown.values())
    finally:
        app.close()


def queued_digests(app: App, now: datetime) -> list[Outbox]:
    rhythm = Rhythm(app.sessions, app.playbook, app.runner,
                    narrative_hold=narrative_hold(app.settings, app.playbook))
    run_due(rhythm, now)
    with app.sessions() as db:
        return list(db.scalars(select(Outbox).where(Outbox.idempotency_key.startswith(
            "digest:"))))


def test_a_held_digest_goes_as_it_is_when_its_hold_ends(db_url: str,
                                                        fake_openai: FakeOpenAI) -> None:
    """Nobody narrates (the process died, the model is gone): each digest is due exactly
    the hold (the turn budget) after its time, never later, and then goes as it is."""
    app = model_app(db_url, fake_openai)
    try:
        rows = queued_digests(app, MONDAY)
        hold = timedelta(seconds=app.settings.coach_llm_turn_budget)
        assert len(rows) == 3
        assert all(r.not_before == MONDAY + hold for r in rows)
        assert all(digest.NARRATIVE_KEY in r.payload for r in rows)
        ids = {r.id for r in rows}
        with app.sessions.begin() as db:
            assert not ids & {r.id for r in outbox.due(db, channel="console",
                                                       now=MONDAY + hold / 2, limit=500)}
            due = [r for r in outbox.due(db, channel="console", now=MONDAY + hold, limit=500)
                   if r.id in ids]
            assert {r.id for r in due} == ids
            assert all("[narrative]" not in r.payload["message"]["text"] for r in due)
            for row in due:
                outbox.sent(row, MONDAY + hold)
        # a narrative arriving after that changes nothing: the row went as it was
        narrator = narrator_for(app.settings, app.playbook, None, app.engine, _run,
                                lambda: MONDAY)
        assert narrator is None
        from bot.llm.narrator import Held, release

        late = Held(rows[0].id, dict(rows[0].payload), rows[0].not_before)
        assert not release(app.engine, late, ["A late sentence."], MONDAY + hold)
    finally:
        app.close()


async def _run(fn: Any, *args: Any) -> Any:
    return await asyncio.to_thread(fn, *args)


async def test_a_slow_model_never_holds_a_digest_past_the_turn_budget(
        db_url: str, fake_openai: FakeOpenAI) -> None:
    """A model that takes 10 s: ``coach serve``'s narrator gives up after the turn budget
    and sends each digest as it is, then and not later."""
    app = model_app(db_url, fake_openai, coach_llm_timeout=30)
    fake_openai.reply(*[Reply(json.dumps({"sentences": SAID}), delay=10.0)] * 3,
                      task="narrative")
    gateway = shared_gateway(app)
    try:
        await asyncio.to_thread(queued_digests, app, MONDAY)
        narrator = narrator_for(app.settings, app.playbook, gateway.assistant, app.engine,
                                gateway.database.run, app.clock.now)
        assert narrator is not None
        started = time.monotonic()
        released = await narrator.run_once()
        took = time.monotonic() - started
        assert released == 3
        assert took < app.settings.coach_llm_turn_budget + 1.0, took
        with app.sessions() as db:
            rows = db.scalars(select(Outbox).where(Outbox.idempotency_key.startswith(
                "digest:"))).all()
        assert all(r.not_before == MONDAY for r in rows)  # due now, as they are
        assert all("[narrative]" not in r.payload["message"]["text"] for r in rows)
    finally:
        if gateway.assistant is not None:
            await gateway.assistant.close()
        gateway.close()
        app.close()


def test_coach_digest_shows_the_narrative_when_a_model_is_configured(
        org: Any, cli: None, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("COACH_LLM_TIMEOUT", "2")
    said = ["Coverage reached 80% of the 5 reps.", "Coverage rose by 937 points.",
            "Two blockers were tagged, one was not."]
    fake_openai.reply(*[good({"sentences": said})] * 2, task="narrative")
    code, out, err = run_cli(["digest", "--leader", "lena@org.example", "--week", "2026-W48"],
                             monkeypatch, capsys=capsys)
    assert code == 0, err
    assert out.split("\n\n")[1] == ("In short: Coverage reached 80% of the 5 reps. Two "
                                    "blockers were tagged, one was not. [narrative]")
    code, out, err = run_cli(["digest", "--leader", "lena@org.example", "--week", "2026-W48",
                              "--json"], monkeypatch, capsys=capsys)
    assert code == 0, err
    assert json.loads(out)["narrative"] == [said[0], said[2]]
    fake_openai.reply(Reply(status=500), task="narrative")
    code, out, _ = run_cli(["digest", "--leader", "lena@org.example", "--week", "2026-W48",
                            "--json"], monkeypatch, capsys=capsys)
    assert code == 0 and json.loads(out)["narrative"] == []


async def test_coach_serve_narrates_after_the_tick_and_sends_each_digest_once(
        db_url: str, fake_openai: FakeOpenAI) -> None:
    """The scheduler of ``coach serve``: the tick queues the held digests and commits; the
    narrator runs after it, in the background; the outbox sends each digest once, with
    its narrative on top."""
    app = model_app(db_url, fake_openai, start=MONDAY)
    fake_openai.reply(*[good({"sentences": SAID})] * 3, task="narrative")
    notifier = FakeNotifier("console")
    gateway = shared_gateway(app)
    gateway.outbox.register(notifier)
    host = rhythm_host(app, gateway, due_work_for(app))
    assert host.after_tick is not None

    def digests() -> list[Any]:
        return [r for r in notifier.sent if r.key.startswith("digest:")]

    try:
        async with running(host):
            await until(lambda: len(digests()) == 3)
        assert {r.target for r in digests()} == RECIPIENTS
        assert all(NARRATIVE in r.message.text for r in digests())
        assert len({r.key for r in notifier.sent}) == len(notifier.sent)
    finally:
        if gateway.assistant is not None:
            await gateway.assistant.close()
        gateway.close()
        app.close()


def test_scheduler_run_due_narrates_what_it_held(db_url: str, fake_openai: FakeOpenAI,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """``coach scheduler run-due`` (cron, no server): the digests it queues get their
    narrative right after its run, and are due at once."""
    app = make_app(db_url)  # the demo organisation
    rhythm_running_since(app)
    app.close()
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("COACH_LLM_TIMEOUT", "2")
    fake_openai.reply(*[good({"sentences": SAID})] * 3, task="narrative")
    code, out, err = run_cli(["scheduler", "run-due", "--now", MONDAY.isoformat()],
                             monkeypatch, db_url, capsys)
    assert code == 0, err
    assert "digest 3" in out
    app = make_app(db_url, demo=False)
    try:
        with app.sessions() as db:
            rows = db.scalars(select(Outbox).where(Outbox.idempotency_key.startswith(
                "digest:"))).all()
        assert len(rows) == 3 and all(r.not_before == MONDAY for r in rows)
        assert all(NARRATIVE in r.payload["message"]["text"] for r in rows)
    finally:
        app.close()


def test_the_readable_chat_opens_with_the_speakers_narrated_digest(
        db_url: str, fake_openai: FakeOpenAI) -> None:
    """``coach chat`` at start: the digests the due work held are narrated first (at most
    the turn budget); the speaker's is shown, the others' counted as before."""
    app = model_app(db_url, fake_openai, start=MONDAY)
    fake_openai.reply(*[good({"sentences": SAID})] * 3, task="narrative")
    out = io.StringIO()

    def read(prompt: str) -> str:
        raise EOFError

    try:
        Terminal(app, "maya@demo.smos.example", read=read, out=out).run()
    finally:
        app.close()
    text = out.getvalue()
    assert "Weekly digest for Maya Manager" in text and NARRATIVE in text
    assert "Weekly digest for Lee Leader" not in text
    assert "scheduled message(s) went to other people" in text
