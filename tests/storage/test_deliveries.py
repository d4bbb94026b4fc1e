"""The outbox lease reads each recipient's stored platform id in one query, only in the
organisation the row's workspace is linked to (an email may exist in two orgs)."""

from __future__ import annotations

from sqlalchemy import select

from bot.cli.demo_org import DOMAIN
from storage import deliveries, tenancy
from storage.models import DEFAULT_ORG, Organization, Person
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
