"""The weekly digest on a small organisation built by hand (tests/digest_org.py): every
figure equals the value worked out from its rows, for a leader's tree and a manager's team;
another organisation's rows are never counted; private notes never reach the text; the
week can be chosen; ``coach digest`` prints it or says clearly what is wrong."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import opening
from bot.cli.main import main
from bot.clock import ManualClock
from bot.services import digest
from flows.messages import message_from_json, message_to_json
from storage import people
from storage.models import DEFAULT_ORG, CoachingSession, Person
from tests import digest_org
from tests.digest_org import NOW, PRIVATE, W48, email
from tests.fuzz import count, fuzz
from tests.support import make_app


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``coach`` on the test's database, its clock at ``NOW``."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr(opening, "SystemClock", lambda: ManualClock(NOW))


@pytest.fixture
def org(db_url: str) -> Any:
    app = make_app(db_url, demo=False, start=NOW)
    with app.sessions.begin() as db:
        digest_org.build(db)
    yield app
    app.close()


def json_of(app: Any, who: str, week: date = W48) -> dict[str, Any]:
    with app.sessions() as db:
        person = people.by_email(db, email(who), DEFAULT_ORG)
        assert person is not None
        return digest.build(db, person, week, app.playbook, NOW).as_json()


def without_ids(found: dict[str, Any]) -> dict[str, Any]:
    for item in found["open_escalations"]["oldest"]:
        assert isinstance(item.pop("id"), int)
    return found


def test_a_leaders_digest_equals_the_figures_worked_out_by_hand(org: Any) -> None:
    """The working, week by week (W44 … W48; 5 active reps: Rae, Ron, Ria under Mia, Rex and
    Roy under Max; Rip is inactive; Xena's organisation is another):
    coverage (14 days to each week's end): W48 Rae Ron Rex Ria = 4/5; W47 Ria Roy; W46 Roy
    Ria; W45 Ron Ria; W44 Ron. Sessions per manager (2 teams): W48 Mia 3 + Max 1 = 4 → 2.0;
    W47 1; W46 2; W45 1; W44 1. Meetings W48: Mia team 1/1, pipeline 1/2 (a skip; the moved
    one not counted), Max team 0/1 (never confirmed), Lena forecast 1/1 → 3/5; W47 2/2.
    Actions: A1 (Rae, open, due 27 Nov), A2 (Ron, done 26 Nov), A3 (Ria, opened 10 Nov, due
    20 Nov, done 25 Nov), A4 (Rex, blocked, opened 2 Nov, due 12 Nov). Check-ins W48: 3
    answered, Ria missed, Roy open after the week → 3/5; W47 2 answered, Ria skipped → 2/2.
    Revenue: Rae 80/100 and Rex 150/200 in November, Ron 120/100 15 Oct – 14 Nov.
    Flags (30 days): coaching Rae Ron Rex (3 reps), expectations Ria Roy (2 teams),
    prospecting Rae Ron Rex Ria, and the systemic leaf of Rae's session 4."""
    assert without_ids(json_of(org, "lena")) == digest_org.expected_w48_leader()


def test_a_manager_sees_only_their_team(org: Any) -> None:
    mia = without_ids(json_of(org, "mia"))
    # Rae, Ron, Ria: W48 all three; W47 Ria; W46 Ria; W45 Ron, Ria; W44 Ron
    assert mia["coverage"] == {"value": 1.0, "previous": [0.3333, 0.6667, 0.3333, 0.3333],
                               "trend": "up", "reps": 3, "covered": 3, "days": 14}
    assert mia["sessions_per_manager"]["by_manager"] == {email("mia"): 3}
    assert mia["sessions_per_manager"]["value"] == 3.0
    assert mia["perception_gap"] == {email("mia"): {"logged": 2, "confirmed": 1}}
    assert mia["adherence"]["by_manager"] == {email("mia"): {
        "pipeline_review": {"held": 1, "planned": 2}, "team_meeting": {"held": 1, "planned": 1}}}
    assert mia["adherence"]["value"] == round(2 / 3, 4)
    assert [mia["actions"][k]["value"] for k in ("opened", "done", "overdue")] == [2, 2, 1]
    assert mia["checkin_response_rate"]["value"] == round(2 / 3, 4)
    assert mia["results_trend"]["revenue"]["actual"] == 80.0  # Rae's only
    assert mia["solution_mix"] == {"coaching": 2, "systemic": 1}
    assert mia["systemic_flags"] == [
        {"kind": "leaf", "value": "ESCALATE_SYSTEMIC", "reps": 1, "teams": 1},
        {"kind": "focus_area", "value": "prospecting", "reps": 3, "teams": 1}]
    assert mia["open_escalations"]["count"] == 1
    assert [e["owner"] for e in mia["open_escalations"]["oldest"]] == [email("mia")]
    assert (mia["blocker_tags"], mia["untagged_blockers"]) == ({"approvals": 1, "tools": 1}, 1)
    max_ = json_of(org, "max")
    assert max_["coverage"]["reps"] == 2 and max_["open_escalations"]["count"] == 0
    assert max_["perception_gap"] == {email("max"): {"logged": 1, "confirmed": 1}}
    assert (max_["blocker_tags"], max_["untagged_blockers"]) == ({}, 0)


def test_another_organisations_leader_sees_only_their_own(org: Any) -> None:
    with org.sessions() as db:
        xena = people.by_email(db, email("xena"), 2)
        assert xena is not None
        found = digest.build(db, xena, W48, org.playbook, NOW).as_json()
    assert found["coverage"]["reps"] == 1 and found["coverage"]["covered"] == 1
    assert found["solution_mix"] == {"coaching": 1}
    assert found["open_escalations"]["count"] == 1
    assert found["results_trend"]["revenue"]["target"] == 999.0


def test_the_week_parameter_moves_every_window(org: Any) -> None:
    w47 = json_of(org, "lena", W48 - timedelta(weeks=1))
    assert w47["week"] == "2026-W47"
    assert w47["coverage"]["value"] == 0.4 and w47["coverage"]["previous"] == [
        0.0, 0.2, 0.4, 0.4]
    assert w47["sessions_per_manager"]["by_manager"] == {email("mia"): 1, email("max"): 0}
    assert w47["perception_gap"] == {email("mia"): {"logged": 1, "confirmed": 1},
                                     email("max"): {"logged": 0, "confirmed": 0}}
    assert w47["checkin_response_rate"]["value"] == 1.0
    assert w47["solution_mix"] == {"training": 1}
    # any day of a week means that week
    assert json_of(org, "lena", W48 + timedelta(days=3))["week"] == "2026-W48"


def test_the_week_is_the_recipients_own(org: Any) -> None:
    """A session late on Sunday 29 Nov UTC is already Monday 30 Nov in Auckland: in W48
    for a leader in UTC, in W49 for the same leader in Auckland."""
    with org.sessions.begin() as db:
        lena = people.by_email(db, email("lena"), DEFAULT_ORG)
        mia = people.by_email(db, email("mia"), DEFAULT_ORG)
        rae = people.by_email(db, email("rae"), DEFAULT_ORG)
        assert lena is not None and mia is not None and rae is not None
        db.add(CoachingSession(manager_id=mia.id, rep_id=rae.id, status="completed",
                               started_at=digest_org.at(29, hour=12),
                               ended_at=digest_org.at(29, hour=12)))
    assert json_of(org, "lena")["sessions_per_manager"]["by_manager"][email("mia")] == 4
    with org.sessions.begin() as db:
        lena = people.by_email(db, email("lena"), DEFAULT_ORG)
        assert lena is not None
        lena.timezone = "Pacific/Auckland"
    assert json_of(org, "lena")["sessions_per_manager"]["by_manager"][email("mia")] == 3


def test_the_text_names_each_figures_detail_and_no_private_note(org: Any) -> None:
    with org.sessions() as db:
        lena = people.by_email(db, email("lena"), DEFAULT_ORG)
        assert lena is not None
        message = digest.digest_message(db, lena, W48, org.playbook, NOW)
    text = message.text
    for key in ("coverage", "sessions_per_manager", "adherence", "actions",
                "checkin_response_rate", "results_trend", "solution_mix", "perception_gap",
                "systemic_flags", "whole_job_gaps", "open_escalations", "blocker_tags"):
        assert f"[{key}]" in text
    # counted by tag, never quoted: what a rep wrote stays out of the digest
    assert "Blockers named in check-ins: approvals 1, tools 1, 1 not tagged" in text
    assert "CRM" not in text and "Marketing" not in text
    assert "coach digest --leader lena@org.example --week 2026-W48 --json" in text
    assert "/escalations" in text
    assert "80%" in text and "Mia 2/1" in text
    assert "A systemic issue: escalate" in text  # the leaf by its label
    assert PRIVATE not in text and "impact text" not in text
    assert message.to == email("lena")
    assert message.image is not None and message.image.png.startswith(b"\x89PNG")
    assert "5 weeks" in message.image.alt
    again = message_from_json(json.loads(json.dumps(message_to_json(message))))
    assert again == message  # the outbox keeps the picture


def test_a_damaged_picture_is_dropped_and_the_text_kept() -> None:
    raw = {"text": "Digest", "image": {"png": "not base64!", "alt": "a"}}
    assert message_from_json(raw).image is None and message_from_json(raw).text == "Digest"
    assert "image" not in message_to_json(message_from_json({"text": "x"}))


def test_reps_and_admins_get_no_digest(org: Any) -> None:
    with org.sessions() as db:
        rae = db.get(Person, digest_org_id(db, "rae"))
        with pytest.raises(digest.DigestRefused, match="rep"):
            digest.build(db, rae, W48, org.playbook, NOW)


def digest_org_id(db: Any, name: str) -> int:
    person = people.by_email(db, email(name), DEFAULT_ORG)
    assert person is not None
    return person.id


# --- the command line --------------------------------------------------------------------

def test_coach_digest_prints_the_text_or_one_json_object(
        org: Any, cli: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--leader", "LENA@org.example ", "--week", "2026-W48",
                 "--json"]) == 0
    printed = capsys.readouterr().out
    assert len(printed.strip().splitlines()) == 1
    assert without_ids(json.loads(printed)) == digest_org.expected_w48_leader()
    assert main(["digest", "--leader", email("mia"), "--week", "2026w48"]) == 0
    assert capsys.readouterr().out.startswith("Weekly digest for Mia: your team, week 2026-W48")
    assert main(["digest", "--leader", email("lena")]) == 0  # the last full week by default
    assert "week 2026-W48" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "says"), [
    (["--leader", "nobody@org.example"], "nobody with the email nobody@org.example"),
    (["--leader", email("rae")], "is a rep"),
    (["--leader", email("lena"), "--week", "2026-W60"], "2026 has no ISO week 60"),
    (["--leader", email("lena"), "--week", "last week"], "is not an ISO week"),
    (["--leader", email("xena")], "nobody with the email"),  # another org's
    (["--leader", email("lena"), "--week", "2026-W50"], "week 2026-W50 has not started yet"),
])
def test_coach_digest_refuses_bad_input_in_one_line(
        org: Any, cli: None, capsys: pytest.CaptureFixture[str], args: list[str],
        says: str) -> None:
    assert main(["digest", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert says in captured.err and len(captured.err.strip().splitlines()) == 1


# --- the --week parser -------------------------------------------------------------------

@pytest.mark.slow
@fuzz()
@given(st.text(max_size=20) | st.from_regex(r"\A\s*\d{4}-?[Ww]\d{1,2}\s*\Z"))
def test_property_any_week_text_gives_a_monday_or_a_sentence(text: str) -> None:
    count("digest --week parser")
    try:
        monday = digest.parse_week(text)
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert monday.weekday() == 0
    assert digest.parse_week(digest.iso_week(monday)) == monday


@pytest.mark.slow
@fuzz()
@given(st.dates(min_value=date(1000, 1, 8), max_value=date(9999, 12, 24)))
def test_property_every_weeks_name_reads_back_as_its_monday(day: date) -> None:
    count("digest --week round trip")
    monday = day - timedelta(days=day.weekday())
    assert digest.parse_week(digest.iso_week(monday)) == monday


def test_the_chart_draws_weeks_without_figures() -> None:
    from bot.services.digest_chart import trends_png

    png = trends_png(["2026-W47", "2026-W48"], {"coverage": [None, None],
                                                "sessions per manager": [None, 2.0]})
    assert png.startswith(b"\x89PNG") and len(png) > 1000
