"""A small organisation built by hand for the digest's tests, with a second organisation
beside it whose rows must never be counted. Every figure the tests expect is worked out in
tests/bot/test_digest.py from the rows written here.

Reported week 2026-W48 (Mon 23 – Sun 29 Nov 2026, UTC); ``NOW`` is Tuesday of W49.
Leader Lena; managers Mia (reps Rae, Ron, Ria) and Max (reps Rex, Roy; Rip inactive).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.models import (
    DEFAULT_ORG,
    ActionItem,
    Cadence,
    CadenceOccurrence,
    Checkin,
    CheckinBlocker,
    CoachingSession,
    Escalation,
    Metric,
    Organization,
    Person,
    PrivateNote,
)

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
W48 = date(2026, 11, 23)
PRIVATE = "PRIVATE NOTE: never in a digest"


def at(day: int, month: int = 11, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


@dataclass
class Built:
    ids: dict[str, int]

    def email(self, name: str) -> str:
        return f"{name}@org.example"


def build(db: Session) -> Built:
    ids: dict[str, int] = {}
    db.add(Organization(id=2, name="Other org"))
    db.flush()

    def person(name: str, role: str, boss: str | None, org: int = DEFAULT_ORG,
               active: bool = True) -> None:
        row = Person(org_id=org, email=f"{name}@org.example", name=name.title(), role=role,
                     manager_id=ids[boss] if boss else None, timezone="UTC", active=active,
                     created_at=NOW, updated_at=NOW)
        db.add(row)
        db.flush()
        ids[name] = row.id

    person("lena", "leader", None)
    person("mia", "manager", "lena")
    person("max", "manager", "lena")
    for rep in ("rae", "ron", "ria"):
        person(rep, "rep", "mia")
    for rep in ("rex", "roy"):
        person(rep, "rep", "max")
    person("rip", "rep", "max", active=False)
    # the other organisation: same shape of data, never counted
    person("xena", "leader", None, org=2)
    person("xavi", "manager", "xena", org=2)
    person("xray", "rep", "xavi", org=2)

    def session(key: str, manager: str, rep: str, ended: datetime | None, category: str | None,
                focus: str | None, leaf: str | None = None, status: str = "completed") -> None:
        row = CoachingSession(manager_id=ids[manager], rep_id=ids[rep], status=status,
                              started_at=ended or NOW, ended_at=ended, category=category,
                              focus_area=focus, leaf=leaf)
        db.add(row)
        db.flush()
        ids[key] = row.id

    session("s1", "mia", "rae", at(24), "coaching", "prospecting", "COACHING")
    session("s2", "mia", "ron", at(25), "coaching", "prospecting", "PRACTICE")
    session("s3", "max", "rex", at(26), "coaching", "prospecting", "COACHING")
    session("s4", "mia", "rae", at(27), "systemic", "pipeline_management", "ESCALATE_SYSTEMIC")
    session("s5", "max", "roy", None, None, "prospecting", status="open")
    session("s6", "mia", "ria", at(18), "training", "lead_management", "TRAINING")
    session("s7", "max", "roy", at(10), "none", None, "NO_ACTION", status="no_action")
    session("s8", "mia", "ron", at(28, 10), "training", "forecast_management", "JOB_AID")
    session("s9", "mia", "rae", at(1, 8), "coaching", "territory_optimization", "COACHING")
    session("s10", "xavi", "xray", at(24), "coaching", "prospecting", "COACHING")
    session("s11", "max", "rip", at(24), "obstacle", "quota_goal_setting", "REMOVE_OBSTACLE")
    session("s12", "mia", "ria", at(5), "expectations", "prospecting", "FEEDBACK")
    session("s13", "max", "roy", at(13), "expectations", "account_management", "FEEDBACK")
    db.add(PrivateNote(session_id=ids["s4"], author_id=ids["mia"], kind="private",
                       text=PRIVATE, created_at=at(27)))

    def checkin(rep: str, monday: date, status: str, got: bool | None = None,
                blockers: str | None = None, tags: tuple[str, ...] = ()) -> None:
        row = Checkin(person_id=ids[rep], period_start=monday, status=status,
                      got_coaching=got, answered_at=NOW if status == "answered" else None,
                      blockers=blockers)
        db.add(row)
        db.flush()
        db.add_all(CheckinBlocker(checkin_id=row.id, tag=tag, quote=blockers or "")
                   for tag in tags)

    # Blockers of W48 in Lena's tree: Rae's tagged tools and approvals, Ron's untagged; the
    # tags of inactive Rip, of the other org and of Rae's week before are not counted.
    checkin("rae", W48, "answered", True, "The CRM was down; legal is slow",
            ("tools", "approvals"))
    checkin("ron", W48, "answered", False, "Marketing sent no leads")
    checkin("ria", W48, "missed")
    checkin("rex", W48, "answered", True)
    checkin("roy", W48, "open")
    checkin("rip", W48, "answered", True, "CRM", ("tools",))
    checkin("xray", W48, "answered", True, "CRM", ("tools",))
    checkin("rae", date(2026, 11, 16), "answered", True, "No time", ("time",))
    checkin("ron", date(2026, 11, 16), "answered", False)
    checkin("ria", date(2026, 11, 16), "skipped")
    checkin("rae", date(2026, 11, 30), "open")  # the week after: not in a W48 digest

    def cadence(owner: str, kind: str, subject: str | None = None) -> int:
        row = Cadence(owner_id=ids[owner], subject_id=ids[subject] if subject else None,
                      meeting_type=kind, rhythm="weekly", day="mon", time="09:00",
                      timezone="UTC", active=True)
        db.add(row)
        db.flush()
        return row.id

    c1, c2 = cadence("mia", "team_meeting"), cadence("mia", "pipeline_review", "rae")
    c3, c4 = cadence("max", "team_meeting"), cadence("lena", "forecast_call")
    c5 = cadence("xavi", "team_meeting")
    for cadence_id, when, status in (
            (c1, at(23, hour=9), "held"), (c2, at(24), "skipped"), (c2, at(25), "moved"),
            (c2, at(26), "held"), (c3, at(23, hour=9), "planned"), (c4, at(26, hour=16), "held"),
            (c5, at(23, hour=9), "held"), (c1, at(16, hour=9), "held"),
            (c3, at(16, hour=9), "held"), (c1, at(7, 12, 9), "planned")):
        db.add(CadenceOccurrence(cadence_id=cadence_id, scheduled_for=when, status=status))

    def action(rep: str, created: datetime, status: str, updated: datetime, due: date) -> None:
        db.add(ActionItem(rep_id=ids[rep], owner_id=ids[rep], description="Role-play",
                          due_date=due, status=status, created_at=created, updated_at=updated))

    action("rae", at(24), "open", at(24), date(2026, 11, 27))  # A1
    action("ron", at(24), "done", at(26), date(2026, 12, 5))  # A2
    action("ria", at(10), "done", at(25), date(2026, 11, 20))  # A3
    action("rex", at(2), "blocked", at(2), date(2026, 11, 12))  # A4
    action("rae", at(1, 10), "done", at(5, 10), date(2026, 10, 3))  # A5: long done
    action("rip", at(24), "open", at(24), date(2026, 11, 25))  # inactive rep
    action("xray", at(24), "open", at(24), date(2026, 11, 25))  # other org

    def metric(who: str, start: date, end: date, name: str, kind: str, target: float,
               actual: float) -> None:
        db.add(Metric(person_id=ids[who], period_start=start, period_end=end, metric=name,
                      kind=kind, target=target, actual=actual))

    nov1, nov30 = date(2026, 11, 1), date(2026, 11, 30)
    metric("rae", nov1, nov30, "revenue", "result", 100, 80)
    metric("rex", nov1, nov30, "revenue", "result", 200, 150)
    metric("ron", date(2026, 10, 15), date(2026, 11, 14), "revenue", "result", 100, 120)
    metric("ria", W48, date(2026, 11, 29), "win rate", "result", 20, 25)
    metric("rae", nov1, nov30, "calls", "activity", 100, 50)
    metric("mia", nov1, nov30, "revenue", "result", 1000, 10)  # a manager's: not the reps'
    metric("xray", nov1, nov30, "revenue", "result", 999, 1)

    def escalation(owner: str, status: str, created: datetime) -> None:
        db.add(Escalation(session_id=ids["s4"], leaf="ESCALATE_SYSTEMIC", owner_id=ids[owner],
                          raised_by_id=ids["mia"], impact="impact text", evidence=PRIVATE,
                          status=status, created_at=created))

    escalation("lena", "open", at(20))
    escalation("mia", "acknowledged", at(25))
    escalation("max", "resolved", at(21))
    escalation("xena", "open", at(22))
    db.flush()
    return Built(ids)


def email(name: str) -> str:
    return f"{name}@org.example"


def expected_w48_leader() -> dict[str, Any]:
    """Worked out by hand from the rows above (see the test for the working)."""
    e = email
    return {
        "week": "2026-W48",
        "leader": e("lena"),
        "coverage": {"value": 0.8, "previous": [0.2, 0.4, 0.4, 0.4], "trend": "up",
                     "reps": 5, "covered": 4, "days": 14},
        "sessions_per_manager": {"value": 2.0, "previous": [0.5, 0.5, 1.0, 0.5],
                                 "trend": "up", "by_manager": {e("mia"): 3, e("max"): 1}},
        "adherence": {"value": 0.6, "previous": [None, None, None, 1.0], "trend": "down",
                      "by_manager": {
                          e("lena"): {"forecast_call": {"held": 1, "planned": 1}},
                          e("mia"): {"pipeline_review": {"held": 1, "planned": 2},
                                     "team_meeting": {"held": 1, "planned": 1}},
                          e("max"): {"team_meeting": {"held": 0, "planned": 1}}}},
        "actions": {"opened": {"value": 2.0, "previous": [0.0, 1.0, 1.0, 0.0], "trend": "up"},
                    "done": {"value": 2.0, "previous": [0.0, 0.0, 0.0, 0.0], "trend": "up"},
                    "overdue": {"value": 2.0, "previous": [0.0, 0.0, 1.0, 2.0],
                                "trend": "up"}},
        "checkin_response_rate": {"value": 0.6, "previous": [None, None, None, 1.0],
                                  "trend": "down"},
        "results_trend": {
            "revenue": {"actual": 230.0, "target": 300.0, "value": 0.7667,
                        "previous": [0.875, 0.875, 0.7667, 0.7667], "trend": "down"},
            "win rate": {"actual": 25.0, "target": 20.0, "value": 1.25,
                         "previous": [None, None, None, None], "trend": None}},
        "solution_mix": {"coaching": 3, "systemic": 1},
        "perception_gap": {e("mia"): {"logged": 2, "confirmed": 1},
                           e("max"): {"logged": 1, "confirmed": 1}},
        "systemic_flags": [
            {"kind": "leaf", "value": "ESCALATE_SYSTEMIC", "reps": 1, "teams": 1},
            {"kind": "category", "value": "coaching", "reps": 3, "teams": 2},
            {"kind": "category", "value": "expectations", "reps": 2, "teams": 2},
            {"kind": "focus_area", "value": "prospecting", "reps": 4, "teams": 2}],
        "whole_job_gaps": ["account_assignments", "territory_optimization",
                           "quota_goal_setting", "opportunity_qualification",
                           "opportunity_management"],
        "open_escalations": {"count": 2, "oldest": [
            {"leaf": "ESCALATE_SYSTEMIC", "owner": e("lena"), "status": "open",
             "since": at(20).isoformat()},
            {"leaf": "ESCALATE_SYSTEMIC", "owner": e("mia"), "status": "acknowledged",
             "since": at(25).isoformat()}]},
        "blocker_tags": {"approvals": 1, "tools": 1},
        "untagged_blockers": 1,
    }
