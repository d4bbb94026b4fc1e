"""The few things the Slack surface reads or writes itself, each one short transaction:
the picker's reps, App Home data, event claims, plan acknowledgements, action items,
and adding a direct report."""

from __future__ import annotations

from typing import Any

from bot.bootstrap import App
from bot.channels.who import Who
from bot.slack.identity import Profile
from bot.slack.text import SlackText
from storage import conversations, events, people, rep_updates, team, views
from storage.models import ActionItem, Person


class Records:
    def __init__(self, app: App) -> None:
        self.app = app

    def coachable(self, who: Who) -> list[tuple[int, str]]:
        with self.app.sessions() as db:
            me = people.by_platform_id(db, "slack", who.tenant, who.user_key)
            return [] if me is None else [(p.id, p.name) for p in people.coachable_by(db, me)]

    def email_of(self, person_id: Any) -> str | None:
        if not isinstance(person_id, int):
            return None
        with self.app.sessions() as db:
            person = db.get(Person, person_id)
            return person.email if person else None

    def remember_view(self, view_id: str, who: Who) -> None:
        with self.app.sessions.begin() as db:
            views.remember(db, view_id, who.tenant, who.user_key, self.app.clock.now())

    def owns_view(self, view_id: str, who: Who) -> bool:
        with self.app.sessions() as db:
            return views.owner(db, view_id) == (who.tenant, who.user_key)

    def claim_event(self, key: tuple[str, str]) -> bool:
        with self.app.sessions.begin() as db:
            return events.claim(db, "slack", key[0], key[1], self.app.clock.now())

    def home_data(self, who: Who) -> Any:
        from bot.slack import home

        with self.app.sessions() as db:
            person = people.by_platform_id(db, "slack", who.tenant, who.user_key)
            assert person is not None
            return home.load(db, person, self.app.clock.now(), self.app.playbook)

    def acknowledge(self, who: Who, session_id: int) -> str:
        with self.app.sessions.begin() as db:
            me = people.by_platform_id(db, "slack", who.tenant, who.user_key)
            now = self.app.clock.now()
            if me is None or not rep_updates.acknowledge_plan(db, session_id, me.id, now):
                return SlackText.not_yours
            conversations.log(db, at=now, flow="sled", event="plan_acknowledged",
                              person_id=me.id, detail={"session_id": session_id})
            return SlackText.acknowledged.format(name=me.name.split()[0] if me.name else me.email)

    def item_status(self, who: Who, item_id: int, status: str) -> str:
        with self.app.sessions.begin() as db:
            me = people.by_platform_id(db, "slack", who.tenant, who.user_key)
            now = self.app.clock.now()
            item: ActionItem | None = None
            if me is not None:
                item = rep_updates.set_item_status(db, item_id, me.id, status, now)
            if me is None or item is None:
                return SlackText.item_missing
            conversations.log(db, at=now, flow="-", event="action_item", person_id=me.id,
                              detail={"item": item_id, "status": status})
            template = SlackText.item_done if status == "done" else SlackText.item_blocked
            return template.format(description=item.description)

    def add_report(self, who: Who, profile: Profile) -> str:
        with self.app.sessions.begin() as db:
            me = people.by_platform_id(db, "slack", who.tenant, who.user_key)
            if me is None or me.role not in people.COACHING_ROLES:
                return SlackText.team_not_manager
            now = self.app.clock.now()
            result, person = team.add_report(
                db, me, email=profile.email, name=profile.name, timezone=profile.timezone,
                slack_user_id=profile.user_id, now=now)
            conversations.log(db, at=now, flow="-", event="team_add", person_id=me.id,
                              detail={"result": result, "email": profile.email})
            name = person.name if person is not None else profile.email
            return SlackText.team_added[result].format(name=name)
