"""A whole /coach session driven only by signed HTTP requests, compared with the console."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli.demo_org import DOMAIN
from storage.models import ActionItem, CoachingSession, Person, Review, SessionStage
from tests.slack.conftest import IDS, Harness
from tests.slack.driver import SlackDriver, view_text
from tests.support import Console, full_session

SESSION_FIELDS = ("status", "focus_area", "rep_aligned", "problem_agreed", "chart_answers",
                  "leaf", "category", "agreed_solution", "metric", "baseline", "target",
                  "review_date", "next_model", "rep_committed", "roam_snapshot")


def outcome(db: Session, session: CoachingSession) -> dict[str, Any]:
    """What a session stored, without ids and times."""
    stages = {s.stage: s.values for s in db.scalars(
        select(SessionStage).where(SessionStage.session_id == session.id))}
    actions = [(a.description, db.get(Person, a.owner_id).email, a.due_date, a.status)
               for a in db.scalars(select(ActionItem).where(ActionItem.session_id == session.id)
                                   .order_by(ActionItem.id))]
    reviews = [(r.due_date, r.status) for r in db.scalars(
        select(Review).where(Review.session_id == session.id))]
    return {**{f: getattr(session, f) for f in SESSION_FIELDS}, "stages": stages,
            "actions": actions, "reviews": reviews}


async def test_full_session_over_http_stores_what_the_console_stores(harness: Harness) -> None:
    app = harness.app
    console = Recorder(Console(app))
    full_session(console)  # the terminal chat: maya coaches alice

    driver = SlackDriver(harness.http, IDS["maya"])
    for verb, args, values in console.inputs:  # the same inputs, as Slack requests
        view = await getattr(driver, verb)(*args, **values)

    assert "Start the sales coaching" in view_text(view) or "Start" in json.dumps(view)
    with app.sessions() as db:
        console, slack = db.scalars(select(CoachingSession).order_by(CoachingSession.id)).all()
        assert outcome(db, slack) == outcome(db, console)
        assert slack.status == "completed" and slack.leaf == "COACHING"
        maya = db.scalar(select(Person).where(Person.email == f"maya@{DOMAIN}"))
        assert maya.slack_user_id == IDS["maya"]  # bound by email through users.info

    # The rep got the action plan (shared parts only) with an acknowledge button.
    dms = [c for c in harness.fake.of("chat.postMessage") if c.args["channel"] == IDS["alice"]]
    assert len(dms) == 1
    plan = dms[0].args
    assert "Role-play discovery" in plan["text"]
    ack = find_ack(plan["blocks"])
    response = await harness.http.interact(harness.http.action_in_message(
        IDS["alice"], "D0ALICE", "1.0001", plan["blocks"], ack))
    assert response.status == 200
    await harness.http.settle()
    with app.sessions() as db:
        slack = db.get(CoachingSession, slack.id)
        assert slack.rep_acknowledged_at == datetime(2026, 12, 1, 15, tzinfo=UTC)
    update = harness.fake.of("chat.update")[-1].args
    assert update["channel"] == "D0ALICE" and "Thanks, Alice" in update["text"]


class Recorder:
    """Passes console inputs through and remembers them, to replay them over Slack."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.inputs: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, verb: str) -> Any:
        def call(*args: Any, **values: Any) -> Any:
            self.inputs.append((verb, args, values))
            return getattr(self.console, verb)(*args, **values)
        return call


def find_ack(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == "coach.ack":
                return {"type": "button", "action_id": "coach.ack", "block_id": block["block_id"],
                        "value": element["value"], "text": element["text"]}
    raise AssertionError("no acknowledge button")


async def test_session_modal_moves_stage_by_stage(harness: Harness) -> None:
    driver = SlackDriver(harness.http, IDS["maya"])
    view = await driver.say("/coach alice")
    assert harness.fake.of("views.open")
    assert view["title"]["text"] == "Coaching session"
    assert view["submit"]["text"] == "Next"
    assert "Coaching Alice Adams" in view_text(view)
    inputs = [b["element"]["action_id"] for b in view["blocks"] if b["type"] == "input"]
    assert inputs == ["purpose", "objectives", "agenda", "value_to_rep"]
    view = await driver.submit(purpose="<b>Win & grow</b>", objectives="o", value_to_rep="v")
    assert "submit" not in view  # a choice step: buttons, no form
    meta = json.loads(view["private_metadata"])
    assert meta["s"] == "rep_aligned"
    view = await driver.choose("yes")
    assert json.loads(view["private_metadata"])["s"] == "gap"
    with harness.app.sessions() as db:
        stage = db.scalars(select(SessionStage)).one()
        assert stage.values["purpose"] == "<b>Win & grow</b>"  # stored as typed
