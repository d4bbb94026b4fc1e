"""Which surfaces ``coach serve`` hosts: every platform whose settings are complete, all
on one shared gateway (so one outbox worker sends through every platform's notifier)."""

from __future__ import annotations

import logging

from bot.bootstrap import App
from bot.channels.database import Database
from bot.channels.gateway import Gateway
from bot.channels.hosting import HostedSurface
from bot.channels.limits import TurnLimiter
from bot.channels.outbox import OutboxWorker
from bot.llm.wiring import assistant_for

log = logging.getLogger("coach.server")


def shared_gateway(app: App, delivery_delay: float = 0.0) -> Gateway:
    """The gateway every hosted surface shares. Its database work runs as Slack's acks
    need while Slack is served (its acks come first), otherwise as Teams' answers after
    the turn allow (bot/channels/database.py)."""
    database = Database(app.engine,
                        answers_after_turn="slack" not in enabled_platforms(app))
    return Gateway(app.runner, database,
                   OutboxWorker(app.sessions, app.clock, database, delay=delivery_delay,
                                lease_seconds=app.settings.coach_outbox_lease,
                                metrics=app.metrics),
                   assistant=assistant_for(app.settings, app.playbook, app.engine, database.run,
                                           app.clock.now),
                   metrics=app.metrics,
                   limiter=TurnLimiter.configured(app.settings))


def enabled_platforms(app: App) -> list[str]:
    """The platforms ``coach serve`` hosts with these settings, in its order (the first
    reaches someone bound to no platform)."""
    from bot.slack.app import enabled
    from bot.teams.app import enabled as teams_enabled

    return [platform for platform, on in (("slack", enabled(app)),
                                          ("teams", teams_enabled(app))) if on]


def configured_surfaces(app: App, gateway: Gateway) -> list[HostedSurface]:
    """Every platform whose settings are complete, on ``gateway``."""
    from bot.slack.app import build_slack, enabled
    from bot.teams.app import build_teams
    from bot.teams.app import enabled as teams_enabled

    surfaces: list[HostedSurface] = []
    if enabled(app):
        surfaces.append(build_slack(app, socket_mode=bool(app.settings.slack_app_token),
                                    gateway=gateway))
    else:
        log.warning("Slack is off: no SLACK_SIGNING_SECRET with a token or client id")
    if teams_enabled(app):
        surfaces.append(build_teams(app, gateway=gateway))
    else:
        log.warning("Teams is off: no TEAMS_APP_ID (or TEAMS_TENANT_ID for local development)")
    return surfaces
