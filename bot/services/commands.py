"""The coaching commands every platform shares: /coach, /resume, /pause, /back, /cancel, ...

Each command runs inside a :class:`bot.runner.Turn` (one transaction) and either
answers directly or starts / moves a flow. The runner is given this table (bootstrap)
and never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar

from bot import command_table
from bot.runner import CommandHandler, Turn
from bot.services import meetings
from bot.services.escalations import escalations_command
from bot.services.handoffs import model_data
from flows import engine, roam
from flows.checkin import CheckinAction, CheckinData
from flows.engine import FlowState, Outcome
from flows.messages import Choice, Message
from flows.review import ReviewAction, ReviewPlan
from flows.sled_session import SledSession
from storage import briefing, coaching, conversations, people
from storage.models import CoachingSession, Conversation
from storage.people import Coachee


class CommandText:
    help = "What you can do:"
    help_footer = "Answer with the number or the name of a choice, or fill in the form."
    whom = "Whom do you want to coach? {names}\nSay /coach <name or email>."
    whom_search = ("Whom do you want to coach? You can coach more than {count} people: say "
                   "/coach and the start of a name, or an email.")
    no_reports = "You have no reports to coach yet. Ask your admin to import your team."
    not_a_coach = ("Coaching sessions are for managers and leaders. If that should include you, "
                   "ask your admin to update your role.")
    not_yours = ("You can only coach your own reports{tree}. I couldn't find \"{ref}\" among "
                 "them.")
    ambiguous = "\"{ref}\" matches {names}. Please use the email."
    ambiguous_many = ("\"{ref}\" matches {count} people, among them {names}. Say more of the "
                      "name, or use the email.")
    ambiguous_more = ("\"{ref}\" matches more than {count} people, among them {names}. Say "
                      "more of the name, or use the email.")
    resumed = "Welcome back. We're at {stage} with {rep}."
    none_paused = "There is nothing paused."
    no_match = "Nothing paused matches \"{ref}\"."
    several_paused = "Paused conversations:\n{items}\nSay /resume <number> to pick one up."
    also_paused = "Also paused: {items}. /resume <number> switches."
    paused_item = "{number}) {label}"
    with_rep = "{title} with {rep}"
    cancelled = "Cancelled. Nothing more will be recorded for this conversation."
    confirm_cancel = ("You have answered {count} questions in this {title}. Cancel it? "
                      "Nothing more will be recorded. Say /cancel yes to confirm, or "
                      "/cancel no to go on.")
    cancel_yes = "Yes, cancel it"
    cancel_no = "No, go on"
    going_on = "Good, let's go on."
    nothing_to = "There is nothing in progress to {verb}."
    no_model = "There's no field training or coaching planned for {rep}. Run /coach {ref} first."
    no_model_personal = ("No skills training or coaching for {rep} now: the last conversation "
                         "was about a personal matter (HR or EAP referral). Check in on how "
                         "{rep} is doing first; a new /coach {ref} session can plan a model "
                         "when the time is right.")
    no_review = "There's no review planned for {rep}. Agree one in a /coach session first."
    no_review_but = "There's no review planned for {rep}. What is planned:\n{planned}"
    planned_session = "  • a coaching session on {focus} on {date}: /coach {ref}"
    planned_model = "  • {model}: /model {ref}"
    planned_model_review = "  • the Review of the {model}, planned for {date}: /model {ref}"
    planned_review = "  • the plan's review on {date}: /review {ref}"
    model_names: ClassVar[dict[str, str]] = {"training": "field training",
                                             "coaching": "sales coaching"}
    checkin_done = "You've already answered this week's check-in. Thank you!"
    not_rep = "Check-ins are for reps."


CONFIRM_CANCEL_AFTER = 3  # answers: more than this and /cancel asks first
MAX_LISTED = 20
MAX_NAMED = 30  # more people than this to coach: ask for a name instead of listing them


def commands() -> dict[str, CommandHandler]:
    return {"help": help_, "hello": hello, "coach": coach, "resume": resume, "pause": pause,
            "back": back, "cancel": cancel, "model": model, "review": review,
            "checkin": checkin, "escalations": escalations_command,
            "meetings": meetings.meetings, "away": meetings.away}


def help_(turn: Turn, rest: str) -> None:
    """The commands this person's role may use here (a rep sees no /coach)."""
    lines = command_table.help_lines(turn.me.role, turn.who.platform)
    turn.say(Message("\n".join([CommandText.help, *lines, CommandText.help_footer])))


def hello(turn: Turn, rest: str) -> None:
    """First words of a chat: pick up where the person left off, or show the commands."""
    if turn.active is not None or _paused(turn):
        resume(turn, "")
        return
    help_(turn, rest)
    if turn.me.role in people.COACHING_ROLES:
        _pick_rep(turn, "", "coach")


def _pick_rep(turn: Turn, ref: str, verb: str, allowed: list[Coachee] | None = None,
              search: Callable[[str], list[Coachee]] | None = None) -> Coachee | None:
    """Resolve ``ref`` among the people this person may coach (METHOD §9): ``allowed``,
    the first MAX_NAMED + 1 of them; when there are more, ``search`` finds ``ref`` instead
    of a list of thousands (storage.people.search by default)."""
    me = turn.me
    if me.role not in people.COACHING_ROLES:
        turn.log("refused", verb=verb, ref=ref[:200], reason="role")
        turn.say(Message(CommandText.not_a_coach))
        return None
    if allowed is None:
        allowed = people.coachable(turn.conn, me.id, me.role, MAX_NAMED + 1)
    large = len(allowed) > MAX_NAMED
    if not ref:
        if not allowed:
            turn.say(Message(CommandText.no_reports))
        elif large:  # a large tree: search, not a list of thousands
            turn.say(Message(CommandText.whom_search.format(count=MAX_NAMED)))
        else:
            turn.say(Message(CommandText.whom.format(names=", ".join(p.name for p in allowed))))
        return None
    if large:
        search = search or (lambda wanted: people.search(turn.conn, me.id, me.role, wanted,
                                                         MAX_LISTED + 1))
        found = people.exact_first(search(ref), ref)
    else:
        found = people.find(allowed, ref)
    if len(found) > 1:
        names = ", ".join(f"{p.name} <{p.email}>" for p in found[:MAX_LISTED])
        if len(found) <= MAX_LISTED:
            text = CommandText.ambiguous.format(ref=ref, names=names)
        elif large:  # the search stopped after the first few
            text = CommandText.ambiguous_more.format(ref=ref, count=MAX_LISTED, names=names)
        else:
            text = CommandText.ambiguous_many.format(ref=ref, count=len(found), names=names)
        turn.say(Message(text))
        return None
    if not found:
        turn.log("refused", verb=verb, ref=ref[:200], reason="not in reporting line")
        tree = " (anyone in your organisation)" if me.role == "leader" else ""
        turn.say(Message(CommandText.not_yours.format(ref=ref[:80], tree=tree)))
        return None
    return found[0]


def coach(turn: Turn, ref: str) -> None:
    # Two reads (storage/briefing.py: whom, then the card, which also finds a planned
    # session to pick up) and three writes: /coach is the busiest command.
    me, who = turn.me, turn.who
    found = (briefing.candidates(turn.conn, me.id, me.role, who.platform, who.tenant,
                                 who.user_key, MAX_NAMED + 1)
             if me.role in people.COACHING_ROLES else [])
    conversation_of = {person.id: conversation for person, conversation in found}

    def search(wanted: str) -> list[Coachee]:  # a large tree: one more read
        matches = briefing.search(turn.conn, me.id, me.role, who.platform, who.tenant,
                                  who.user_key, wanted, MAX_LISTED + 1)
        conversation_of.update((person.id, conversation) for person, conversation in matches)
        return [person for person, _ in matches]

    rep = _pick_rep(turn, ref, "coach", [person for person, _ in found], search)
    if rep is None:
        return
    existing = conversation_of[rep.id]
    if existing is not None and existing.status != "ended":
        _resume(turn, existing)
        return
    today = turn.context().today
    card = briefing.card(turn.conn, rep.id, rep.manager_id, today)
    session_id = coaching.open_session(turn.conn, me.id, rep.id, turn.now)
    if card.planned is not None:  # a review planned this session: pick it up, focus first
        coaching.start_planned_session(turn.conn, card.planned["id"], session_id)
    session = SledSession(session_id, rep.name, rep.email, rep.id, brief(turn, rep, card, today),
                          card.planned["focus"] if card.planned else None)
    turn.begin_flow("sled", rep, str(rep.id), session.as_data(), row=existing, looked_up=True)


def brief(turn: Turn, rep: Coachee, card: briefing.Card, today: date) -> dict[str, Any]:
    """The context card's facts: last session, the next review, a model not yet run, open
    actions, check-ins and their blockers, ROAM (against the rep's team: the manager's
    other reports; check-in counts for activity no imported metric covers)."""
    playbook = turn.flows.playbook
    last = card.last
    labels = {a.id: a.label for a in playbook.checkin.activities}
    return {
        "last_session": {
            "date": last["date"],
            "focus": playbook.focus_label(last["focus"] or "") or "-",
            "leaf": playbook.leaf_label(last["leaf"]) if last["leaf"] else None,
        } if last else None,
        "review_due": card.review_due,
        "pending_model": card.pending_model,
        "open_actions": [
            {"description": a["description"], "due": a["due"], "status": a["status"],
             "owner": "rep" if a["owner_id"] == rep.id else "manager", "note": a["note"]}
            for a in card.actions
        ],
        "checkins": [
            {"week": c["week"],
             "summary": f"coached: {'yes' if c['coached'] else 'no'}, "
                        f"confidence {c['confidence'] or '-'}/5",
             "blockers": c["blockers"]}
            for c in card.checkins
        ],
        "roam": roam.snapshot(card.metrics, today, card.team_metrics, card.activity, labels),
    }


def _resume(turn: Turn, row: Any) -> None:
    turn.set_aside(row.id)
    state = FlowState.from_json(row.state)
    flow = turn.flows[state.flow]
    subject = turn.flows.subject(state)
    if not turn.may_continue(row, state, subject):
        return
    stage = flow.stages.get(flow.step(state.step).stage, state.step)
    resumed = Outcome(FlowState(state.flow, state.step, state.data, state.trail, "active"), (
        Message(CommandText.resumed.format(stage=stage, rep=subject.name if subject else "you")),
        engine.ask(flow, state, turn.context(subject)),
    ))
    turn.store(row, state, resumed, subject, event="resume")


def _paused(turn: Turn) -> list[Conversation]:
    """The person's paused conversations, most recent first: /resume numbers them so."""
    rows = conversations.open_for(turn.db, turn.who.platform, turn.who.tenant,
                                  turn.who.user_key)
    active = turn.active.id if turn.active is not None else None
    return [r for r in rows if r.id != active]


def resume(turn: Turn, ref: str) -> None:
    """/resume: the conversation in progress, else the one paused; with several paused,
    a numbered list to pick from (/resume 2, or a name)."""
    paused = _paused(turn)
    if ref:
        picked = _pick(turn, paused, ref)
        if turn.active is not None and not ref.isdecimal() and _matches(turn, turn.active, ref):
            _resume(turn, turn.active)  # the one in progress, named: shown again
        elif len(picked) == 1:
            _resume(turn, picked[0])
        elif picked:
            _list_paused(turn, picked)
        else:
            turn.say(Message(CommandText.no_match.format(ref=ref[:80]) if paused
                             else CommandText.none_paused))
        return
    if turn.active is not None:
        if paused:
            turn.say(Message(CommandText.also_paused.format(items="; ".join(
                CommandText.paused_item.format(number=i, label=_label(turn, r))
                for i, r in enumerate(paused[:MAX_LISTED], 1)))))
        _resume(turn, turn.active)
    elif len(paused) == 1:
        _resume(turn, paused[0])
    elif paused:
        _list_paused(turn, paused)
    else:
        turn.say(Message(CommandText.none_paused))


def _pick(turn: Turn, paused: list[Conversation], ref: str) -> list[Conversation]:
    """``ref`` is a number from the list, or names a rep or a flow."""
    if ref.isdecimal() and len(ref) <= 3:
        index = int(ref)
        return [paused[index - 1]] if 1 <= index <= len(paused) else []
    return [r for r in paused if _matches(turn, r, ref)]


def _list_paused(turn: Turn, rows: list[Conversation]) -> None:
    shown = rows[:MAX_LISTED]
    every = _paused(turn)
    numbers = [every.index(r) + 1 for r in shown]
    items = "\n".join(CommandText.paused_item.format(number=n, label=_label(turn, r))
                      for n, r in zip(numbers, shown, strict=True))
    turn.say(Message(CommandText.several_paused.format(items=items), choices=tuple(
        Choice(f"/resume {n}", _label(turn, r)) for n, r in zip(numbers, shown, strict=True))))


def _label(turn: Turn, row: Any) -> str:
    subject = turn.flows.subject(FlowState.from_json(row.state))
    title = turn.flows[row.flow].title
    return CommandText.with_rep.format(title=title, rep=subject.name) if subject else title


def _matches(turn: Turn, row: Any, ref: str) -> bool:
    subject = turn.flows.subject(FlowState.from_json(row.state))
    return row.flow == ref.strip().casefold() or bool(subject and people.find([subject], ref))


def _current(turn: Turn, verb: str) -> tuple[Any, FlowState] | None:
    row = turn.active  # already loaded with the person: no second query
    if row is None:
        turn.say(Message(CommandText.nothing_to.format(verb=verb)))
        return None
    return row, FlowState.from_json(row.state)


def pause(turn: Turn, rest: str) -> None:
    """Pause the conversation in progress; the note says what picks it up again."""
    if _current(turn, "pause"):
        turn.set_aside(None)


def back(turn: Turn, rest: str) -> None:
    found = _current(turn, "go back in")
    if found:
        row, state = found
        subject = turn.flows.subject(state)
        if not turn.may_continue(row, state, subject):
            return
        outcome = engine.back(turn.flows[state.flow], state, turn.context(subject),
                              whole_stage=rest.strip().lower() == "stage")
        turn.store(row, state, outcome, subject, event="back")


def cancel(turn: Turn, rest: str) -> None:
    """Stop the conversation in progress; after a few answers, only once confirmed."""
    found = _current(turn, "cancel")
    if not found:
        return
    row, state = found
    answer = rest.strip().casefold()
    subject = turn.flows.subject(state)
    flow = turn.flows[state.flow]
    if answer in ("no", "n"):
        turn.say(Message(CommandText.going_on), engine.ask(flow, state, turn.context(subject)))
        return
    if len(state.trail) > CONFIRM_CANCEL_AFTER and answer not in ("yes", "y"):
        ask = CommandText.confirm_cancel.format(count=len(state.trail), title=flow.title)
        turn.say(Message(ask, choices=(Choice("/cancel yes", CommandText.cancel_yes),
                                       Choice("/cancel no", CommandText.cancel_no))))
        return
    effects = flow.on_cancel(state)
    ended = FlowState(state.flow, state.step, state.data, state.trail, "ended")
    turn.store(row, state, Outcome(ended, (Message(CommandText.cancelled),), effects), subject,
               event="cancel")


def _still_open(turn: Turn, flow: str, subject_key: str, **same: object) -> Any:
    """The person's conversation of this kind about this subject, when it is not ended and
    is about the same plan (``same``: data it must hold), so that it is picked up, not
    started again."""
    row = conversations.find(turn.conn, turn.who.platform, turn.who.tenant, turn.who.user_key,
                             flow, subject_key)
    if row is None or row.status == "ended":
        return None
    data = row.state.get("data", {})
    return row if all(data.get(k) == v for k, v in same.items()) else None


def _open_model(turn: Turn, rep: Coachee) -> Conversation | None:
    """A training or coaching conversation about ``rep`` not finished yet (e.g. a coaching
    run whose Review was planned for a later day)."""
    for row in conversations.open_for(turn.db, turn.who.platform, turn.who.tenant,
                                      turn.who.user_key):
        if row.flow in CommandText.model_names and row.subject == str(rep.id):
            return row
    return None


def model(turn: Turn, ref: str) -> None:
    rep = _pick_rep(turn, ref, "model")
    if rep is None:
        return
    if coaching.latest_leaf(turn.db, rep.id) == "REFER_PERSONAL":  # METHOD §4: no skills work
        turn.log("refused", verb="model", ref=rep.email, reason="REFER_PERSONAL")
        turn.say(Message(CommandText.no_model_personal.format(rep=rep.name, ref=rep.email)))
        return
    unfinished = _open_model(turn, rep)
    if unfinished is not None:
        _resume(turn, unfinished)
        return
    pending = coaching.pending_model(turn.db, rep.id)
    if pending is None:
        turn.say(Message(CommandText.no_model.format(rep=rep.name, ref=rep.email)))
        return
    turn.begin_flow(pending.model, rep, str(rep.id), model_data(turn, pending.session, rep))


def planned_for(turn: Turn, rep: Coachee) -> list[str]:
    """What is planned next for ``rep``, one line each, with the command that runs it."""
    lines: list[str] = []
    session = coaching.planned_session(turn.db, rep.id)
    if session is not None:
        lines.append(CommandText.planned_session.format(
            focus=turn.flows.playbook.focus_label(session.focus_area),
            date=session.due_date.isoformat(), ref=rep.email))
    pending = coaching.pending_model(turn.db, rep.id)
    if pending is not None:
        name = CommandText.model_names.get(pending.model, pending.model)
        lines.append(CommandText.planned_model_review.format(model=name, ref=rep.email,
                                                   date=pending.review_due.isoformat())
                     if pending.review_due else CommandText.planned_model.format(model=name,
                                                                       ref=rep.email))
    review = coaching.next_review(turn.db, rep.id)
    if review is not None:
        lines.append(CommandText.planned_review.format(date=review[0].due_date.isoformat(),
                                             ref=rep.email))
    return lines


def review(turn: Turn, ref: str) -> None:
    rep = _pick_rep(turn, ref, "review")
    if rep is None:
        return
    found = coaching.next_review(turn.db, rep.id)
    if found is None:
        planned = planned_for(turn, rep)
        turn.say(Message(CommandText.no_review_but.format(rep=rep.name, planned="\n".join(planned))
                         if planned else CommandText.no_review.format(rep=rep.name)))
        return
    planned_review, session = found
    row = _still_open(turn, "review", str(rep.id), review_id=planned_review.id)
    if row is not None:
        _resume(turn, row)
        return
    actions = tuple(
        ReviewAction(str(a.id), a.description, "rep" if a.owner_id == rep.id else "manager",
                     a.due_date.isoformat())
        for a in coaching.actions_of(turn.db, session.id) if a.status in coaching.OPEN_ACTION)
    plan = ReviewPlan(
        review_id=planned_review.id, session_id=session.id, rep_id=rep.id,
        rep_name=rep.name, rep_ref=rep.email, metric=session.metric or "the metric",
        baseline=session.baseline or 0.0, target=session.target or 0.0, actions=actions,
        imported=imported_value(turn, rep, session), earlier_chart=earlier_chart(turn, session))
    turn.begin_flow("review", rep, str(rep.id), plan.as_data())


def imported_value(turn: Turn, rep: Coachee, session: CoachingSession) -> dict[str, Any] | None:
    """The focus metric's latest imported value: the review suggests it, not asks it."""
    if not session.metric:
        return None
    row = coaching.latest_metric(turn.db, rep.id, session.metric, turn.context().today)
    if row is None:
        return None
    return {"value": row.actual, "start": row.period_start.isoformat(),
            "end": row.period_end.isoformat()}


def earlier_chart(turn: Turn, session: CoachingSession) -> dict[str, Any] | None:
    """The chart answers last given about this gap (suggested when the chart runs again)."""
    earlier = coaching.last_chart(turn.db, session)
    if earlier is None:
        return None
    answers, day = earlier
    return {"answers": answers, "date": day.isoformat()}


def checkin(turn: Turn, rest: str) -> None:
    me = turn.person
    if me.role != "rep":
        turn.say(Message(CommandText.not_rep))
        return
    row = coaching.checkin_for_week(turn.db, me, turn.context().today)
    if row.status == "answered":
        turn.say(Message(CommandText.checkin_done))
        return
    key = f"week:{row.period_start.isoformat()}"
    conversation = _still_open(turn, "checkin", key, checkin_id=row.id)
    if conversation is not None:
        _resume(turn, conversation)
        return
    data = CheckinData(row.id, tuple(CheckinAction(str(a.id), a.description)
                                     for a in coaching.own_shared_actions(turn.db, me.id)))
    turn.begin_flow("checkin", None, f"week:{row.period_start.isoformat()}", data.as_data())
