"""A model's late answer on a surface that shows it in place (Slack's open modal): its
messages are queued held back, so that showing them and sending them never both happen;
when they cannot be shown (the surface failed), they go as messages at once, once; if the
process dies before either, they go when the hold ends. Through the shared gateway, with
the real openai client and the fake server; SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels.gateway import LATE_HOLD
from bot.channels.who import Who
from bot.runner import Unattended
from bot.surfaces import shared_gateway
from flows.messages import Choose, Event, Message, Say, Submit
from storage import outbox
from storage.models import Conversation, Outbox
from tests.channels.fakes import FakeNotifier
from tests.llm.fake_openai import FakeOpenAI
from tests.llm.sessions import MAYA, PROBLEM, model_app, triage_reply

STEPS = (Say("/coach alice"),
         Submit({"purpose": "Improve win rate", "objectives": "Agree one behaviour",
                 "value_to_rep": "Higher commission"}),
         Choose("yes"), Choose("metric:win rate %"),
         Submit({"gap_statement": "Win rate 14% vs 25%", "rep_view": "Losing late deals",
                 "manager_view": "Discovery is thin"}),
         Choose("opportunity_qualification"), Choose("yes"))


async def test_a_late_answer_the_surface_cannot_show_goes_as_a_message_once(
        db_url: str, fake_openai: FakeOpenAI) -> None:
    app = model_app(db_url, fake_openai)
    fake_openai.reply(triage_reply(), task="triage")
    gateway = shared_gateway(app)
    notifier = FakeNotifier("console")
    gateway.outbox.register(notifier)
    tried: list[tuple[Message, ...]] = []

    async def cannot(who: Who, messages: tuple[Message, ...]) -> bool:
        tried.append(messages)
        raise RuntimeError("the platform is down")

    gateway.show_late_with("console", cannot)
    who = Who("console", "local", MAYA)
    try:
        for given in STEPS:
            assert (await gateway.turn(who, given)).status == "ok"
        result = await gateway.turn(who, Submit({"problem": PROBLEM}))
        assert [a.task for a in result.asks] == ["triage"]
        await gateway.idle()
        assert len(tried) == 1 and tried[0][-1].step == "triage"
        late = [r for r in notifier.sent if r.key.startswith("assist:")]
        assert [r.message.step for r in late] == ["triage"]  # sent once, at once
        with app.sessions() as db:
            rows = db.scalars(select(Outbox).where(
                Outbox.idempotency_key.startswith("assist:"))).all()
        assert [r.status for r in rows] == ["sent"]
    finally:
        if gateway.assistant is not None:
            await gateway.assistant.close()
        gateway.close()
        app.close()


def test_held_late_messages_go_when_the_hold_ends_if_nothing_settles_them(
        db_url: str, fake_openai: FakeOpenAI) -> None:
    """The process died between the late answer's turn and showing it: nothing is lost,
    the held messages are due once the hold is over, not before; settling them later
    changes nothing twice."""
    app = model_app(db_url, fake_openai)
    who = Who("console", "local", MAYA)
    now = app.clock.now()
    try:
        for given in (*STEPS, Submit({"problem": PROBLEM})):
            app.runner.run_turn(who, given)
        with app.sessions() as db:
            row = db.scalars(select(Conversation).where(Conversation.flow == "sled")).one()
            token = row.state["data"]["triage_token"]
        # no proposals came: the note, then the question again (both held)
        result = app.runner.run_turn(who, Event("triage", {"token": token, "proposals": {}}),
                                     None, Unattended("late:1", not_before=now + LATE_HOLD))
        assert [m.step for m in result.messages] == [None, "Q01_gap_specific"]
        keys = {"late:1:0", "late:1:1"}
        with app.sessions.begin() as db:
            early = outbox.due(db, channel="console", now=now + LATE_HOLD / 2, limit=500)
            assert not keys & {r.idempotency_key for r in early}
            later = outbox.due(db, channel="console", now=now + LATE_HOLD, limit=500)
            assert keys <= {r.idempotency_key for r in later}
            for r in later:
                outbox.sent(r, now + LATE_HOLD)
        with app.engine.begin() as conn:  # a settle after they went: nothing changes
            assert outbox.settle_held(conn, sorted(keys), shown=True, now=now) == 0
    finally:
        app.close()
