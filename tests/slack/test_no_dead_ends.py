"""Issue 8 §4 on Slack, through the signed HTTP endpoint: the pause DM names the rep,
/back fills the modal in, the App Home names only commands that exist."""

from __future__ import annotations

import json
import re
from typing import Any

from bot import command_table
from bot.cli.demo_org import DOMAIN
from bot.cli.main import _parser as coach_cli
from bot.slack import render
from flows.messages import Choice, Field, Form, Message
from tests.slack.conftest import IDS, Harness
from tests.slack.driver import SlackDriver, sample, view_text
from tests.slack.test_dm import last_dm
from tests.slack.test_people import open_home

SET_STAGE = {"purpose": "Improve win rate", "objectives": "Agree one behaviour",
             "agenda": "ROAM, chart, plan", "value_to_rep": "Higher commission"}


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["element"]["action_id"]: b["element"] for b in view["blocks"]
            if b["type"] == "input"}


async def close(harness: Harness, user: str, view: dict[str, Any]) -> None:
    closed = sample("ViewClosedPayload")
    closed.update(type="view_closed", is_cleared=False, api_app_id="A0APP")
    closed["team"].update(id="T0TEAM")
    closed["user"].update(id=user, team_id="T0TEAM")
    closed["view"].update(id=view["id"], callback_id="coach.step", type="modal",
                          private_metadata=view["private_metadata"], hash=view["hash"])
    assert (await harness.http.interact(closed)).status == 200
    await harness.http.settle()


async def test_the_pause_dm_names_the_rep_and_the_command_that_resumes(
        harness: Harness) -> None:
    maya = IDS["maya"]
    view = await SlackDriver(harness.http, maya).say("/coach alice")
    await close(harness, maya, view)
    dm = last_dm(harness, maya)
    assert dm["text"].startswith("Paused your session with Alice Adams")
    assert f"/coach alice@{DOMAIN} or /coach resume picks it up" in dm["text"]
    assert "{rep}" not in json.dumps(dm["blocks"])


async def test_closing_with_nothing_in_progress_sends_no_dm(harness: Harness) -> None:
    maya = IDS["maya"]
    driver = SlackDriver(harness.http, maya)
    view = await driver.say("/coach alice")
    await driver.say("/coach pause")
    before = len(harness.fake.of("chat.postMessage"))
    await close(harness, maya, view)
    assert len(harness.fake.of("chat.postMessage")) == before


async def test_back_fills_the_modal_with_the_earlier_answers(harness: Harness) -> None:
    driver = SlackDriver(harness.http, IDS["maya"])
    await driver.say("/coach alice")
    await driver.submit(**SET_STAGE)
    view = await driver.say("/coach back")
    assert view is not None and "Back to S — Set the stage" in view_text(view)
    assert {k: e.get("initial_value") for k, e in inputs(view).items()} == SET_STAGE


def test_prefilled_fields_take_the_initial_value_each_element_can_show() -> None:
    form = Form("action", (Field("due", "Due", "date", value="2026-12-04"),
                           Field("when", "When", "date", value="next friday"),
                           Field("n", "Target", "number", value="62000"),
                           Field("k", "Calls", "integer", value="1.5"),
                           Field("owner", "Owner", "choice", value="rep",
                                 options=(Choice("rep", "Alice"), Choice("manager", "Me")))))
    view = render.modal([Message("Fix it", form=form)])
    elements = inputs(view)
    assert elements["due"]["initial_date"] == "2026-12-04"
    assert "initial_date" not in elements["when"]  # not an ISO date yet: left empty
    assert elements["n"]["initial_value"] == "62000"
    assert "initial_value" not in elements["k"]
    assert elements["owner"]["initial_option"]["value"] == "rep"


_CLI = re.compile(r"`coach ([a-z]+)(?: ([a-z]+))?")
_SLASH = re.compile(r"/coach ([a-z@]+)")
REP_PLACEHOLDERS = {"name", "@rep"}  # `/coach name`: coach the rep of that name


def visible(node: Any) -> list[str]:
    """The text people see in a view (not button values)."""
    if isinstance(node, list):
        return [t for item in node for t in visible(item)]
    if not isinstance(node, dict):
        return []
    if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
        return [node["text"]]
    return [t for key, value in node.items() if key != "value" for t in visible(value)]


async def test_the_app_home_names_only_commands_that_exist(harness: Harness) -> None:
    subcommands = next(a for a in coach_cli()._actions if a.choices)
    for user, event in (("maya", "Ev1"), ("alice", "Ev2"), ("lee", "Ev3"), ("admin", "Ev4")):
        if user == "admin":
            harness.fake.add_user("U0ADMIN", f"admin@{DOMAIN}", "Ada Admin")
            user_id = "U0ADMIN"
        else:
            user_id = IDS[user]
        text = "\n".join(visible(await open_home(harness, user_id, event)))
        for command, action in _CLI.findall(text):
            assert command in subcommands.choices, f"{user}'s Home names coach {command}"
            if action:
                inner = next(a for a in subcommands.choices[command]._actions
                             if a.choices)
                assert action in inner.choices, f"coach {command} {action}"
        for verb in _SLASH.findall(text):
            assert verb in command_table.BY_NAME or verb in REP_PLACEHOLDERS, (
                f"{user}'s Home names /coach {verb}")
