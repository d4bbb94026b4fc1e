"""Workspace isolation (issue 7, item 1): people are reached only from the workspaces
linked to their organisation; a user of any other workspace sees nothing, even with the
email of one of our people or with one of our user ids. And (item 3) a button may only
change the clicking user's own modal."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text

from bot.cli.demo_org import DOMAIN
from bot.slack.text import SlackText
from storage import tenancy
from storage.models import Organization, Person
from tests.slack.conftest import IDS, Harness, start
from tests.slack.driver import SECRET, SlackDriver, find_choice
from tests.slack.fake_slack import FakeSlack
from tests.support import make_app

OURS, THEIRS, UNLINKED = "T0OAUTH", "T0EVIL", "T0NEW"
NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)


def stored(harness: Harness, email: str, org: int = 1) -> Person:
    with harness.app.sessions() as db:
        person = db.scalar(select(Person).where(Person.org_id == org, Person.email == email))
        assert person is not None
        return person


async def home_of(harness: Harness, user: str, team: str, event_id: str) -> str:
    """Open the App Home as ``user`` of ``team``; the published view as text."""
    harness.http.team = team
    event = harness.http.event_body({"type": "app_home_opened", "user": user, "tab": "home"},
                                    event_id, "AppHomeOpenedPayload")
    assert (await harness.http.event(event)).status == 200
    await harness.http.settle()
    published = [c for c in harness.fake.of("views.publish") if c.args["user_id"] == user]
    return json.dumps(published[-1].args["view"])


async def command(harness: Harness, user: str, team: str, text_: str) -> str:
    """/coach as ``user`` of ``team``; the ephemeral answer (or "" when none)."""
    harness.http.team = team
    before = len(harness.fake.of("response_url"))
    assert (await harness.http.command(user, text_)).status == 200
    await harness.http.settle()
    answers = harness.fake.of("response_url")[before:]
    return str(answers[-1].args["text"]) if answers else ""


# --- one workspace (SLACK_BOT_TOKEN): Slack Connect ----------------------------------------


async def test_a_known_user_id_from_another_workspace_sees_nothing(harness: Harness) -> None:
    await SlackDriver(harness.http, IDS["maya"]).say("/coach alice")  # maya is bound
    assert stored(harness, f"maya@{DOMAIN}").slack_user_id == IDS["maya"]
    opened = len(harness.fake.of("views.open"))

    # The same user id, but the payload says the user belongs to another workspace.
    assert await command(harness, IDS["maya"], "T0OTHER", "alice") == SlackText.outside
    assert await command(harness, IDS["maya"], "T0OTHER", "") == SlackText.outside
    assert len(harness.fake.of("views.open")) == opened
    home = await home_of(harness, IDS["maya"], "T0OTHER", "Ev0CONNECT")
    assert "Alice" not in home and "smOS Coach is not set up" in home


async def test_a_slack_connect_user_in_our_workspace_is_not_bound_by_email(
        harness: Harness) -> None:
    # The request comes through our workspace, but users.info says the user is another
    # company's, with the email of one of our (not yet bound) people.
    harness.fake.add_user("U0GUEST", f"alice@{DOMAIN}", "Not Alice", team="T0OTHER")
    assert await command(harness, "U0GUEST", harness.http.team, "") == SlackText.outside
    home = await home_of(harness, "U0GUEST", harness.http.team, "Ev0GUEST")
    assert "smOS Coach is not set up" in home
    assert stored(harness, f"alice@{DOMAIN}").slack_user_id is None


async def test_the_bot_tokens_own_workspace_is_linked_once(harness: Harness) -> None:
    await SlackDriver(harness.http, IDS["maya"]).say("/coach alice")
    await SlackDriver(harness.http, IDS["bob"]).say("/coach checkin")
    # Bolt checks the token itself (auth.test with the team); ours asks once, plainly.
    assert len([c for c in harness.fake.of("auth.test") if not c.args]) == 1
    with harness.app.sessions() as db:
        assert tenancy.workspaces_of(db, 1, "slack") == ["T0TEAM"]


# --- many workspaces (OAuth) ---------------------------------------------------------------


@pytest.fixture
async def oauth(db_url: str, fake: FakeSlack) -> AsyncIterator[Harness]:
    app = make_app(db_url, slack_client_id="111.222", slack_client_secret="oauth-secret",
                   slack_signing_secret=SECRET, slack_api_url=fake.url, slack_team_ids=OURS)
    with app.engine.begin() as conn:
        for table in ("slack_installations", "slack_bots", "slack_oauth_states"):
            conn.execute(text(f"DELETE FROM {table}"))
    for user_id in IDS.values():
        fake.users[user_id].team = OURS
    async for harness in start(app, fake):
        yield harness


async def install(harness: Harness, team: str) -> None:
    """The OAuth install flow, answered by the fake for ``team``."""
    harness.fake.installs.append(team)
    http = harness.http.http
    page = await http.get("/slack/install")
    state = re.search(r"state=([\w-]+)", await page.text())
    assert state is not None
    cookie = page.headers["Set-Cookie"].split(";")[0]
    done = await http.get(f"/slack/oauth_redirect?code=c0de&state={state.group(1)}",
                          headers={"Cookie": cookie})
    assert done.status == 200, await done.text()


def second_org(harness: Harness) -> None:
    """Another organisation in the same deployment, with THEIRS linked and its own Maya
    (same email as ours) managing Zed."""
    with harness.app.sessions.begin() as db:
        db.execute(insert(Organization).values(id=2, name="Other Co"))
        tenancy.link(db, 2, "slack", THEIRS, NOW)
        boss = Person(org_id=2, email=f"maya@{DOMAIN}", name="Other Maya", role="manager",
                      timezone="UTC", active=True, created_at=NOW, updated_at=NOW)
        db.add(boss)
        db.flush()
        db.add(Person(org_id=2, email="zed@other.example", name="Zed Zimmer", role="rep",
                      manager_id=boss.id, timezone="UTC", active=True, created_at=NOW,
                      updated_at=NOW))


# slack_sdk 3.48 still builds aiohttp.BasicAuth for oauth.v2.access; aiohttp 3.14 warns.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_two_workspaces_with_the_same_email_see_only_their_own(oauth: Harness) -> None:
    second_org(oauth)
    for team in (OURS, THEIRS, UNLINKED):
        await install(oauth, team)
    oauth.fake.add_user("U0EVIL", f"maya@{DOMAIN}", "Other Maya", team=THEIRS)
    oauth.fake.add_user("U0NEWCO", f"maya@{DOMAIN}", "Maya Again", team=UNLINKED)

    ours = await home_of(oauth, IDS["maya"], OURS, "Ev0OURS")
    assert "Alice Adams" in ours and "Zed" not in ours
    theirs = await home_of(oauth, "U0EVIL", THEIRS, "Ev0THEIRS")
    assert "Zed Zimmer" in theirs and "Alice" not in theirs and "Bob" not in theirs
    unlinked = await home_of(oauth, "U0NEWCO", UNLINKED, "Ev0NEW")
    assert "smOS Coach is not set up" in unlinked and "Alice" not in unlinked

    # Each Maya was bound in her own org only; the real one is not locked out.
    assert stored(oauth, f"maya@{DOMAIN}", org=1).slack_user_id == IDS["maya"]
    assert stored(oauth, f"maya@{DOMAIN}", org=2).slack_user_id == "U0EVIL"
    # Our Maya's user id arriving from their workspace finds nobody there.
    assert await command(oauth, IDS["maya"], THEIRS, "alice") == SlackText.outside
    assert await command(oauth, "U0EVIL", THEIRS, "alice") != SlackText.outside
    assert "Alice" not in json.dumps([c.args for c in oauth.fake.of("views.open")])
    assert await command(oauth, "U0NEWCO", UNLINKED, "") == SlackText.outside
    published = {c.headers["Authorization"] for c in oauth.fake.of("views.publish")}
    assert published == {"Bearer xoxb-installed", f"Bearer xoxb-{THEIRS}",
                         f"Bearer xoxb-{UNLINKED}"}


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_an_installation_alone_links_nothing(db_url: str, fake: FakeSlack) -> None:
    app = make_app(db_url, slack_client_id="111.222", slack_client_secret="oauth-secret",
                   slack_signing_secret=SECRET, slack_api_url=fake.url)
    with app.engine.begin() as conn:
        for table in ("slack_installations", "slack_bots", "slack_oauth_states"):
            conn.execute(text(f"DELETE FROM {table}"))
    fake.users[IDS["maya"]].team = OURS
    async for harness in start(app, fake):
        await install(harness, OURS)
        home = await home_of(harness, IDS["maya"], OURS, "Ev0FIRST")
        assert "smOS Coach is not set up" in home
        assert stored(harness, f"maya@{DOMAIN}").slack_user_id is None
        with app.sessions() as db:
            assert tenancy.workspaces_of(db, 1, "slack") == []


# --- a modal belongs to the user it was opened for -----------------------------------------


async def test_a_button_cannot_update_someone_elses_modal(harness: Harness) -> None:
    manager = SlackDriver(harness.http, IDS["maya"])
    await manager.say("/coach alice")
    view = await manager.submit(purpose="Improve win rate", objectives="One behaviour",
                                agenda="ROAM", value_to_rep="Commission")
    before = dict(harness.fake.views[view["id"]])
    updates = len(harness.fake.of("views.update"))
    # Bob (a rep we know) sends a click carrying Maya's view id and hash.
    await SlackDriver(harness.http, IDS["bob"]).say("/coach checkin")
    forged = harness.http.action_in_view(IDS["bob"], view, find_choice(view["blocks"], "yes"))
    assert (await harness.http.interact(forged)).status == 200
    await harness.http.settle()
    assert len(harness.fake.of("views.update")) == updates
    assert harness.fake.views[view["id"]] == before
    # Maya's own click still moves her modal on.
    after = await manager.choose("yes")
    assert len(harness.fake.of("views.update")) == updates + 1
    assert after["id"] == view["id"] and after != before
