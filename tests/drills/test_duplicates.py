"""Drill: duplicate and out-of-order deliveries (issue 12, item 5), through the real HTTP
endpoints with the fake platform APIs on loopback.

Slack retries an event it thinks we missed (``X-Slack-Retry-Num``), Teams delivers the
same activity twice, people double-click, and a click on an old button or card arrives
after newer ones. A session is driven answer by answer; every answer is delivered one to
three times at once, and now and then an earlier answer is delivered again. Each answer
must move the conversation exactly one version on; every duplicate and every stale
delivery must leave it where it is.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.cli.demo_org import DOMAIN
from storage.models import Conversation, Person, ProcessedEvent
from tests.drills.figures import record
from tests.slack.conftest import IDS
from tests.slack.conftest import Harness as SlackHarness
from tests.slack.driver import SlackDriver, find_choice
from tests.teams.conftest import USERS
from tests.teams.conftest import Harness as TeamsHarness
from tests.teams.driver import TeamsDriver, card_submit, choice_value, last_card

pytestmark = pytest.mark.slow

# A SLED session with Alice through the modal / the cards: S, L, E, D and the chart.
ANSWERS: list[tuple[str, Any]] = [
    ("submit", {"purpose": "Improve win rate", "objectives": "Agree one behaviour",
                "agenda": "ROAM, chart, plan", "value_to_rep": "Higher commission"}),
    ("choose", "yes"),
    ("choose", "metric:win rate %"),
    ("submit", {"gap_statement": "Win rate 14% vs 25%", "rep_view": "Losing late-stage deals",
                "manager_view": "Discovery is thin"}),
    ("choose", "opportunity_qualification"),
    ("choose", "yes"),
    *[("choose", answer) for answer in ("yes", "yes", "yes", "yes", "yes", "yes", "no", "no",
                                        "no", "yes", "yes")],
]
MAYA = f"maya@{DOMAIN}"
EVENTS = 8  # Slack events, each retried


def version(db_sessions: Any) -> tuple[int, str]:
    """Maya's session with Alice: its version and the step it is at."""
    with db_sessions() as db:
        row = db.scalars(select(Conversation).join(Person, Person.id == Conversation.person_id)
                         .where(Person.email == MAYA, Conversation.flow == "sled")).one()
        return row.version, str(row.state["step"])


class Tally:
    """What one platform's drill delivered and what it moved."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.deliveries = self.duplicates = self.stale = 0
        self.processed = self.duplicates_processed = self.stale_processed = 0

    def record(self) -> None:
        record(self.name, deliveries=self.deliveries, duplicates=self.duplicates,
               stale=self.stale, processed=self.processed,
               duplicates_processed=self.duplicates_processed,
               stale_processed=self.stale_processed)


# Slack ------------------------------------------------------------------------------------


async def test_drill_slack_retries_double_clicks_and_stale_buttons(
        slack_harness: SlackHarness) -> None:
    h, rng, tally = slack_harness, random.Random(12), Tally("duplicates slack")
    driver = SlackDriver(h.http, IDS["maya"])
    await driver.say("/coach alice")
    sent: list[dict[str, Any]] = []  # every answer's payload, for late deliveries
    for kind, value in ANSWERS:
        assert driver.view is not None
        before = version(h.app.sessions)
        if kind == "choose":
            payload = h.http.action_in_view(IDS["maya"], driver.view,
                                            find_choice(driver.view["blocks"], value))
        else:
            payload = h.http.submission(IDS["maya"], driver.view, value)
        copies = 1 + rng.randint(0, 2)
        responses = await asyncio.gather(*(h.http.interact(payload) for _ in range(copies)))
        assert {r.status for r in responses} == {200}
        await h.http.settle()
        driver.view = await _shown(h, driver.view, kind, responses)
        after = version(h.app.sessions)
        tally.deliveries += copies
        tally.duplicates += copies - 1
        tally.processed += min(after[0] - before[0], 1)
        tally.duplicates_processed += max(after[0] - before[0] - 1, 0)
        assert after[0] == before[0] + 1, (kind, value, before, after)
        sent.append(payload)
        if len(sent) > 1 and rng.random() < 0.6:  # an earlier click or submit, arriving late
            for late in rng.sample(sent[:-1], k=min(len(sent) - 1, rng.randint(1, 2))):
                response = await h.http.interact(late)
                assert response.status == 200
                await h.http.settle()
                if late["type"] == "view_submission":
                    driver.view = await _shown(h, driver.view, "submit", [response])
                tally.deliveries += 1
                tally.stale += 1
                tally.stale_processed += version(h.app.sessions) != after
                assert version(h.app.sessions) == after
    await _slack_event_retries(h, rng, tally)
    tally.record()
    assert tally.duplicates_processed == tally.stale_processed == 0
    assert tally.processed == len(ANSWERS) + EVENTS


async def _shown(h: SlackHarness, view: dict[str, Any], kind: str, responses: list[Any]
                 ) -> dict[str, Any]:
    """The modal the user sees now: a submission's answer (the last one Slack got) shows
    the next view; a click's update went through the API."""
    if kind != "submit":
        return h.fake.views[view["id"]]
    answer = await responses[-1].json()
    assert answer["response_action"] == "update", answer
    shown = {**answer["view"], "id": view["id"], "hash": view["hash"]}
    h.fake.views[view["id"]] = shown
    return shown


async def _slack_event_retries(h: SlackHarness, rng: random.Random, tally: Tally) -> None:
    """DMs and App Home opens, each retried by Slack one to three times (as it does when
    an ack seems late): handled once, answered once."""
    events = []
    for n in range(EVENTS):
        if n % 2:
            event = {"type": "message", "channel_type": "im", "channel": "D0MAYA",
                     "user": IDS["maya"], "text": "help", "ts": f"{n}.1", "subtype": None,
                     "bot_id": None, "bot_profile": None}
            events.append(h.http.event_body(event, f"Ev0DRILL{n}", "MessagePayload"))
        else:
            event = {"type": "app_home_opened", "user": IDS["maya"], "tab": "home"}
            events.append(h.http.event_body(event, f"Ev0DRILL{n}", "AppHomeOpenedPayload"))
    for body in events:
        assert (await h.http.event(body)).status == 200
    await h.http.settle()
    answered = _answers(h)
    retries = []
    for body in events:
        for attempt in range(1, 2 + rng.randint(0, 2)):
            retries.append(h.http.event(body, **{"X-Slack-Retry-Num": str(attempt),
                                                 "X-Slack-Retry-Reason": "http_timeout"}))
    responses = await asyncio.gather(*retries)
    assert {r.status for r in responses} == {200}
    await h.http.settle()
    with h.app.sessions() as db:
        claimed = db.scalar(select(func.count(ProcessedEvent.id)))
    tally.deliveries += len(events) + len(retries)
    tally.duplicates += len(retries)
    tally.processed += len(events)
    tally.duplicates_processed += (_answers(h) - answered) + ((claimed or 0) - len(events))
    assert claimed == len(events) and _answers(h) == answered


def _answers(h: SlackHarness) -> int:
    return len(h.fake.of("chat.postMessage")) + len(h.fake.of("views.publish"))


# Teams ------------------------------------------------------------------------------------


async def test_drill_teams_redelivered_activities_double_clicks_and_stale_cards(
        teams_harness: TeamsHarness) -> None:
    h, rng, tally = teams_harness, random.Random(13), Tally("duplicates teams")
    maya = TeamsDriver(h.http, USERS["maya"])
    first = h.http.activity(USERS["maya"], text="coach alice")
    responses = await asyncio.gather(*(h.http.post(first) for _ in range(3)))  # redelivered
    assert {r.status for r in responses} <= {200, 202}
    tally.deliveries, tally.duplicates, tally.processed = 3, 2, 1
    assert version(h.app.sessions)[0] == 1 and len(h.connector.sent) == 1
    sent: list[dict[str, Any]] = []
    for kind, value in ANSWERS:
        card = last_card(maya.chat)
        before = version(h.app.sessions)
        if kind == "choose":
            data = choice_value(card.cards[0], value)
        else:
            data = {**card_submit(card.cards[0], "submit"),
                    **{f"f.{k}": str(v) for k, v in value.items()}}
        body = h.http.activity(USERS["maya"], value=data, replyToId=card.id)
        clicks = [body] + [  # the same activity redelivered, or a second click (a new id)
            body if rng.random() < 0.5 else h.http.activity(USERS["maya"], value=data,
                                                            replyToId=card.id)
            for _ in range(rng.randint(0, 2))]
        responses = await asyncio.gather(*(h.http.post(click) for click in clicks))
        assert {r.status for r in responses} <= {200, 202}
        after = version(h.app.sessions)
        tally.deliveries += len(clicks)
        tally.duplicates += len(clicks) - 1
        tally.processed += min(after[0] - before[0], 1)
        tally.duplicates_processed += max(after[0] - before[0] - 1, 0)
        assert after[0] == before[0] + 1, (kind, value, before, after)
        sent.append(body)
        if len(sent) > 1 and rng.random() < 0.6:  # an old card's answer, arriving late
            for late in rng.sample(sent[:-1], k=min(len(sent) - 1, rng.randint(1, 2))):
                again = {**late, "id": f"late-{tally.deliveries}"}
                response = await h.http.post(again)
                assert response.status in (200, 202)
                tally.deliveries += 1
                tally.stale += 1
                tally.stale_processed += version(h.app.sessions) != after
                assert version(h.app.sessions) == after
                assert "earlier question" in _said(h)
    tally.record()
    assert tally.duplicates_processed == tally.stale_processed == 0
    assert tally.processed == len(ANSWERS) + 1


def _said(h: TeamsHarness) -> str:
    return json.dumps([s.said for s in h.connector.to(USERS["maya"].chat)[-3:]])
