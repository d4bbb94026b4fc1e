"""Suggested questions for stage L: asked when the session starts (from the rep's ROAM
numbers and last session), kept when they come, shown at the views step; a question with
a number the data does not hold is dropped; no answer leaves the step as it was."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import ModelRequest
from tests.llm.fake_openai import FakeOpenAI, Reply, good
from tests.llm.sessions import model_app
from tests.support import Console, last_step

QUESTIONS = ["What got in the way of a 25% win rate this month?",
             "Which of the deals behind the 62,000 in bookings were hardest?",
             "Why did you lose 87,654 in pipeline?",  # a number the data does not hold
             "What would you do differently in discovery?"]


def to_views(console: Console) -> list[dict]:
    console.say("/coach alice")
    console.submit(purpose="Improve win rate", objectives="Agree one behaviour",
                   agenda="ROAM, chart, plan", value_to_rep="Higher commission")
    console.choose("yes")
    return console.choose("metric:win rate %")


def test_questions_from_the_numbers_show_at_the_views_step(db_url: str,
                                                          fake_openai: FakeOpenAI) -> None:
    fake_openai.reply(good({"questions": QUESTIONS}), task="questions")
    app = model_app(db_url, fake_openai)
    replies = to_views(Console(app))
    views = replies[-2]  # the last line is {"done": true}
    assert views["step"] == "views"
    assert "Questions you could ask Alice Adams first:" in views["text"]
    assert QUESTIONS[0] in views["text"] and QUESTIONS[1] in views["text"]
    assert "87,654" not in views["text"] and QUESTIONS[3] in views["text"]
    sent = json.loads(fake_openai.bodies_of("questions")[0])["messages"][0]["content"]
    assert "62000" in sent and "win rate" in sent  # the ROAM numbers went with the request
    with app.sessions() as db:
        logged = db.scalars(select(ModelRequest)).one()
        assert (logged.purpose, logged.outcome) == ("questions", "ok")
    app.close()


def test_without_an_answer_the_views_step_reads_as_before(db_url: str,
                                                          fake_openai: FakeOpenAI) -> None:
    fake_openai.reply(Reply("not json"), task="questions")
    app = model_app(db_url, fake_openai)
    replies = to_views(Console(app))
    assert last_step(replies) == "views"
    assert "Questions you could ask" not in replies[-2]["text"]
    app.close()
