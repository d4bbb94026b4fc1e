"""render.py: every view and message stays within the Block Kit limits, whatever the text."""

from __future__ import annotations

import html
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.home import HomeData
from bot.slack import home, render
from bot.slack.limits import check_message, check_view, units
from bot.slack.parse import action
from bot.slack.text import SlackText
from flows.messages import Choice, Field, Form, Message, Say
from storage.overviews import Item, RepLine, TreeFigures

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                max_size=4000) | st.sampled_from(["&" * 9000, "<@U1>" * 2000, "😀" * 4000,
                                                    "a\n" * 5000, "x" * 50_000])
labels = st.text(min_size=1, max_size=300)


def unescape_blocks(blocks: list[dict[str, object]]) -> str:
    return "\n".join(html.unescape(b["text"]["text"]) for b in blocks  # type: ignore[index]
                     if b["type"] == "section")


@settings(max_examples=30, deadline=None)
@given(texts, st.lists(labels, min_size=1, max_size=120))
def test_any_message_fits_a_modal_and_a_dm(text: str, choice_labels: list[str]) -> None:
    choices = tuple(Choice(f"id{i}:" + "x" * (i * 3), label)
                    for i, label in enumerate(choice_labels))
    message = Message(text, flow="sled", step="focus", choices=choices, leaf="COACHING")
    view = render.modal([Message(text), message], nonce=3)
    assert check_view(view) == []
    fallback, blocks = render.dm(message, ack_session=7)
    assert check_message(blocks, fallback) == []
    for block in view["blocks"] + blocks:
        if block["type"] == "section":
            piece = block["text"]["text"]
            assert "<" not in piece and ">" not in piece
            assert "&" not in re.sub(r"&(amp|lt|gt);", "", piece)  # every & is an entity


def test_long_text_is_split_not_lost() -> None:
    text = "\n".join(f"line {i} <b> & more" for i in range(600))
    view = render.modal([Message(text)])
    assert check_view(view) == []
    assert unescape_blocks(view["blocks"]).replace("\n", "") == text.replace("\n", "")


def test_escape_never_splits_an_entity() -> None:
    for limit in (5, 6, 7, 3000):
        for piece in render.split_escaped("&" * 20_000, limit):
            assert units(piece) <= limit
            assert piece.replace("&amp;", "") == ""


def test_form_in_a_modal_and_in_a_dm() -> None:
    form = Form("success", (Field("metric", "Success metric" * 300),
                            Field("baseline", "Baseline", "number"),
                            Field("due", "Due", "date", hint="YYYY-MM-DD"),
                            Field("owner", "Owner", "choice",
                                  options=tuple(Choice(f"o{i}", "o" * 90) for i in range(120))),
                            Field("n", "Count", "integer", required=False)))
    message = Message("Fill it in", flow="sled", step="success", form=form)
    view = render.modal([message], nonce=4)
    assert check_view(view) == []
    kinds = [b["element"]["type"] for b in view["blocks"] if b["type"] == "input"]
    assert kinds == ["plain_text_input", "number_input", "datepicker", "static_select",
                     "number_input"]
    assert view["submit"]["text"] == "Next"
    assert json.loads(view["private_metadata"]) == {"f": "sled", "s": "success", "n": 4}
    _, blocks = render.dm(message)
    assert check_message(blocks) == []
    value = json.loads(blocks[-1]["elements"][0]["value"])
    assert value == {"s": "success", "f": "sled", "r": 1}  # too big to carry: fetched again
    small = Message("Note", flow="checkin", step="blockers",
                    form=Form("b", (Field("blockers", "Blockers", "long_text", False),)))
    _, blocks = render.dm(small)
    value = json.loads(blocks[-1]["elements"][0]["value"])
    assert value["m"]["form"]["fields"][0]["id"] == "blockers"


def test_choice_ids_too_long_for_a_value_come_back_by_position() -> None:
    choices = tuple(Choice("metric:" + "w" * 200 + str(i), f"Metric {i}") for i in range(8))
    blocks = render.choice_blocks(Message("Pick", step="gap", choices=choices))
    option = blocks[0]["elements"][0]["options"][5]
    assert option["value"] == "i:5"
    parsed = action({"type": "block_actions", "user": {"id": "U1"}, "team": {"id": "T1"},
                     "actions": [{"action_id": "coach.select.0", "block_id": blocks[0]["block_id"],
                                  "selected_option": option}]})
    assert (parsed.given, parsed.expect_step) == (Say("6"), "gap")


def test_modal_titles_and_a_finished_flow() -> None:
    view = render.modal([Message("Saved.", flow="sled")])
    assert view["title"]["text"] == "Coaching session" and "submit" not in view
    assert view["close"]["text"] == "Close" and view["notify_on_close"] is False
    assert check_view(render.notice("x" * 10_000, title="A very long title indeed, yes")) == []


def test_home_views_fit() -> None:
    many = [RepLine(i, f"Rep {i} " + "n" * 300, f"r{i}@x", i, i % 3, None, i % 2 == 0)
            for i in range(300)]
    items = [Item(i, "d" * 5000, __import__("datetime").date(2026, 1, 1), "open", True)
             for i in range(300)]
    for data in (HomeData("M", "manager", "m@x", reps=many),
                 HomeData("R", "rep", "r@x", items=items, next_checkin="Fri",
                               checkin_status="open"),
                 HomeData("L", "leader", "l@x", figures=TreeFigures(9, 3, 4, 5, 1, 0)),
                 HomeData("A", "admin", "a@x")):
        assert check_view(home.view(data)) == []
    for text in (SlackText.unknown.format(email=" (a@b)"), SlackText.outside):
        assert check_view(home.stranger_view(text)) == []


def test_the_leaders_home_shows_the_open_escalations_first() -> None:
    from datetime import date

    from bot.services.home import OpenEscalation

    escalations = [OpenEscalation(i, "Redesign the process <b>", f"Rep {i}", "Maya " * 200,
                                  "i" * 5000, "open" if i % 2 else "acknowledged",
                                  date(2026, 12, 1)) for i in range(1, 6)]
    data = HomeData("L", "leader", "l@x", figures=TreeFigures(9, 3, 4, 5, 1, 7),
                    escalations=escalations, open_escalations=7)
    view = home.view(data)
    assert check_view(view) == []
    assert view["blocks"][1]["text"]["text"] == "Escalations for you (7)"
    sections = [b for b in view["blocks"] if b.get("type") == "section"]
    assert "*#1 Redesign the process &lt;b&gt;*" in sections[0]["text"]["text"]
    buttons = [b["accessory"]["action_id"] for b in sections if "accessory" in b]
    assert buttons == ["coach.cmd.escalation.1", "coach.cmd.escalation.3",
                       "coach.cmd.escalation.5"]  # acknowledge: the open ones only
    assert any("2 more" in b["text"]["text"] for b in sections)
    inbox = next(b for b in view["blocks"] if b.get("type") == "actions")
    assert inbox["elements"][0]["value"] == '{"t":"/escalations"}'


def test_terminal_commands_become_coach_subcommands() -> None:
    text = "Paused. /resume (or /coach a@b.c) picks up here; /help, /back stage. a/review"
    assert render.slack_commands(text) == (
        "Paused. /coach resume (or /coach a@b.c) picks up here; /coach help, /coach back "
        "stage. a/review")


def test_a_dm_sent_to_many_is_rendered_once_and_the_same_as_alone() -> None:
    """The notifier keeps a burst's DM rendered (10,000 check-ins are one message); what
    it sends is exactly what render.dm gives, with or without a plan to acknowledge."""
    from bot.slack import notifier

    notifier._rendered.cache_clear()
    checkin = Message("Time for your weekly check-in.", flow="checkin",
                      choices=(Choice("/checkin", "Answer now"),))
    for _ in range(3):
        assert notifier.rendered(checkin, None) == render.dm(checkin)
    assert notifier.rendered(checkin, 7) == render.dm(checkin, ack_session=7)
    info = notifier._rendered.cache_info()
    assert (info.misses, info.hits) == (2, 2)
    form = Message("Your numbers", form=Form("n", (Field("calls", "Calls"),)))
    assert notifier.rendered(form, None) == render.dm(form)
