"""The per-person serial gateway, with fake platforms: typed turn results, binding an
unknown user through the surface's directory, one person's work at a time, and a short
apology (never exception text) when work fails."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.bootstrap import App
from bot.channels.gateway import GatewayText
from bot.channels.who import Who
from bot.cli.demo_org import DOMAIN, MANAGER
from bot.runner import TurnText
from flows.messages import Choose, Say
from storage import tenancy
from storage.db import DatabaseBusy
from storage.models import DEFAULT_ORG, Person
from tests.channels.fakes import FakeDirectory, shared_gateway
from tests.support import make_app

NEWCOMER = Who("teams", "tenant-1", "aad-maya")


def link_teams(app: App) -> None:
    with app.sessions.begin() as db:
        tenancy.link(db, DEFAULT_ORG, "teams", "tenant-1", app.clock.now())


async def test_an_unknown_user_is_bound_through_the_directory_and_the_turn_runs_again(
        db_url: str) -> None:
    app = make_app(db_url)
    link_teams(app)
    gateway = shared_gateway(app)
    directory = FakeDirectory(app, MANAGER)
    try:
        result = await gateway.turn(NEWCOMER, Say("/help"), directory=directory)
        assert result.status == "ok" and "What you can do" in result.messages[0].text
        assert directory.asked == [NEWCOMER]
        again = await gateway.turn(NEWCOMER, Say("/help"), directory=directory)
        assert again.status == "ok" and directory.asked == [NEWCOMER]  # bound: not asked
        with app.sessions() as db:
            maya = db.scalar(select(Person).where(Person.email == MANAGER))
            assert maya is not None and maya.teams_user_id == NEWCOMER.user_key
    finally:
        gateway.close()
        app.close()


async def test_a_user_the_directory_cannot_bind_is_told_why_in_its_words(db_url: str) -> None:
    app = make_app(db_url)
    link_teams(app)
    gateway = shared_gateway(app)
    try:
        result = await gateway.turn(NEWCOMER, Say("/help"), directory=FakeDirectory(app, None))
        assert result.status == "unknown_person"
        assert [m.text for m in result.messages] == ["stranger: unknown"]
        bare = await gateway.turn(NEWCOMER, Say("/help"))  # no directory: the runner's words
        assert bare.status == "unknown_person"
        assert [m.text for m in bare.messages] == [TurnText.unknown_person]
    finally:
        gateway.close()
        app.close()


async def test_an_answer_for_another_step_is_refused_by_status(db_url: str) -> None:
    app = make_app(db_url)
    gateway = shared_gateway(app)
    me = Who("console", "local", MANAGER)
    try:
        await gateway.turn(me, Say(f"/coach alice@{DOMAIN}"))
        result = await gateway.turn(me, Choose("yes"), "not_this_step")
        assert result.status == "refused"
        assert result.messages[0].text == TurnText.wrong_step
    finally:
        gateway.close()
        app.close()


async def test_failed_work_is_answered_with_an_apology_and_no_exception_text(
        db_url: str) -> None:
    app = make_app(db_url)
    gateway = shared_gateway(app)
    me = Who("console", "local", MANAGER)
    told: list[str] = []

    async def tell(text: str) -> None:
        told.append(text)

    async def broken() -> None:
        raise RuntimeError("secret internals")

    async def busy() -> None:
        raise DatabaseBusy

    try:
        gateway.spawn(me, broken(), tell)
        gateway.spawn(me, busy(), tell)
        await gateway.idle()
        assert told == [GatewayText.crashed, GatewayText.busy]
        assert "secret" not in "".join(told)
    finally:
        gateway.close()
        app.close()


async def test_one_persons_work_runs_in_order_anothers_alongside(db_url: str) -> None:
    app = make_app(db_url)
    gateway = shared_gateway(app)
    order: list[str] = []
    release = asyncio.Event()

    async def tell(text: str) -> None:
        raise AssertionError(text)

    async def step(name: str, wait: bool = False) -> None:
        if wait:
            await release.wait()
        order.append(name)

    maya, lee = Who("console", "local", MANAGER), Who("console", "local", f"lee@{DOMAIN}")
    try:
        gateway.spawn(maya, step("maya 1", wait=True), tell)
        gateway.spawn(maya, step("maya 2"), tell)
        gateway.spawn(lee, step("lee"), tell)
        for _ in range(5):
            await asyncio.sleep(0)
        assert order == ["lee"]  # Maya's second waits for her first
        release.set()
        await gateway.idle()
        assert order == ["lee", "maya 1", "maya 2"]
    finally:
        gateway.close()
        app.close()
