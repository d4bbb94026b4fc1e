"""``coach chat``: the terminal adapter, readable or JSON lines."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TextIO

from bot.bootstrap import App
from bot.channels.local import ScheduledLabel, deliver
from bot.channels.who import Who
from bot.clock import ManualClock
from bot.console.assist import ConsoleAssist
from bot.console.protocol import (
    Answer,
    BadLine,
    SetClock,
    SwitchUser,
    dump,
    parse_line,
    render,
)
from bot.llm.wiring import narrative_hold
from bot.rhythm.due import Rhythm, run_due
from flows.engine import Reading, check_field
from flows.messages import Input, Message, Say, Submit

log = logging.getLogger("coach.console")
PLATFORM, TENANT = "console", "local"
MAX_FIELD = 100_000  # the flow applies the playbook's limit; this only catches shape early


def who(email: str) -> Who:
    return Who(PLATFORM, TENANT, email)


class ConsoleText:
    clock_fixed = "the clock can only be moved in the console"
    line_failed = ("something went wrong on our side with that line; nothing from it was "
                   "saved. The session goes on.")
    others_at_start = ("({count} scheduled message(s) went to other people while the chat was "
                       "closed; /as <email> to be one of them.)")


SETTLE_MARGIN = 2.0  # seconds beyond the model's turn budget that EOF waits for its answers


def run_jsonl(app: App, actor: str, lines: TextIO, out: TextIO) -> int:
    """Read protocol lines until EOF; every line ends with {"done": true} or {"error": ...}.

    A line that asks the model returns at once; the answer is shown after a later line,
    or at EOF (waited for up to the model's turn budget), followed by another done."""
    assist = ConsoleAssist(app) if app.model.on else None
    try:
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            try:
                actor = _handle_line(app, actor, line, out, assist)
            except BadLine as exc:
                _emit(out, {"error": str(exc)})
                continue
            except Exception:  # one line's failure must not end the session
                log.exception("console line failed")
                _emit(out, {"error": ConsoleText.line_failed})
                continue
            _emit(out, {"done": True})
        if assist is not None and assist.settle(
                app.settings.coach_llm_turn_budget + SETTLE_MARGIN):
            _deliver(app, out)
            _emit(out, {"done": True})
    finally:
        if assist is not None:
            assist.close()
    return 0



def _handle_line(app: App, actor: str, line: str, out: TextIO,
                 assist: ConsoleAssist | None = None) -> str:
    """Carry out one input line; the actor after it (``as`` changes it)."""
    parsed = parse_line(line)
    if isinstance(parsed, SwitchUser):
        return parsed.email
    if isinstance(parsed, SetClock):
        if not isinstance(app.clock, ManualClock):
            raise BadLine(ConsoleText.clock_fixed)
        app.clock.set(parsed.when)
        run_due(rhythm_of(app), app.clock.now())  # what the new time made due
        _deliver(app, out)
        if assist is not None:
            assist.narrate_held()  # a digest held for its narrative: shown when it is done
        return actor
    assert isinstance(parsed, Answer)
    result = app.runner.run_turn(who(actor), parsed.given, parsed.step)
    for message in result.messages:
        _emit(out, render(message, actor))
    if assist is not None:
        assist.submit(result.asks)
    _deliver(app, out)
    return actor


def rhythm_of(app: App) -> Rhythm:
    return Rhythm(app.sessions, app.playbook, app.runner,
                  narrative_hold=narrative_hold(app.settings, app.playbook))


def _deliver(app: App, out: TextIO) -> None:
    """The console's outbox rows: a scheduled one also carries kind, at and key."""
    deliver(app.sessions, app.clock, PLATFORM,
            lambda tenant, to, message, scheduled: _emit(out, render(message, to, scheduled)))


def _emit(out: TextIO, obj: dict[str, object]) -> None:
    try:
        out.write(dump(obj) + "\n")
    except UnicodeEncodeError:  # an output that is not UTF-8: escape everything beyond ASCII
        out.write(json.dumps(obj, separators=(",", ":")) + "\n")
    out.flush()


def _short(value: str, limit: int = 60) -> str:
    line = " ".join(value.split())
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _command_choice(last: Message | None, text: str) -> str | None:
    """A number typed for a list of commands (/resume's list, /cancel's question): the
    command it stands for. Other numbers answer the flow's own question."""
    if last is None or not text.isdecimal() or len(text) > 3:
        return None
    commands = [c.id for c in last.choices if c.id.startswith("/")]
    index = int(text)
    return commands[index - 1] if commands and 1 <= index <= len(commands) else None


class Terminal:
    """A readable chat: numbered choices, forms asked field by field."""

    def __init__(self, app: App, actor: str, read: Callable[[str], str] = input,
                 out: TextIO = sys.stdout) -> None:
        self.app, self.actor, self.read, self.out = app, actor, read, out

    def run(self) -> int:
        self._print(f"smOS Coach — you are {self.actor}. Type /help for commands, "
                    "/quit to leave.")
        self._print(self.app.model.describe() + "\n")
        # What became due while the chat was closed (a check-in, a reminder) comes first;
        # a digest held for the model's narrative waits for it (at most its turn budget).
        assist = ConsoleAssist(self.app, on_answer=self._arrived) if self.app.model.on else None
        try:
            run_due(rhythm_of(self.app), self.app.clock.now())
            narrating = assist.narrate_held(announce=False) if assist is not None else None
            if narrating is not None:
                with contextlib.suppress(Exception):
                    narrating.result(self.app.settings.coach_llm_turn_budget + SETTLE_MARGIN)
            self._deliver(only_mine=True)
            return self._loop(assist)
        finally:
            if assist is not None:
                assist.close()

    def _loop(self, assist: ConsoleAssist | None) -> int:
        pending = self.app.runner.handle(who(self.actor), Say("/hello"))
        self._show(pending)
        last = pending[-1] if pending else None
        while True:
            try:
                given = self._ask(last)
            except (EOFError, KeyboardInterrupt):
                self._print("\nBye. Your conversation is saved; run coach chat to continue.")
                return 0
            if given is None:
                return 0
            # The step the answer was typed for: if the model's answer moved the
            # conversation meanwhile, the answer is refused and the new question shown.
            expect = last.step if last is not None and last.flow is not None else None
            result = self.app.runner.run_turn(who(self.actor), given, expect)
            replies = list(result.messages)
            self._show(replies)
            if assist is not None:
                assist.submit(result.asks)
            self._deliver()
            mine = [m for m in replies if m.to in (None, self.actor)]
            last = mine[-1] if mine else None

    def _arrived(self) -> None:
        """The model answered while the person may be typing: show it now."""
        self._deliver()

    def _ask(self, last: Message | None) -> Input | None:
        if last is not None and last.form is not None:
            return self._fill(last)
        text = self.read("you> ").strip()
        if text in ("/quit", "/exit"):
            return None
        picked = _command_choice(last, text)
        if picked is not None:
            return Say(picked)
        if text.startswith("/as "):
            self.actor = text[4:].strip().lower()
            self._print(f"You are now {self.actor}.")
            return Say("/hello")
        return Say(text)

    def _fill(self, message: Message) -> Input | None:
        """Ask each field in turn; a required field or a bad value is asked again at once."""
        assert message.form is not None
        values: dict[str, str] = {}
        self._print("(type a /command instead of an answer to leave the form)")
        for f in message.form.fields:
            options = f" [{'/'.join(o.id for o in f.options)}]" if f.options else ""
            hint = f" ({f.hint})" if f.hint else ""
            optional = " (optional, Enter to skip)" if not f.required and not f.value else ""
            earlier = f" [Enter keeps: {_short(f.value)}]" if f.value else ""
            while True:
                answer = self.read(f"  {f.label}{options}{hint}{optional}{earlier}: ").strip()
                if answer in ("/quit", "/exit"):
                    return None
                if answer.startswith("/"):
                    return Say(answer)
                answer = answer or f.value
                # Only the shape is checked here ("is it a date at all?"); the flow reads the
                # answer again in the person's time zone and says back the date it took.
                reading = Reading(self.app.clock.now(), MAX_FIELD)
                problem = (f"{f.label} is required" if f.required and not answer else
                           check_field(f, answer, reading) if answer else None)
                if problem is None:
                    break
                self._print(f"  {problem}.")
            values[f.id] = answer
        return Submit(values)

    def _deliver(self, only_mine: bool = False) -> None:
        """Show what the outbox holds for the console. ``only_mine``: at start, what came
        due for others while the chat was closed is counted, not shown (a first start
        would otherwise open with everyone's check-ins and digests)."""
        others = 0

        def show(tenant: str, to: str, message: Message,
                 scheduled: ScheduledLabel | None) -> None:
            nonlocal others
            if only_mine and to != self.actor:
                others += 1
                return
            if scheduled is not None:
                self._print(f"\n[{scheduled.kind} · {scheduled.at}]")
            self._show([replace(message, to=to)])

        deliver(self.app.sessions, self.app.clock, PLATFORM, show)
        if others:
            self._print("\n" + ConsoleText.others_at_start.format(count=others))

    def _show(self, messages: list[Message]) -> None:
        for m in messages:
            prefix = "" if m.to in (None, self.actor) else f"[sent to {m.to}] "
            self._print(f"\ncoach> {prefix}{m.text}")
            for i, c in enumerate(m.choices, 1):
                self._print(f"   {i}) {c.label}")

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)
