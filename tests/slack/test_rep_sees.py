"""Per chart leaf, through signed Slack requests: the rep's DMs are exactly the shared plan
(or nothing after a private leaf), and the App Home lists only shared items, with Done /
Blocked buttons only on the rep's own (METHOD §4, §9)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.playbook_loader import load_playbook
from bot.slack.render import escape
from storage.models import ActionItem, CoachingSession, Person
from tests.leaf_script import ALICE, PRIVATE_NOTE, SECRET, Script, rep_plan_text
from tests.slack.conftest import IDS, Harness
from tests.slack.driver import SlackDriver
from tests.slack.test_people import open_home

PRIVATE = {"REFER_PERSONAL", "JOB_FIT"}
KINDS = {"datepicker": "date", "static_select": "choice", "number_input": "number"}


class Modal:
    """The manager's modal as the script sees it."""

    def __init__(self, driver: SlackDriver) -> None:
        self.driver = driver
        self.view: dict[str, Any] | None = None

    def step(self) -> str | None:
        assert self.view is not None
        step = json.loads(self.view["private_metadata"]).get("s")
        return str(step) if step else None

    def fields(self) -> list[tuple[str, str, list[str]]]:
        assert self.view is not None
        return [(b["element"]["action_id"], KINDS.get(b["element"]["type"], "text"),
                 [o["value"] for o in b["element"].get("options", [])])
                for b in self.view["blocks"] if b["type"] == "input"]


def rep_dms(harness: Harness) -> list[str]:
    return [c.args["text"] for c in harness.fake.of("chat.postMessage")
            if c.args["channel"] in (IDS["alice"], "D" + IDS["alice"][1:])]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # every leaf: SQLite is enough
async def test_each_leaf_dms_and_home_show_the_rep_only_what_is_shared(
        harness: Harness) -> None:
    chart = load_playbook().chart
    modal = Modal(SlackDriver(harness.http, IDS["maya"]))
    seen = 0
    for number, leaf in enumerate(x for x in chart.leaves if x != "DEFINE_GAP"):
        modal.view = await modal.driver.say("/coach alice")
        modal.view = await modal.driver.submit(purpose="p", objectives="o", value_to_rep="v")
        script = Script(chart, leaf)
        for _ in range(60):
            step = modal.step()
            if step is None:
                break
            verb, value = script.answer(step, modal.fields())
            modal.view = await (modal.driver.choose(value) if verb == "choose"
                                else modal.driver.submit(**value))
        dms, seen = rep_dms(harness)[seen:], len(rep_dms(harness))
        with harness.app.sessions() as db:
            session = db.scalars(select(CoachingSession)
                                 .order_by(CoachingSession.id.desc())).first()
            assert session is not None and session.leaf == leaf
            expected = [] if leaf in PRIVATE or leaf == "NO_ACTION" else [
                escape(rep_plan_text(db, session))]
            assert dms == expected, leaf
            alice = db.scalar(select(Person).where(Person.email == ALICE))
            assert alice is not None
            open_items = db.scalars(select(ActionItem).where(
                ActionItem.rep_id == alice.id, ActionItem.status == "open")).all()
        home = await open_home(harness, IDS["alice"], f"EvHome{number}")
        text = json.dumps(home)
        buttons = {b["block_id"] for b in home["blocks"] if b["type"] == "actions"
                   and b.get("block_id", "").startswith("item.")}
        shared = {item.description for item in open_items if item.shared}
        for item in open_items:
            if item.shared or item.description not in shared:  # the same task may be shared
                assert (escape(item.description) in text) == item.shared, (leaf, item.id)
            mine = item.shared and item.owner_id == alice.id
            assert (f"item.{item.id}" in buttons) == mine, (leaf, item.description)
        assert SECRET not in text and SECRET not in "".join(dms)
        assert PRIVATE_NOTE not in text
        with harness.app.sessions.begin() as db:  # the Home lists 15 items: start clean
            db.execute(update(ActionItem).values(status="done"))


async def test_a_rep_cannot_change_a_managers_action_even_with_a_forged_click(
        harness: Harness) -> None:
    with harness.app.sessions.begin() as db:
        alice = db.scalar(select(Person).where(Person.email == ALICE))
        maya = db.scalar(select(Person).where(Person.email == "maya@" + ALICE.split("@")[1]))
        assert alice is not None and maya is not None
        session = CoachingSession(manager_id=maya.id, rep_id=alice.id, status="completed",
                                  started_at=harness.app.clock.now())
        db.add(session)
        db.flush()
        now = harness.app.clock.now()
        for owner, shared in ((maya, True), (alice, False)):
            db.add(ActionItem(session_id=session.id, rep_id=alice.id, owner_id=owner.id,
                              description=f"{owner.name} item", due_date=now.date(),
                              status="open", shared=shared, created_at=now, updated_at=now))
    home = await open_home(harness, IDS["alice"], "EvForged")
    assert "Maya Manager item" in json.dumps(home) and "your manager's action" in json.dumps(home)
    assert not [b for b in home["blocks"] if b["type"] == "actions"
                and str(b.get("block_id", "")).startswith("item.")]
    with harness.app.sessions() as db:
        ids = [a.id for a in db.scalars(select(ActionItem).order_by(ActionItem.id))]
    for item_id in ids:
        click = harness.http.action_in_view(
            IDS["alice"], {**home, "id": "VHOME", "type": "home"},
            {"type": "button", "action_id": "coach.item.done", "block_id": f"item.{item_id}",
             "value": json.dumps({"id": item_id}), "text": {"type": "plain_text",
                                                           "text": "Done"}})
        click["view"]["type"] = "home"
        assert (await harness.http.interact(click)).status == 200
        await harness.http.settle()
    with harness.app.sessions() as db:
        assert [a.status for a in db.scalars(select(ActionItem))] == ["open", "open"]
