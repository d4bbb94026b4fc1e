"""One scripted SLED session per chart leaf, answered the same way on every surface, and
what the rep may see afterwards (tests/e2e and tests/slack both use it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli.demo_org import DOMAIN
from flows.chart import Chart
from storage.models import ActionItem, CoachingSession, Person

ALICE = f"alice@{DOMAIN}"
DUE = "2026-12-10"
SECRET = "MANAGER-ONLY"  # in every manager-only answer: must never reach the rep
PRIVATE_NOTE = f"{SECRET} caring for a parent; referred to the EAP"
MANAGER_ACTION = f"{SECRET} talk to HR"
REP_ACTION = "Rep task: call five lapsed accounts"
SUCCESS = {"metric": "calls", "baseline": "120", "target": "150", "review_date": "2026-12-20"}
CHOICE = {"rep_aligned": "yes", "gap": "other", "focus": "prospecting", "problem_agreed": "yes",
          "next_model": "none", "committed": "yes", "handoff": "later"}


def chart_path(chart: Chart, leaf: str) -> list[str]:
    """The yes/no answers from the chart's start to ``leaf``."""

    def search(node: str) -> list[str] | None:
        if chart.is_leaf(node):
            return [] if node == leaf else None
        for answer in ("yes", "no"):
            rest = search(chart.questions[node].branch(answer == "yes"))
            if rest is not None:
                return [answer, *rest]
        return None

    found = search(chart.start)
    assert found is not None
    return found


class Script:
    """Answers each prompt of a session that reaches ``leaf``: two actions of our own (the
    manager's, kept private, and the rep's), every other form filled by field kind."""

    def __init__(self, chart: Chart, leaf: str) -> None:
        self.path = chart_path(chart, leaf)
        self.actions = 0

    def answer(self, step: str, fields: list[tuple[str, str, list[str]]]
               ) -> tuple[str, Any]:
        """("choose", id) or ("submit", values) for the prompt at ``step``; ``fields``
        are (id, kind, option ids) of its form, empty for a choice."""
        if step.startswith("Q"):
            return "choose", self.path.pop(0)
        if step == "more_actions":
            return "choose", "add" if self.actions < 2 else "done"
        if step in CHOICE:
            return "choose", CHOICE[step]
        if step == "action":
            self.actions += 1
            if self.actions == 1:
                return "submit", {"description": MANAGER_ACTION, "owner": "manager", "due": DUE}
            return "submit", {"description": REP_ACTION, "owner": "rep", "due": DUE}
        if step == "success":
            return "submit", dict(SUCCESS)
        if step == "private_note":
            return "submit", {"note": PRIVATE_NOTE}
        return "submit", {fid: _value(fid, kind, options) for fid, kind, options in fields
                          if fid != "shared"}


def _value(fid: str, kind: str, options: list[str]) -> str:
    if kind == "date":
        return DUE
    if kind == "choice":
        return options[0]
    if kind in ("number", "integer"):
        return "10"
    return f"filled {fid}"


def drive(script: Script, step_of: Callable[[], str | None],
          fields_of: Callable[[], list[tuple[str, str, list[str]]]],
          choose: Callable[[str], object], submit: Callable[..., object]) -> None:
    """Run ``script`` on a surface until the session is over (no step left to answer)."""
    for _ in range(60):
        step = step_of()
        if step is None:
            return
        verb, value = script.answer(step, fields_of())
        if verb == "choose":
            choose(value)
        else:
            submit(**value)
    raise AssertionError("the session did not end")


def rep_plan_text(db: Session, session: CoachingSession) -> str:
    """The plan DM the rep must get, built from what was stored as shared."""
    alice = db.scalar(select(Person).where(Person.email == ALICE))
    assert alice is not None
    lines = ["Your action plan from today's session with Maya Manager:",
             "Focus: Prospecting", f"Agreed solution: {session.agreed_solution}"]
    for item in db.scalars(select(ActionItem).where(ActionItem.session_id == session.id,
                                                    ActionItem.shared.is_(True))
                           .order_by(ActionItem.id)):
        owner = "Alice Adams" if item.owner_id == alice.id else "manager"
        lines.append(f"  • {item.description} — {owner}, due {item.due_date.isoformat()}")
    lines.append("Success: calls from 120 to 150; next review 2026-12-20")
    return "\n".join(lines)
