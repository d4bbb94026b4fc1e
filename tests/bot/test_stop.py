"""SIGTERM to a real ``coach serve`` in the middle of a turn: the turn Slack was already
told about finishes (stored and answered), new requests and /readyz get 503 while the
process stops, /healthz still answers, and the process exits 0."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import select

from bot.cli.demo_org import DOMAIN
from storage.models import Conversation, Person
from tests.bot.serving import Served
from tests.slack.conftest import IDS, NAMES
from tests.slack.driver import SECRET, sign
from tests.slack.fake_slack import TEAM, FakeSlack
from tests.support import make_app

# ``coach serve`` itself, its scheduler queuing only keyed check-in messages (the real
# rhythm would start Alice's check-in as a turn of its own beside hers)
SERVE = [sys.executable, "-m", "tests.rhythm.due_checkins"]
STOP_DELAY = 3.0  # COACH_SHUTDOWN_DELAY: seconds the stopping process still answers 503


def command(fake: FakeSlack, user: str, text: str) -> str:
    return urlencode({"token": "x", "team_id": TEAM, "team_domain": "fake", "user_id": user,
                      "user_name": user, "command": "/coach", "text": text,
                      "trigger_id": f"trigger.{user}.{text}", "channel_id": "C0GENERAL",
                      "channel_name": "general", "api_app_id": "A0APP",
                      "response_url": fake.respond_url(user)})


async def post_command(http: aiohttp.ClientSession, fake: FakeSlack, url: str, user: str,
                       text: str) -> aiohttp.ClientResponse:
    body = command(fake, user, text)
    async with http.post(f"{url}/slack/events", data=body.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", **sign(body)}) as response:
        await response.read()
        return response


@pytest.fixture
async def fake() -> FakeSlack:
    fake = await FakeSlack().start()
    for local, user_id in IDS.items():
        fake.add_user(user_id, f"{local}@{DOMAIN}", NAMES[local])
    yield fake  # type: ignore[misc]
    await fake.close()


async def until(condition: object, served: Served, timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            assert served.proc.poll() is None, served.output()[-4000:]
            await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_sigterm_mid_turn_finishes_the_turn_and_refuses_new_work(
        db_url: str, fake: FakeSlack, tmp_path: Path) -> None:
    make_app(db_url).close()  # the demo org: Alice is known by email, not yet by Slack id
    # The scheduler's first tick may look due people up by email; here nobody is found
    # that way, so Alice's own command is what binds her (through users.info).
    fake.fail("users.lookupByEmail", 404, times=10_000)
    served = Served(SERVE, tmp_path, "serve", DATABASE_URL=db_url,
                    SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
                    SLACK_API_URL=fake.url, COACH_SHUTDOWN_DELAY=str(STOP_DELAY),
                    COACH_LOG_LEVEL="INFO", COACH_LOG_FORMAT="json",
                    COACH_SCHEDULER_INTERVAL="3600")
    alice = IDS["alice"]
    try:
        await served.answers("/readyz")
        fake.stall("users.info")  # the turn waits to learn who Alice is: nothing stored yet
        async with aiohttp.ClientSession() as http:
            acked = await post_command(http, fake, served.url, alice, "checkin")
            assert acked.status == 200
            await until(lambda: fake.of("users.info"), served)
            served.terminate()
            signalled = asyncio.get_running_loop().time()
            await until(lambda: "stopping" in served.err.read_text(), served)
            refused = await post_command(http, fake, served.url, IDS["bob"], "checkin")
            assert refused.status == 503 and refused.headers["Retry-After"]
            async with http.get(served.url + "/readyz") as ready:
                assert ready.status == 503
            async with http.get(served.url + "/healthz") as alive:
                assert alive.status == 200
        fake.unstall()
        assert await served.exit_code() == 0, served.output()[-4000:]
    finally:
        fake.unstall()
        served.kill()
    # The command's answer (no outbox key: the scheduler's own check-ins carry one) left
    # after the signal: the turn ran to its end. Bob's refused command left nothing.
    answers = [c for c in fake.of("chat.postMessage") if c.args["channel"] in (
        alice, fake.dm_of(alice)) and not c.args.get("metadata")]
    assert len(answers) == 1 and "weekly check-in" in answers[0].args["text"]
    assert answers[0].at > signalled
    assert set(fake.keys_sent().values()) <= {1}
    assert [c.args["user"] for c in fake.of("users.info", ok_only=False)] == [alice]
    app = make_app(db_url, demo=False)
    try:
        with app.sessions() as db:  # the turn that waited stored its conversation
            person = db.scalar(select(Person).where(Person.slack_user_id == alice))
            assert person is not None
            assert db.scalars(select(Conversation.flow).where(
                Conversation.person_id == person.id)).all() == ["checkin"]
    finally:
        app.close()
    lines = [json.loads(line) for line in served.err.read_text().splitlines()]
    messages = [line["message"] for line in lines]
    assert messages.index("stopping: new work is refused; finishing the work in flight") \
        < messages.index("stopped")
    refused = next(line for line in lines if line["message"].startswith("POST /slack/events 503"))
    assert refused["request_id"] and refused["name"] == "aiohttp.access"
