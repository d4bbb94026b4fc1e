"""The tagged blockers of a check-in: what the language model found in the rep's free text,
stored after the check-in's own transaction (bot/llm); the weekly digest counts them by tag
(storage/digest.py). A check-in whose text has no tagged blocker counts as untagged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Connection, Table, delete, insert, select

from storage.models import Checkin, CheckinBlocker

_blockers = cast(Table, CheckinBlocker.__table__)


def replace(conn: Connection, checkin_id: int, tagged: Sequence[tuple[str, str]]) -> bool:
    """The check-in's blockers become ``tagged`` ((tag, quote) pairs), replacing any stored
    before (an answer delivered twice stores it once). Nothing is stored for a check-in
    that is gone or not answered; True when the rows were written."""
    status = conn.execute(select(Checkin.status).where(Checkin.id == checkin_id)).scalar()
    if status != "answered":
        return False
    conn.execute(delete(_blockers).where(_blockers.c.checkin_id == checkin_id))
    if tagged:
        conn.execute(insert(_blockers), [{"checkin_id": checkin_id, "tag": tag, "quote": quote}
                                         for tag, quote in tagged])
    return True


def of(conn: Connection, checkin_id: int) -> list[tuple[str, str]]:
    """The check-in's tagged blockers, (tag, quote), in the order they were found."""
    rows = conn.execute(select(_blockers.c.tag, _blockers.c.quote)
                        .where(_blockers.c.checkin_id == checkin_id).order_by(_blockers.c.id))
    return [(r.tag, r.quote) for r in rows]
