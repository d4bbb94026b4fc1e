"""A SLED session driven through the console protocol up to the triage, and from the leaf
to the end; with what each test compares: the session as stored."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot.bootstrap import App
from storage import rhythm
from storage.models import ActionItem, CoachingSession, Person, SessionStage
from tests.llm.fake_openai import FakeOpenAI, Reply
from tests.support import START, Console, make_app

PROBLEM = "She knows discovery but skips it on big deals; win rate 14% vs 25% for the team"
# The chart path of tests.support.full_session: COACHING.
COACHING_PATH = [("Q01_gap_specific", "yes"), ("Q02_worth_pursuing", "yes"),
                 ("Q03_standard_achievable", "yes"), ("Q04_knows_gap", "yes"),
                 ("Q05_knows_what", "yes"), ("Q06_knows_why", "yes"),
                 ("Q07_obstacle_present", "no"), ("Q08_personal_problem", "no"),
                 ("Q09_could_do_if_required", "no"), ("Q10_did_it_before", "yes"),
                 ("Q11_used_often", "yes")]


def rhythm_running_since(app: App, at: datetime = START) -> None:
    """The organisation's rhythm has served its people since ``at`` (the start of the test's
    story, even when the app's clock starts later): a Monday's digest about the week before
    is then due, not a catch-up from before the rhythm served anyone (bot/rhythm: nothing
    due before the organisation's first run or the person's arrival is sent)."""
    with app.sessions.begin() as db:
        rhythm.start_rhythm(db, at)
        db.execute(update(Person).where(Person.created_at > at).values(created_at=at))


def model_app(db_url: str, fake: FakeOpenAI, **settings: Any) -> App:
    values: dict[str, Any] = {"openai_base_url": fake.base_url, "coach_llm_timeout": 0.5,
                              "coach_llm_retries": 0, "coach_llm_turn_budget": 1.5,
                              **settings}
    app = make_app(db_url, **values)
    rhythm_running_since(app)
    return app


def triage_reply(path: list[tuple[str, str]] = COACHING_PATH, **extra: str) -> Reply:
    answers = [{"question": q, "answer": a, "reason": f"from the sentence ({q[:3]})"}
               for q, a in path]
    answers += [{"question": q, "answer": a, "reason": "from the sentence"}
                for q, a in extra.items()]
    return Reply(json.dumps({"answers": answers}))


def to_problem(console: Console) -> list[dict[str, Any]]:
    """From /coach alice to the agreed problem; the replies of the last step."""
    console.say("/coach alice")
    console.submit(purpose="Improve win rate", objectives="Agree one behaviour",
                   agenda="ROAM, chart, plan", value_to_rep="Higher commission")
    console.choose("yes")
    console.choose("metric:win rate %")
    console.submit(gap_statement="Win rate 14% vs 25%", rep_view="Losing late-stage deals",
                   manager_view="Discovery is thin")
    console.choose("opportunity_qualification")
    return console.choose("yes")


def answer_by_hand(console: Console, path: list[tuple[str, str]] = COACHING_PATH) -> None:
    for _qid, answer in path:
        console.choose(answer)


def after_leaf(console: Console, leaf: str = "COACHING") -> list[dict[str, Any]]:
    """From the COACHING (or PRACTICE) leaf's step to the end, as full_session does."""
    if leaf == "PRACTICE":
        console.submit(skill="Discovery questions", how="Weekly role-play")
    else:
        console.submit(behaviour="Discovery questions", goal="Weekly discovery role-play",
                       options="Shadow a top rep")
    console.submit(description="Role-play discovery with Maya", owner="rep", due="2026-12-08")
    console.choose("done")
    console.submit(metric="win rate %", baseline="14", target="20", review_date="2026-12-15")
    console.choose("coaching")
    return console.choose("yes")


def stored(app: App) -> dict[str, Any]:
    """What a session leaves in the database, for comparing two runs."""
    with app.sessions() as db:
        session = db.scalars(select(CoachingSession)).one()
        stages = {s.stage: s.values for s in db.scalars(select(SessionStage))
                  if s.model == "sled"}
        return {
            "status": session.status, "leaf": session.leaf, "category": session.category,
            "chart_answers": session.chart_answers, "focus": session.focus_area,
            "solution": session.agreed_solution,
            "plan": (session.metric, session.baseline, session.target),
            "actions": sorted((a.description, a.due_date.isoformat())
                              for a in db.scalars(select(ActionItem))),
            "stage_E": stages.get("E"),
        }


ALICE = "alice@demo.smos.example"
MAYA = "maya@demo.smos.example"


def answer_checkin(console: Console, blockers: str) -> list[dict[str, Any]]:
    """The rep's whole weekly check-in (the demo's Alice has no open action), with
    ``blockers`` as the free text; the replies of its last step."""
    console.say("/checkin")
    console.choose("answer")
    console.submit(calls="40", meetings="6", proposals="2")
    console.choose("yes")
    console.submit(blockers=blockers)
    return console.choose("4")
