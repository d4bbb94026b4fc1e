"""The turn runner: one database transaction per turn.

load person and conversation → run the flow step (pure) → store the effects, the
new state (version-checked) and the transition log → commit. A crash at any
point leaves the old turn or the new one, never half of one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.channels.result import TurnResult
from bot.channels.routing import route
from bot.channels.who import Who
from bot.clock import Clock, zone
from bot.flowset import FlowSet
from bot.llm.requests import AssistRequest, RequestPlanner
from flows import engine
from flows.effects import AskModel, RaiseEscalation, StartFlow
from flows.engine import Context, FlowState, Outcome
from flows.messages import Choose, Event, Input, Message, Say, message_to_json
from storage import coaching, conversations, outbox, people
from storage.conversations import ActiveConversation, Speaker, StaleConversation
from storage.db import DatabaseBusy, is_unavailable
from storage.models import Conversation, Person
from storage.people import Coachee
from storage.unit import UnitOfWork

log = logging.getLogger("coach.turn")


class TurnText:
    unknown_person = ("I don't know you yet. Ask your admin to add you "
                      "(`coach people import people.csv`), then say hello again.")
    nothing_open = "Nothing is in progress. Start with /coach <rep>, or type /help."
    crashed = ("Sorry, something went wrong on my side and nothing from that answer was "
               "saved. Please try again.")
    stale = "That answer came in after another one for the same question; here is where we are."
    wrong_step = "That answer was meant for an earlier question; here is where we are."
    right_gone = ("{rep} is no longer in your reporting line, so I closed this {flow}. "
                  "Everything recorded so far is kept; nothing more goes to {rep}.")
    busy = ("My storage is briefly unavailable, so your answer was not saved. "
            "Please send it again in a moment.")
    unknown_command = "Unknown command {name}. Here is what you can do:"
    paused_with = ("Paused your session with {rep} ({title}). Nothing is lost: {resume} or "
                   "/resume picks it up.")
    paused_alone = "Paused: {title}. Nothing is lost: {resume} or /resume picks it up."


MAX_COMMAND_ECHO = 40


@dataclass
class Turn:
    """Everything one turn works with, inside the turn's one transaction: ``conn`` for
    prebuilt Core statements, ``db`` (an ORM session on the same transaction, made on
    first use) for the commands that work with objects."""

    unit: UnitOfWork
    who: Who
    me: Speaker
    now: datetime
    flows: FlowSet
    hand_off: HandOff
    active: ActiveConversation | None = None  # the conversation the turn's first query found
    out: list[Message] = field(default_factory=list)
    # Other active conversations of this user, besides ``active``, as far as the turn knows
    # (None: unknown); set_aside pauses them only when there may be some.
    others_active: int | None = None
    planner: RequestPlanner | None = None  # None: no language model
    asks: list[AssistRequest] = field(default_factory=list)  # sent after the commit

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
        local = zone(self.me.timezone)
        today = self.now.astimezone(local).date()
        actor = engine.Person(self.me.id, self.me.email, self.me.name, self.me.role)
        return Context(now=self.now, today=today, playbook=self.flows.playbook, actor=actor,
                       subject=subject, zone=local, assist=self.planner is not None)

    def say(self, *messages: Message) -> None:
        self.out.extend(messages)

    def outgoing(self, conversation_id: int, version: int, messages: tuple[Message, ...],
                 scheduled: Mapping[int, dict[str, str]] | None = None) -> None:
        """Messages for someone else go to the outbox of the recipient's channel (see
        bot/channels/routing.py), inside this transaction; ``scheduled``: by index, the
        ``{"kind", "at"}`` of those the operating rhythm names (an escalation)."""
        for index, message in enumerate(messages):
            if message.to is None or message.to == self.me.email:
                self.say(message)
                continue
            to = route(self.conn, self.who, self.person.org_id, message.to)
            payload: dict[str, object] = {"tenant": to.tenant,
                                          "message": message_to_json(message)}
            if scheduled and index in scheduled:
                payload["scheduled"] = scheduled[index]
            outbox.enqueue(self.conn, key=f"conv:{conversation_id}:v{version}:{index}",
                           kind=to.channel, target=message.to, now=self.now, payload=payload)

    def queue_for_speaker(self, unattended: Unattended) -> None:
        """What this turn says to the speaker, sent through their own channel's outbox
        (nobody is waiting for a reply): keys ``<occurrence>:<index>``, with what the
        scheduler adds to each row (``scheduled``, ``guard``, ``not_before``)."""
        for index, message in enumerate(self.out):
            outbox.enqueue(self.conn, key=f"{unattended.occurrence}:{index}",
                           kind=self.who.platform, target=self.me.email, now=self.now,
                           not_before=unattended.not_before,
                           payload={"tenant": self.who.tenant,
                                    "message": message_to_json(message),
                                    **unattended.extra})

    def may_continue(self, row: ActiveConversation | Conversation, state: FlowState,
                     subject: engine.Person | None) -> bool:
        """METHOD §9 on every turn, not only at /coach: a conversation about a rep goes on
        only while the speaker may still coach that rep. When the right has gone (the rep
        moved to another manager, the speaker's role changed), the conversation is closed
        with a clear message; what was recorded stays, nothing is sent to the rep."""
        if subject is None or self._may_coach(row, subject.id):
            return True
        flow = self.flows[state.flow]
        closed = FlowState(state.flow, state.step, state.data, state.trail, "ended")
        text = TurnText.right_gone.format(rep=subject.name or "This rep", flow=flow.title.lower())
        self.store(row, state, Outcome(closed, (Message(text),), flow.on_cancel(state)), None,
                   event="revoked")
        return False

    def _may_coach(self, row: ActiveConversation | Conversation, rep_id: int) -> bool:
        """people.may_coach, answered by the turn's first query when it could be (a manager
        speaking about the conversation's own subject), else asked."""
        if (isinstance(row, ActiveConversation) and row.manager_coaches is not None
                and self.me.role == "manager" and row.subject == str(rep_id)):
            return row.manager_coaches
        return people.may_coach(self.conn, self.me.id, self.me.role, rep_id)

    def log(self, event: str, flow: str = "-", **detail: object) -> None:
        conversations.log(self.conn, at=self.now, flow=flow, event=event,
                          person_id=self.me.id, detail=dict(detail) or None)

    def set_aside(self, keep: int | None) -> None:
        """One active conversation per person, so that an answer can only go to the one
        in view: the conversation in progress (unless it is ``keep``) is paused, saying
        how to pick it up again; any other left active is paused too."""
        row = self.active
        if row is not None and row.id != keep:
            state = FlowState.from_json(row.state)
            paused = replace(state, status="paused")
            note = Message(pause_note(self.flows, state), flow=state.flow)
            self.store(row, state, Outcome(paused, (note,)), self.flows.subject(state),
                       event="pause")
            self.active = None
        if self.others_active != 0:
            conversations.pause_others(self.conn, self.who.platform, self.who.tenant,
                                       self.who.user_key, keep=keep, now=self.now)
            self.others_active = 0

    def begin_flow(self, flow: str, subject: Person | Coachee | None, subject_key: str,
                   data: dict[str, object], row: ActiveConversation | Conversation | None = None,
                   looked_up: bool = False) -> None:
        """Start ``flow``, reusing the ended conversation row of the same kind and subject
        (``looked_up``: the caller already searched for it and passes what it found).
        The conversation in progress, if another, is paused first."""
        if row is None and not looked_up:
            row = conversations.find(self.conn, self.who.platform, self.who.tenant,
                                     self.who.user_key, flow, subject_key)
        self.set_aside(row.id if row is not None else None)
        about = as_flow_person(subject) if subject else None
        outcome = self.flows.start(flow, self.context(about), data)
        self.store(row, None, outcome, about, event="start", subject_key=subject_key)

    def store(self, row: Conversation | ActiveConversation | None, before: FlowState | None,
              outcome: Outcome, subject: engine.Person | None, event: str = "step",
              subject_key: str = "") -> None:
        """Persist effects, state and log for one flow outcome; carry out hand-offs.
        With no ``row``, a new conversation about ``subject_key`` is created."""
        handoffs: list[StartFlow] = []
        notices: list[Message] = []
        scheduled: dict[int, dict[str, str]] = {}
        asks: list[AskModel] = []
        for effect in outcome.effects:
            if isinstance(effect, StartFlow):
                handoffs.append(effect)
                continue
            if isinstance(effect, AskModel):  # asked after the commit, never inside it
                asks.append(effect)
                continue
            coaching.apply(self.unit, effect, actor_id=self.me.id, now=self.now)
            if isinstance(effect, RaiseEscalation) and effect.notice:
                for owner in coaching.escalation_recipients(self.db, self.me.id):
                    # the owner, in chat at once: an escalation the rhythm names (its inbox
                    # is /escalations), at the owner's local time
                    scheduled[len(outcome.messages) + len(notices)] = {
                        "kind": "escalation",
                        "at": self.now.astimezone(zone(owner.timezone)).isoformat()}
                    notices.append(Message(effect.notice, to=owner.email))
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
        # Keep the turn's view of the conversation in progress true for what follows
        # (a hand-off starting the next flow must not pause the one that just ended).
        if state.status == "active":
            self.active = ActiveConversation(row.id, version, state.to_json(), state.flow,
                                             state.status)
        elif self.active is not None and self.active.id == row.id:
            self.active = None
        self.outgoing(row.id, version, (*outcome.messages, *notices), scheduled)
        if self.planner is not None:
            for ask in asks:
                self.ask_model(ask, subject, f"assist:{row.id}:v{version}:{ask.task}")
        for handoff in handoffs:
            self.hand_off(self, handoff, subject)

    def ask_model(self, ask: AskModel, subject: engine.Person | None, occurrence: str) -> None:
        """Build the model request (redacted, rendered) to send after the commit. The model
        is an extra: a request that cannot be built is logged and left out, and the turn
        stands (the flow goes on as it does when the model gives no answer)."""
        assert self.planner is not None
        try:
            self.asks.append(self.planner.plan(self.conn, self.who, self.me.id,
                                               subject.id if subject else None, ask,
                                               occurrence))
        except SQLAlchemyError:
            raise  # the database's trouble is the turn's (busy, stale): never hidden here
        except Exception:
            log.exception("could not build the model request %s", ask.task)


@dataclass(frozen=True, slots=True)
class Unattended:
    """A turn nobody typed, named by its ``occurrence`` (the outbox keys' stem); ``extra``
    goes into each queued row's payload (the rhythm's ``scheduled`` and ``guard``)."""

    occurrence: str
    extra: Mapping[str, Any] = field(default_factory=dict)
    not_before: datetime | None = None


CommandHandler = Callable[[Turn, str], None]
# A platform's delivery claimed in the turn's own transaction: False when it was handled
# before (a retried delivery); see TurnRunner.run_turn.
Claim = Callable[[Connection], bool]
# Starts the flow a finished one hands over to (a session → its planned model).
HandOff = Callable[[Turn, StartFlow, engine.Person | None], None]


class TurnRunner:
    """Runs one input to completion and returns what happened, with the bot's messages."""

    def __init__(self, engine: Engine, flows: FlowSet, clock: Clock,
                 commands: dict[str, CommandHandler], hand_off: HandOff,
                 planner: RequestPlanner | None = None) -> None:
        self.engine = engine
        self.flows = flows
        self.clock = clock
        self.commands = commands
        self.hand_off = hand_off
        self.planner = planner  # a language model is on: flows may ask it (AskModel)

    def handle(self, who: Who, given: Input, *, expect_step: str | None = None) -> list[Message]:
        """The messages of one turn, for callers that show them whatever happened."""
        return list(self.run_turn(who, given, expect_step).messages)

    def run_turn(self, who: Who, given: Input, expect_step: str | None = None,
                 unattended: str | Unattended | None = None,
                 claim: Claim | None = None) -> TurnResult:
        """Run the turn: a stale version is tried once more, a database held by another
        writer is reported (``busy``, nothing stored), not waited out.

        ``unattended``: a turn nobody typed (the scheduler, a late answer), named by its
        occurrence: what it says to the person goes to their outbox, in the same
        transaction, under that key (the same occurrence twice queues nothing twice).

        ``claim``: run in the turn's transaction before the turn (a platform's delivery
        id: a retried delivery runs no turn, and a turn that is not stored, or a speaker
        not known yet, claims nothing); False: the delivery was handled before, nothing
        runs (status ``seen``)."""
        if isinstance(unattended, str):
            unattended = Unattended(unattended)
        for attempt in (1, 2):
            try:
                return self._turn(who, given, expect_step, unattended, claim)
            except StaleConversation:
                log.info("stale conversation for %s, attempt %d", who.user_key, attempt)
            except DatabaseBusy:
                return TurnResult("busy", (Message(TurnText.busy),))
        return TurnResult("stale", (Message(TurnText.stale),))

    def _turn(self, who: Who, given: Input, expect_step: str | None,
              unattended: Unattended | None, claim: Claim | None) -> TurnResult:
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                me, row = conversations.load_turn(conn, who.platform, who.tenant, who.user_key)
                if me is None:
                    return TurnResult("unknown_person", (Message(TurnText.unknown_person),))
                if claim is not None and not claim(conn):
                    return TurnResult("seen")
                unit = UnitOfWork(conn)
                try:
                    turn = Turn(unit, who, me, now, self.flows, self.hand_off, active=row,
                                others_active=row.also_active if row is not None else 0,
                                planner=self.planner)
                    typed = command_of(given)
                    refused = _off_step(turn, row, expect_step)
                    if refused:
                        pass  # the current question was asked again
                    elif typed is not None:
                        self._command(turn, typed)
                    else:
                        self._step(turn, row, given)
                    if unattended is not None:
                        turn.queue_for_speaker(unattended)
                    unit.finish()
                finally:
                    unit.discard()
                return TurnResult("refused" if refused else "ok", tuple(turn.out),
                                  tuple(turn.asks))
        except StaleConversation:
            raise
        except Exception as exc:
            if is_unavailable(exc):  # SQLite busy, PostgreSQL away: say so, not "crashed"
                log.warning("database unavailable (%s): turn of %s not stored",
                            type(exc).__name__, who.user_key)
                raise DatabaseBusy from exc
            log.exception("turn failed", extra={"user": who.user_key, "platform": who.platform})
            return TurnResult("crashed", (Message(TurnText.crashed),))

    def _command(self, turn: Turn, typed: str) -> None:
        name, _, rest = typed[1:].partition(" ")
        command = self.commands.get(name.lower())
        if command is None:
            shown = "/" + name[:MAX_COMMAND_ECHO] + ("…" if len(name) > MAX_COMMAND_ECHO else "")
            turn.say(Message(TurnText.unknown_command.format(name=shown)))
            command = self.commands["help"]
        command(turn, rest.strip())

    def _step(self, turn: Turn, row: ActiveConversation | None, given: Input) -> None:
        if row is None:
            if not isinstance(given, Event):  # an event for no conversation: nothing to say
                turn.say(Message(TurnText.nothing_open))
            return
        state = FlowState.from_json(row.state)
        flow = self.flows[state.flow]
        subject = self.flows.subject(state)
        ctx = turn.context(subject)
        if not turn.may_continue(row, state, subject):
            return
        outcome = engine.advance(flow, state, given, ctx)
        if outcome.state == state and not outcome.effects:
            turn.say(*outcome.messages)  # a retry: nothing changed, nothing to store
            return
        turn.store(row, state, outcome, subject)


def command_of(given: Input) -> str | None:
    """The /command an input carries: typed text starting with "/", or a choice whose id
    is a command (the numbered list /resume shows, the buttons /cancel asks with)."""
    text = given.text if isinstance(given, Say) else given.choice if isinstance(
        given, Choose) else ""
    text = text.strip()
    return text if text.startswith("/") else None


def pause_note(flows: FlowSet, state: FlowState) -> str:
    """What to say when a conversation is paused: with whom, and what picks it up."""
    flow, subject = flows[state.flow], flows.subject(state)
    ref = subject.email if subject and subject.email else subject.name if subject else ""
    resume = flows.specs[state.flow].resumed_by.format(ref=ref).strip()
    if subject is None:
        return TurnText.paused_alone.format(title=flow.title, resume=resume)
    return TurnText.paused_with.format(rep=subject.name, title=flow.title, resume=resume)


def _off_step(turn: Turn, row: ActiveConversation | None, expect_step: str | None) -> bool:
    """An input meant for another step than the open conversation's (a stale button, a
    second terminal) is refused, and the current question asked again; a /command too."""
    if expect_step is None or row is None:
        return False
    state = FlowState.from_json(row.state)
    if state.step == expect_step:
        return False
    ctx = turn.context(turn.flows.subject(state))
    turn.say(Message(TurnText.wrong_step), engine.ask(turn.flows[state.flow], state, ctx))
    return True


def as_flow_person(person: Person | Coachee) -> engine.Person:
    return engine.Person(person.id, person.email, person.name, person.role)


