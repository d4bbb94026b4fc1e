"""slack_sdk's SQLAlchemy installation and OAuth-state stores on our own engine.

The synchronous stores work with the engine every other query uses (SQLite or
PostgreSQL); these wrappers give Bolt the async interface it asks for and run
the store's queries through ``Database.run`` (off the event loop). Their tables
come from our Alembic migration 0002_slack. Tokens are stored in clear.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from bot.channels.database import Database

STATE_SECONDS = 600


class InstallationStore(AsyncInstallationStore):
    def __init__(self, client_id: str, engine: Engine, database: Database) -> None:
        self.sync = SQLAlchemyInstallationStore(client_id=client_id, engine=engine)
        self.run = database.run

    @property
    def logger(self) -> logging.Logger:
        return self.sync.logger

    async def async_save(self, installation: Installation) -> None:
        await self.run(self.sync.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await self.run(self.sync.save_bot, bot)

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        bot: Bot | None = await self.run(lambda: self.sync.find_bot(
            enterprise_id=enterprise_id, team_id=team_id,
            is_enterprise_install=is_enterprise_install))
        return bot

    async def async_find_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found: Installation | None = await self.run(lambda: self.sync.find_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
            is_enterprise_install=is_enterprise_install))
        return found

    async def async_delete_bot(self, *, enterprise_id: str | None,
                               team_id: str | None) -> None:
        await self.run(lambda: self.sync.delete_bot(enterprise_id=enterprise_id,
                                                    team_id=team_id))

    async def async_delete_installation(self, *, enterprise_id: str | None,
                                        team_id: str | None,
                                        user_id: str | None = None) -> None:
        await self.run(lambda: self.sync.delete_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id))


class StateStore(AsyncOAuthStateStore):
    def __init__(self, engine: Engine, database: Database) -> None:
        self.sync = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine)
        self.run = database.run

    @property
    def logger(self) -> logging.Logger:
        return self.sync.logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state: str = await self.run(self.sync.issue)
        return state

    async def async_consume(self, state: str) -> bool:
        return bool(await self.run(self.sync.consume, state))
