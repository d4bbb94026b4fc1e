"""The process's one log handler: text for a terminal, JSON for a log collector
(``COACH_LOG_FORMAT``), every line with its request and turn id, secrets masked.

JSON lines are python-json-logger's (a maintained formatter, not one of ours): the time
in UTC, the level, the logger, the message, the ids, the exception, and any ``extra``
fields. What the code logs is kept free of people's words by the code itself (message
text, notes and answers are logged at DEBUG at most; tests/observability/test_logs.py
drives a session and searches the lines); the :class:`Redactor` is the second line of
defence for secrets: the configured secret values and anything shaped like a token or
a password in a URL, in the message, the exception and the extra fields.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import IO, Literal

from pythonjsonlogger.json import JsonFormatter

from bot.observability import context

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s"
JSON_FIELDS = ("levelname", "name", "message", "request_id", "turn_id")
MASK = "[redacted]"
# Token shapes of the platforms we talk to: Slack (xoxb-, xoxp-, xapp-, …), OpenAI keys,
# bearer tokens and JWTs (Bot Connector), and the password of a URL (DATABASE_URL).
TOKEN_SHAPES = re.compile(
    r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}"
    r"|(?<![A-Za-z0-9])eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}")
URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+):[^@\s]+@")
# A secret shorter than this is masked by its shape only: masking every "abc" would
# garble the logs without protecting anything.
SHORTEST_SECRET = 6
RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "request_id", "turn_id", "ids"}
HANDLER_NAME = "coach"


class Redactor(logging.Filter):
    """Masks secrets in every record that reaches the handler: the configured values and
    anything shaped like a token."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        values = sorted({s for s in secrets if len(s) >= SHORTEST_SECRET}, key=len,
                        reverse=True)
        self.values = re.compile("|".join(re.escape(v) for v in values)) if values else None

    def redact(self, text: str) -> str:
        if self.values is not None:
            text = self.values.sub(MASK, text)
        text = TOKEN_SHAPES.sub(MASK, text)
        return URL_PASSWORD.sub(rf"\g<scheme>:{MASK}@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format: the handler reports it, unformatted
            message = str(record.msg)
        record.msg, record.args = self.redact(message), None
        if record.exc_info:  # formatted here, so the traceback's text is masked too
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        for name, value in vars(record).items():
            if name not in RECORD_FIELDS and isinstance(value, str):
                setattr(record, name, self.redact(value))
        return True


class WorkIds(logging.Filter):
    """Adds the current request and turn id to every record (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request, turn = context.request_id.get(), context.turn_id.get()
        record.request_id, record.turn_id = request, turn
        shown = [f"request={request}"] if request else []
        shown += [f"turn={turn}"] if turn else []
        record.ids = f" [{' '.join(shown)}]" if shown else ""
        return True


def log_handler(log_format: LogFormat, secrets: Iterable[str] = (),
                stream: IO[str] | None = None) -> logging.Handler:
    """A stream handler (stderr by default) writing ``log_format`` lines, ids added and
    secrets masked."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.addFilter(WorkIds())
    handler.addFilter(Redactor(secrets))
    if log_format == "json":
        handler.setFormatter(JsonFormatter(
            list(JSON_FIELDS), timestamp=True, reserved_attrs=[*RECORD_FIELDS - set(
                JSON_FIELDS)]))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(log_format: LogFormat, level: str, secrets: Iterable[str] = ()) -> None:
    """Install the handler on the root logger, as ``logging.basicConfig`` would: only
    when the process has no handler yet (a test runner's capture, an embedding
    application's own logging stay as they are), or to replace an earlier one of ours."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if h.get_name() == HANDLER_NAME]
    if root.handlers and not ours:
        return
    for handler in ours:
        root.removeHandler(handler)
    root.addHandler(log_handler(log_format, secrets))
    root.setLevel(level.upper())
