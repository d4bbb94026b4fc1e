"""POST /slack/events refuses malformed requests with a 400 or 401 and one log line.

The signature is checked on the raw bytes before anything is parsed; Bolt's own check
stays on. Pure checks run on arbitrary bytes and headers; a smaller sample goes through
the real HTTP endpoint.
"""

from __future__ import annotations

import io
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.slack.request import MAX_BODY, Refused, bolt_request, verified_text
from tests.fuzz import count, fuzz
from tests.slack.conftest import Harness
from tests.slack.driver import SECRET, sample, sign

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
VERIFIER = SignatureVerifier(SECRET)
FORM = "application/x-www-form-urlencoded"
DEEP = "[" * 5000 + "]" * 5000


def signed_bytes(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    """Headers that sign ``body`` as bytes (Slack's rule, even for bytes that are not text)."""
    import hashlib
    import hmac

    ts = timestamp or str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def hostile_requests() -> list[tuple[str, bytes, dict[str, str], int]]:
    """The inputs that got a 500 before: (what, body, headers, expected status)."""
    body = b'{"type": "event_callback"}'
    now = str(int(time.time()))
    signature = sign(body.decode())["X-Slack-Signature"]
    cases = [
        ("non-numeric timestamp", body, {"X-Slack-Request-Timestamp": "soon",
                                         "X-Slack-Signature": signature}, 401),
        ("400-digit timestamp", body, {"X-Slack-Request-Timestamp": "9" * 400,
                                       "X-Slack-Signature": signature}, 401),
        ("non-ASCII signature", body, {"X-Slack-Request-Timestamp": now,
                                       "X-Slack-Signature": "v0=é"}, 401),
        ("not UTF-8, unsigned", b"\xff\xfe{}", {"X-Slack-Request-Timestamp": now,
                                                "X-Slack-Signature": signature}, 401),
        ("not UTF-8, signed as bytes", b"\xff\xfe{}", signed_bytes(b"\xff\xfe{}"), 401),
    ]
    for what, text, content_type in (
            ("JSON list", "[1, 2]", "application/json"),
            ("JSON string", '"x"', "application/json"),
            ("JSON null", "null", "application/json"),
            ("payload a list", urlencode({"payload": "[1]"}), FORM),
            ("payload a number", urlencode({"payload": "12"}), FORM),
            ("payload not JSON", urlencode({"payload": "{nope"}), FORM),
            ("JSON nested 5,000 deep", '{"a": ' + DEEP + "}", "application/json"),
            ("payload nested 5,000 deep", urlencode({"payload": '{"a": ' + DEEP + "}"}), FORM),
            ("a 5,000-digit number", '{"a": ' + "1" * 5000 + "}", "application/json"),
            ("a field of the wrong type", '{"enterprise": 5}', "application/json"),
            ("authorizations a number", '{"authorizations": 5}', "application/json")):
        cases.append((what, text.encode(), {**sign(text), "Content-Type": content_type}, 400))
    return cases


@pytest.mark.parametrize("what", [c[0] for c in hostile_requests()])
def test_hostile_requests_are_refused_by_the_checks(what: str) -> None:
    # signed when the test runs, not when it was collected: a long suite outlives the
    # five minutes a Slack signature is good for
    [(_, body, headers, status)] = [c for c in hostile_requests() if c[0] == what]
    checked = _check(body, headers)
    assert isinstance(checked, Refused) and checked.status == status, (what, checked)


async def test_hostile_requests_get_400_or_401_and_one_log_line(
        harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    at_start = len(harness.fake.calls)  # the workspace linked at start (auth.test)
    for what, body, headers, status in hostile_requests():
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            response = await harness.http.http.post("/slack/events", data=body, headers=headers)
        assert response.status == status, (what, await response.text())
        assert [r.levelno for r in caplog.records] == [logging.WARNING], what
        assert not any(r.exc_info for r in caplog.records), what
    assert harness.fake.calls[at_start:] == []


async def test_bolt_still_verifies_the_signature_itself(harness: Harness) -> None:
    """Past our check, Bolt's own verification still runs (and agrees)."""
    assert any(type(m).__name__ == "AsyncRequestVerification"
               for m in harness.slack.bolt._async_middleware_list)


async def test_a_body_over_the_limit_gets_413(harness: Harness) -> None:
    body = b"x" * (MAX_BODY + 1)
    response = await harness.http.http.post("/slack/events", data=io.BytesIO(body),
                                             headers=signed_bytes(body))
    assert response.status == 413


async def test_a_signed_payload_still_reaches_bolt(harness: Harness) -> None:
    response = await harness.http.command("U0MAYA", "help")
    assert response.status == 200


# Property tests ----------------------------------------------------------------------------

HEADER_NAMES = st.sampled_from(["X-Slack-Request-Timestamp", "X-Slack-Signature",
                                "Content-Type", "x-slack-request-timestamp", "X-Other"])
header_values = st.one_of(
    st.text(max_size=20), st.integers(-10**30, 10**30).map(str),
    st.sampled_from([str(int(time.time())), "9" * 400, "v0=" + "0" * 64, "v0=é", "١٢٣",
                     "application/json", FORM]))
raw_headers = st.dictionaries(HEADER_NAMES, header_values, max_size=4)
wire_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                  exclude_characters="\x7f"), max_size=20)
wire_headers = st.dictionaries(HEADER_NAMES, wire_text | header_values.filter(
    lambda v: v.isprintable() and v.isascii()), max_size=4)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=20)
content_types = st.sampled_from(["application/json", FORM, "text/plain", "", "application/json; "
                                 "charset=utf-8", "multipart/form-data"])


def _json_text(value: Any) -> str:
    return json.dumps(value)


texts = st.one_of(
    st.text(max_size=200),
    json_values.map(_json_text),
    json_values.map(lambda v: urlencode({"payload": json.dumps(v)})),
    st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4).map(urlencode),
    st.integers(1, 6000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 6000).map(lambda n: '{"a":' + "{" * n),
    st.integers(1, 6000).map(lambda n: '{"a": ' + "9" * n + "}"),
    st.sampled_from(["BlockActionPayload", "ViewSubmissionPayload", "SlashCommandPayload",
                     "AppHomeOpenedPayload", "MessagePayload"]).map(
        lambda name: json.dumps(sample(name))),
)


def _check(body: bytes, headers: dict[str, str]) -> AsyncBoltRequest | Refused:
    text = verified_text(body, headers, VERIFIER)
    if isinstance(text, Refused):
        return text
    return bolt_request(text, "", headers)


@pytest.mark.slow
@fuzz()
@given(body=st.binary(max_size=100) | st.sampled_from(["{}", "[1]", DEEP, "payload=%5B%5D"]
                                                      ).map(str.encode), headers=raw_headers)
def test_property_unsigned_requests_get_401(body: bytes, headers: dict[str, str]) -> None:
    count("slack request check, unsigned")
    checked = _check(body, headers)
    assert isinstance(checked, Refused) and checked.status == 401


@pytest.mark.slow
@fuzz()
@given(body=st.binary(max_size=300) | texts.map(str.encode), content_type=content_types)
def test_property_signed_requests_become_a_bolt_request_or_400(body: bytes,
                                                               content_type: str) -> None:
    count("slack request check, signed")
    checked = _check(body, {**signed_bytes(body), "Content-Type": content_type})
    if isinstance(checked, Refused):
        assert checked.status == 400 or (checked.status == 401 and not _is_utf8(body))
    else:
        assert isinstance(checked.body, dict)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.slow
@fuzz(scale=0.1)
@given(body=st.binary(max_size=200) | texts.map(str.encode), content_type=content_types,
       signed=st.booleans(), extra=wire_headers)
async def test_property_the_endpoint_never_answers_500(harness: Harness, body: bytes,
                                                       content_type: str, signed: bool,
                                                       extra: dict[str, str]) -> None:
    count("slack request over HTTP")
    headers = {**extra, "Content-Type": content_type}
    if signed:
        headers.update(signed_bytes(body))
    response = await harness.http.http.post("/slack/events", data=body, headers=headers)
    assert response.status < 500, await response.text()
    if not signed:
        assert response.status == 401
    await harness.http.settle()
