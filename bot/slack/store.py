"""What the Slack surface keeps for itself, each one short transaction: who owns each
modal we open (Slack's payload does not say) and which events were already handled
(Slack retries a delivery it thinks we missed)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.who import Who
from bot.clock import Clock
from storage import events, views


class SlackStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions, self.clock = sessions, clock

    def remember_view(self, view_id: str, who: Who) -> None:
        with self.sessions.begin() as db:
            views.remember(db, view_id, who.tenant, who.user_key, self.clock.now())

    def owns_view(self, view_id: str, who: Who) -> bool:
        with self.sessions() as db:
            return views.owner(db, view_id) == (who.tenant, who.user_key)

    def claim_event(self, key: tuple[str, str]) -> bool:
        """True the first time an event is seen (the one delivery to act on)."""
        with self.sessions.begin() as db:
            return events.claim(db, "slack", key[0], key[1], self.clock.now())
