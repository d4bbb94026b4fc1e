"""Log lines: JSON (python-json-logger) or text, each with its request and turn id;
secrets masked; and a whole Slack session with a private note, logged at INFO in JSON,
leaves neither the note, nor what was typed, nor the bot token in any line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.bootstrap import secret_values
from bot.observability import context
from bot.observability.logs import MASK, Redactor, log_handler
from bot.playbook_loader import load_playbook
from tests.fuzz import count, fuzz
from tests.leaf_script import PRIVATE_NOTE, SECRET, Script
from tests.slack.conftest import IDS, Harness, fake, slack_settings, start
from tests.slack.driver import SlackDriver
from tests.slack.fake_slack import FakeSlack
from tests.slack.test_rep_sees import Modal
from tests.support import make_app

__all__ = ["fake"]  # the fake Slack API fixture, used by the harness below
TOKEN = "xoxb-4242424242-unique-bot-token"
SIGNING = "signing-secret-9f8e7d6c"


@contextmanager
def captured(log_format: str, secrets: list[str], level: int = logging.INFO
             ) -> Iterator[io.StringIO]:
    """Our handler on the root logger at ``level`` for the block; what it wrote."""
    stream = io.StringIO()
    handler = log_handler(log_format, secrets, stream)  # type: ignore[arg-type]
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(before)


def test_a_json_line_has_the_ids_and_the_extra_fields() -> None:
    log = logging.getLogger("coach.test")
    with captured("json", []) as out:
        with context.work_scope("tick") as request, context.turn_scope() as turn:
            log.warning("turn of %s stored", "U1", extra={"tenant": "T1"})
        log.warning("outside any work")
    inside, outside = (json.loads(line) for line in out.getvalue().splitlines())
    assert inside["message"] == "turn of U1 stored" and inside["levelname"] == "WARNING"
    assert (inside["request_id"], inside["turn_id"]) == (request, turn)
    assert inside["tenant"] == "T1" and inside["name"] == "coach.test"
    assert "timestamp" in inside and "ids" not in inside
    assert outside["request_id"] is None and outside["turn_id"] is None


def test_a_text_line_shows_the_ids() -> None:
    with captured("text", []) as out, context.work_scope("outbox") as request:
        logging.getLogger("coach.test").warning("a pass")
    assert f" coach.test [request={request}] a pass" in out.getvalue()


def test_secrets_are_masked_in_messages_exceptions_and_extra_fields() -> None:
    log = logging.getLogger("coach.test")
    with captured("json", [SIGNING, "short"]) as out:
        log.warning("token %s, key sk-abcdefghijklmnopqrstuv, secret %s", TOKEN, SIGNING,
                    extra={"url": "postgresql://coach:hunter2hunter2@db/coach"})
        try:
            raise RuntimeError(f"Authorization: Bearer {SIGNING}abc and {TOKEN}")
        except RuntimeError:
            log.exception("failed")
    text = out.getvalue()
    for secret in (TOKEN, SIGNING, "sk-abcdefghijklmnopqrstuv", "hunter2hunter2"):
        assert secret not in text
    first, failure = (json.loads(line) for line in text.splitlines()[:2])
    assert first["url"] == f"postgresql://coach:{MASK}@db/coach"
    assert MASK in failure["exc_info"] and "RuntimeError" in failure["exc_info"]


def test_a_record_with_a_bad_format_passes_the_redactor() -> None:
    """A wrong number of arguments is logging's to report (handleError), never a raise at
    the caller's log statement."""
    record = logging.LogRecord("coach.test", logging.WARNING, __file__, 1,
                               f"bad %s %s {TOKEN}", ("one",), None)
    assert Redactor().filter(record)
    assert record.getMessage() == f"bad %s %s {MASK}"


def test_the_secrets_to_mask_come_from_the_settings() -> None:
    from bot.settings import Settings

    found = secret_values(Settings(coach_env="test", slack_bot_token=TOKEN,
                                   database_url="postgresql://u:pw-1234567@h/d"))
    assert TOKEN in found and "pw-1234567" in found


@pytest.mark.slow
@fuzz(0.5)
@given(st.one_of(st.none(), st.text(max_size=80), st.from_regex(context.CALLER_ID,
                                                                 fullmatch=True)))
def test_a_request_id_from_the_caller_is_kept_only_when_it_is_a_plain_token(
        header: str | None) -> None:
    count("X-Request-Id headers")
    found = context.request_id_from(header)
    assert context.CALLER_ID.fullmatch(found)
    assert (found == header) == bool(header is not None and context.CALLER_ID.fullmatch(header))


@pytest.mark.slow
@fuzz(0.5)
@given(st.text(max_size=200), st.sampled_from([TOKEN, SIGNING, "xapp-1-A0-abc"]))
def test_a_secret_anywhere_in_a_line_is_masked(text: str, secret: str) -> None:
    count("log lines redacted")
    redacted = Redactor([SIGNING]).redact(text[:50] + secret + text[50:])
    assert secret not in redacted


@pytest.fixture
async def harness(db_url: str, fake: FakeSlack) -> AsyncIterator[Harness]:
    """The Slack harness with a bot token that appears nowhere else."""
    async for h in start(make_app(db_url, **slack_settings(fake, slack_bot_token=TOKEN)),
                         fake):
        yield h


async def test_a_slack_session_logged_at_info_shows_no_note_no_text_and_no_token(
        harness: Harness) -> None:
    chart = load_playbook().chart
    typed = "a blocker only Alice knows about, 7f3a"
    with captured("json", secret_values(harness.app.settings)) as out:
        modal = Modal(SlackDriver(harness.http, IDS["maya"]))
        modal.view = await modal.driver.say("/coach alice")
        modal.view = await modal.driver.submit(purpose=f"p {typed}", objectives="o",
                                               value_to_rep="v")
        script = Script(chart, "REFER_PERSONAL")
        for _ in range(60):
            step = modal.step()
            if step is None:
                break
            verb, value = script.answer(step, modal.fields())
            modal.view = await (modal.driver.choose(value) if verb == "choose"
                                else modal.driver.submit(**value))
        assert (await harness.http.command(IDS["alice"], f"checkin {typed}")).status == 200
        await harness.http.settle()
        logging.getLogger("coach.test").warning("bot token is %s", TOKEN)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    text = out.getvalue()
    assert lines and PRIVATE_NOTE not in text and SECRET not in text and typed not in text
    assert TOKEN not in text and lines[-1]["message"] == f"bot token is {MASK}"
    # The fake Slack API's own access lines (it serves in this process) are not ours.
    served = [line for line in lines if line["name"] != "coach.test"
              and " /api/" not in line["message"] and " /respond/" not in line["message"]]
    assert served and all(line["request_id"] for line in served), served
    # Turn ids on lines logged inside a turn are checked by the tests above; since the
    # merge of issue 10's reach-by-email this session logs no INFO line inside a turn (to
    # look into: which line it was), so that is not asserted here.
