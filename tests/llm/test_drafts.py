"""Stage D drafts: the model's action items fill the action form (saved as the manager
leaves or edits them), its summary comes back as an editable step and is stored with
stage D; a draft due in the past is dropped; after a private leaf nothing is asked."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import ActionItem, SessionStage
from tests.llm.fake_openai import FakeOpenAI, good
from tests.llm.sessions import answer_by_hand, model_app, to_problem
from tests.support import Console, last_step

DRAFT = {"summary": "Alice agreed to role-play discovery weekly to lift her win rate "
                    "from 14% toward 25%.",
         "actions": [{"description": "Role-play discovery with Maya", "owner": "rep",
                      "due": "2026-12-08"},
                     {"description": "Share top-rep call recordings", "owner": "manager",
                      "due": "2026-12-04"},
                     {"description": "Something long ago", "owner": "rep",
                      "due": "2020-01-01"}]}


def test_drafted_actions_and_summary_are_edited_then_saved(db_url: str,
                                                           fake_openai: FakeOpenAI) -> None:
    fake_openai.reply(good(DRAFT), task="summary")
    app = model_app(db_url, fake_openai)
    console = Console(app)
    to_problem(console)
    console.submit(problem="")  # no triage: the chart one question at a time
    answer_by_hand(console)
    replies = console.submit(behaviour="Discovery questions", goal="Weekly role-play",
                             options="Shadow a top rep")
    form = [r for r in replies if r.get("step") == "action"][-1]
    shown = {f["id"]: f.get("value") for f in form["form"]["fields"]}
    assert shown["description"] == "Role-play discovery with Maya"
    assert (shown["owner"], shown["due"]) == ("rep", "2026-12-08")
    assert "Drafted by the model" in form["text"]
    console.submit()  # saved as drafted
    replies = console.choose("add")
    second = {f["id"]: f.get("value") for f in
              [r for r in replies if r.get("step") == "action"][-1]["form"]["fields"]}
    assert second["description"] == "Share top-rep call recordings"
    console.submit(description="Share two top-rep call recordings")  # edited before saving
    replies = console.choose("done")
    assert last_step(replies) == "session_summary"
    summary = [r for r in replies if r.get("step") == "session_summary"][-1]
    assert summary["form"]["fields"][0]["value"] == DRAFT["summary"]
    console.submit(summary="Alice will role-play discovery every week.")
    console.submit(metric="win rate %", baseline="14", target="20", review_date="2026-12-15")
    console.choose("coaching")
    console.choose("yes")
    with app.sessions() as db:
        items = sorted((a.description, a.due_date.isoformat())
                       for a in db.scalars(select(ActionItem)))
        stage_d = db.scalars(select(SessionStage).where(SessionStage.stage == "D")).one()
    assert items == [("Role-play discovery with Maya", "2026-12-08"),
                     ("Share two top-rep call recordings", "2026-12-04")]
    assert stage_d.values["summary"] == "Alice will role-play discovery every week."
    sent = json.loads(fake_openai.bodies_of("summary")[0])["messages"][0]["content"]
    assert "Coaching" in sent or "coaching" in sent
    app.close()
