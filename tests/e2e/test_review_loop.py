"""Every loop ends with the next concrete thing (METHOD §5, §6), through ``coach chat --jsonl``:
training repeated or handed off, a coaching Review on another day, a review that closes a
focus and plans the next session, and a six-week story where the manager only types
commands the bot offered."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.cli.demo_org import DOMAIN
from storage.models import ModelRun, PlannedSession, Review, SessionStage
from tests.support import Console, last_step, make_app, texts

ALICE = f"alice@{DOMAIN}"
TO_TRAINING = ["yes", "yes", "yes", "yes", "yes", "yes", "no", "no", "no", "no", "yes", "no"]
TO_COACHING = ["yes", "yes", "yes", "yes", "yes", "yes", "no", "no", "no", "yes", "yes"]


class Story(Console):
    """A console that remembers everything the bot said and refuses a command it never
    offered: every ``/verb arg`` typed must appear (verb and argument) in an earlier
    message's text or choices. ``/hello`` is what the terminal itself sends on start."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heard: list[str] = []

    def send(self, obj: dict[str, Any] | str) -> list[dict[str, Any]]:
        said = obj.get("say", "") if isinstance(obj, dict) else ""
        if said.startswith("/") and said != "/hello":
            verb, _, arg = said.partition(" ")
            assert any(verb in heard and arg.casefold() in heard.casefold()
                       for heard in self.heard), f"{said!r} was never offered"
        replies = super().send(obj)
        for reply in replies:
            labels = " ".join(c["label"] for c in reply.get("choices", []))
            self.heard.append(f"{reply.get('text', '')} {labels}")
        return replies


def sled(console: Console, answers: list[str], model: str, *,
         focus: str = "opportunity_qualification", review: str = "2026-12-15") -> None:
    console.submit(purpose="Improve win rate", objectives="One behaviour",
                   value_to_rep="More deals")
    console.choose("yes")
    console.choose("metric:win rate %")
    console.submit(gap_statement="Win rate 14% vs 25%", rep_view="Deals stall late",
                   manager_view="Discovery is thin")
    console.choose(focus)
    console.choose("yes")
    for answer in answers:
        replies = console.choose(answer)
    fill_leaf_step(console, replies)
    console.submit(description="Use the checklist on every first call", owner="rep",
                   due="2026-12-08")
    console.choose("done")
    console.submit(metric="win rate %", baseline="14", target="20", review_date=review)
    console.choose(model)
    console.choose("yes")


def fill_leaf_step(console: Console, replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answer the leaf's own follow-up form (a skill, a behaviour and goal, ...)."""
    assert last_step(replies) == "leaf_step", texts(replies)
    form = next(r["form"] for r in reversed(replies) if r.get("form"))
    return console.submit(**{f["id"]: "2026-12-10" if f["kind"] == "date" else
                             f["options"][0]["id"] if f["kind"] == "choice" else
                             "Discovery questions first"
                             for f in form["fields"] if f["required"]})


def training(console: Console, decision: str) -> list[dict[str, Any]]:
    console.submit(steps="Open, ask, confirm", why="Budget first", good="Budget confirmed")
    console.choose("yes")
    console.submit(how="live", notes="Listen for the budget question")
    console.choose("yes")
    console.submit(role_play="Asked budget in minute 3")
    console.choose("yes")
    console.submit(self_assessment="Too late on the second call")
    console.submit(positives="You asked budget on the Acme call")
    console.submit(point_1="Ask budget before the demo")
    return console.choose(decision)


def coaching_until_do(console: Console) -> list[dict[str, Any]]:
    console.submit(rep_view="I rush discovery", goal="Ask 5 questions",
                   behaviour="Open questions first")
    console.choose("yes")
    console.submit(role_play="Two rounds", rep_critique="Better the second time")
    console.choose("granted")
    console.submit(manager_notes="You paused after each question on the second round")
    console.choose("yes")
    console.submit(observed="Asked 6 questions on the Acme call")
    return console.choose("yes")


def coaching_review(console: Console, value: str) -> list[dict[str, Any]]:
    console.submit(self_assessment="I listened more")
    console.choose("granted")
    console.submit(feedback="You summarised the pain before pitching")
    return console.submit(value=value)


def test_training_repeat_runs_the_training_again_as_a_new_round(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    sled(console, TO_TRAINING, "training")
    console.choose("now")
    assert f"/model {ALICE}" in texts(training(console, "repeat"))
    replies = console.say(f"/model {ALICE}")
    assert last_step(replies) == "tell"
    training(console, "move_on")
    assert "no field training or coaching planned" in texts(console.say("/model alice"))
    with app.sessions() as db:
        runs = db.scalars(select(ModelRun).order_by(ModelRun.id)).all()
        assert [(r.model, r.round, r.decision) for r in runs] == [
            ("training", 1, "repeat"), ("training", 2, "move_on")]
        rounds = {(s.stage, s.round) for s in db.scalars(
            select(SessionStage).where(SessionStage.model == "training"))}
        assert rounds == {(stage, n) for stage in "TSDR" for n in (1, 2)}
    app.close()


def test_training_handed_off_to_coaching_runs_coaching_next(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    sled(console, TO_TRAINING, "training")
    console.choose("later")
    assert last_step(console.say("/model alice")) == "tell"
    assert "Next: sales coaching" in texts(training(console, "coaching"))
    assert last_step(console.say("/model alice")) == "engage"
    app.close()


def test_a_coaching_review_planned_for_later_is_visible_and_resumes(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    sled(console, TO_COACHING, "coaching")
    console.choose("now")
    assert last_step(coaching_until_do(console)) == "review_when"
    console.choose("later")
    replies = console.submit(date="2026-12-08")
    assert f"planned for 2026-12-08; pick it up then with /model {ALICE}" in texts(replies)
    console.say("/pause")
    console.send({"clock": "2026-12-08T15:00:00+00:00"})
    replies = console.say(f"/model {ALICE}")
    assert last_step(replies) == "review_waiting" and "Welcome back" in texts(replies)
    console.choose("start")
    replies = coaching_review(console, "17")
    assert "/review" in texts(replies)
    with app.sessions() as db:
        run = db.scalars(select(ModelRun)).one()
        assert (run.status, run.review_due.isoformat()) == ("completed", "2026-12-08")
    app.close()


def test_target_met_plans_the_next_session_which_coach_picks_up(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    sled(console, TO_COACHING, "none")
    console.send({"clock": "2026-12-15T15:00:00+00:00"})
    console.say("/review alice")
    console.submit(value="21")
    console.choose("done")
    console.choose("pipeline_management")
    replies = console.submit(session_date="2026-12-22")
    assert (f"Next: a coaching session on Pipeline management on 2026-12-22: /coach {ALICE}"
            in texts(replies))
    replies = console.say("/review alice")
    assert "no review planned" in texts(replies)
    assert (f"a coaching session on Pipeline management on 2026-12-22: /coach {ALICE}"
            in texts(replies))
    console.say(f"/coach {ALICE}")
    console.submit(purpose="p", objectives="o", value_to_rep="v")
    console.choose("yes")
    console.choose("other")
    replies = console.submit(gap_statement="g", rep_view="r", manager_view="m")
    focus = replies[-2]
    assert focus["choices"][0] == {"id": "pipeline_management",
                                   "label": "Pipeline management (planned at the last review)"}
    with app.sessions() as db:
        planned = db.scalars(select(PlannedSession)).one()
        assert (planned.status, planned.focus_area) == ("started", "pipeline_management")
        assert planned.session_id is not None
        first = db.scalars(select(Review).order_by(Review.id)).first()
        assert first is not None and first.outcome == "met"
    app.close()


def _answer_actions(console: Console, replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    while last_step(replies) == "action_status":
        replies = console.choose("done")
    return replies


def _offered(replies: list[dict[str, Any]], command: str) -> bool:
    return command in texts(replies)


def test_six_week_story_every_step_offers_the_next(db_url: str) -> None:
    """SLED → training → review no change → chart → coaching → review improving → review
    target met → next cycle. The chart rerun's after-leaf steps (and the review date they
    plan) name the model to run and the next review."""
    app = make_app(db_url)
    try:
        _six_weeks(Story(app))
    finally:
        app.close()


def _six_weeks(story: Story) -> None:
    model, review = f"/model {ALICE}", f"/review {ALICE}"
    # Week 1, Tue Dec 1: the session, then field training at once.
    story.say("/hello")
    story.say("/coach alice")
    sled(story, TO_TRAINING, "training")
    story.choose("now")
    replies = training(story, "coaching")  # the rep has the steps; coaching makes them stick
    assert _offered(replies, model) and _offered(replies, review)
    # Week 3, Tue Dec 15: the plan's review; no change, so the chart again.
    story.send({"clock": "2026-12-15T15:00:00+00:00"})
    replies = _answer_actions(story, story.say(review) and story.submit(value="14"))
    assert last_step(replies) == "Q01_gap_specific"
    for answer in TO_COACHING:
        replies = story.choose(answer)
    assert any(r.get("leaf") == "COACHING" for r in replies)
    replies = fill_leaf_step(story, replies)
    assert last_step(replies) == "plan_review"
    replies = story.submit(review_date="2026-12-29")
    assert _offered(replies, model)
    # Week 3, same day: coaching, Engage to Do; the Review once Alice has used it.
    story.say(model)
    coaching_until_do(story)
    story.choose("later")
    assert _offered(story.submit(date="2026-12-22"), model)
    # Week 4, Tue Dec 22: the coaching Review.
    story.send({"clock": "2026-12-22T15:00:00+00:00"})
    story.say(model)
    story.choose("start")
    replies = coaching_review(story, "17")
    assert _offered(replies, review)
    _story_tail(story, review)


def _story_tail(story: Story, review: str) -> None:
    """Review improving, review target met, the next cycle's session picked up."""
    story.send({"clock": "2026-12-29T15:00:00+00:00"})
    replies = _answer_actions(story, story.say(review) and story.submit(value="17"))
    assert last_step(replies) == "next_review"
    assert _offered(story.submit(review_date="2027-01-12"), review)
    story.send({"clock": "2027-01-12T15:00:00+00:00"})
    replies = _answer_actions(story, story.say(review) and story.submit(value="21"))
    assert last_step(replies) == "next_focus"
    story.choose("pipeline_management")
    replies = story.submit(session_date="2027-01-19")
    assert _offered(replies, f"/coach {ALICE}")
    story.send({"clock": "2027-01-19T15:00:00+00:00"})
    story.say(f"/coach {ALICE}")
    story.submit(purpose="Pipeline hygiene", objectives="o", value_to_rep="v")
    story.choose("yes")
    story.choose("other")
    replies = story.submit(gap_statement="g", rep_view="r", manager_view="m")
    assert replies[-2]["choices"][0]["id"] == "pipeline_management"


def test_story_coaching_review_later_improving_met_next_cycle(db_url: str) -> None:
    """The loop from a coaching leaf on this branch alone: SLED → coaching with its Review a
    week later → review improving → review target met → the next cycle."""
    app = make_app(db_url)
    story = Story(app)
    model, review = f"/model {ALICE}", f"/review {ALICE}"
    story.say("/hello")
    story.say("/coach alice")
    sled(story, TO_COACHING, "coaching", review="2026-12-15")
    story.choose("later")
    story.say(model)
    coaching_until_do(story)
    story.choose("later")
    story.submit(date="2026-12-08")
    story.send({"clock": "2026-12-08T15:00:00+00:00"})
    story.say(model)
    story.choose("start")
    replies = coaching_review(story, "16")
    assert _offered(replies, review)
    story.send({"clock": "2026-12-15T15:00:00+00:00"})
    replies = _answer_actions(story, story.say(review) and story.submit(value="17"))
    assert last_step(replies) == "next_review"
    assert _offered(story.submit(review_date="2026-12-29"), review)
    story.send({"clock": "2026-12-29T15:00:00+00:00"})
    replies = _answer_actions(story, story.say(review) and story.submit(value="21"))
    story.choose("pipeline_management")
    story.submit(session_date="2027-01-05")
    story.send({"clock": "2027-01-05T15:00:00+00:00"})
    story.say(f"/coach {ALICE}")
    story.submit(purpose="Pipeline hygiene", objectives="o", value_to_rep="v")
    story.choose("yes")
    story.choose("other")
    replies = story.submit(gap_statement="g", rep_view="r", manager_view="m")
    assert replies[-2]["choices"][0]["id"] == "pipeline_management"
    app.close()
