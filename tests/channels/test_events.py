"""Input nobody typed: an Event fed into a flow through the same gateway (a model's
answer arriving later), its words sent through the person's own outbox, once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from bot.bootstrap import App
from bot.channels.gateway import Gateway
from bot.channels.who import Who
from bot.cli.demo_org import MANAGER
from bot.flowset import SPECS, FlowSet
from bot.runner import Turn, TurnRunner
from bot.services.commands import commands
from bot.services.handoffs import start_model
from bot.surfaces import shared_gateway
from flows.engine import END, Context, Flow, FlowState, Go, Outcome, Step, begin
from flows.messages import Event, Message, Say
from flows.playbook import Playbook
from flows.spec import FlowSpec, nobody
from storage.models import Conversation, Outbox
from tests.support import make_app

ME = Who("console", "local", MANAGER)


def build_waiting(playbook: Playbook) -> Flow:
    def answered(state: FlowState, answer: Any, ctx: Context) -> Go:
        return Go(END, say=(Message(f"The answer came: {answer['text']}"),))

    waiting = Step("waiting", "W", lambda s, c: Message("Waiting for the answer…"), answered,
                   (END,), events=("model_answered",))
    return Flow("waiting", "Waiting", {"W": "W"}, {"waiting": waiting}, "waiting")


def start_waiting(playbook: Playbook, ctx: Context, data: Mapping[str, Any],
                  flow: Flow | None = None) -> Outcome:
    return begin(flow or build_waiting(playbook), data, ctx)


WAITING = FlowSpec("waiting", "Waiting", "Waiting", "dm", build_waiting, start_waiting, nobody)


def gateway_with_waiting(app: App) -> Gateway:
    specs = (*SPECS, WAITING)
    flows = FlowSet(app.playbook, {s.name: s.build(app.playbook) for s in specs},
                    {s.name: s for s in specs})

    def wait(turn: Turn, rest: str) -> None:
        turn.begin_flow("waiting", None, "w", {})

    runner = TurnRunner(app.engine, flows, app.clock, {**commands(), "wait": wait},
                        start_model)
    gateway = shared_gateway(app)
    gateway.runner = runner
    return gateway


def queued(app: App) -> list[str]:
    with app.sessions() as db:
        return [r.payload["message"]["text"] for r in db.scalars(
            select(Outbox).where(Outbox.target == MANAGER).order_by(Outbox.id))]


async def test_an_event_moves_the_flow_that_waits_for_it_and_is_sent_once(db_url: str) -> None:
    app = make_app(db_url)
    gateway = gateway_with_waiting(app)
    try:
        started = await gateway.turn(ME, Say("/wait"))
        assert started.messages[-1].text == "Waiting for the answer…"
        other = await gateway.on_behalf(ME, Event("something_else"), "other:1")
        assert other.status == "ok" and other.messages == () and queued(app) == []
        answer = Event("model_answered", {"text": "practise discovery"})
        done = await gateway.on_behalf(ME, answer, "answer:1")
        assert [m.text for m in done.messages] == ["The answer came: practise discovery"]
        assert queued(app) == ["The answer came: practise discovery"]
        with app.sessions() as db:
            row = db.scalar(select(Conversation).where(Conversation.flow == "waiting"))
            assert row is not None and row.status == "ended"
        again = await gateway.on_behalf(ME, answer, "answer:1")  # nothing open any more
        assert again.messages == () and len(queued(app)) == 1
    finally:
        gateway.close()
        app.close()


async def test_the_scheduler_opens_a_checkin_for_a_rep_who_did_not_write(db_url: str) -> None:
    app = make_app(db_url)
    gateway = shared_gateway(app)
    alice = Who("console", "local", MANAGER.replace("maya", "alice"))
    try:
        opened = await gateway.on_behalf(alice, Say("/checkin"), "checkin:2026-W49:alice")
        assert opened.status == "ok" and opened.messages[-1].flow == "checkin"
        with app.sessions() as db:
            rows = db.scalars(select(Outbox).where(Outbox.target == alice.user_key)).all()
            assert [r.idempotency_key for r in rows] == [
                f"checkin:2026-W49:alice:{i}" for i in range(len(opened.messages))]
            assert {r.kind for r in rows} == {"console"}
    finally:
        gateway.close()
        app.close()
