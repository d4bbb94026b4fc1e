"""storage.overviews: the App Home figures, counted in the database in a constant number of
queries whatever the team or tree size, and equal to counting the rows one by one."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy import Engine, event, select

from bench.history import NOW, Org, Scale, add_history, build_people, fix_sequences
from bot.services import home as home_tab
from storage import overviews
from storage.coaching import FINISHED, OPEN_ACTION
from storage.models import ActionItem, CoachingSession, Escalation, Person
from tests.support import make_app


def statements(engine: Engine, body: object) -> int:
    seen = 0

    def count(*args: object) -> None:
        nonlocal seen
        seen += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        body()  # type: ignore[operator]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


def org(db_url: str, reps: int, first_id: int = 1000) -> tuple[object, Org]:
    app = make_app(db_url, demo=False, start=NOW)
    with app.engine.begin() as conn:
        built = build_people(conn, reps, first_id)
        add_history(conn, built, Scale(reps=reps, sessions=4, actions=30, checkins=2,
                                       months=2), 0.0, 1.0)
        fix_sequences(conn)
    return app, built


def test_home_figures_are_the_rows_counted_one_by_one(db_url: str) -> None:
    app, built = org(db_url, 90)  # two leaders under the VP
    today = NOW.date()
    with app.sessions() as db:  # type: ignore[attr-defined]
        manager = db.get(Person, built.manager_of(0))
        lines = overviews.rep_lines(db, manager, today)
        reps = db.scalars(select(Person).where(Person.manager_id == manager.id)).all()
        assert [line.id for line in lines] == [p.id for p in sorted(reps, key=lambda p: p.name)]
        for line in lines:
            actions = db.scalars(select(ActionItem).where(
                ActionItem.rep_id == line.id, ActionItem.status.in_(OPEN_ACTION))).all()
            ended = [s.ended_at for s in db.scalars(select(CoachingSession).where(
                CoachingSession.rep_id == line.id, CoachingSession.status.in_(FINISHED)))]
            assert (line.open_actions, line.overdue_actions, line.last_session,
                    line.session_open) == (
                len(actions), sum(a.due_date < today for a in actions),
                max(ended).date(), False)
        vp = db.get(Person, built.vp)
        figures = overviews.tree_figures(db, vp, NOW, 60)
        rep_ids = set(built.reps)
        since = NOW - timedelta(days=60)
        recent = [s for s in db.scalars(select(CoachingSession)) if s.rep_id in rep_ids
                  and s.status == "completed" and s.ended_at >= since]
        open_actions = [a for a in db.scalars(select(ActionItem).where(
            ActionItem.status.in_(OPEN_ACTION))) if a.rep_id in rep_ids]
        escalations = db.scalars(select(Escalation).where(Escalation.owner_id == vp.id,
                                                          Escalation.status == "open")).all()
        assert figures == overviews.TreeFigures(
            len(rep_ids), len({s.rep_id for s in recent}), len(recent), len(open_actions),
            sum(a.due_date < NOW.date() for a in open_actions), len(escalations))
        assert figures.reps == 90 and figures.open_actions > 0 and figures.overdue_actions > 0
    app.close()  # type: ignore[attr-defined]


def test_app_home_queries_do_not_grow_with_the_team_or_the_tree(db_url: str) -> None:
    counts = []
    for reps, first_id in ((8, 1000), (80, 5000)):
        app, built = org(db_url, reps, first_id)
        with app.sessions() as db:  # type: ignore[attr-defined]
            people = [db.get(Person, pid) for pid in
                      (built.manager_of(0), built.leader_of(0), built.vp)]
            playbook = app.playbook  # type: ignore[attr-defined]
            counts.append([statements(app.engine,  # type: ignore[attr-defined]
                                      partial(home_tab.load, db, p, NOW, playbook))
                           for p in people])
        app.close()  # type: ignore[attr-defined]
    assert counts[0] == counts[1]
    # the VP: rep lines, meetings, the tree's figures, the escalation inbox
    assert counts[0][2] <= 5
