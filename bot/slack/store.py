"""What the Slack surface keeps for itself, each one short transaction: who owns each
modal we open (Slack's payload does not say; a person's newest is where a model's late
answer goes) and which events were already handled (Slack retries a delivery it thinks
we missed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.who import Who
from bot.clock import Clock
from storage import events, views

PRUNE_EVERY = timedelta(minutes=10)  # old view owners are deleted at most this often


class SlackStore:
    def __init__(self, engine: Engine, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.engine, self.sessions, self.clock = engine, sessions, clock
        self._next_prune: datetime | None = None

    def remember_view(self, view_id: str, who: Who) -> None:
        """Record whose modal this is (every /coach): one upsert on a plain connection;
        views too old to be owned any more are deleted now and then, not every time
        (``views.owner`` already refuses them)."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            if self._next_prune is None or now >= self._next_prune:
                views.prune(conn, now)
                self._next_prune = now + PRUNE_EVERY
            views.remember(conn, view_id, who.tenant, who.user_key, now)

    def owns_view(self, view_id: str, who: Who) -> bool:
        with self.engine.connect() as conn:
            return views.owner(conn, view_id, self.clock.now()) == (who.tenant, who.user_key)

    def open_view_of(self, who: Who) -> str | None:
        """The person's newest modal we opened (None: none we know of is open)."""
        with self.engine.connect() as conn:
            return views.latest(conn, who.tenant, who.user_key, self.clock.now())

    def forget_view(self, view_id: str) -> None:
        with self.engine.begin() as conn:
            views.forget(conn, view_id)

    def claim_event(self, key: tuple[str, str]) -> bool:
        """True the first time an event is seen (the one delivery to act on)."""
        with self.sessions.begin() as db:
            return events.claim(db, "slack", key[0], key[1], self.clock.now())
