"""The console protocol answers {"error": ...} to any bad line and goes on; an answer may
name the step it is meant for, and one meant for another step is refused."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.cli.demo_org import DOMAIN, MANAGER
from bot.console.chat import ConsoleText, run_jsonl
from bot.console.protocol import Answer, BadLine, SetClock, SwitchUser, dump, parse_line
from bot.runner import TurnText as RunnerText
from flows.messages import Choose, Say, Submit
from storage.models import Conversation
from tests.fuzz import count, fuzz
from tests.support import Console, last_step, make_app, texts

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

DEEP = "[" * 1500 + "]" * 1500
HOSTILE_LINES = {
    "JSON nested 1,500 deep": '{"say": ' + DEEP + "}",
    "JSON nested 5,000 deep": "[" * 5000,
    "a 4,301-digit number": '{"submit": {"purpose": ' + "7" * 4301 + "}}",
    "a clock in year 1 with an offset": '{"clock": "0001-01-01T00:00:00+05:00"}',
    "a clock in year 9999 with an offset": '{"clock": "9999-12-31T23:59:59-05:00"}',
    "an as with a lone surrogate": '{"as": "\\ud800@example.com"}',
    "a say with a lone surrogate": '{"say": "\\udfff"}',
    "a submit key with a lone surrogate": '{"submit": {"\\ud800": "x"}}',
    "an infinite number": '{"submit": {"purpose": 1e999}}',
    "NaN": '{"submit": {"purpose": NaN}}',
    "a step alone": '{"step": "gap"}',
    "a step with as": '{"as": "bob@example.com", "step": "gap"}',
    "a step that is not text": '{"choose": "yes", "step": 4}',
    "two inputs": '{"say": "hi", "choose": "yes"}',
    "an unknown key beside say": '{"say": "hi", "stop": "gap"}',
}


@pytest.mark.parametrize("line", HOSTILE_LINES.values(), ids=HOSTILE_LINES.keys())
def test_a_hostile_line_is_a_bad_line(line: str) -> None:
    with pytest.raises(BadLine):
        parse_line(line)


def test_hostile_lines_get_an_error_and_the_session_goes_on(db_url: str) -> None:
    app = make_app(db_url)
    lines = [*HOSTILE_LINES.values(), '{"say": "/coach alice"}']
    out = io.StringIO()
    assert run_jsonl(app, MANAGER, io.StringIO("\n".join(lines) + "\n"), out) == 0
    replies = [json.loads(line) for line in out.getvalue().splitlines()]
    errors = [r for r in replies if "error" in r]
    assert len(errors) == len(HOSTILE_LINES)
    assert replies[-1] == {"done": True} and last_step(replies) == "set_stage"
    assert app.clock.now().year == 2026  # no clock line was taken
    app.close()


def test_an_unknown_key_is_quoted_short() -> None:
    with pytest.raises(BadLine) as bad:
        parse_line(json.dumps({"k" * 90_000: 1}))
    assert len(str(bad.value)) < 300


def test_an_output_line_escapes_what_utf8_cannot_write() -> None:
    line = dump({"to": "\ud800"})
    assert json.loads(line) == {"to": "\ud800"} and line.isascii()
    assert dump({"to": "é"}) == '{"to":"é"}'
    broken = dump({"text": "a\u2028b\x85c\u2029"})
    assert len(broken.splitlines()) == 1 and json.loads(broken)["text"] == "a\u2028b\x85c\u2029"


def test_step_goes_with_say_choose_and_submit() -> None:
    assert parse_line('{"choose": "yes", "step": "Q04_knows_gap"}') == Answer(
        Choose("yes"), "Q04_knows_gap")
    assert parse_line('{"step": "s", "say": "2"}') == Answer(Say("2"), "s")
    assert parse_line('{"submit": {"a": 1.5}, "step": "s"}') == Answer(Submit({"a": "1.5"}), "s")
    assert parse_line('{"say": "hi"}') == Answer(Say("hi"))
    assert parse_line('{"as": " Bob@X.com "}') == SwitchUser("bob@x.com")
    assert isinstance(parse_line('{"clock": "2026-12-04T16:00:00-05:00"}'), SetClock)


def test_two_terminals_of_one_manager_cannot_answer_the_wrong_question(db_url: str) -> None:
    app = make_app(db_url)
    first, second = Console(app), Console(app)
    first.say("/coach alice")
    replies = first.submit(purpose="p", objectives="o", value_to_rep="v")
    assert last_step(replies) == "rep_aligned"
    # Both terminals show "is the rep aligned?"; the first answers it.
    assert last_step(first.send({"choose": "yes", "step": "rep_aligned"})) == "gap"
    # The second answers the same question late: refused, shown where the session is.
    late = second.send({"choose": "no", "step": "rep_aligned"})
    assert "earlier question" in texts(late) and last_step(late) == "gap"
    late_back = second.send({"say": "/back", "step": "rep_aligned"})
    assert "earlier question" in texts(late_back) and last_step(late_back) == "gap"
    with app.sessions() as db:
        assert db.scalars(select(Conversation)).one().state["step"] == "gap"
    # The right step goes through; without a step an answer is taken as before.
    assert last_step(second.send({"say": "/back", "step": "gap"})) == "rep_aligned"
    assert last_step(second.choose("yes")) == "gap"
    app.close()


# Property tests ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["say", "choose", "submit", "as", "clock", "step", "x"]) | st.text(
            max_size=6), inner, max_size=3),
    max_leaves=12)
commands = st.sampled_from(["/coach alice", "/coach bob", "/back", "/back stage", "/pause",
                            "/resume", "/cancel", "/help", "/checkin", "/review alice",
                            "/model alice", "yes", "no", "1", "2", "²", "①", "", " "])
steps = st.sampled_from(["set_stage", "rep_aligned", "gap", "Q01_gap_specific", "x"]) | st.text(
    max_size=8)
clocks = st.datetimes().map(lambda d: d.isoformat()) | st.sampled_from([
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-12-04T16:00:00-05:00",
    "2026-12-04", "2027-01-10T09:00:00+14:00", "soon"])
protocol_objects = st.one_of(
    st.fixed_dictionaries({"say": commands | st.text(max_size=30)},
                          optional={"step": steps}),
    st.fixed_dictionaries({"choose": commands | st.text(max_size=10)},
                          optional={"step": steps}),
    st.fixed_dictionaries({"submit": st.dictionaries(st.text(max_size=8), st.text(max_size=20)
                                                     | st.integers() | st.floats(),
                                                     max_size=4)},
                          optional={"step": steps}),
    st.fixed_dictionaries({"as": st.sampled_from([MANAGER, f"alice@{DOMAIN}",
                                                  f"lee@{DOMAIN}", "nobody@x.com", ""])}),
    st.fixed_dictionaries({"clock": clocks}),
)
lines = st.one_of(
    st.text(max_size=60),
    json_values.map(json.dumps),
    protocol_objects.map(json.dumps),
    st.integers(1, 6000).map(lambda n: '{"say": ' + "[" * n + "]" * n + "}"),
    st.integers(4000, 6000).map(lambda n: '{"submit": {"a": ' + "9" * n + "}}"),
    st.sampled_from(["\\ud800", "\\udc00x", "\\ud83d\\ude00"]).map(
        lambda s: '{"' + "say" + '": "' + s + '"}'),
)


@pytest.mark.slow
@fuzz()
@given(line=lines)
def test_property_parse_line_returns_a_line_or_refuses_it(line: str) -> None:
    count("console parse_line")
    try:
        parsed = parse_line(line)
    except BadLine as bad:
        assert str(bad)
        return
    assert isinstance(parsed, Answer | SwitchUser | SetClock)


@pytest.fixture
def console_app(tmp_path: Path) -> Any:
    app = make_app(f"sqlite:///{tmp_path / 'coach.db'}")
    yield app
    app.close()


@pytest.mark.slow
@fuzz()
@given(line=lines | protocol_objects.map(json.dumps), actor=st.sampled_from(
    [MANAGER, f"alice@{DOMAIN}"]))
def test_property_the_jsonl_session_answers_every_line(console_app: Any, line: str,
                                                       actor: str) -> None:
    count("coach chat --jsonl, one line")
    out = io.StringIO()
    run_jsonl(console_app, actor, io.StringIO(line.replace("\n", " ") + "\n"), out)
    replies = [json.loads(x) for x in out.getvalue().splitlines()]  # any line break splits
    assert not line.strip() or replies[-1] == {"done": True} or set(replies[-1]) == {"error"}
    assert not any(r.get("error") == ConsoleText.line_failed for r in replies)
    assert not any(r.get("text") == RunnerText.crashed for r in replies)  # no turn failed


