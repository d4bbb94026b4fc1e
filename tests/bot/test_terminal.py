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


def test_back_offers_the_earlier_answers_and_enter_keeps_them(db_url: str) -> None:
    app = make_app(db_url)
    out = io.StringIO()
    prompts: list[str] = []
    feed = iter(["/coach alice", "Lift win rate", "One behaviour", "", "Commission",
                 "/back", "", "Two behaviours", "", ""])

    def read(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    Terminal(app, "maya@demo.smos.example", read, out).run()  # type: ignore[arg-type]
    assert "  Purpose [Enter keeps: Lift win rate]: " in prompts
    assert "  Agenda (optional, Enter to skip): " in prompts
    with app.sessions() as db:
        from storage.models import Conversation

        state = db.scalars(select(Conversation)).one().state
        assert state["step"] == "rep_aligned"
        assert state["data"]["set_stage"] == {"purpose": "Lift win rate",
                                              "objectives": "Two behaviours",
                                              "value_to_rep": "Commission"}
    app.close()


def test_a_number_picks_from_a_list_of_commands(db_url: str) -> None:
    app = make_app(db_url)
    out = io.StringIO()
    answers = ["/coach alice", "/pause", "/coach bob", "/pause", "/resume", "2"]
    Terminal(app, "maya@demo.smos.example", reader(answers), out).run()  # type: ignore[arg-type]
    text = out.getvalue()
    assert "Paused conversations:" in text and "   2) Coaching session (SLED) with" in text
    assert text.rstrip().count("Welcome back") == 1
    app.close()
