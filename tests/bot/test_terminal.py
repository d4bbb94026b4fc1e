"""The readable terminal chat: context card, numbered choices, forms field by field."""

from __future__ import annotations

import io
from collections.abc import Iterator

from sqlalchemy import select

from bot.console.chat import Terminal
from storage.models import SessionStage
from tests.support import make_app


def reader(answers: list[str]) -> object:
    feed: Iterator[str] = iter(answers)

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return read


def test_terminal_walks_a_manager_through_set_the_stage(db_url: str) -> None:
    app = make_app(db_url)
    out = io.StringIO()
    answers = ["/coach alice",
               "", "Lift win rate",  # required field left empty is asked again
               "One behaviour", "", "Commission",
               "1"]  # numbered choice: Yes
    code = Terminal(app, "maya@demo.smos.example", reader(answers), out).run()  # type: ignore[arg-type]
    text = out.getvalue()
    assert code == 0
    assert "Coaching Alice Adams — before you start" in text
    assert "win rate %: 14 of 25" in text
    assert "Purpose is required." in text
    assert "   1) Yes" in text
    assert "L — Lead the performance analysis" in text
    assert "conversation is saved" in text
    with app.sessions() as db:
        stage = db.scalars(select(SessionStage)).one()
        assert stage.values["purpose"] == "Lift win rate"
        assert "agenda" not in stage.values
    app.close()


def test_terminal_resumes_where_the_manager_left_off(db_url: str) -> None:
    app = make_app(db_url)
    Terminal(app, "maya@demo.smos.example", reader(["/coach bob"]), io.StringIO()).run()  # type: ignore[arg-type]
    out = io.StringIO()
    Terminal(app, "maya@demo.smos.example", reader([]), out).run()  # type: ignore[arg-type]
    assert "Welcome back" in out.getvalue() and "Set the stage" in out.getvalue()
    app.close()
