"""Triage through the console protocol on SQLite and PostgreSQL, with the real openai
client and the fake server: proposals round-trip into the session, the manager's
corrections win, and every failure falls back to the plain flow with the same stored
outcome as a session run without a model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import ModelRequest
from tests.llm.fake_openai import FakeOpenAI, Reply
from tests.llm.sessions import (
    COACHING_PATH,
    PROBLEM,
    after_leaf,
    answer_by_hand,
    model_app,
    stored,
    to_problem,
    triage_reply,
)
from tests.support import Console, last_step, make_app


@pytest.fixture(scope="module")
def plain_outcome(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
                  ) -> dict[str, Any]:
    """The session as stored when no model is configured at all (the same answers, a
    database of its own; the clock is fixed, so the dates match)."""
    path = tmp_path_factory.mktemp("plain") / "coach.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    console = Console(app)
    replies = to_problem(console)
    assert last_step(replies) == "Q01_gap_specific"  # no description step without a model
    answer_by_hand(console)
    after_leaf(console)
    outcome = stored(app)
    app.close()
    return outcome


def triage_form(replies: list[dict[str, Any]]) -> dict[str, Any]:
    forms = [r for r in replies if r.get("step") == "triage"]
    assert forms, replies
    return forms[-1]


def test_proposals_round_trip_into_the_session(db_url: str, fake_openai: FakeOpenAI,
                                               plain_outcome: dict[str, Any]) -> None:
    fake_openai.reply(triage_reply(), task="triage")
    app = model_app(db_url, fake_openai)
    console = Console(app)
    assert last_step(to_problem(console)) == "describe"
    replies = console.submit(problem=PROBLEM)
    form = triage_form(replies)
    fields = form["form"]["fields"]
    assert [f["id"] for f in fields] == [q for q, _ in COACHING_PATH]
    assert [f["value"] for f in fields] == [a for _, a in COACHING_PATH]
    # Each with its reason: the model's, or the data's where the numbers decided (Q03).
    assert all(f["hint"] for f in fields)
    assert sum(f["hint"].startswith("from the sentence") for f in fields) >= 9
    replies = console.submit()  # every proposal confirmed as shown
    assert next(r for r in replies if r.get("leaf"))["leaf"] == "COACHING"
    after_leaf(console)
    with_model = stored(app)
    with app.sessions() as db:
        logged = db.scalars(select(ModelRequest).where(ModelRequest.purpose == "triage")).one()
        assert (logged.purpose, logged.outcome, logged.content) == ("triage", "ok", None)
        assert logged.prompt_tokens and logged.completion_tokens and logged.request_chars
    app.close()
    assert with_model == plain_outcome


def test_the_managers_corrections_win(db_url: str, fake_openai: FakeOpenAI) -> None:
    fake_openai.reply(triage_reply(), task="triage")
    app = model_app(db_url, fake_openai)
    console = Console(app)
    to_problem(console)
    console.submit(problem=PROBLEM)
    replies = console.submit(Q11_used_often="no")  # the model said yes
    assert next(r for r in replies if r.get("leaf"))["leaf"] == "PRACTICE"
    after_leaf(console, "PRACTICE")
    outcome = stored(app)
    app.close()
    assert outcome["leaf"] == "PRACTICE"
    assert outcome["chart_answers"]["Q11_used_often"] is False


def test_a_correction_that_turns_the_path_asks_on_from_there(db_url: str,
                                                              fake_openai: FakeOpenAI) -> None:
    fake_openai.reply(triage_reply(Q14_other_priority="yes"), task="triage")
    app = model_app(db_url, fake_openai)
    console = Console(app)
    to_problem(console)
    console.submit(problem=PROBLEM)
    replies = console.submit(Q09_could_do_if_required="yes")  # now Q14, not on the form
    question = replies[-2]
    assert question["step"] == "Q14_other_priority"
    assert "Suggested: Yes — from the sentence" in question["text"]
    assert question["choices"][0]["id"] == "yes"
    app.close()


def test_answers_given_before_the_proposals_arrive_win(db_url: str,
                                                       fake_openai: FakeOpenAI) -> None:
    proposals = [(q, "no" if q == "Q02_worth_pursuing" else a) for q, a in COACHING_PATH]
    fake_openai.reply(Reply(triage_reply(proposals).content, delay=0.3), task="triage")
    app = model_app(db_url, fake_openai)
    console = Console(app)
    to_problem(console)
    # The description line and an answer to Q01 and Q02 in one go: the model is still busy.
    lines = [json.dumps({"submit": {"problem": PROBLEM}}),
             json.dumps({"choose": "yes", "step": "Q01_gap_specific"}),
             json.dumps({"choose": "yes", "step": "Q02_worth_pursuing"})]
    replies = console.send("\n".join(lines))
    form = triage_form(replies)
    shown = {f["id"]: f["value"] for f in form["form"]["fields"]}
    assert shown["Q02_worth_pursuing"] == "yes"  # the manager's, not the model's "no"
    assert "hint" not in form["form"]["fields"][1]
    app.close()


LOGGED = {"malformed JSON": "invalid_json", "prose, no JSON": "invalid_json",
          "invented question id": "unknown_ids", "invented number": "invented_numbers",
          "wrong shape": "wrong_shape", "429": "rate_limited", "500": "server_error",
          "timeout": "timeout"}
FAILURES = {
    "malformed JSON": Reply('{"answers": [{"question": "Q01_gap_specific", "answer": '),
    "prose, no JSON": Reply("Sure! Q01 is yes, Q02 is yes."),
    "invented question id": triage_reply(Q99_made_up="yes"),
    "invented number": Reply(json.dumps({"answers": [
        {"question": "Q01_gap_specific", "answer": "yes",
         "reason": "she lost 87,654 in Q3 deals"}]})),
    "wrong shape": Reply(json.dumps({"answers": [{"question": "Q01_gap_specific",
                                                  "answer": "maybe", "reason": "?"}]})),
    "429": Reply(status=429, headers={"retry-after-ms": "10"}),
    "500": Reply(status=500),
    "timeout": Reply(triage_reply().content, delay=2),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_every_failure_falls_back_to_the_plain_flow(db_url: str, fake_openai: FakeOpenAI,
                                                    failure: str,
                                                    plain_outcome: dict[str, Any]) -> None:
    fake_openai.reply(FAILURES[failure], task="triage")
    app = model_app(db_url, fake_openai)
    console = Console(app)
    to_problem(console)
    replies = console.submit(problem=PROBLEM)
    assert "No proposals this time" in "\n".join(r.get("text", "") for r in replies)
    assert last_step(replies) == "Q01_gap_specific"
    answer_by_hand(console)
    after_leaf(console)
    outcome = stored(app)
    with app.sessions() as db:
        logged = db.scalars(select(ModelRequest).where(ModelRequest.purpose == "triage")).one()
        assert logged.outcome == LOGGED[failure]
    app.close()
    assert outcome == plain_outcome


def test_an_empty_description_is_the_plain_chart(db_url: str, fake_openai: FakeOpenAI) -> None:
    app = model_app(db_url, fake_openai)
    console = Console(app)
    to_problem(console)
    replies = console.submit(problem="")
    assert last_step(replies) == "Q01_gap_specific"
    assert fake_openai.bodies_of("triage") == []
    app.close()


def test_the_playbook_can_turn_the_model_off(db_url: str, fake_openai: FakeOpenAI,
                                             tmp_path: Any) -> None:
    playbook = tmp_path / "playbook.yaml"
    playbook.write_text("llm:\n  enabled: false\n")
    app = model_app(db_url, fake_openai, coach_playbook=str(playbook))
    assert not app.model.on and "llm.enabled" in app.model.describe()
    assert last_step(to_problem(Console(app))) == "Q01_gap_specific"
    app.close()


def test_a_request_that_cannot_be_built_leaves_the_turn_standing(
        db_url: str, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    app = model_app(db_url, fake_openai)
    console = Console(app)
    to_problem(console)
    assert app.runner.planner is not None

    def broken(*args: Any) -> Any:
        raise KeyError("a template and its caller disagree")

    monkeypatch.setattr(app.runner.planner, "plan", broken)
    replies = console.submit(problem=PROBLEM)
    assert last_step(replies) == "Q01_gap_specific"
    assert fake_openai.bodies_of("triage") == []
    app.close()
