"""The outbox lease reads each recipient's stored platform id in one query, only in the
organisation the row's workspace is linked to (an email may exist in two orgs), and says
since when a row handed out before may already have arrived."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from bot.cli.demo_org import DOMAIN
from storage import deliveries, tenancy
from storage.models import DEFAULT_ORG, Organization, Outbox, Person
from tests.support import make_app

ALICE, BOB = f"alice@{DOMAIN}", f"bob@{DOMAIN}"


def test_recipient_ids_come_from_the_workspaces_own_organisation(db_url: str) -> None:
    app = make_app(db_url)
    now = app.clock.now()
    try:
        with app.sessions.begin() as db:
            other = Organization(name="Other Co")
            db.add(other)
            db.flush()
            tenancy.link(db, DEFAULT_ORG, "slack", "T1", now)
            tenancy.link(db, other.id, "slack", "T2", now)
            alice = db.scalar(select(Person).where(Person.email == ALICE))
            assert alice is not None
            alice.slack_user_id, alice.teams_user_id = "U1ALICE", "aad-alice"
            db.add(Person(org_id=other.id, email=ALICE, name="Another Alice", role="rep",
                          timezone="UTC", slack_user_id="U2ALICE", created_at=now,
                          updated_at=now))
        with app.sessions() as db:
            wanted = {("T1", ALICE), ("T2", ALICE), ("T1", BOB), ("T9", ALICE)}
            assert deliveries.recipient_ids(db, "slack", wanted) == {
                ("T1", ALICE): "U1ALICE", ("T2", ALICE): "U2ALICE"}  # Bob: not bound yet
            assert deliveries.recipient_ids(db, "teams", wanted) == {}  # no Teams workspace
            assert deliveries.recipient_ids(db, "console", wanted) == {}
            assert deliveries.recipient_ids(db, "slack", set()) == {}
    finally:
        app.close()


def test_a_lease_says_since_when_an_earlier_try_may_have_arrived(db_url: str) -> None:
    """Never handed out: nothing to look for. Handed out before: since its first lease. A
    row tried before first leases were recorded (attempts, no first lease): since it was
    queued. The first two leased in one JSON list, the third later."""
    app = make_app(db_url)
    now = app.clock.now()
    try:
        with app.engine.begin() as conn:
            conn.execute(insert(Outbox), [
                {"idempotency_key": key, "kind": "slack", "target": ALICE, "payload": {},
                 "status": "pending", "attempts": attempts, "not_before": now,
                 "created_at": now - timedelta(hours=1)}
                for key, attempts in (("fresh", 0), ("tried", 1))])
        with app.sessions.begin() as db:
            first = deliveries.lease_due(db, channel="slack", now=now, lease_seconds=60)
        assert [(lease.row.idempotency_key, lease.resend_since) for lease in first] == [
            ("fresh", None), ("tried", now - timedelta(hours=1))]
        later = now + timedelta(seconds=61)  # the lease ran out: the sender died
        with app.sessions.begin() as db:
            again = deliveries.lease_due(db, channel="slack", now=later, lease_seconds=60)
        assert [(lease.row.idempotency_key, lease.resend_since) for lease in again] == [
            ("fresh", now), ("tried", now)]
    finally:
        app.close()
