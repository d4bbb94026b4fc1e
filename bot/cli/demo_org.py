"""The demo org: a leader, two managers and their reps, with a quarter of metrics.

Idempotent: loading it twice changes nothing. Metric periods are relative to
``today`` so the demo always has current numbers.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import DEFAULT_ORG, Metric, Person, Team

DOMAIN = "demo.smos.example"
MANAGER = f"maya@{DOMAIN}"

# email local part, name, role, manager, time zone
PEOPLE = (
    ("lee", "Lee Leader", "leader", None, "America/New_York"),
    ("maya", "Maya Manager", "manager", "lee", "America/New_York"),
    ("omar", "Omar Manager", "manager", "lee", "Europe/London"),
    ("alice", "Alice Adams", "rep", "maya", "America/New_York"),
    ("bob", "Bob Brown", "rep", "maya", "America/Chicago"),
    ("carmen", "Carmen Cruz", "rep", "maya", "America/Los_Angeles"),
    ("dev", "Dev Desai", "rep", "omar", "Europe/London"),
    ("erin", "Erin Evans", "rep", "omar", "Europe/Dublin"),
    ("admin", "Ada Admin", "admin", None, "UTC"),
)

# rep: (metric, kind, target, actual) for the current month
METRICS = {
    "alice": (("bookings", "result", 100000, 62000), ("win rate %", "result", 25, 14),
              ("calls", "activity", 200, 210), ("meetings", "activity", 20, 21)),
    "bob": (("bookings", "result", 100000, 71000), ("win rate %", "result", 25, 24),
            ("calls", "activity", 200, 120), ("meetings", "activity", 20, 9)),
    "carmen": (("bookings", "result", 100000, 108000), ("win rate %", "result", 25, 29),
               ("calls", "activity", 200, 190), ("meetings", "activity", 20, 22)),
    "dev": (("bookings", "result", 80000, 52000), ("calls", "activity", 180, 175)),
    "erin": (("bookings", "result", 80000, 83000), ("calls", "activity", 180, 160)),
}


def load_demo(db: Session, today: date, now: datetime) -> bool:
    """Add the demo people to the default organisation; return True when anything was added."""
    added = False
    ids: dict[str, int] = {}
    for local, name, role, manager, tz in PEOPLE:
        email = f"{local}@{DOMAIN}"
        person = db.scalar(select(Person).where(Person.org_id == DEFAULT_ORG,
                                                Person.email == email))
        if person is None:
            person = Person(org_id=DEFAULT_ORG, email=email, name=name, role=role, timezone=tz,
                            manager_id=ids[manager] if manager else None,
                            created_at=now, updated_at=now)
            db.add(person)
            db.flush()
            added = True
        ids[local] = person.id
    for local in ("maya", "omar"):
        team_name = f"Team {local.title()}"
        if db.scalar(select(Team).where(Team.name == team_name)) is None:
            db.add(Team(name=team_name, manager_id=ids[local]))
            added = True
    start = today.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    for local, rows in METRICS.items():
        for metric, kind, target, actual in rows:
            exists = db.scalar(select(Metric).where(
                Metric.person_id == ids[local], Metric.metric == metric,
                Metric.period_start == start, Metric.period_end == end))
            if exists is None:
                db.add(Metric(person_id=ids[local], period_start=start, period_end=end,
                              metric=metric, kind=kind, target=target, actual=actual,
                              source="demo"))
                added = True
    return added
