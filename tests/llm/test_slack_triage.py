"""Triage over Slack: the manager describes the problem in the session modal, the modal
moves on to the first question at once, and the model's proposals arrive in the DM as one
form (selects showing the proposals, reasons as hints) whose submission reaches the leaf."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from storage.models import Conversation
from tests.llm.fake_openai import FakeOpenAI
from tests.llm.sessions import COACHING_PATH, PROBLEM, model_app, triage_reply
from tests.slack.conftest import IDS, Harness, fake, slack_settings, start
from tests.slack.driver import SlackDriver
from tests.slack.fake_slack import FakeSlack
from tests.slack.test_dm import click_dm, form_button, last_dm

__all__ = ["fake"]  # the fake Slack fixture, shared with tests/slack


@pytest.fixture
async def model_harness(db_url: str, fake: FakeSlack, fake_openai: FakeOpenAI
                        ) -> AsyncIterator[Harness]:
    app = model_app(db_url, fake_openai, **slack_settings(fake))
    async for h in start(app, fake):
        yield h


async def test_proposals_reach_the_leaf_over_slack(model_harness: Harness,
                                                   fake_openai: FakeOpenAI) -> None:
    h, maya = model_harness, IDS["maya"]
    fake_openai.reply(triage_reply(), task="triage")
    driver = SlackDriver(h.http, maya)
    await driver.say("/coach alice")
    await driver.submit(purpose="Improve win rate", objectives="Agree one behaviour",
                        value_to_rep="Higher commission")
    await driver.choose("yes")
    await driver.choose("metric:win rate %")
    await driver.submit(gap_statement="Win rate 14% vs 25%", rep_view="Losing late deals",
                        manager_view="Discovery is thin")
    await driver.choose("opportunity_qualification")
    await driver.choose("yes")
    view = await driver.submit(problem=PROBLEM)
    assert json.loads(view["private_metadata"])["s"] == "Q01_gap_specific"
    dm = last_dm(h, maya)
    assert "Proposed answers to the chart" in dm["text"]
    await click_dm(h, maya, form_button(dm["blocks"]))
    modal = h.fake.last_view()
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
