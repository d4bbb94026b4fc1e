"""Identity, unknown users, /coach help, the picker, team add, and the App Home."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.cli.demo_org import DOMAIN
from storage.models import ActionItem, Cadence, CadenceOccurrence, CoachingSession, Person
from tests.slack.conftest import IDS, Harness, slack_settings, start
from tests.slack.driver import SlackDriver, view_text
from tests.slack.fake_slack import FakeSlack
from tests.support import make_app


async def test_help_shows_what_the_person_s_role_can_do(harness: Harness) -> None:
    response = await harness.http.command(IDS["maya"], "help")
    assert response.status == 200
    await harness.http.settle()
    manager = harness.fake.of("response_url")[-1].args
    assert manager["response_type"] == "ephemeral"
    assert "/coach team add @rep" in manager["text"]
    assert "/coach model &lt;rep&gt;" in manager["text"]
    assert "/coach checkin" not in manager["text"]
    await harness.http.command(IDS["alice"], "help")
    await harness.http.settle()
    rep = harness.fake.of("response_url")[-1].args["text"]
    assert "/coach checkin" in rep and "/coach resume" in rep
    assert "model" not in rep and "review" not in rep and "team add" not in rep


async def test_unknown_slack_user_is_told_how_to_get_in(harness: Harness) -> None:
    harness.fake.add_user("U0STRANGER", "stranger@else.example", "Stranger")
    await harness.http.command("U0STRANGER", "alice")
    await harness.http.settle()
    answer = harness.fake.of("response_url")[-1].args
    assert "stranger@else.example" in answer["text"] and "coach people import" in answer["text"]
    assert answer["response_type"] == "ephemeral"
    assert not harness.fake.of("views.open")


async def test_binding_by_email_takes_the_profile_time_zone_when_none(harness: Harness) -> None:
    with harness.app.sessions.begin() as db:
        maya = db.scalar(select(Person).where(Person.email == f"maya@{DOMAIN}"))
        maya.timezone = "UTC"
    harness.fake.users[IDS["maya"]].tz = "Asia/Tokyo"
    await SlackDriver(harness.http, IDS["maya"]).say("/coach alice")
    with harness.app.sessions() as db:
        maya = db.scalar(select(Person).where(Person.email == f"maya@{DOMAIN}"))
        assert (maya.slack_user_id, maya.timezone) == (IDS["maya"], "Asia/Tokyo")
    assert len(harness.fake.of("users.info")) == 1
    await SlackDriver(harness.http, IDS["maya"]).say("/coach bob")
    assert len(harness.fake.of("users.info")) == 1  # known now: no more look-ups


async def test_coach_with_a_mention_and_the_picker(harness: Harness) -> None:
    http = harness.http
    await http.command(IDS["maya"], f"<@{IDS['bob']}|bob>")
    await http.settle()
    assert "Coaching Bob Brown" in view_text(harness.fake.last_view())

    await http.command(IDS["maya"], "")
    await http.settle()
    picker = harness.fake.last_view()
    options = picker["blocks"][1]["elements"][0]["options"]
    assert [o["text"]["text"] for o in options] == ["Alice Adams", "Bob Brown", "Carmen Cruz"]
    alice = options[0]
    pick = {"type": "static_select", "action_id": "coach.pick", "block_id": "pick.0",
            "selected_option": alice}
    await http.interact(http.action_in_view(IDS["maya"], picker, pick))
    await http.settle()
    view = harness.fake.views[picker["id"]]
    assert "Coaching Alice Adams" in view_text(view)


async def test_manager_adds_a_direct_report(harness: Harness) -> None:
    harness.fake.add_user("U0NEW", "newbie@demo.smos.example", "Nia Newbie", "Europe/Paris")
    await harness.http.command(IDS["maya"], "team add <@U0NEW|nia>")
    await harness.http.settle()
    assert "Added Nia Newbie" in harness.fake.of("response_url")[-1].args["text"]
    with harness.app.sessions() as db:
        nia = db.scalar(select(Person).where(Person.slack_user_id == "U0NEW"))
        maya = db.scalar(select(Person).where(Person.email == f"maya@{DOMAIN}"))
        assert (nia.role, nia.manager_id, nia.timezone) == ("rep", maya.id, "Europe/Paris")
    await harness.http.command(IDS["maya"], f"team add <@{IDS['carmen']}>")
    await harness.http.command(IDS["alice"], "team add <@U0NEW>")
    await harness.http.settle()
    answers = [c.args["text"] for c in harness.fake.of("response_url")[-2:]]
    assert "Carmen Cruz already reports to you." in answers
    assert "Only managers and leaders can add direct reports." in answers


async def test_team_add_refused_when_the_playbook_says_so(db_url: str, fake: FakeSlack,
                                                         tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    playbook = tmp_path / "playbook.yaml"
    playbook.write_text("sessions:\n  managers_may_add_reports: false\n")
    app = make_app(db_url, coach_playbook=str(playbook), **slack_settings(fake))
    async for harness in start(app, fake):
        await harness.http.command(IDS["maya"], "team add <@U0BOB>")
        await harness.http.settle()
        assert "turned off" in harness.fake.of("response_url")[-1].args["text"]


async def open_home(harness: Harness, user: str, event_id: str) -> dict[str, object]:
    body = harness.http.event_body({"type": "app_home_opened", "user": user, "tab": "home",
                                    "channel": "D0", "view": None}, event_id,
                                   "AppHomeOpenedPayload")
    assert (await harness.http.event(body)).status == 200
    await harness.http.settle()
    published = harness.fake.of("views.publish")[-1].args
    assert published["user_id"] == user
    return published["view"]


async def test_app_home_for_manager_rep_and_leader(harness: Harness) -> None:
    await SlackDriver(harness.http, IDS["maya"]).say("/coach alice")  # a session left open
    with harness.app.sessions.begin() as db:
        maya = db.scalar(select(Person).where(Person.email == f"maya@{DOMAIN}"))
        bob = db.scalar(select(Person).where(Person.email == f"bob@{DOMAIN}"))
        cadence = Cadence(owner_id=maya.id, subject_id=bob.id, meeting_type="pipeline_review",
                          rhythm="weekly", day="tue", time="10:00", timezone="UTC")
        db.add(cadence)
        db.flush()
        db.add(CadenceOccurrence(cadence_id=cadence.id, status="planned",
                                 scheduled_for=datetime(2026, 12, 8, 10, tzinfo=UTC)))
    view = await open_home(harness, IDS["maya"], "Ev1")
    text = json.dumps(view)
    assert "Alice Adams" in text and "session in progress" in text and "Start session" in text
    assert "pipeline review with Bob Brown: Tue 08 Dec 05:00 EST" in text  # Maya's zone

    with harness.app.sessions.begin() as db:
        alice = db.scalar(select(Person).where(Person.email == f"alice@{DOMAIN}"))
        session = db.scalars(select(CoachingSession)).one()
        now = harness.app.clock.now()
        db.add(ActionItem(session_id=session.id, rep_id=alice.id, owner_id=alice.id,
                          description="Call <ACME> & co", due_date=date(2026, 11, 20),
                          status="open", shared=True, created_at=now, updated_at=now))
    view = await open_home(harness, IDS["alice"], "Ev2")
    text = json.dumps(view)
    assert "Call &lt;ACME&gt; &amp; co" in text and "overdue" in text
    assert "Next check-in: Fri 04 Dec, 15:00" in text

    done = next(e for b in view["blocks"] if b["type"] == "actions"  # type: ignore[index]
                for e in b["elements"] if e["action_id"] == "coach.item.done")
    click = harness.http.action_in_view(IDS["alice"], {**view, "id": "VHOME", "type": "home"},
                                        {"type": "button", **done,
                                         "block_id": "item.1"})
    click["view"]["type"] = "home"
    await harness.http.interact(click)
    await harness.http.settle()
    with harness.app.sessions() as db:
        assert db.scalars(select(ActionItem)).one().status == "done"
    assert "No open action items" in json.dumps(harness.fake.of("views.publish")[-1].args)

    view = await open_home(harness, IDS["lee"], "Ev3")
    assert "Digest preview" in json.dumps(view) and "Reps: 5" in json.dumps(view)

    harness.fake.add_user("U0NOBODY", "nobody@else.example", "Nobody")
    view = await open_home(harness, "U0NOBODY", "Ev4")
    assert "ask your smOS Coach admin" in json.dumps(view).lower() or "Ask your" in json.dumps(
        view)


async def test_a_large_tree_s_picker_asks_for_a_name(harness: Harness) -> None:
    """Above two selects' worth of people, /coach alone asks for a name: no modal of
    thousands; /coach <name> then finds the one."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with harness.app.sessions.begin() as db:
        maya = db.scalar(select(Person).where(Person.email == f"maya@{DOMAIN}"))
        db.add_all(Person(org_id=1, email=f"r{i}@{DOMAIN}", name=f"Extra Rep {i:03d}",
                          role="rep", manager_id=maya.id, created_at=now, updated_at=now)
                   for i in range(210))
    views = len(harness.fake.of("views.open"))
    await harness.http.command(IDS["maya"], "")
    await harness.http.settle()
    answer = harness.fake.of("response_url")[-1].args["text"]
    assert "more than 200 people" in answer and "/coach" in answer
    assert len(harness.fake.of("views.open")) == views
