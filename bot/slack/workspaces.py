"""Which Slack workspaces belong to the organisation (storage.tenancy), and linking them.

One workspace (SLACK_BOT_TOKEN): the token's own workspace (auth.test: its team, or the
enterprise of an org-wide install) is linked to the default organisation, once, on the
first request that needs it. Many workspaces (OAuth): installing the app links nothing;
only the workspaces named in SLACK_TEAM_IDS are linked (in both modes). /slack/install
is a public page: if an installation linked itself, whoever installed could reach the
organisation's people by having the same email as one of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from bot.bootstrap import App
from bot.channels.database import Database
from bot.slack.clients import Clients
from storage import audit, tenancy
from storage.models import DEFAULT_ORG

log = logging.getLogger("coach.slack.workspaces")
PLATFORM = "slack"


class Workspaces:
    def __init__(self, app: App, clients: Clients, database: Database) -> None:
        self.app, self.clients, self.run = app, clients, database.run
        self._ready = False
        self._lock = asyncio.Lock()

    async def org_of(self, tenant: str) -> int | None:
        """The organisation of a workspace; None: not ours, its users see nothing."""
        await self.ensure_linked()
        return await self.run(self._org_of, tenant)

    async def ensure_linked(self) -> None:
        """Link the configured workspaces (and, with one token, the token's own) once."""
        if self._ready:
            return
        async with self._lock:
            if self._ready:
                return
            single = self.clients.store is None  # one bot token, no installations
            teams = list(self.app.settings.slack_teams)
            own = await self._own_workspace() if single else None
            if own:
                teams.append(own)
            await self.run(self._link_all, teams)
            self._ready = own is not None or not single  # auth.test failed: try again

    async def _own_workspace(self) -> str | None:
        try:
            response = await self.clients.base.auth_test()
        except SlackApiError as exc:
            log.warning("auth.test failed, workspace not linked yet: %s",
                        exc.response.get("error"))
            return None
        return str(response.get("team_id") or response.get("enterprise_id") or "") or None

    def _org_of(self, tenant: str) -> int | None:
        with self.app.sessions() as db:
            return tenancy.org_of(db, PLATFORM, tenant)

    def _link_all(self, teams: Sequence[str]) -> None:
        for team in teams:
            try:
                with self.app.sessions.begin() as db:
                    result = tenancy.link(db, DEFAULT_ORG, PLATFORM, team, self.app.clock.now())
                    if result == "linked":  # SLACK_TEAM_IDS (or the one token's workspace)
                        audit.record(db, at=self.app.clock.now(), actor=audit.SYSTEM,
                                     action="workspace.link", subject=f"{PLATFORM}:{team}",
                                     org_id=DEFAULT_ORG, detail={"by": "configuration"})
            except IntegrityError:  # another process linked it at the same moment
                result = "already"
            if result == "elsewhere":
                log.warning("Slack workspace %s belongs to another organisation", team)
            elif result == "linked":
                log.info("Slack workspace %s linked to the default organisation", team)
