"""Drill: property-based fuzzing of every parser, 10,000 cases each (issue 12, item 5).

Each parser is called directly (no HTTP), so the ten thousand cases stay fast: Slack
payloads (the first look at a request, then the payload parser), Teams activities, the
people and metrics CSV imports, the console protocol and the playbook. The property is the
one the parser promises: a parsed value or its own kind of refusal, never another
exception. A smaller run goes through the real HTTP endpoints of Slack and Teams and
checks that no request gets a 500. Every case and every crash is counted in the drill's
figures (a crash also fails the test, with Hypothesis's smallest example).
"""

from __future__ import annotations

import contextlib
import functools
import json
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from microsoft_agents.activity import Activity
from pydantic import ValidationError

from bot import playbook_loader
from bot.cli import import_metrics
from bot.console.protocol import Answer, BadLine, SetClock, SwitchUser, parse_line
from bot.flowset import build_flows
from bot.slack.request import Refused
from bot.teams import parse as teams_parse
from flows.playbook import Playbook, PlaybookError, build_playbook
from tests.bot import test_console_protocol as console_cases
from tests.bot import test_import_fuzz as csv_cases
from tests.drills.figures import FUZZ_CASES, record
from tests.fuzz import fuzz
from tests.slack import test_parse_fuzz as slack_cases
from tests.slack import test_request as request_cases
from tests.slack.conftest import Harness as SlackHarness
from tests.teams import test_parse_fuzz as teams_cases
from tests.teams.conftest import Harness as TeamsHarness
from tests.teams.test_parse import BASE

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Generating overly large repr")]
HTTP_CASES = max(1, FUZZ_CASES // 20)  # per endpoint and database, through the real server


def drill(cases: int) -> settings:
    """The project's property-test settings (tests/fuzz.py), with the drill's case count."""
    return settings(fuzz(), max_examples=cases)


@contextlib.contextmanager
def case(name: str) -> Iterator[None]:
    """One fuzz case of ``name``: counted, and counted as a crash when it raises."""
    record(name, cases=1, crashes=0)
    try:
        yield
    except Exception:
        record(name, crashes=1)
        raise


# Slack ------------------------------------------------------------------------------------


@drill(FUZZ_CASES)
@given(body=st.binary(max_size=300) | request_cases.texts.map(str.encode),
       content_type=request_cases.content_types)
def test_drill_slack_request_check(body: bytes, content_type: str) -> None:
    """The first look at POST /slack/events (signature, then shape): a Bolt request with a
    dict body, or a 400 / 401 refusal."""
    with case("fuzz slack request check"):
        headers = {**request_cases.signed_bytes(body), "Content-Type": content_type}
        checked = request_cases._check(body, headers)
        if isinstance(checked, Refused):
            assert checked.status in (400, 401) and checked.reason
        else:
            assert isinstance(checked.body, dict)


@drill(FUZZ_CASES)
@given(body=slack_cases.bodies | slack_cases.mutated)
def test_drill_slack_payloads(body: dict[str, Any]) -> None:
    """Slash commands, block actions, view submissions, events: parsed or None."""
    with case("fuzz slack payloads"):
        slack_cases._parse_all(body)


# Teams ------------------------------------------------------------------------------------


@drill(FUZZ_CASES)
@given(body=teams_cases.bodies)
def test_drill_teams_activities(body: Any) -> None:
    """Any activity: refused by the SDK's model (the endpoint's 400), or parsed to input
    or None."""
    with case("fuzz teams activities"):
        try:
            activity = Activity.model_validate(body)
        except (ValidationError, ValueError, TypeError):
            return
        found = teams_parse.inbound(activity)
        if found is not None:
            json.dumps(found.who.user_key)
        teams_parse.tenant_of(activity)


# CSV imports ------------------------------------------------------------------------------


@drill(FUZZ_CASES)
@given(raw=csv_cases.table(csv_cases.PEOPLE) | csv_cases.raw_files)
def test_drill_people_csv(raw: bytes) -> None:
    with case("fuzz people CSV"):
        csv_cases.people_rows_are_read_or_reported(raw)


@drill(FUZZ_CASES)
@given(raw=csv_cases.table(import_metrics.REQUIRED) | csv_cases.raw_files)
def test_drill_metrics_csv(raw: bytes) -> None:
    with case("fuzz metrics CSV"):
        csv_cases.metrics_rows_are_read_or_reported(raw)


# The console protocol ---------------------------------------------------------------------


@drill(FUZZ_CASES)
@given(line=console_cases.lines)
def test_drill_console_protocol(line: str) -> None:
    with case("fuzz console protocol"):
        try:
            parsed = parse_line(line)
        except BadLine as bad:
            assert str(bad)
            return
        assert isinstance(parsed, Answer | SwitchUser | SetClock)


# The playbook -----------------------------------------------------------------------------


def _parse_default_once(parse: Callable[[Path, str], Any], default: Any, path: Path,
                        name: str) -> Any:
    """The loader's own parse, except that the shipped default (30 ms of YAML, the same
    every time) was parsed once and is handed out as a fresh copy."""
    if path == playbook_loader.DEFAULT_PLAYBOOK:
        return type(default)(default.name, pickle.loads(pickle.dumps(default.data)),
                             default.root)
    return parse(path, name)


@pytest.fixture(scope="module")
def playbook_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    parse = playbook_loader._parse
    default = parse(playbook_loader.DEFAULT_PLAYBOOK, str(playbook_loader.DEFAULT_PLAYBOOK))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(playbook_loader, "_parse",
                      functools.partial(_parse_default_once, parse, default))
        yield tmp_path_factory.mktemp("playbook") / "playbook.yaml"


DEFAULT_DATA = yaml.safe_load(playbook_loader.DEFAULT_PLAYBOOK.read_text(encoding="utf-8"))
YAML_BITS = st.sampled_from([
    "rhythm:", "checkin:", "chart:", "  day: mon", "  time: '25:00'", "- a", ": x", "&a [*a]",
    "? x", "!!python/object:os.system", "%YAML 1.1", "---", "...", "\t", "yes: 1", "x: &a 1",
    "<<: *a", "foundations:\n  x: 1", "{", "[", "'", '"\\x', "\ufeff", "\x00", "\x85",
    "digest:\n  coverage_days: -1", "limits:\n  answer: 0", "model:\n  enabled: maybe"])
yaml_texts = st.lists(YAML_BITS | st.text(max_size=12), max_size=12).map("\n".join)
file_bytes = (st.binary(max_size=120) | yaml_texts.map(lambda t: t.encode("utf-8",
                                                                          "surrogatepass")))


def _paths(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path of the default playbook (into mappings; lists are replaced whole)."""
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*path, key))


PATHS = [p for p in _paths(DEFAULT_DATA) if p]
DEFAULT_PICKLED = pickle.dumps(DEFAULT_DATA)
override_values = slack_cases.values | st.sampled_from([
    "mon", "sunday", "09:00", "9", "25:61", -1, 0, 10**9, 1.5, "", [], {}, None, True])


def _override(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    for key in reversed(path):
        value = {key: value}
    return value


overrides = st.builds(_override, st.sampled_from(PATHS), override_values).map(
    lambda data: yaml.safe_dump(data, allow_unicode=True).encode())
structures = st.builds(
    lambda edits: slack_cases._apply(pickle.loads(DEFAULT_PICKLED), edits),
    st.lists(st.tuples(st.lists(st.integers(0, 40), max_size=8), override_values),
             min_size=1, max_size=3))


playbooks = st.one_of(st.tuples(st.just("file"), file_bytes | overrides),
                      st.tuples(st.just("structure"), structures))


@drill(FUZZ_CASES)
@given(given=playbooks)
def test_drill_playbook(playbook_file: Path, given: tuple[str, Any]) -> None:
    """An org's COACH_PLAYBOOK file of any bytes or a one-key override of any value
    (loaded), or the whole playbook with any value anywhere (built): a Playbook whose flows
    build, or one PlaybookConfigError / PlaybookError naming where."""
    kind, raw = given
    with case("fuzz playbook"):
        try:
            if kind == "structure":
                playbook = build_playbook(raw)
            else:
                playbook_file.write_bytes(raw)
                playbook = playbook_loader.load_playbook(playbook_file)
        except playbook_loader.PlaybookConfigError as refused:
            assert refused.file == str(playbook_file) and str(refused)
            return
        except PlaybookError as refused:
            assert kind == "structure" and str(refused)
            return
        assert isinstance(playbook, Playbook)
        build_flows(playbook)


# Through the real HTTP endpoints (a smaller run) ------------------------------------------


@drill(HTTP_CASES)
@given(body=st.binary(max_size=200) | request_cases.texts.map(str.encode),
       content_type=request_cases.content_types, signed=st.booleans(),
       extra=request_cases.wire_headers)
async def test_drill_slack_endpoint_never_answers_500(slack_harness: SlackHarness, body: bytes,
                                                      content_type: str, signed: bool,
                                                      extra: dict[str, str]) -> None:
    with case("fuzz POST /slack/events"):
        headers = {**extra, "Content-Type": content_type}
        if signed:
            headers.update(request_cases.signed_bytes(body))
        response = await slack_harness.http.http.post("/slack/events", data=body,
                                                      headers=headers)
        assert response.status < 500, await response.text()
        await slack_harness.http.settle()


@drill(HTTP_CASES)
@given(body=teams_cases.bodies, raw=st.none() | st.binary(max_size=40))
async def test_drill_teams_endpoint_never_answers_500(teams_harness: TeamsHarness, body: Any,
                                                      raw: bytes | None) -> None:
    with case("fuzz POST /api/messages"):
        if isinstance(body, dict) and body.get("serviceUrl") == BASE["serviceUrl"]:
            body["serviceUrl"] = teams_harness.connector.url  # valid ones reach our fake
        response = await teams_harness.http.post(body, raw=raw)
        assert response.status in (200, 201, 202, 400, 401), (response.status, body)
