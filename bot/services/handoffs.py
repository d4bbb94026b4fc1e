"""Hand-offs to models: a finished coaching session that planned field training or sales
coaching starts that model's conversation at once, with what the session decided."""

from __future__ import annotations

from typing import Any

from bot.runner import Turn
from flows import engine
from flows.effects import StartFlow
from flows.model_session import ModelSession
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
    """What the model's flow starts from (flows.model_session), as the conversation keeps it."""
    review = coaching.next_review(turn.db, rep.id)
    both = session.baseline is not None and session.target is not None
    return ModelSession(
        session_id=session.id, rep_name=rep.name, rep_ref=rep.email, rep_id=rep.id,
        focus=turn.flows.playbook.focus_label(session.focus_area or ""), metric=session.metric,
        baseline=session.baseline if both else None, target=session.target if both else None,
        review_date=review[0].due_date.isoformat() if review is not None else "",
    ).as_data()
