"""Export then delete a person (``coach privacy export|delete``): afterwards no table holds
their email, name or chat ids in any column (JSON and text included), while everyone
else's rows and the digest's figures are what they were. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, Engine, MetaData, Table, insert, select, update

from bot.bootstrap import App
from bot.cli import main
from bot.cli.demo_org import DOMAIN
from storage import audit, digest, footprint, tenancy
from storage.erasure import ERASED_NAME, erase
from storage.models import (
    DEFAULT_ORG,
    Cadence,
    CadenceOccurrence,
    CoachingSession,
    Escalation,
    ModelRequest,
    Organization,
    Outbox,
    Person,
    PrivateNote,
    SlackView,
    Team,
    TeamsConversation,
)
from tests.support import START, Console, blocked_checkin, full_session, make_app

ALICE, NAME = f"alice@{DOMAIN}", "Alice Adams"
SLACK_ID, TEAMS_ID = "U0ALICE", "29:1-alice-entra-object"
USER_TOKEN = "xoxp-alice-user-token-5e1f"
OTHER_ORG = 2
# The dump reflects every table; SQLite cannot reflect the picker's index on lower(name).
pytestmark = pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index")


def dump(engine: Engine) -> Iterator[tuple[str, str]]:
    """Every row of every table in the database, each column as text (JSON spelled out,
    non-ASCII kept), with its table's name."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                yield table.name, json.dumps({k: v for k, v in row.items()}, default=str,
                                             ensure_ascii=False)


def installations(conn: Connection) -> Table:
    return Table("slack_installations", MetaData(), autoload_with=conn)


def traces(engine: Engine, *needles: str) -> list[tuple[str, str]]:
    lowered = [n.lower() for n in needles]
    return [(table, text) for table, text in dump(engine)
            if any(n in text.lower() for n in lowered)]


def figures(app: App, email: str) -> digest.Figures:
    """The digest's figures for a leader or manager: this week and three before it."""
    with app.sessions() as db:
        boss = db.scalars(select(Person).where(Person.email == email)).one()
        monday = START.date() - timedelta(days=START.weekday())
        later = START + timedelta(hours=1)  # the session ended at START
        weeks = digest.Weeks.ending(monday, ZoneInfo("UTC"), 4, later)
        return digest.figures(db, digest.Scope(boss.id, boss.role), weeks, 28,
                              ["SYSTEMIC_REDESIGN"], 28)


def history(app: App) -> dict[str, int]:
    """A real coaching session of Alice by Maya and Alice's check-in, through the console,
    then every other kind of row that may name her."""
    console = Console(app)
    full_session(console)
    console.choose("later")
    blocked_checkin(console, ALICE, "Alice Adams needs a demo account")
    now = START
    with app.sessions.begin() as db:
        alice = db.scalars(select(Person).where(Person.email == ALICE)).one()
        maya = db.scalars(select(Person).where(Person.email == f"maya@{DOMAIN}")).one()
        alice.slack_user_id, alice.teams_user_id = SLACK_ID, TEAMS_ID
        session = db.scalars(select(CoachingSession)).one()
        db.add(PrivateNote(session_id=session.id, author_id=maya.id, kind="note",
                           text="Alice Adams: caring for a parent", created_at=now))
        db.add(Escalation(session_id=session.id, leaf="SYSTEMIC_REDESIGN", owner_id=maya.id,
                          raised_by_id=maya.id, impact="Lost deals across the team",
                          evidence=f"see <@{SLACK_ID}>'s pipeline ({ALICE})", created_at=now))
        db.execute(update(Team).where(Team.manager_id == maya.id)
                   .values(name="Maya's pod (with alice adams)"))
        cadence = Cadence(owner_id=maya.id, subject_id=alice.id, meeting_type="one_on_one",
                          rhythm="weekly", day="wed", time="10:00", timezone="UTC")
        db.add(cadence)
        db.flush()
        for days in (-7, 7):
            db.add(CadenceOccurrence(cadence_id=cadence.id, status="planned",
                                     scheduled_for=now + timedelta(days=days)))
        db.execute(insert(SlackView).values(view_id="V0ALICE", tenant="T0DEMO",
                                            user_key=SLACK_ID, opened_at=now))
        db.execute(insert(TeamsConversation).values(
            tenant="tenant-1", conversation_id="a:alice-chat", user_key=TEAMS_ID,
            scope="personal", updated_at=now,
            reference={"user": {"id": TEAMS_ID, "name": NAME}, "serviceUrl": "https://x"}))
        db.execute(insert(Outbox).values(
            idempotency_key="note-to-carmen", kind="console", target=f"carmen@{DOMAIN}",
            payload={"message": {"text": f"{NAME.upper()} shared her plan ({ALICE})"}},
            not_before=now, created_at=now))
        db.execute(insert(ModelRequest).values(
            at=now, person_id=alice.id, purpose="triage", model="m", api="chat",
            request_chars=10, response_chars=5, latency_ms=7, outcome="ok",
            prompt_tokens=11, completion_tokens=3,
            content={"sent": f"rep {NAME}", "received": "ok"}))
        # Alice installed the Slack app in her org's workspace (slack_sdk's table): her
        # user id, her user token.
        tenancy.link(db, DEFAULT_ORG, "slack", "T0DEMO", now)
        db.execute(insert(installations(db.connection())).values(
            client_id="111.222", app_id="A0APP", team_id="T0DEMO", user_id=SLACK_ID,
            user_token=USER_TOKEN, user_scopes="chat:write", bot_token="xoxb-bot",
            bot_user_id="U0BOT", is_enterprise_install=False, installed_at=now))
        # The same email in another organisation: another person, left alone.
        db.add(Organization(id=OTHER_ORG, name="Other org"))
        db.flush()
        db.add(Person(org_id=OTHER_ORG, email=ALICE, name="Alicia Other", role="rep",
                      created_at=now, updated_at=now))
        tenancy.link(db, OTHER_ORG, "slack", "T0OTHER", now)
        db.execute(insert(Outbox).values(
            idempotency_key="to-alicia", kind="slack", target=ALICE, not_before=now,
            payload={"tenant": "T0OTHER", "message": {"text": "Hi Alicia"}}, created_at=now))
        return {"alice": alice.id, "maya": maya.id}


def cli(args: list[str], db_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("COACH_ENV", "test")
    monkeypatch.setenv("COACH_ACTOR", "dpo")
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def others(app: App, *emails: str) -> dict[str, Any]:
    """Everything stored about people other than Alice (their footprints)."""
    with app.engine.connect() as conn:
        return {email: footprint.export(conn, footprint.matching(conn, email, DEFAULT_ORG)[0],
                                        START)["records"] for email in emails}


def test_export_then_delete_leaves_no_trace_and_the_figures_add_up(
        db_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(db_url)
    ids = history(app)
    assert {table for table, _ in traces(app.engine, ALICE, NAME, SLACK_ID, TEAMS_ID)} >= {
        "person", "conversation", "outbox", "checkin", "escalation",
        "team", "slack_view", "teams_conversation", "model_request", "private_note"}
    before = {who: figures(app, who) for who in (f"lee@{DOMAIN}", f"maya@{DOMAIN}")}
    assert before[f"maya@{DOMAIN}"].covered[-1] >= 1  # Alice's session counts
    bystanders = others(app, f"bob@{DOMAIN}", f"lee@{DOMAIN}", f"omar@{DOMAIN}")

    code, _, err = cli(["privacy", "export", ALICE], db_url, monkeypatch, capsys)
    assert code == 2 and "several organisations (1, 2): say which one with --org" in err
    code, out, _ = cli(["privacy", "export", ALICE, "--org", "1"], db_url, monkeypatch, capsys)
    assert code == 0
    exported = json.loads(out)
    assert exported["person"]["name"] == NAME and exported["organization"]["id"] == 1
    records = exported["records"]
    for table in ("coaching_session", "session_stage", "action_item", "checkin", "metric",
                  "conversation", "transition_log", "outbox", "escalation", "cadence",
                  "cadence_occurrence", "slack_view", "teams_conversation", "model_request",
                  "private_note", "review"):
        assert records.get(table), f"{table} missing from the export"
    assert records["checkin"][0]["blockers"] == "Alice Adams needs a demo account"
    assert "team" in exported["mentions"] and "outbox" in exported["mentions"]

    code, out, _ = cli(["privacy", "delete", ALICE, "--org", "1"], db_url, monkeypatch,
                       capsys, stdin="no\n")
    assert code == 1 and "This cannot be undone" in out and "Nothing was changed" in out
    assert traces(app.engine, NAME)

    code, out, _ = cli(["privacy", "delete", ALICE, "--org", "1", "--yes"], db_url,
                       monkeypatch, capsys)
    assert code == 0 and f"Erased person {ids['alice']}" in out
    left = dict(traces(app.engine, ALICE, NAME, SLACK_ID, TEAMS_ID, USER_TOKEN))
    assert sorted(left) == ["outbox", "person"]  # Alicia of the other organisation: the
    assert json.loads(left["person"])["org_id"] == OTHER_ORG  # same email, another person,
    assert json.loads(left["outbox"])["idempotency_key"] == "to-alicia"  # and her message

    after = {who: figures(app, who) for who in before}
    assert after == before
    assert others(app, f"bob@{DOMAIN}", f"lee@{DOMAIN}", f"omar@{DOMAIN}") == bystanders
    with app.engine.connect() as conn:  # a message to Carmen that named her: rewritten
        note = conn.execute(select(Outbox.payload).where(
            Outbox.idempotency_key == "note-to-carmen")).scalar_one()
    assert note["message"]["text"] == (f"{ERASED_NAME} shared her plan "
                                       f"(erased-{ids['alice']}@erased.invalid)")
    with app.sessions() as db:
        alice = db.get(Person, ids["alice"])
        assert alice is not None and (alice.name, alice.active) == (ERASED_NAME, False)
        assert db.scalars(select(CoachingSession)).one().rep_id == ids["alice"]
        future = db.scalars(select(CadenceOccurrence).where(
            CadenceOccurrence.scheduled_for > START)).all()
        assert future == []
        entries = audit.recent(db, 10)
    assert [(e.action, e.subject, e.actor) for e in entries[:2]] == [
        ("privacy.delete", f"person:{ids['alice']}", "cli:dpo"),
        ("privacy.export", f"person:{ids['alice']}", "cli:dpo")]
    code, _, err = cli(["privacy", "delete", ALICE, "--org", "1", "--yes"], db_url,
                       monkeypatch, capsys)
    assert code == 2 and f"nobody with the email {ALICE} is known in organisation 1" in err
    app.close()


def test_a_manager_erased_keeps_their_teams_figures(db_url: str) -> None:
    """An erased manager's sessions and team stay in their leader's digest, anonymous."""
    app = make_app(db_url)
    history(app)
    lee = f"lee@{DOMAIN}"
    before = figures(app, lee)
    with app.engine.begin() as conn:
        maya = footprint.matching(conn, f"maya@{DOMAIN}", DEFAULT_ORG)[0]
        erase(conn, maya, START)
    after = figures(app, lee)
    assert (after.covered, after.reps, after.opened, after.answered) == (
        before.covered, before.reps, before.opened, before.answered)
    heads = {m.manager.id: m for m in after.managers.values()}
    assert heads[maya.id].manager.name == ERASED_NAME
    assert heads[maya.id].sessions == before.managers[maya.id].sessions
    assert not traces(app.engine, f"maya@{DOMAIN}", "Maya Manager")
    app.close()


def test_an_erased_rep_leaves_the_digest_once_its_weeks_are_past(db_url: str) -> None:
    app = make_app(db_url)
    history(app)
    with app.engine.begin() as conn:
        erase(conn, footprint.matching(conn, ALICE, DEFAULT_ORG)[0], START)
        conn.execute(update(Person.__table__).where(Person.__table__.c.email.like("erased-%"))
                     .values(erased_at=START - timedelta(weeks=10)))
    assert figures(app, f"maya@{DOMAIN}").reps == 2  # Bob and Carmen: Alice went long ago
    app.close()

