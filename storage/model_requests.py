"""The language model's request log: one row per request, written after the request
(never inside a turn's transaction while the model is asked), read by ``coach llm log``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from storage.models import ModelRequest

DETAIL_CHARS = 500


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What one request was for and how it went; ``content`` only when the org allows."""

    at: datetime
    person_id: int | None
    purpose: str
    model: str
    api: str
    request_chars: int
    response_chars: int
    latency_ms: int
    outcome: str
    detail: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    content: Mapping[str, Any] | None = None


def record(conn: Connection, entry: RequestRecord) -> None:
    conn.execute(insert(ModelRequest).values(
        at=entry.at, person_id=entry.person_id, purpose=entry.purpose[:40],
        model=entry.model[:200], api=entry.api, request_chars=entry.request_chars,
        response_chars=entry.response_chars, latency_ms=entry.latency_ms,
        outcome=entry.outcome[:40],
        detail=entry.detail[:DETAIL_CHARS] if entry.detail else None,
        prompt_tokens=entry.prompt_tokens, completion_tokens=entry.completion_tokens,
        content=dict(entry.content) if entry.content is not None else None))


def recent(conn: Connection, limit: int) -> Sequence[RequestRecord]:
    """The latest ``limit`` requests, newest first (by the index on ``at``)."""
    t = ModelRequest.__table__
    rows = conn.execute(select(t).order_by(t.c.at.desc()).limit(limit)).mappings()
    return [RequestRecord(**{k: v for k, v in row.items() if k != "id"}) for row in rows]


@dataclass(frozen=True, slots=True)
class PurposeTotals:
    purpose: str
    requests: int
    ok: int
    prompt_tokens: int
    completion_tokens: int


def totals(conn: Connection, since: datetime) -> list[PurposeTotals]:
    """Requests and tokens per purpose since ``since`` (cost per task)."""
    ok = func.sum(func.cast(ModelRequest.outcome == "ok", ModelRequest.latency_ms.type))
    rows = conn.execute(
        select(ModelRequest.purpose, func.count(), ok,
               func.coalesce(func.sum(ModelRequest.prompt_tokens), 0),
               func.coalesce(func.sum(ModelRequest.completion_tokens), 0))
        .where(ModelRequest.at >= since).group_by(ModelRequest.purpose)
        .order_by(ModelRequest.purpose))
    return [PurposeTotals(str(p), int(n), int(k or 0), int(pt), int(ct))
            for p, n, k, pt, ct in rows]
