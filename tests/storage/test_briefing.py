"""storage.briefing: /coach's two reads, checked against rows written the ORM way."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from storage import briefing, people
from storage.models import (
    ActionItem,
    Checkin,
    CoachingSession,
    Conversation,
    Metric,
    ModelRun,
    Person,
    Review,
)
from storage.people import Coachee
from tests.support import make_app

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
TODAY = NOW.date()


def person(db, email, role, manager=None, active=True):  # type: ignore[no-untyped-def]
    row = Person(org_id=1, email=email, name=email.split("@")[0].title(), role=role, timezone="UTC",
                 manager_id=manager.id if manager else None, active=active, created_at=NOW,
                 updated_at=NOW)
    db.add(row)
    db.flush()
    return row


def test_the_card_holds_what_the_context_card_shows(db_url: str) -> None:
    app = make_app(db_url, demo=False)
    with app.sessions.begin() as db:
        boss = person(db, "boss@x.example", "manager")
        rep = person(db, "rep@x.example", "rep", boss)
        peer = person(db, "peer@x.example", "rep", boss)
        gone = person(db, "gone@x.example", "rep", boss, active=False)
        stranger = person(db, "stranger@x.example", "rep")
        # Two finished sessions (the later one counts; it ended at 23:30 UTC) and an open one.
        for ended, focus, status in ((NOW - timedelta(days=30), "old", "completed"),
                                     (datetime(2026, 11, 20, 23, 30, tzinfo=UTC), "calls",
                                      "no_action"), (None, "open", "open")):
            db.add(CoachingSession(manager_id=boss.id, rep_id=rep.id, status=status,
                                   started_at=NOW - timedelta(days=40), ended_at=ended,
                                   focus_area=focus, leaf="PRACTICE"))
        db.flush()
        session_id = db.query(CoachingSession.id).first()[0]
        for due, status, owner in ((date(2026, 12, 9), "open", boss), (date(2026, 12, 5),
                                   "blocked", rep), (date(2026, 12, 2), "done", rep)):
            db.add(ActionItem(session_id=session_id, rep_id=rep.id, owner_id=owner.id,
                              description=f"due {due}", due_date=due, status=status,
                              created_at=NOW, updated_at=NOW))
        for weeks, status in ((1, "answered"), (2, "answered"), (3, "open"), (4, "answered"),
                              (5, "answered")):
            db.add(Checkin(person_id=rep.id, period_start=TODAY - timedelta(weeks=weeks),
                           status=status, got_coaching=weeks % 2 == 1, confidence=weeks))
        for who, start, actual in ((rep, date(2026, 11, 1), 3.0), (peer, date(2026, 11, 1), 7.0),
                                   (rep, date(2024, 1, 1), 1.0), (rep, date(2027, 1, 1), 9.0),
                                   (gone, date(2026, 11, 1), 5.0),
                                   (stranger, date(2026, 11, 1), 6.0)):
            db.add(Metric(person_id=who.id, period_start=start,
                          period_end=start + timedelta(days=29), metric="meetings",
                          kind="activity", target=10.0, actual=actual))
    with app.engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # JSON dates must not follow the session zone
            conn.execute(text("SET TIME ZONE 'Pacific/Auckland'"))
        card = briefing.card(conn, rep.id, boss.id, TODAY)
    assert card.last == {"date": "2026-11-20", "focus": "calls", "leaf": "PRACTICE"}
    assert [(a["due"], a["status"], a["owner_id"]) for a in card.actions] == [
        ("2026-12-05", "blocked", rep.id), ("2026-12-09", "open", boss.id)]
    assert card.checkins == [
        {"week": str(TODAY - timedelta(weeks=1)), "coached": True, "confidence": 1,
         "blockers": None},
        {"week": str(TODAY - timedelta(weeks=2)), "coached": False, "confidence": 2,
         "blockers": None},
        {"week": str(TODAY - timedelta(weeks=4)), "coached": False, "confidence": 4,
         "blockers": None}]
    assert [(m.period_start, m.actual) for m in card.metrics] == [
        (date(2026, 11, 1), 3.0)]  # not the 2024 period, not next year's
    assert [m.actual for m in card.team_metrics] == [7.0]  # active teammates only
    app.close()


def test_the_card_holds_plans_blockers_and_check_in_counts(db_url: str) -> None:
    """The next planned review, a model agreed but not run, blocker notes, and the
    activity counts of answered check-ins (not of open ones, not older than the history)."""
    app = make_app(db_url, demo=False)
    with app.sessions.begin() as db:
        boss = person(db, "boss@x.example", "manager")
        rep = person(db, "rep@x.example", "rep", boss)
        ended = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
        session = CoachingSession(manager_id=boss.id, rep_id=rep.id, status="completed",
                                  started_at=ended, ended_at=ended, next_model="coaching")
        db.add(session)
        db.flush()
        for due, status in ((date(2026, 12, 20), "planned"), (date(2026, 12, 10), "planned"),
                            (date(2026, 12, 3), "done")):
            db.add(Review(session_id=session.id, due_date=due, status=status))
        db.add(ActionItem(session_id=session.id, rep_id=rep.id, owner_id=rep.id,
                          description="Send proposals", due_date=date(2026, 12, 4),
                          status="blocked", note="Waiting on pricing", created_at=NOW,
                          updated_at=NOW))
        for weeks, status, counts, blockers in (
                (1, "answered", {"calls": 30, "proposals": 2}, "CRM down"),
                (2, "answered", {"calls": 25}, None), (3, "open", {"calls": 99}, None),
                (80, "answered", {"calls": 1000}, None)):
            db.add(Checkin(person_id=rep.id, period_start=TODAY - timedelta(weeks=weeks),
                           status=status, activity=counts, blockers=blockers))
    with app.engine.connect() as conn:
        card = briefing.card(conn, rep.id, boss.id, TODAY)
    assert card.review_due == "2026-12-10"
    assert card.pending_model == {"model": "coaching", "date": "2026-11-20"}
    assert [a["note"] for a in card.actions] == ["Waiting on pricing"]
    assert [c["blockers"] for c in card.checkins] == ["CRM down", None, None]
    assert [(c.week, dict(c.counts)) for c in card.activity] == [
        (TODAY - timedelta(weeks=2), {"calls": 25.0}),
        (TODAY - timedelta(weeks=1), {"calls": 30.0, "proposals": 2.0})]
    with app.sessions.begin() as db:
        db.add(ModelRun(session_id=session.id, model="coaching", status="completed",
                        started_at=NOW, ended_at=NOW))
    with app.engine.connect() as conn:
        assert briefing.card(conn, rep.id, boss.id, TODAY).pending_model is None
    app.close()


def test_an_empty_card(db_url: str) -> None:
    app = make_app(db_url, demo=False)
    with app.sessions.begin() as db:
        rep = person(db, "rep@x.example", "rep")
    with app.engine.connect() as conn:
        card = briefing.card(conn, rep.id, None, TODAY)
    assert card == briefing.Card()
    app.close()


def test_candidates_are_a_managers_reports_or_a_leaders_tree_with_their_conversation(
        db_url: str) -> None:
    app = make_app(db_url, demo=False)
    with app.sessions.begin() as db:
        lead = person(db, "lead@x.example", "leader")
        boss = person(db, "boss@x.example", "manager", lead)
        ann = person(db, "ann@x.example", "rep", boss)
        person(db, "bob@x.example", "rep", boss)
        person(db, "gone@x.example", "rep", boss, active=False)
        other = person(db, "other@x.example", "manager")
        person(db, "otto@x.example", "rep", other)
        for user_key, subject in (("U-BOSS", str(ann.id)), ("U-ELSE", str(ann.id))):
            db.add(Conversation(platform="slack", tenant="T1", user_key=user_key, flow="sled",
                                subject=subject, person_id=boss.id, status="paused",
                                state={"flow": "sled"}, version=3, updated_at=NOW))
    with app.engine.connect() as conn:
        mine = briefing.candidates(conn, boss.id, "manager", "slack", "T1", "U-BOSS", 10)
        tree = briefing.candidates(conn, lead.id, "leader", "slack", "T1", "U-LEAD", 10)
        first_two = briefing.candidates(conn, lead.id, "leader", "slack", "T1", "U-LEAD", 2)
        none = briefing.candidates(conn, ann.id, "rep", "slack", "T1", "U-ANN", 10)
    assert [(p.email, c.status if c else None) for p, c in mine] == [
        ("ann@x.example", "paused"), ("bob@x.example", None)]
    assert [c.version for p, c in mine if c] == [3]
    assert [p.email for p, _ in tree] == ["ann@x.example", "bob@x.example", "boss@x.example"]
    assert all(c is None for _, c in tree)  # the conversations are the manager's, not hers
    assert len(first_two) == 2  # bounded: a larger tree is searched, not listed
    assert none == []
    app.close()


def test_a_search_finds_names_and_emails_by_their_start_within_the_coachs_scope(
        db_url: str) -> None:
    app = make_app(db_url, demo=False)
    with app.sessions.begin() as db:
        lead = person(db, "lead@x.example", "leader")
        boss = person(db, "boss@x.example", "manager", lead)
        ann = person(db, "ann@x.example", "rep", boss)
        ann.name = "Ann Zeta"
        person(db, "anna@x.example", "rep", boss).name = "Anna Young"
        person(db, "zed@x.example", "rep", boss).name = "ANNE Xavier"
        person(db, "annie@x.example", "rep", boss, active=False)
        other = person(db, "other@x.example", "manager")
        person(db, "anders@x.example", "rep", other)  # not in the leader's tree
        for user_key in ("U-BOSS", "U-LEAD"):
            db.add(Conversation(platform="slack", tenant="T1", user_key=user_key, flow="sled",
                                subject=str(ann.id), person_id=boss.id, status="paused",
                                state={"flow": "sled"}, version=3, updated_at=NOW))

    def names(found: list[tuple[Coachee, object]]) -> list[str]:
        return [p.name for p, _ in found]

    with app.engine.connect() as conn:
        tree = briefing.search(conn, lead.id, "leader", "slack", "T1", "U-LEAD", "an", 10)
        assert names(tree) == ["ANNE Xavier", "Ann Zeta", "Anna Young"]
        assert [c.status if c else None for _, c in tree] == [None, "paused", None]
        assert names(briefing.search(conn, boss.id, "manager", "slack", "T1", "U-BOSS",
                                     " @ZED@x", 10)) == ["ANNE Xavier"]  # an email's start
        assert names(briefing.search(conn, lead.id, "leader", "slack", "T1", "U-LEAD", "an",
                                     1)) == ["Ann Zeta"]  # first by name and by email
        assert briefing.search(conn, other.id, "manager", "slack", "T1", "U-X", "ann", 10) == []
        assert briefing.search(conn, ann.id, "rep", "slack", "T1", "U-ANN", "a", 10) == []
        assert people.search(conn, lead.id, "leader", "anders", 10) == []
        assert [p.name for p in people.search(conn, lead.id, "leader", "ann z", 10)] == [
            "Ann Zeta"]
    app.close()


def test_any_search_text_is_answered_with_people_it_begins(db_url: str) -> None:
    """Hostile input (NUL, quotes, wildcards, the last code points) never crashes the search
    and finds only people whose name or email begins with it."""
    app = make_app(db_url, demo=False)
    with app.sessions.begin() as db:
        lead = person(db, "lead@x.example", "leader")
        for i, name in enumerate(("An%na", "B_ob", "Çelik", "zoë", "O'Brien", "\\slash")):
            person(db, f"p{i}@x.example", "rep", lead).name = name

    @settings(max_examples=60, deadline=None)
    @given(ref=st.text(max_size=40))
    def check(ref: str) -> None:
        with app.engine.connect() as conn:
            found = people.search(conn, lead.id, "leader", ref, 5)
        wanted = ref.strip().lstrip("@").replace("\x00", "").lower()
        assert all(p.name.lower().startswith(wanted) or p.email.startswith(wanted)
                   for p in found)

    check()
    with app.engine.connect() as conn:
        assert [p.name for p in people.search(conn, lead.id, "leader", "an%", 5)] == ["An%na"]
        assert people.search(conn, lead.id, "leader", "a%", 5) == []  # no wildcards
    app.close()
