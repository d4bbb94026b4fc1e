"""The escalation inbox (/escalations) through the console protocol, on both databases:
the owner sees what was raised (leaf label, impact, evidence, who raised it, age) and
acknowledges, resolves with a note (a form) or reassigns it; only the owner or someone
above them may act, on every action; a person of another organisation never sees it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.channels.who import Who
from bot.cli.demo_org import DOMAIN
from bot.services.context import ServiceContext
from bot.services.home import home_of
from storage.models import Escalation, EscalationEvent, Organization, Person
from tests.support import Console, last_step, make_app, texts

LEE, MAYA, OMAR, ADMIN = (f"{n}@{DOMAIN}" for n in ("lee", "maya", "omar", "admin"))


def raise_escalation(console: Console, rep: str = "alice") -> list[dict[str, Any]]:
    """Maya's session with a rep reaches SYSTEMIC_REDESIGN: Lee (above her) owns it."""
    console.say(f"/coach {rep}")
    console.submit(purpose="p", objectives="o", value_to_rep="v")
    console.choose("yes")
    console.choose("other")
    console.submit(gap_statement="g", rep_view="r", manager_view="m")
    console.choose("prospecting")
    console.choose("yes")
    console.choose("yes")
    console.choose("yes")
    console.choose("no")  # Q03 → SYSTEMIC_REDESIGN
    return console.submit(owner="Sales ops", impact="Nobody hits 25% win rate",
                          evidence="Team avg 19% for 3 quarters")


def only_escalation(app: Any) -> Escalation:
    with app.sessions() as db:
        return db.scalars(select(Escalation)).one()


def test_the_owner_is_told_at_once_with_the_rhythms_kind_time_and_key(db_url: str) -> None:
    app = make_app(db_url)
    try:
        replies = raise_escalation(Console(app))
        told = [r for r in replies if r.get("to") == LEE]
        assert len(told) == 1
        assert told[0]["kind"] == "escalation"
        assert told[0]["at"] == "2026-12-01T10:00:00-05:00"  # Lee's time (New York)
        assert told[0]["key"].startswith("conv:")
        assert all("kind" not in r for r in replies if r.get("to") != LEE)
    finally:
        app.close()


def test_the_owner_acknowledges_then_resolves_with_a_note_in_a_form(db_url: str) -> None:
    app = make_app(db_url)
    try:
        raise_escalation(Console(app))
        escalation = only_escalation(app)
        app.clock.set(app.clock.now() + timedelta(days=3))
        lee = Console(app, actor=LEE)
        replies = lee.say("/escalations")
        assert replies[0]["text"] == "Your escalations: 1 open, 0 acknowledged."
        line = replies[1]
        assert f"#{escalation.id} OPEN" in line["text"]
        assert app.playbook.leaf_label("SYSTEMIC_REDESIGN") in line["text"]
        assert "Alice Adams, raised by Maya Manager 3 days ago" in line["text"]
        assert "Nobody hits 25% win rate" in line["text"] and "19%" in line["text"]
        assert [c["id"] for c in line["choices"]] == [
            f"/escalations ack {escalation.id}", f"/escalations resolve {escalation.id}",
            f"/escalations reassign {escalation.id}"]

        assert "Acknowledged" in texts(lee.choose(f"/escalations ack {escalation.id}"))
        assert "already acknowledged" in texts(lee.say(f"/escalations ack {escalation.id}"))
        replies = lee.say("/escalations")
        assert replies[0]["text"] == "Your escalations: 0 open, 1 acknowledged."
        assert [c["label"] for c in replies[1]["choices"]] == ["Resolve…", "Reassign…"]

        replies = lee.choose(f"/escalations resolve {escalation.id}")
        assert last_step(replies) == "resolve" and replies[-2]["form"]["id"] == "resolution"
        assert "Maya Manager" in texts(lee.submit(note="Quota reset with RevOps for Q1"))
        stored = only_escalation(app)
        assert stored.status == "resolved" and stored.resolution == "Quota reset with RevOps for Q1"
        assert stored.acknowledged_at is not None and stored.resolved_at is not None
        assert "No open escalations" in texts(lee.say("/escalations"))
        assert "already resolved" in texts(lee.say(f"/escalations resolve {escalation.id} x"))
        with app.sessions() as db:
            trail = [(e.action, e.note) for e in db.scalars(
                select(EscalationEvent).order_by(EscalationEvent.id))]
        assert trail == [("acknowledged", None),
                         ("resolved", "Quota reset with RevOps for Q1")]
    finally:
        app.close()


def test_a_typed_note_resolves_at_once(db_url: str) -> None:
    app = make_app(db_url)
    try:
        raise_escalation(Console(app))
        escalation = only_escalation(app)
        replies = Console(app, actor=LEE).say(f"/escalations resolve #{escalation.id} Fixed")
        assert replies[0]["text"] == f"Resolved #{escalation.id}."
        assert only_escalation(app).resolution == "Fixed"
    finally:
        app.close()


def test_reassign_by_name_moves_it_to_the_new_owners_inbox_and_tells_them(db_url: str) -> None:
    app = make_app(db_url)
    try:
        raise_escalation(Console(app))
        escalation = only_escalation(app)
        lee = Console(app, actor=LEE)
        lee.say(f"/escalations ack {escalation.id}")
        replies = lee.choose(f"/escalations reassign {escalation.id}")
        offered = [c["label"] for c in replies[0]["choices"]]
        assert offered == [f"Maya Manager <{MAYA}>", f"Omar Manager <{OMAR}>"]  # not Lee
        replies = lee.say(f"/escalations reassign {escalation.id} omar")
        assert texts(replies).startswith(f"Reassigned #{escalation.id} to Omar Manager.")
        told = [r for r in replies if r.get("to") == OMAR]
        assert len(told) == 1 and told[0]["kind"] == "escalation"
        assert told[0]["at"].endswith("+00:00")  # Omar is in London: winter time
        assert "Lee Leader passed escalation" in told[0]["text"]
        stored = only_escalation(app)
        assert stored.status == "open" and stored.acknowledged_at is None  # new owner: unseen
        with app.sessions() as db:
            omar = db.scalar(select(Person).where(Person.email == OMAR))
            assert omar is not None and stored.owner_id == omar.id
            event = db.scalars(select(EscalationEvent).where(
                EscalationEvent.action == "reassigned")).one()
            assert event.to_owner_id == omar.id and event.from_owner_id != omar.id
        assert f"#{escalation.id} OPEN" in texts(Console(app, actor=OMAR).say("/escalations"))
        assert "No open escalations" in texts(lee.say("/escalations"))
        # Lee is above Omar: he may still act on it; Maya (a peer of Omar) may not
        assert "Acknowledged" in texts(lee.say(f"/escalations ack {escalation.id}"))
    finally:
        app.close()


def test_reassign_refuses_unknown_ambiguous_and_non_managers(db_url: str) -> None:
    app = make_app(db_url)
    try:
        raise_escalation(Console(app))
        escalation = only_escalation(app)
        lee = Console(app, actor=LEE)
        assert "No manager or leader" in texts(
            lee.say(f"/escalations reassign {escalation.id} alice"))  # a rep
        assert "No manager or leader" in texts(
            lee.say(f"/escalations reassign {escalation.id} 100%_"))
        assert "matches Maya Manager" in texts(
            lee.say(f"/escalations reassign {escalation.id} manager"))
        assert "already owns" in texts(lee.say(f"/escalations reassign {escalation.id} lee"))
        assert only_escalation(app).owner_id == escalation.owner_id
    finally:
        app.close()


def test_only_the_owner_or_someone_above_may_act_on_every_action(db_url: str) -> None:
    app = make_app(db_url)
    try:
        raise_escalation(Console(app))
        escalation = only_escalation(app)
        for actor in (MAYA, OMAR, ADMIN, f"alice@{DOMAIN}"):
            console = Console(app, actor=actor)
            for verb in ("ack", "resolve", "reassign"):
                replies = console.say(f"/escalations {verb} {escalation.id} maya")
                assert replies[0]["text"] == (f"Escalation #{escalation.id} is not in your "
                                              "inbox (nor in the inbox of anyone below you).")
            assert "No open escalations" in texts(console.say("/escalations"))
        missing = Console(app, actor=LEE).say("/escalations ack 999999")
        assert "is not in your inbox" in texts(missing)  # the same words: nothing leaks
        stored = only_escalation(app)
        assert stored.status == "open" and stored.owner_id == escalation.owner_id
    finally:
        app.close()


def test_a_person_of_another_organisation_never_sees_it(db_url: str) -> None:
    app = make_app(db_url)
    try:
        raise_escalation(Console(app))
        escalation = only_escalation(app)
        now = app.clock.now()
        with app.sessions.begin() as db:
            other = Organization(name="Other Co")
            db.add(other)
            db.flush()
            db.add(Person(org_id=other.id, email="boss@other.example", name="Other Boss",
                          role="leader", timezone="UTC", created_at=now, updated_at=now))
        ctx = ServiceContext(app.sessions, app.clock, app.playbook)
        home = home_of(ctx, Who("console", "local", "boss@other.example"))
        assert home is None or home.escalations == []
        with app.engine.begin() as conn:
            from storage import escalations

            boss = conn.execute(select(Person.id).where(
                Person.email == "boss@other.example")).scalar_one()
            assert not escalations.may_act(conn, boss, escalation.owner_id)
            assert escalations.inbox(conn, boss, 10).total == 0
            assert escalations.new_owners(conn, 1, "other", 10) == []  # no one outside
    finally:
        app.close()


def test_the_leaders_home_lists_the_open_ones(db_url: str) -> None:
    app = make_app(db_url)
    try:
        raise_escalation(Console(app))
        escalation = only_escalation(app)
        ctx = ServiceContext(app.sessions, app.clock, app.playbook)
        home = home_of(ctx, Who("console", "local", LEE))
        assert home is not None and home.open_escalations == 1
        (item,) = home.escalations
        assert (item.id, item.rep, item.raised_by, item.status) == (
            escalation.id, "Alice Adams", "Maya Manager", "open")
        assert item.leaf == app.playbook.leaf_label("SYSTEMIC_REDESIGN")
        Console(app, actor=LEE).say(f"/escalations resolve {escalation.id} done")
        home = home_of(ctx, Who("console", "local", LEE))
        assert home is not None and home.escalations == [] and home.open_escalations == 0
        maya = home_of(ctx, Who("console", "local", MAYA))
        assert maya is not None and maya.escalations == []
    finally:
        app.close()


def test_a_form_opened_before_the_right_was_lost_stores_nothing(db_url: str) -> None:
    """The right is checked again when the note is stored: handed to someone outside the
    actor's line meanwhile, nothing is saved and the person is told so."""
    app = make_app(db_url)
    try:
        raise_escalation(Console(app))
        escalation = only_escalation(app)
        lee = Console(app, actor=LEE)
        assert last_step(lee.say(f"/escalations resolve {escalation.id}")) == "resolve"
        with app.sessions.begin() as db:  # Omar leaves Lee's line and takes it over
            omar = db.scalar(select(Person).where(Person.email == OMAR))
            assert omar is not None
            omar.manager_id = None
            db.get(Escalation, escalation.id).owner_id = omar.id  # type: ignore[union-attr]
        replies = lee.submit(note="Done")
        assert "nothing from that answer was saved" in texts(replies)
        stored = only_escalation(app)
        assert stored.status == "open" and stored.resolution is None
    finally:
        app.close()
