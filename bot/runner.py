"""The turn runner: one database transaction per turn.

load person and conversation → run the flow step (pure) → store the effects, the
new state (version-checked) and the transition log → commit. A crash at any
point leaves the old turn or the new one, never half of one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.flowset import FlowSet
from flows import engine
from flows.effects import StartFlow
from flows.engine import Context, FlowState, Outcome
from flows.messages import Input, Message, Say, message_to_json
from storage import coaching, conversations, outbox
from storage.conversations import Live, Speaker, StaleConversation
from storage.models import Conversation, Person
from storage.people import Coachee
from storage.unit import Unit

log = logging.getLogger("coach.turn")


@dataclass(frozen=True, slots=True)
class Who:
    """Who is talking, as the platform knows them (the console uses the email)."""

    platform: str
    tenant: str
    user_key: str


class T:
    unknown_person = ("I don't know you yet. Ask your admin to add you "
                      "(`coach people import people.csv`), then say hello again.")
    nothing_open = "Nothing is in progress. Start with /coach <rep>, or type /help."
    crashed = ("Sorry, something went wrong on my side and nothing from that answer was "
               "saved. Please try again.")
    stale = "That answer came in after another one for the same question; here is where we are."
    wrong_step = "That answer was meant for an earlier question; here is where we are."


@dataclass
class Turn:
    """Everything one turn works with, inside the turn's one transaction: ``conn`` for
    prebuilt Core statements, ``db`` (an ORM session on the same transaction, made on
    first use) for the commands that work with objects."""

    unit: Unit
    who: Who
    me: Speaker
    now: datetime
    flows: FlowSet
    active: Live | None = None  # the conversation the turn's first query found
    out: list[Message] = field(default_factory=list)

    @property
    def conn(self) -> Connection:
        return self.unit.conn

    @property
    def db(self) -> Session:
        return self.unit.db

    @cached_property
    def person(self) -> Person:
        """The speaker as a stored row, loaded only by the turns that need it."""
        person = self.db.get(Person, self.me.id)
        if person is None:
            raise LookupError(f"person {self.me.id} vanished during the turn")
        return person

    def context(self, subject: engine.Person | None = None) -> Context:
        today = self.now.astimezone(zone(self.me.timezone)).date()
        actor = engine.Person(self.me.id, self.me.email, self.me.name, self.me.role)
        return Context(now=self.now, today=today, playbook=self.flows.playbook, actor=actor,
                       subject=subject)

    def say(self, *messages: Message) -> None:
        self.out.extend(messages)

    def outgoing(self, conversation_id: int, version: int, messages: tuple[Message, ...]) -> None:
        """Messages for someone else go to the outbox, inside this transaction."""
        for index, message in enumerate(messages):
            if message.to is None or message.to == self.me.email:
                self.say(message)
                continue
            outbox.enqueue(
                self.conn, key=f"conv:{conversation_id}:v{version}:{index}",
                kind=self.who.platform, target=message.to, now=self.now,
                payload={"tenant": self.who.tenant, "message": message_to_json(message)},
            )

    def log(self, event: str, flow: str = "-", **detail: object) -> None:
        conversations.log(self.conn, at=self.now, flow=flow, event=event,
                          person_id=self.me.id, detail=dict(detail) or None)

    def begin_flow(self, flow: str, subject: Person | Coachee | None, subject_key: str,
                   data: dict[str, object], row: Live | None = None,
                   looked_up: bool = False) -> None:
        """Start ``flow``, reusing the ended conversation row of the same kind and subject
        (``looked_up``: the caller already searched for it and passes what it found)."""
        if row is None and not looked_up:
            row = conversations.find(self.conn, self.who.platform, self.who.tenant,
                                     self.who.user_key, flow, subject_key)
        about = as_flow_person(subject) if subject else None
        outcome = self.flows.start(flow, self.context(about), data)
        self.store(row, None, outcome, about, event="start", subject_key=subject_key)

    def store(self, row: Conversation | Live | None, before: FlowState | None,
              outcome: Outcome, subject: engine.Person | None, event: str = "step",
              subject_key: str = "") -> None:
        """Persist effects, state and log for one flow outcome; carry out hand-offs.
        With no ``row``, a new conversation about ``subject_key`` is created."""
        handoffs: list[StartFlow] = []
        for effect in outcome.effects:
            if isinstance(effect, StartFlow):
                handoffs.append(effect)
            else:
                coaching.apply(self.unit, effect, actor_id=self.me.id, now=self.now)
        state = outcome.state
        if row is None:
            row = conversations.create(
                self.conn, platform=self.who.platform, tenant=self.who.tenant,
                user_key=self.who.user_key, flow=state.flow, subject=subject_key,
                person_id=self.me.id, state=state.to_json(), status=state.status, now=self.now)
            version = row.version
        else:
            version = conversations.save(self.conn, row, state=state.to_json(),
                                         status=state.status, now=self.now)
        conversations.log(
            self.conn, at=self.now, flow=state.flow, event=event, conversation_id=row.id,
            person_id=self.me.id, from_step=before.step if before else None,
            to_step=state.step if state.status != "ended" else engine.END, version=version,
            detail={"effects": [type(e).__name__ for e in outcome.effects]}
            if outcome.effects else None,
        )
        self.outgoing(row.id, version, outcome.messages)
        for handoff in handoffs:
            start_model(self, handoff, subject)


Command = Callable[[Turn, str], None]


class TurnRunner:
    """Runs one input to completion and returns the bot's messages."""

    def __init__(self, engine: Engine, flows: FlowSet, clock: Clock,
                 commands: dict[str, Command]) -> None:
        self.engine = engine
        self.flows = flows
        self.clock = clock
        self.commands = commands

    def handle(self, who: Who, given: Input, *, expect_step: str | None = None) -> list[Message]:
        for attempt in (1, 2):
            try:
                return self._turn(who, given, expect_step)
            except StaleConversation:
                log.info("stale conversation for %s, attempt %d", who.user_key, attempt)
        return [Message(T.stale)]

    def _turn(self, who: Who, given: Input, expect_step: str | None) -> list[Message]:
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                me, row = conversations.load_turn(conn, who.platform, who.tenant, who.user_key)
                if me is None:
                    return [Message(T.unknown_person)]
                unit = Unit(conn)
                try:
                    turn = Turn(unit, who, me, now, self.flows, active=row)
                    if _off_step(turn, row, expect_step):
                        pass  # refused: the current question was asked again
                    elif isinstance(given, Say) and given.text.strip().startswith("/"):
                        name, _, rest = given.text.strip()[1:].partition(" ")
                        command = self.commands.get(name.lower(), self.commands["help"])
                        command(turn, rest.strip())
                    else:
                        self._step(turn, row, given)
                    unit.finish()
                finally:
                    unit.discard()
                return turn.out
        except StaleConversation:
            raise
        except Exception:
            log.exception("turn failed", extra={"user": who.user_key, "platform": who.platform})
            return [Message(T.crashed)]

    def _step(self, turn: Turn, row: Live | None, given: Input) -> None:
        if row is None:
            turn.say(Message(T.nothing_open))
            return
        state = FlowState.from_json(row.state)
        flow = self.flows[state.flow]
        subject = subject_in(state)
        ctx = turn.context(subject)
        outcome = engine.advance(flow, state, given, ctx)
        if outcome.state == state and not outcome.effects:
            turn.say(*outcome.messages)  # a retry: nothing changed, nothing to store
            return
        turn.store(row, state, outcome, subject)


def _off_step(turn: Turn, row: Live | None, expect_step: str | None) -> bool:
    """An input meant for another step than the open conversation's (a stale button, a
    second terminal) is refused, and the current question asked again; a /command too."""
    if expect_step is None or row is None:
        return False
    state = FlowState.from_json(row.state)
    if state.step == expect_step:
        return False
    ctx = turn.context(subject_in(state))
    turn.say(Message(T.wrong_step), engine.ask(turn.flows[state.flow], state, ctx))
    return True


def subject_in(state: FlowState) -> engine.Person | None:
    """The rep a flow is about, as the flow's own data names them (no query needed)."""
    data = state.data
    if not isinstance(data.get("rep_id"), int):
        return None
    return engine.Person(int(data["rep_id"]), str(data.get("rep_ref", "")),
                         str(data.get("rep_name", "")), "rep")


def start_model(turn: Turn, handoff: StartFlow, subject: engine.Person | None) -> None:
    from bot.commands import model_data  # local: commands imports this module

    rep = turn.db.get(Person, subject.id) if subject else None
    session = coaching.last_session(turn.db, rep.id) if rep else None
    if rep is None or session is None:
        return
    turn.begin_flow(handoff.flow, rep, str(rep.id), model_data(turn, session, rep))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def as_flow_person(person: Person | Coachee) -> engine.Person:
    return engine.Person(person.id, person.email, person.name, person.role)


