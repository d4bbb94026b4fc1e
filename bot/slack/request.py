"""The first look at ``POST /slack/events``: signature, then shape, before Bolt reads it.

Bolt parses a body before it checks the signature, and answers 500 to one it cannot
parse. Here the raw bytes are verified first (slack_sdk's verifier), then Bolt's request
is built defensively, so any bad request ends as a 400 or 401 and one log line.
Bolt still verifies the signature itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

MAX_BODY = 1024 * 1024  # bytes; the server answers 413 beyond it (bot/server.py MAX_BODY)
TIMESTAMP_DIGITS = 12  # seconds since 1970 fit in 10 digits until the year 2286


@dataclass(frozen=True, slots=True)
class Refused:
    """A request answered without going further: 401 unsigned, 400 unreadable."""

    status: int
    reason: str


def verified_text(body: bytes, headers: Mapping[str, str],
                  verifier: SignatureVerifier) -> str | Refused:
    """The body as text when Slack signed it, within the verifier's five-minute window."""
    lowered = {key.lower(): value for key, value in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp", "")
    signature = lowered.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= TIMESTAMP_DIGITS):
        return Refused(401, "missing or malformed X-Slack-Request-Timestamp")
    if not (signature.isascii() and signature.isprintable() and signature):
        return Refused(401, "missing or malformed X-Slack-Signature")
    try:
        valid = verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
    except UnicodeDecodeError:  # the verifier signs text: Slack never sends anything else
        return Refused(401, "the body is not UTF-8, so it cannot carry Slack's signature")
    if not valid:
        return Refused(401, "bad signature or a timestamp outside the five-minute window")
    return body.decode("utf-8")


def bolt_request(text: str, query: str, headers: Mapping[str, str]) -> AsyncBoltRequest | Refused:
    """Bolt's request for a verified body, or why the body is no Slack payload.

    Bolt reads the body as JSON (when so typed, or when it starts with ``{``) or as a
    form whose ``payload`` field is JSON; its lookups assume an object of Slack's shape.
    """
    try:
        request = AsyncBoltRequest(body=text, query=query,
                                   headers=headers)  # type: ignore[arg-type]
    except RecursionError:
        return Refused(400, "the body nests too deeply")
    except ValueError as exc:  # not JSON, or a number too long to read
        return Refused(400, f"the body is not valid JSON or form data ({_short(exc)})")
    except (AttributeError, TypeError, KeyError, IndexError) as exc:
        return Refused(400, f"the body is not a Slack payload ({type(exc).__name__})")
    if not isinstance(request.body, dict):
        return Refused(400, "the body is not a JSON object")
    return request


def _short(exc: Exception, limit: int = 80) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "…"
