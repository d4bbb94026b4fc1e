"""Recording fakes of the channel layer's platform interfaces: no Slack, no Teams."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.bootstrap import App
from bot.channels.directory import Binding
from bot.channels.outbox import DeliveryFailed, LeasedMessage
from bot.channels.who import Who
from bot.surfaces import shared_gateway
from storage import people
from storage.models import DEFAULT_ORG

ALICE_TEAMS_ID = "aad-alice"


@dataclass
class FakeNotifier:
    """A platform's notifier that records what it sends (or fails as told)."""

    channel: str
    sent: list[LeasedMessage] = field(default_factory=list)
    failures: list[DeliveryFailed] = field(default_factory=list)

    async def send(self, row: LeasedMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(row)


@dataclass
class FakeDirectory:
    """Binds a platform user to the person with ``email`` (None: nobody fits)."""

    app: App
    email: str | None
    platform: str = "teams"
    asked: list[Who] = field(default_factory=list)

    async def bind(self, who: Who) -> Binding:
        self.asked.append(who)
        if self.email is None:
            return Binding("unknown")
        with self.app.sessions.begin() as db:
            person = people.by_email(db, self.email, DEFAULT_ORG)
            assert person is not None
            person.teams_user_id = who.user_key
        return Binding("known", self.email)

    def stranger(self, binding: Binding) -> str:
        return f"stranger: {binding.status}"


__all__ = ["ALICE_TEAMS_ID", "FakeDirectory", "FakeNotifier", "shared_gateway"]
