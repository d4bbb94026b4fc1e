"""The service layer on its own: no platform objects, a person found by ``Who``, results
as data a surface puts into words."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.channels.who import Who
from bot.cli.demo_org import DOMAIN, MANAGER
from bot.services import plans, team
from bot.services.context import ServiceContext
from bot.services.home import home_of, next_checkin
from storage.models import ActionItem, CoachingSession, Person
from tests.support import Console, full_session, make_app

ALICE, BOB = f"alice@{DOMAIN}", f"bob@{DOMAIN}"


def console(email: str) -> Who:
    return Who("console", "local", email)


async def test_a_rep_acknowledges_their_own_plan_and_marks_their_own_actions(
        db_url: str) -> None:
    app = make_app(db_url)
    try:
        full_session(Console(app))
        ctx = ServiceContext(app.sessions, app.clock, app.playbook)
        with app.sessions() as db:
            alice = db.scalar(select(Person).where(Person.email == ALICE))
            assert alice is not None
            session = db.scalar(select(CoachingSession).where(
                CoachingSession.rep_id == alice.id))
            item = db.scalar(select(ActionItem).where(ActionItem.owner_id == alice.id))
            assert session is not None and item is not None
            session_id, item_id = session.id, item.id
        assert plans.acknowledge(ctx, console(BOB), session_id) is None
        thanked = plans.acknowledge(ctx, console(ALICE), session_id)
        assert thanked is not None and thanked.first_name == "Alice"
        assert plans.set_item_status(ctx, console(BOB), item_id, "done") is None
        done = plans.set_item_status(ctx, console(ALICE), item_id, "done")
        assert done is not None and done.status == "done"
        assert done.description == "Role-play discovery with Maya"
        with app.sessions() as db:
            stored = db.get(ActionItem, item_id)
            assert stored is not None and stored.status == "done"  # committed, not only said
    finally:
        app.close()


def test_only_a_manager_adds_a_report_and_the_picker_lists_them(db_url: str) -> None:
    app = make_app(db_url)
    try:
        ctx = ServiceContext(app.sessions, app.clock, app.playbook)
        new = team.NewReport(f"nina@{DOMAIN}", "Nina New", "Europe/Paris", "")
        assert team.add_report(ctx, console(ALICE), new).result == "not_a_manager"
        added = team.add_report(ctx, console(MANAGER), new)
        assert (added.result, added.name) == ("added", "Nina New")
        assert team.add_report(ctx, console(MANAGER), new).result == "already"
        names = [name for _, name in team.coachable(ctx, console(MANAGER), 50)]
        assert "Nina New" in names and "Alice Adams" in names
        nina_id = next(pid for pid, name in team.coachable(ctx, console(MANAGER), 50)
                       if name == "Nina New")
        assert team.email_of(ctx, console(MANAGER), nina_id) == f"nina@{DOMAIN}"
        assert team.email_of(ctx, console(MANAGER), "not an id") is None
        assert team.email_of(ctx, console(ALICE), nina_id) is None  # not Alice's to coach
    finally:
        app.close()


def test_each_role_sees_its_own_home(db_url: str) -> None:
    app = make_app(db_url)
    try:
        ctx = ServiceContext(app.sessions, app.clock, app.playbook)
        manager = home_of(ctx, console(MANAGER))
        rep = home_of(ctx, console(ALICE))
        assert manager is not None and {r.name for r in manager.reps} >= {"Alice Adams"}
        assert rep is not None and rep.role == "rep" and rep.next_checkin
        assert rep.checkin_status
        assert home_of(ctx, console(f"nobody@{DOMAIN}")) is None
    finally:
        app.close()


def test_the_next_checkin_is_this_weeks_unless_it_has_passed() -> None:
    tuesday = datetime.fromisoformat("2026-12-01T15:00:00+00:00")  # a Tuesday
    assert next_checkin(tuesday, "UTC", "fri", "16:00") == "Fri 04 Dec, 16:00"
    assert next_checkin(tuesday, "UTC", "tue", "09:00") == "Tue 08 Dec, 09:00"
    assert next_checkin(tuesday, "Not/AZone", "tue", "16:00") == "Tue 01 Dec, 16:00"
