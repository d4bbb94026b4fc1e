"""``coach serve`` hosts Teams beside Slack on one shared gateway, when it is configured."""

from __future__ import annotations

from bot.surfaces import configured_surfaces, shared_gateway
from bot.teams.app import TeamsApp
from tests.support import make_app


def test_teams_is_hosted_when_configured_and_off_otherwise(db_url: str) -> None:
    app = make_app(db_url, demo=False, teams_tenant_id="tenant-one",
                   slack_bot_token="xoxb-test", slack_signing_secret="s3cret")
    surfaces = configured_surfaces(app, shared_gateway(app))
    teams = [s for s in surfaces if isinstance(s, TeamsApp)]
    assert len(surfaces) == 2 and len(teams) == 1
    assert surfaces[0].gateway is teams[0].gateway  # one outbox sends through both notifiers
    assert set(teams[0].gateway.outbox.notifiers) == {"slack", "teams"}
    teams[0].gateway.close()
    app.close()

    off = make_app(db_url, demo=False)
    unused = shared_gateway(off)
    assert configured_surfaces(off, unused) == []
    unused.close()
    off.close()
