"""A check-in may change only the rep's own, shared action items (issue: a rep could mark a
manager's action done)."""

from __future__ import annotations

from sqlalchemy import select

from flows.effects import RecordCheckin
from storage import coaching
from storage.models import ActionItem, Checkin, Person
from storage.unit import UnitOfWork
from tests.support import START, Console, full_session, make_app


def test_a_forged_check_in_update_of_someone_elses_item_changes_nothing(db_url: str) -> None:
    app = make_app(db_url)
    full_session(Console(app))
    with app.sessions() as db:
        items = {i.description: i for i in db.scalars(select(ActionItem))}
    rep_item = items["Role-play discovery with Maya"]
    manager_item = items["Share top-rep call recordings"]
    assert rep_item.owner_id == rep_item.rep_id and manager_item.owner_id != rep_item.rep_id
    with app.engine.begin() as conn:
        unit = UnitOfWork(conn)
        rep = unit.db.get(Person, rep_item.rep_id)
        assert rep is not None
        checkin = coaching.checkin_for_week(unit.db, rep, START.date())
        coaching.apply(unit, RecordCheckin(
            checkin.id, "answered",
            action_updates={str(rep_item.id): {"status": "done"},
                            str(manager_item.id): {"status": "done", "note": "forged"}},
            got_coaching=True, confidence=4), actor_id=rep_item.rep_id, now=START)
        unit.finish()
    with app.sessions() as db:
        assert db.get(ActionItem, rep_item.id).status == "done"  # type: ignore[union-attr]
        forged = db.get(ActionItem, manager_item.id)
        assert forged is not None and (forged.status, forged.note) == ("open", None)
        assert db.scalars(select(Checkin)).one().status == "answered"
    app.close()
