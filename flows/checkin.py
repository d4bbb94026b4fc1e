"""The rep's weekly check-in (METHOD §7).

Progress on each open action item, the week's activity counts, whether the rep
got coaching, blockers and confidence. The rep may snooze it or skip the week
when out of office. Answers feed ROAM and the digest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flows import item_loop
from flows.effects import AskModel, RecordCheckin
from flows.engine import (
    END,
    Answer,
    Context,
    Flow,
    FlowState,
    Go,
    Outcome,
    Prompt,
    Step,
    as_mapping,
    begin,
    number,
)
from flows.messages import YES_NO, Choice, Field, Form, Message
from flows.playbook import Playbook
from flows.spec import FlowSpec, nobody

NAME = "checkin"
BLOCKERS_TASK = "blockers"  # with a model: the free-text blockers tagged after the commit
STAGES = {"S": "Check-in", "A": "Your action items", "W": "Your week"}
NOTHING = {"none", "no", "nothing", "n/a", "na", "-"}


class CheckinText:
    """Every sentence this flow says, in one place."""

    title = "Weekly check-in"
    start = "Hi {rep}, time for your weekly check-in. It takes about two minutes."
    snoozed = "Snoozed. I'll ask again {when}."
    in_two_hours = "in 2 hours"
    tomorrow = "tomorrow at this time"
    away = "Enjoy your time off. This week's check-in is skipped."
    action = "Action {n} of {total}: {description}. How is it going?"
    blocked = "What is blocking “{description}”?"
    activity = "How many of these did you do this week?"
    coaching = "Did you get coaching from your manager this week?"
    blockers = "Anything else in your way? (optional; say “none” to skip)"
    confidence = "How confident are you about hitting your numbers? 1 = not at all, 5 = very."
    done = "Thanks, {rep}: your check-in is saved."

    answer_now = "Answer now"
    snooze = "Ask me again in 2 hours"
    snooze_tomorrow = "Ask me tomorrow"
    out_of_office = "I'm out of office"
    done_choice = "Done"
    in_progress = "In progress"
    blocked_choice = "Blocked"
    note = "What is blocking it"
    blockers_label = "Blockers"
    confidence_labels = ("1 — not at all", "2", "3", "4", "5 — very")


STARTS = (Choice("answer", CheckinText.answer_now), Choice("snooze", CheckinText.snooze),
          Choice("snooze_tomorrow", CheckinText.snooze_tomorrow),
          Choice("out_of_office", CheckinText.out_of_office))
SNOOZE_HOURS = 2


@dataclass(frozen=True, slots=True)
class CheckinAction:
    id: str
    description: str


@dataclass(frozen=True, slots=True)
class CheckinData:
    """What a check-in starts from, typed: /checkin gathers it, the conversation keeps it
    as plain JSON (``as_data``) beside the answers, the steps read it back (``of``)."""

    checkin_id: int
    actions: tuple[CheckinAction, ...] = ()

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> CheckinData:
        raw = data.get("actions", [])
        actions = tuple(CheckinAction(str(a["id"]), str(a["description"]))
                        for a in (raw if isinstance(raw, list) else [])
                        if isinstance(a, Mapping) and "id" in a and "description" in a)
        return cls(int(data["checkin_id"]), actions)

    def as_data(self) -> dict[str, Any]:
        return {"checkin_id": self.checkin_id,
                "actions": [{"id": a.id, "description": a.description} for a in self.actions]}
PROGRESS = (Choice("done", CheckinText.done_choice), Choice("in_progress", CheckinText.in_progress),
            Choice("blocked", CheckinText.blocked_choice))
NOTE = Form("blocker_note", (Field("note", CheckinText.note, "long_text"),))
BLOCKERS = Form("blockers", (Field("blockers", CheckinText.blockers_label, "long_text",
                                   required=False),))
CONFIDENCE = tuple(Choice(str(i), label) for i, label in enumerate(CheckinText.confidence_labels,
                                                                   1))


def start(playbook: Playbook, ctx: Context, data: Mapping[str, Any],
          flow: Flow | None = None) -> Outcome:
    """``data`` is a :class:`CheckinData` as JSON (``as_data``)."""
    return begin(flow or build(playbook), CheckinData.of(data).as_data(), ctx)


def build(playbook: Playbook) -> Flow:
    after_action = ("action_progress", "activity")
    steps: dict[str, Step] = {
        "start": Step("start", "S", _say(CheckinText.start, STARTS), _start, (*after_action, END)),
        "action_progress": Step("action_progress", "A", _action_prompt, _progress,
                                ("blocker_note", *after_action)),
        "blocker_note": Step("blocker_note", "A", _note_prompt, _note, after_action),
        "activity": Step("activity", "W", _activity_prompt, _activity, ("got_coaching",)),
        "got_coaching": Step("got_coaching", "W", _say(CheckinText.coaching, YES_NO),
                             lambda s, a, c: Go("blockers", {"got_coaching": a == "yes"}),
                             ("blockers",)),
        "blockers": Step("blockers", "W", lambda s, c: Message(CheckinText.blockers, form=BLOCKERS),
                         _blockers, ("confidence",)),
        "confidence": Step("confidence", "W", _say(CheckinText.confidence, CONFIDENCE), _confidence,
                           (END,)),
    }
    return Flow(NAME, CheckinText.title, STAGES, steps, "start")


def _say(template: str, choices: tuple[Choice, ...]) -> Prompt:
    return lambda state, ctx: Message(template.format(rep=ctx.actor.first_name), choices=choices)


def _start(state: FlowState, answer: Answer, ctx: Context) -> Go:
    checkin_id = CheckinData.of(state.data).checkin_id
    if answer in ("snooze", "snooze_tomorrow"):
        again, when = snooze_until(ctx, str(answer))
        return Go(END, effects=(RecordCheckin(checkin_id, "snoozed", ask_again_at=again),),
                  say=(Message(CheckinText.snoozed.format(when=when)),))
    if answer == "out_of_office":
        return Go(END, effects=(RecordCheckin(checkin_id, "out_of_office"),),
                  say=(Message(CheckinText.away),))
    return _next_action(state, 0)


def snooze_until(ctx: Context, choice: str) -> tuple[datetime, str]:
    """When a snooze asks again (2 hours, or tomorrow at this local time), and its words."""
    if choice == "snooze_tomorrow":
        local = ctx.now.astimezone(ctx.zone)
        tomorrow = datetime.combine(local.date() + timedelta(days=1), local.time(),
                                    tzinfo=ctx.zone)
        return tomorrow.astimezone(UTC), CheckinText.tomorrow
    return ctx.now + timedelta(hours=SNOOZE_HOURS), CheckinText.in_two_hours


def _next_action(state: FlowState, i: int, **data: Any) -> Go:
    return Go("action_progress" if i < len(item_loop.items(state, "actions")) else "activity",
              data)


def _action_prompt(state: FlowState, ctx: Context) -> Message:
    actions = item_loop.items(state, "actions")
    i = item_loop.position(state, "action_progress")
    text = CheckinText.action.format(n=i + 1, total=len(actions),
                                     description=actions[i]["description"])
    return Message(text, choices=PROGRESS)


def _progress(state: FlowState, answer: Answer, ctx: Context) -> Go:
    i = item_loop.position(state, "action_progress")
    action_id = str(item_loop.items(state, "actions")[i]["id"])
    updates = {**as_mapping(state.data.get("action_updates")),
               action_id: {"status": str(answer), "note": ""}}
    if answer == "blocked":
        return Go("blocker_note", {"action_updates": updates})
    return _next_action(state, i + 1, action_updates=updates)


def _blocked_index(state: FlowState) -> int:
    return item_loop.position(state, "action_progress") - 1


def _note_prompt(state: FlowState, ctx: Context) -> Message:
    action = item_loop.items(state, "actions")[_blocked_index(state)]
    return Message(CheckinText.blocked.format(description=action["description"]), form=NOTE)


def _note(state: FlowState, answer: Answer, ctx: Context) -> Go:
    i = _blocked_index(state)
    action_id = str(item_loop.items(state, "actions")[i]["id"])
    updates = {**as_mapping(state.data.get("action_updates")),
               action_id: {"status": "blocked", "note": as_mapping(answer)["note"]}}
    return _next_action(state, i + 1, action_updates=updates)


def activity_form(playbook: Playbook) -> Form:
    """One whole-number field per activity the playbook counts."""
    return Form("activity", tuple(Field(a.id, a.label, "integer")
                                  for a in playbook.checkin.activities))


def _activity_prompt(state: FlowState, ctx: Context) -> Message:
    return Message(CheckinText.activity, form=activity_form(ctx.playbook))


def _activity(state: FlowState, answer: Answer, ctx: Context) -> Go:
    counts = {k: int(number(v)) for k, v in as_mapping(answer).items()}
    return Go("got_coaching", {"activity": counts})


def _blockers(state: FlowState, answer: Answer, ctx: Context) -> Go:
    text = str(as_mapping(answer).get("blockers", ""))
    return Go("confidence", {"blockers": None if text.casefold() in NOTHING else text or None})


def _confidence(state: FlowState, answer: Answer, ctx: Context) -> Go:
    actions = item_loop.items(state, "actions")
    given = as_mapping(state.data.get("action_updates"))
    updates = {str(a["id"]): dict(given[a["id"]]) for a in actions if a["id"] in given}
    effect = RecordCheckin(
        CheckinData.of(state.data).checkin_id, "answered", action_updates=updates,
        activity=dict(as_mapping(state.data.get("activity"))),
        got_coaching=bool(state.data.get("got_coaching")),
        blockers=state.data.get("blockers"), confidence=int(str(answer)),
    )
    return Go(END, {"confidence": int(str(answer))}, (effect, *_tag_blockers(state, ctx)),
              say=(Message(CheckinText.done.format(rep=ctx.actor.first_name)),))


def _tag_blockers(state: FlowState, ctx: Context) -> tuple[AskModel, ...]:
    """With a model, the rep's free-text blockers are tagged once the check-in is stored
    (the digest counts them by tag); nobody waits for it, nothing is asked without text."""
    text = state.data.get("blockers")
    if not ctx.assist or not isinstance(text, str) or not text.strip():
        return ()
    checkin_id = CheckinData.of(state.data).checkin_id
    return (AskModel(BLOCKERS_TASK, f"checkin-{checkin_id}",
                     {"rep": ctx.actor.name, "blockers": text, "checkin_id": checkin_id}),)


SPEC = FlowSpec(NAME, title=CheckinText.title, short_title="Weekly check-in", runs_in="dm",
                build=build, start=start, subject=nobody, resumed_by="/checkin")
