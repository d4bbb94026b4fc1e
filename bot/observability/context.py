"""The request and turn a log line belongs to, carried in context variables.

An HTTP request gets a request id (the caller's ``X-Request-Id`` when it is a plain token,
else a new one); every task it starts copies its context, so the work after a platform's
ack logs the same id. A turn gets a turn id of its own (a scheduler tick or an outbox
pass, which no request started, gets a request id of its own too). Database work runs in
threads with a copy of the context (bot/channels/database.py), so its lines carry both.
"""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Iterator
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
turn_id: ContextVar[str | None] = ContextVar("turn_id", default=None)
# What a caller may pass as X-Request-Id: a short token, nothing a log line could be
# forged with (no spaces, quotes or line breaks).
CALLER_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def new_id() -> str:
    """16 hex digits: unique enough to find one request's lines among a day's, and cheap
    (no system call per turn, as uuid4 makes: these ids need no secrecy)."""
    return f"{random.getrandbits(64):016x}"


def request_id_from(header: str | None) -> str:
    """The caller's id when it is a plain token, else a new one."""
    if header is not None and CALLER_ID.fullmatch(header):
        return header
    return new_id()


@contextlib.contextmanager
def work_scope(name: str) -> Iterator[str]:
    """A unit of work no request started (a scheduler tick, an outbox pass): a request id
    of its own, ``<name>-<id>``, until the block ends."""
    value = f"{name}-{new_id()}"
    token = request_id.set(value)
    try:
        yield value
    finally:
        request_id.reset(token)


@contextlib.contextmanager
def turn_scope() -> Iterator[str]:
    """One turn: a new turn id until the block ends."""
    value = new_id()
    token = turn_id.set(value)
    try:
        yield value
    finally:
        turn_id.reset(token)
