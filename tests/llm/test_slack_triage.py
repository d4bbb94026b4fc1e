"""A model's late answers over Slack, through the real HTTP endpoint and the fake Slack API
on loopback: the manager describes the problem in the session modal, the modal moves on to
the first question at once, and the proposals arrive in that same modal (views.update of
the view we opened) as one form whose submission reaches the leaf. Suggested questions
arriving at the views step update it too. A modal Slack no longer has (closed, the event
lost) sends the answer to the DM instead; one closed through Slack is forgotten. Nothing
is shown twice, nothing is lost."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.who import Who
from storage.models import Conversation, Outbox
from tests.llm.fake_openai import FakeOpenAI, good
from tests.llm.sessions import COACHING_PATH, PROBLEM, model_app, triage_reply
from tests.slack.conftest import IDS, Harness, fake, slack_settings, start
from tests.slack.driver import SlackDriver, find_choice, sample, view_text
from tests.slack.fake_slack import TEAM, FakeSlack
from tests.slack.test_dm import click_dm, form_button, last_dm

__all__ = ["fake"]  # the fake Slack fixture, shared with tests/slack
QUESTIONS = ["What changed in your late-stage deals?", "Which discovery step do you skip?"]


@pytest.fixture
async def model_harness(db_url: str, fake: FakeSlack, fake_openai: FakeOpenAI
                        ) -> AsyncIterator[Harness]:
    # Time enough for a gated answer (the test opens the gate once the manager is there).
    app = model_app(db_url, fake_openai, coach_llm_timeout=20, coach_llm_turn_budget=30,
                    **slack_settings(fake))
    async for h in start(app, fake):
        yield h


async def to_describe(driver: SlackDriver) -> dict[str, Any]:
    """From /coach alice to the triage's describe step, in the session modal."""
    await driver.say("/coach alice")
    await driver.submit(purpose="Improve win rate", objectives="Agree one behaviour",
                        value_to_rep="Higher commission")
    await driver.choose("yes")
    await driver.choose("metric:win rate %")
    await driver.submit(gap_statement="Win rate 14% vs 25%", rep_view="Losing late deals",
                        manager_view="Discovery is thin")
    await driver.choose("opportunity_qualification")
    view = await driver.choose("yes")
    assert json.loads(view["private_metadata"])["s"] == "describe"
    return view


def dms_saying(h: Harness, user: str, words: str) -> list[dict[str, Any]]:
    return [c.args for c in h.fake.of("chat.postMessage")
            if c.args["channel"] in (user, "D" + user[1:]) and words in c.args.get("text", "")]


def late_rows(h: Harness) -> list[Outbox]:
    with h.app.sessions() as db:
        return list(db.scalars(select(Outbox).where(Outbox.idempotency_key.startswith(
            "assist:"))))


async def test_proposals_update_the_open_modal_and_reach_the_leaf(
        model_harness: Harness, fake_openai: FakeOpenAI) -> None:
    h, maya = model_harness, IDS["maya"]
    fake_openai.reply(triage_reply(), task="triage")
    driver = SlackDriver(h.http, maya)
    session_view = (await to_describe(driver))["id"]
    modal = await driver.submit(problem=PROBLEM)  # the first question, then the proposals
    assert modal["id"] == session_view
    assert json.loads(modal["private_metadata"])["s"] == "triage"
    assert "Proposed answers to the chart" in view_text(modal)
    updates = [c.args for c in h.fake.of("views.update") if c.args["view_id"] == session_view]
    assert "hash" not in updates[-1]  # by the stored view id (see SlackHandlers.show_late)
    assert dms_saying(h, maya, "Proposed answers") == []  # shown once: in the modal
    assert {r.status for r in late_rows(h)} == {"sent"}  # held, shown, marked sent
    selects = [b for b in modal["blocks"] if b["type"] == "input"]
    assert [b["element"]["action_id"] for b in selects] == [q for q, _ in COACHING_PATH]
    assert [b["element"]["initial_option"]["value"] for b in selects] == [
        a for _, a in COACHING_PATH]
    assert all(b.get("hint") for b in selects)
    values = dict(COACHING_PATH) | {"Q11_used_often": "no"}  # one correction
    response = await h.http.interact(h.http.submission(maya, modal, values))
    assert response.status == 200
    await h.http.settle()
    with h.app.sessions() as db:
        session = db.scalars(select(Conversation).where(Conversation.flow == "sled")).one()
        assert session.state["data"]["leaf"] == "PRACTICE"  # the correction won
        assert session.state["data"]["chart"]["Q11_used_often"] is False


async def test_suggested_questions_arriving_at_the_views_step_update_the_modal(
        model_harness: Harness, fake_openai: FakeOpenAI) -> None:
    """The stage L questions are asked at /coach; here they arrive once the manager is on
    the views step (held by the fake until then), and the open modal shows them."""
    h, maya = model_harness, IDS["maya"]
    fake_openai.gate("questions")
    fake_openai.reply(good({"questions": QUESTIONS}), task="questions")
    assert (await h.http.command(maya, "alice")).status == 200
    await h.fake.wait_views(1)
    view = h.fake.last_view()
    response = await h.http.interact(h.http.submission(maya, view, {
        "purpose": "Improve win rate", "objectives": "Agree one behaviour",
        "value_to_rep": "Higher commission"}))
    view = {**(await response.json())["view"], "id": view["id"], "hash": view["hash"]}
    h.fake.views[view["id"]] = view
    for choice in ("yes", "metric:win rate %"):
        calls = h.fake.view_calls
        action = h.http.action_in_view(maya, view, find_choice(view["blocks"], choice))
        assert (await h.http.interact(action)).status == 200
        await h.fake.wait_views(calls + 1)
        view = h.fake.views[view["id"]]
    assert json.loads(view["private_metadata"])["s"] == "views"
    assert "Questions you could ask" not in view_text(view)
    fake_openai.open_gate("questions")
    await h.http.settle()
    modal = h.fake.views[view["id"]]
    assert json.loads(modal["private_metadata"])["s"] == "views"
    assert "Questions you could ask Alice Adams first:" in view_text(modal)
    assert all(q in view_text(modal) for q in QUESTIONS)
    assert dms_saying(h, maya, "Questions you could ask") == []


async def test_a_modal_slack_no_longer_has_sends_the_proposals_to_the_dm(
        model_harness: Harness, fake_openai: FakeOpenAI) -> None:
    """Closed while the model thought, and the close never reached us: views.update says
    not_found, the view is forgotten and the proposals go to the DM, once."""
    h, maya = model_harness, IDS["maya"]
    fake_openai.gate("triage")
    fake_openai.reply(triage_reply(), task="triage")
    driver = SlackDriver(h.http, maya)
    view = await to_describe(driver)
    response = await h.http.interact(h.http.submission(maya, view, {"problem": PROBLEM}))
    assert (await response.json())["response_action"] == "update"
    del h.fake.views[view["id"]]  # the person closed it; Slack's event was lost
    fake_openai.open_gate("triage")
    await h.http.settle()
    assert len(dms_saying(h, maya, "Proposed answers")) == 1
    assert h.slack.handlers.store.open_view_of(Who("slack", TEAM, maya)) is None
    assert {r.status for r in late_rows(h)} == {"sent"}
    await click_dm(h, maya, form_button(last_dm(h, maya)["blocks"]))
    modal = h.fake.last_view()
    response = await h.http.interact(h.http.submission(maya, modal, dict(COACHING_PATH)))
    assert response.status == 200
    await h.http.settle()
    with h.app.sessions() as db:
        session = db.scalars(select(Conversation).where(Conversation.flow == "sled")).one()
        assert session.state["data"]["leaf"] == "COACHING"


async def test_closing_the_modal_forgets_it_and_pauses_the_session(
        model_harness: Harness, fake_openai: FakeOpenAI) -> None:
    """Closed through Slack before the answer came: the view is forgotten, the session
    paused; the answer, for a session no longer open, shows nothing anywhere."""
    h, maya = model_harness, IDS["maya"]
    fake_openai.gate("triage")
    fake_openai.reply(triage_reply(), task="triage")
    driver = SlackDriver(h.http, maya)
    view = await to_describe(driver)
    response = await h.http.interact(h.http.submission(maya, view, {"problem": PROBLEM}))
    shown = {**(await response.json())["view"], "id": view["id"], "hash": view["hash"]}
    closed = sample("ViewClosedPayload")
    closed.update(type="view_closed", is_cleared=False, api_app_id="A0APP")
    closed["team"].update(id=TEAM)
    closed["user"].update(id=maya, team_id=TEAM)
    closed["view"].update(id=shown["id"], callback_id="coach.step", type="modal",
                          private_metadata=shown["private_metadata"], hash=shown["hash"])
    updates_before = len(h.fake.of("views.update"))
    assert (await h.http.interact(closed)).status == 200
    fake_openai.open_gate("triage")
    await h.http.settle()
    assert h.slack.handlers.store.open_view_of(Who("slack", TEAM, maya)) is None
    with h.app.sessions() as db:
        assert db.scalars(select(Conversation)).one().status == "paused"
    assert len(h.fake.of("views.update")) == updates_before
    assert dms_saying(h, maya, "Proposed answers") == []
