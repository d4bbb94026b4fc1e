"""Per chart leaf, exactly what reaches the rep through the terminal chat: the shared plan,
or nothing at all after a private leaf or no action (METHOD §4, §9)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.playbook_loader import load_playbook
from storage.models import ActionItem, CoachingSession, LeafOutcome
from tests.leaf_script import (
    ALICE,
    MANAGER_ACTION,
    PRIVATE_NOTE,
    REP_ACTION,
    SECRET,
    Script,
    drive,
    rep_plan_text,
)
from tests.support import Console, make_app

PRIVATE = {"REFER_PERSONAL", "JOB_FIT"}


class Surface:
    """The console as the script sees it: the step asked last and its form fields."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.replies: list[dict[str, Any]] = []
        self.to_rep: list[str] = []

    def _keep(self, replies: list[dict[str, Any]]) -> None:
        self.replies = replies
        self.to_rep += [r["text"] for r in replies if r.get("to") == ALICE]

    def step(self) -> str | None:
        prompts = [r for r in self.replies if r.get("choices") or r.get("form")]
        return prompts[-1]["step"] if prompts else None

    def fields(self) -> list[tuple[str, str, list[str]]]:
        form = next(r for r in reversed(self.replies) if r.get("form") or r.get("choices"))
        return [(f["id"], f["kind"], [o["id"] for o in f["options"]])
                for f in (form.get("form") or {"fields": []})["fields"]]

    def choose(self, choice: str) -> None:
        self._keep(self.console.choose(choice))

    def submit(self, **values: str) -> None:
        self._keep(self.console.submit(**values))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # ~600 turns: SQLite is enough
def test_each_leaf_tells_the_rep_exactly_the_shared_plan_or_nothing(db_url: str) -> None:
    app = make_app(db_url)
    chart = load_playbook().chart
    leaves = [leaf for leaf in chart.leaves if leaf != "DEFINE_GAP"]
    for leaf in leaves:
        console = Console(app)
        surface = Surface(console)
        surface._keep(console.say("/coach alice"))
        surface.submit(purpose="p", objectives="o", value_to_rep="v")
        drive(Script(chart, leaf), surface.step, surface.fields, surface.choose, surface.submit)
        with app.sessions() as db:
            session = db.scalars(select(CoachingSession)
                                 .order_by(CoachingSession.id.desc())).first()
            assert session is not None and session.leaf == leaf
            assert db.scalar(select(LeafOutcome.kind)
                             .where(LeafOutcome.session_id == session.id)) is not None, leaf
            items = db.scalars(select(ActionItem).where(ActionItem.session_id == session.id)
                               ).all()
            if leaf in PRIVATE or leaf == "NO_ACTION":
                assert surface.to_rep == [], leaf
                assert not any(a.shared for a in items), leaf
                continue
            assert surface.to_rep == [rep_plan_text(db, session)], leaf
            shared = {a.description for a in items if a.shared}
            assert REP_ACTION in shared and MANAGER_ACTION not in shared, leaf
        assert SECRET not in "".join(surface.to_rep)
        assert PRIVATE_NOTE not in "".join(surface.to_rep)
    app.close()
