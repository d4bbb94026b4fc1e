"""The digest's narrative: three to five sentences a language model writes on top of the
computed figures, every number of each kept sentence one of them (bot/llm/digest_text.py).

With a model on, the due work queues each digest held back for the model's turn budget,
with the figures in its payload (bot/rhythm/digests.py). :meth:`Narrator.run_once` finds
those rows (one short read), asks the model for each with no transaction open, and
releases each row at once, with the narrative on top when one came: a conditional update
that changes nothing if the row went out meanwhile. A digest is never delayed past its
hold: no answer, a failure, a crash or a slow model, and it goes out as it is when the
hold ends. ``coach serve`` runs it after each tick of the rhythm, the console after due
work, ``coach scheduler run-due`` right after its run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from bot.llm.assistant import Assistant
from bot.llm.digest_text import narrate
from bot.services.digest import NARRATIVE_KEY, with_narrative
from storage import outbox

log = logging.getLogger("coach.llm")
Run = Callable[..., Awaitable[Any]]  # synchronous database work off the event loop
DIGEST_KEYS = "digest:"  # the digests' outbox keys (bot/rhythm/delivery.py)
AT_ONCE = 4  # digests narrated side by side (a Monday morning: every manager's at once)


@dataclass(frozen=True, slots=True)
class Held:
    """A digest waiting for its narrative: its outbox row and payload."""

    row_id: int
    payload: dict[str, Any]
    held_until: datetime  # when it goes as it is (its time out of quiet hours + the hold)

    @property
    def figures(self) -> Mapping[str, Any]:
        found = self.payload.get(NARRATIVE_KEY)
        return found if isinstance(found, Mapping) else {}


def held_digests(engine: Engine, now: datetime) -> list[Held]:
    with engine.connect() as conn:
        return [Held(row_id, dict(payload), until) for row_id, payload, until in outbox.held(
            conn, key_prefix=DIGEST_KEYS, marker=NARRATIVE_KEY, now=now)]


def release(engine: Engine, held: Held, sentences: list[str], at: datetime) -> bool:
    """The row goes ``at``: with the sentences on top of its text, its figures taken out."""
    payload = {k: v for k, v in held.payload.items() if k != NARRATIVE_KEY}
    message = payload.get("message")
    if sentences and isinstance(message, Mapping):
        payload["message"] = {**message,
                              "text": with_narrative(str(message.get("text", "")), sentences)}
    with engine.begin() as conn:
        return outbox.release(conn, held.row_id, payload, at)


class Narrator:
    """Narrates the held digests; one pass at a time per process (a row being narrated
    is not asked about again by a pass that starts meanwhile)."""

    def __init__(self, assistant: Assistant, engine: Engine, run: Run,
                 now: Callable[[], datetime], hold: timedelta,
                 at_once: int | None = None) -> None:
        self.assistant, self.engine, self.run, self.now = assistant, engine, run, now
        self.hold = hold  # how long the due work held each digest back (bot.llm.wiring)
        self.at_once = asyncio.Semaphore(at_once or AT_ONCE)
        self.busy: set[int] = set()

    async def run_once(self) -> int:
        """Narrate every digest held now; how many were released (with a narrative or,
        when none came, as they are): due now, for the outbox to send."""
        found = [h for h in await self.run(held_digests, self.engine, self.now())
                 if h.row_id not in self.busy]
        self.busy.update(h.row_id for h in found)
        try:
            done = await asyncio.gather(*(self._one(h) for h in found))
        finally:
            self.busy.difference_update(h.row_id for h in found)
        return sum(done)

    async def _one(self, held: Held) -> bool:
        async with self.at_once:
            try:
                sentences = await narrate(self.assistant, held.figures)
            except Exception:  # the narrative is an extra: the digest goes without it
                log.exception("digest narrative failed for outbox row %s", held.row_id)
                sentences = []
            # Not before the time it was held from: a digest deferred out of the
            # recipient's quiet hours still waits for their end.
            at = max(self.now(), held.held_until - self.hold)
            released = await self.run(release, self.engine, held, sentences, at)
        if not released:
            log.info("digest %s went out before its narrative (the hold ended)", held.row_id)
        return bool(released)
