"""Hand-offs to models: a finished coaching session that planned field training or sales
coaching starts that model's conversation at once, with what the session decided."""

from __future__ import annotations

from typing import Any

from bot.runner import Turn
from flows import engine
from flows.effects import StartFlow
from storage import coaching
from storage.models import CoachingSession, Person
from storage.people import Coachee


def start_model(turn: Turn, handoff: StartFlow, subject: engine.Person | None) -> None:
    """Start ``handoff.flow`` about the session's rep (nothing when there is no session)."""
    rep = turn.db.get(Person, subject.id) if subject else None
    session = coaching.last_session(turn.db, rep.id) if rep else None
    if rep is None or session is None:
        return
    turn.begin_flow(handoff.flow, rep, str(rep.id), model_data(turn, session, rep))


def model_data(turn: Turn, session: CoachingSession, rep: Person | Coachee) -> dict[str, Any]:
    data: dict[str, Any] = {
        "session_id": session.id, "rep_id": rep.id, "rep_name": rep.name, "rep_ref": rep.email,
        "metric": session.metric,
        "focus": turn.flows.playbook.focus_label(session.focus_area or ""),
    }
    if session.baseline is not None and session.target is not None:
        data.update(baseline=session.baseline, target=session.target)
    review = coaching.next_review(turn.db, rep.id)
    if review is not None:
        data["review_date"] = review[0].due_date.isoformat()
    return data
