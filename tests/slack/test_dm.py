"""The DM surface: the rep's check-in (buttons, forms in a modal), a session modal
closed mid-way and continued from the DM, and form errors kept in the modal."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.channels.who import Who
from flows.messages import Say
from storage import tenancy
from storage.models import DEFAULT_ORG, Checkin, Conversation, Person
from tests.slack.conftest import IDS, Harness
from tests.slack.driver import SlackDriver, find_choice, sample, view_text


def last_dm(harness: Harness, user: str) -> dict[str, Any]:
    return [c for c in harness.fake.of("chat.postMessage") if c.args["channel"] in
            (user, "D" + user[1:])][-1].args


async def click_dm(harness: Harness, user: str, action: dict[str, Any]) -> None:
    dm = last_dm(harness, user)
    body = harness.http.action_in_message(user, "D" + user[1:], "9.0001", dm["blocks"], action)
    assert (await harness.http.interact(body)).status == 200
    await harness.http.settle()


def form_button(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    element = next(e for b in blocks if b["type"] == "actions" for e in b["elements"]
                   if e["action_id"] == "coach.form")
    return {"type": "button", "action_id": "coach.form", "block_id": "form",
            "value": element["value"], "text": element["text"]}


async def fill_in(harness: Harness, user: str, **values: Any) -> dict[str, Any]:
    await click_dm(harness, user, form_button(last_dm(harness, user)["blocks"]))
    modal = harness.fake.last_view()
    assert modal["callback_id"] == "coach.form" and modal["submit"]["text"] == "Next"
    response = await harness.http.interact(harness.http.submission(user, modal, values))
    assert response.status == 200
    await harness.http.settle()
    return await response.json() if response.content_length else {}


async def test_checkin_in_the_dm_with_buttons_and_a_modal_for_details(harness: Harness) -> None:
    alice = IDS["alice"]
    await harness.http.command(alice, "checkin")
    await harness.http.settle()
    assert not harness.fake.of("views.open")  # a check-in lives in the DM
    assert "weekly check-in" in last_dm(harness, alice)["text"]
    await click_dm(harness, alice, find_choice(last_dm(harness, alice)["blocks"], "answer"))
    answered = harness.fake.of("chat.update")[-1].args
    assert answered["blocks"][-1]["elements"][0]["text"] == "✓ Answer now"
    assert "How many" in last_dm(harness, alice)["text"]
    assert await fill_in(harness, alice, calls="41", meetings="6", proposals="2") == {}
    await click_dm(harness, alice, find_choice(last_dm(harness, alice)["blocks"], "yes"))
    await fill_in(harness, alice, blockers="Waiting on legal & <procurement>")
    await click_dm(harness, alice, find_choice(last_dm(harness, alice)["blocks"], "4"))
    assert "check-in is saved" in last_dm(harness, alice)["text"]
    with harness.app.sessions() as db:
        checkin = db.scalars(select(Checkin)).one()
        assert checkin.status == "answered" and checkin.confidence == 4
        assert checkin.activity == {"calls": 41, "meetings": 6, "proposals": 2}
        assert checkin.blockers == "Waiting on legal & <procurement>"


async def test_a_form_error_keeps_the_modal_and_what_was_typed(harness: Harness) -> None:
    driver = SlackDriver(harness.http, IDS["maya"])
    view = await driver.say("/coach alice")
    before = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    view = await driver.submit(purpose="p", objectives="", value_to_rep="v")
    assert "Objectives is required" in view_text(view)
    # The same block ids: Slack keeps what the manager typed.
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == before
    view = await driver.submit(purpose="p", objectives="o", value_to_rep="v")
    assert json.loads(view["private_metadata"])["s"] == "rep_aligned"


async def test_closing_the_modal_pauses_and_the_dm_continues(harness: Harness) -> None:
    maya = IDS["maya"]
    driver = SlackDriver(harness.http, maya)
    view = await driver.say("/coach alice")
    assert view["notify_on_close"] is True
    closed = sample("ViewClosedPayload")
    closed.update(type="view_closed", is_cleared=False, api_app_id="A0APP")
    closed["team"].update(id="T0TEAM")
    closed["user"].update(id=maya, team_id="T0TEAM")
    closed["view"].update(id=view["id"], callback_id="coach.step", type="modal",
                          private_metadata=view["private_metadata"], hash=view["hash"])
    assert (await harness.http.interact(closed)).status == 200
    await harness.http.settle()
    with harness.app.sessions() as db:
        assert db.scalars(select(Conversation)).one().status == "paused"
    dm = last_dm(harness, maya)
    button = next(e for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"])
    await click_dm(harness, maya, {"type": "button", "block_id": "resume", **button})
    view = harness.fake.last_view()
    assert "Welcome back" in view_text(view)
    assert json.loads(view["private_metadata"])["s"] == "set_stage"
    with harness.app.sessions() as db:
        assert db.scalars(select(Conversation)).one().status == "active"


async def test_typing_in_the_dm_runs_the_turn(harness: Harness) -> None:
    body = harness.http.event_body({"type": "message", "channel_type": "im", "channel": "D0MAYA",
                                    "user": IDS["maya"], "text": "hello there", "subtype": None,
                                    "bot_id": None, "bot_profile": None, "ts": "1.2"},
                                   "Ev0DM", "MessagePayload")
    await harness.http.event(body)
    bot = harness.http.event_body({"type": "message", "subtype": "bot_message",
                                   "channel_type": "im", "channel": "D0MAYA", "bot_id": "B0BOT",
                                   "text": "echo"}, "Ev0BOT", "MessageBotPayload")
    await harness.http.event(bot)
    await harness.http.settle()
    posted = harness.fake.of("chat.postMessage")
    assert len(posted) == 1 and posted[0].args["channel"] == "D0MAYA"
    assert "Nothing is in progress" in posted[0].args["text"]


async def test_the_scheduler_can_open_a_checkin(harness: Harness) -> None:
    """A turn Bob did not start: its check-in reaches his DM through the outbox."""
    app = harness.app
    with app.sessions.begin() as db:  # the scheduler opens check-ins for bound people
        tenancy.link(db, DEFAULT_ORG, "slack", "T0TEAM", app.clock.now())
        person = db.scalar(select(Person).where(Person.email.startswith("bob@")))
        assert person is not None
        person.slack_user_id = IDS["bob"]
    bob = Who("slack", "T0TEAM", IDS["bob"])
    opened = await harness.slack.gateway.on_behalf(bob, Say("/checkin"), "checkin:2026-W49")
    assert opened.status == "ok"
    await harness.http.settle()
    assert "weekly check-in" in last_dm(harness, IDS["bob"])["text"]
    buttons = [e["text"]["text"] for b in last_dm(harness, IDS["bob"])["blocks"]
               if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["Answer now", "Ask me again in 2 hours", "Ask me tomorrow",
                       "I'm out of office"]
