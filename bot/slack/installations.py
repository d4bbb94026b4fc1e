"""slack_sdk's SQLAlchemy installation and OAuth-state stores on our own engine.

The synchronous stores work with the engine every other query uses (SQLite or
PostgreSQL); these wrappers give Bolt the async interface it asks for and run
the store's queries through ``Database.run`` (off the event loop). Their tables
come from our Alembic migration 0002_slack. With COACH_ENCRYPTION_KEY the tokens (and the
incoming-webhook URL) are encrypted at rest (bot/keyring.py); without, stored in clear.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, TypeVar

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Connection, Engine, Table, select, update

from bot.channels.database import Database
from bot.keyring import Keyring

STATE_SECONDS = 600
# What holds a secret, on the installation and bot records and in their tables.
SECRET_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token",
                 "incoming_webhook_url")
Record = TypeVar("Record", Installation, Bot)


class SealedInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's store, with every secret field encrypted on the way in and decrypted on
    the way out by ``keyring`` (one without keys stores them in clear, as slack_sdk does)."""

    def __init__(self, client_id: str, engine: Engine, keyring: Keyring) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.keyring = keyring

    def save(self, installation: Installation) -> None:
        super().save(self._with(installation, self.keyring.seal))

    def save_bot(self, bot: Bot) -> None:
        super().save_bot(self._with(bot, self.keyring.seal))

    def find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                 is_enterprise_install: bool | None = False) -> Bot | None:
        found = super().find_bot(enterprise_id=enterprise_id, team_id=team_id,
                                 is_enterprise_install=is_enterprise_install)
        return None if found is None else self._with(found, self.keyring.open)

    def find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                          user_id: str | None = None,
                          is_enterprise_install: bool | None = False) -> Installation | None:
        found = super().find_installation(enterprise_id=enterprise_id, team_id=team_id,
                                          user_id=user_id,
                                          is_enterprise_install=is_enterprise_install)
        return None if found is None else self._with(found, self.keyring.open)

    @staticmethod
    def _with(record: Record, change: Any) -> Record:
        """A copy of ``record`` with its secret fields passed through ``change``."""
        changed = copy.copy(record)
        for name in SECRET_FIELDS:
            if hasattr(changed, name):
                setattr(changed, name, change(getattr(changed, name)))
        return changed

    def reseal_all(self, conn: Connection) -> int:
        """Encrypt every stored secret with the keyring's first key (plaintext ones too):
        ``coach keys rotate``. Returns the values rewritten; a value no key opens raises
        KeyMissing and the caller's transaction changes nothing."""
        rewritten = 0
        for table in (self.installations, self.bots):
            rewritten += _reseal(conn, table, self.keyring)
        return rewritten


def _reseal(conn: Connection, table: Table, keyring: Keyring) -> int:
    columns = [table.c[name] for name in SECRET_FIELDS if name in table.c]
    rewritten = 0
    for row in conn.execute(select(table.c.id, *columns).order_by(table.c.id)).mappings():
        values = {c.name: keyring.rotate(row[c.name]) for c in columns
                  if row[c.name] is not None}
        if values:
            conn.execute(update(table).where(table.c.id == row["id"]).values(**values))
            rewritten += len(values)
    return rewritten


class InstallationStore(AsyncInstallationStore):
    def __init__(self, client_id: str, engine: Engine, database: Database,
                 keyring: Keyring | None = None) -> None:
        self.sync = SealedInstallationStore(client_id, engine, keyring or Keyring())
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
