"""Administrative acts are audited (``coach audit log``): imports, workspace links, an
escalation reassigned, a report added from chat; each row says who, when and what, by id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.channels.who import Who
from bot.cli import main
from bot.services import team
from bot.services.context import ServiceContext
from bot.services.team import NewReport
from storage import audit, tenancy
from storage.models import Person
from tests.services.test_escalations import LEE, only_escalation, raise_escalation
from tests.support import Console, make_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def cli(args: list[str], db_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("COACH_ENV", "test")
    monkeypatch.setenv("COACH_ACTOR", "ops-alice")
    code = main(args)
    return code, capsys.readouterr().out


def test_admin_acts_are_in_the_audit_log(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(db_url)
    raise_escalation(Console(app))
    escalation = only_escalation(app)
    Console(app, actor=LEE).say(f"/escalations reassign {escalation.id} omar")
    with app.sessions() as db:
        maya = db.scalars(select(Person).where(Person.email.like("maya@%"))).one()
        omar = db.scalars(select(Person).where(Person.email.like("omar@%"))).one()
        lee = db.scalars(select(Person).where(Person.email == LEE)).one()
        maya.slack_user_id = "U0MAYA"
        tenancy.link(db, 1, "slack", "T0DEMO", app.clock.now())
        db.commit()
    added = team.add_report(ServiceContext(app.sessions, app.clock, app.playbook),
                            Who("slack", "T0DEMO", "U0MAYA"),
                            NewReport("newbie@demo.smos.example", "New Bie", "UTC", "U0NEW"))
    assert added.result == "added"
    with app.sessions() as db:
        newbie = db.scalars(select(Person).where(Person.email.like("newbie@%"))).one()
    app.close()

    assert cli(["people", "import", str(FIXTURES / "people.csv")], db_url, monkeypatch,
               capsys)[0] == 0
    assert cli(["slack", "link", "T0ACME"], db_url, monkeypatch, capsys)[0] == 0
    assert cli(["slack", "link", "T0ACME"], db_url, monkeypatch, capsys)[0] == 0  # no act
    code, out = cli(["audit", "log", "--json"], db_url, monkeypatch, capsys)
    assert code == 0
    # (the chat's acts are at the test clock's time, the command line's at the real one)
    acts = {a["action"]: a for a in map(json.loads, out.splitlines())}
    assert {(a["actor"], a["action"], a["subject"]) for a in acts.values()} == {
        ("cli:ops-alice", "workspace.link", "slack:T0ACME"),
        ("cli:ops-alice", "people.import", "people.csv"),
        (f"person:{maya.id}", "person.add", f"person:{newbie.id}"),
        (f"person:{lee.id}", "escalation.reassign", f"escalation:{escalation.id}")}
    assert acts["people.import"]["detail"]["created"] > 0
    assert acts["escalation.reassign"]["detail"] == {"from": lee.id, "to": omar.id}
    assert all(a["org"] == 1 and a["at"].endswith("+00:00") for a in acts.values())
    code, out = cli(["audit", "log", "--limit", "1"], db_url, monkeypatch, capsys)
    assert code == 0 and len(out.splitlines()) == 1


def test_the_log_is_read_newest_first_by_its_index(db_url: str) -> None:
    app = make_app(db_url, demo=False)
    with app.engine.begin() as conn:
        for n in range(3):
            audit.record(conn, at=app.clock.now(), actor=audit.SYSTEM, action=f"act.{n}")
        assert [e.action for e in audit.recent(conn, 2)] == ["act.2", "act.1"]
        assert audit.recent(conn, 5, org_id=1) == []
    app.close()
