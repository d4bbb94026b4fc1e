"""Teams activity handling: our ``/api/messages`` against a bare Agents SDK echo bot.

    .venv/bin/python -m bench.bench_teams [--requests N] [--rounds R]

A server process hosts our ``coach serve`` Teams endpoint (anonymous, on a SQLite file),
a bare Microsoft 365 Agents SDK ``AgentApplication`` (``CloudAdapter``, a message handler
that echoes the text) and the fake Bot Connector both reply to (loopback). This process
POSTs message activities at concurrency 1 and 20; a request's time is until its HTTP
answer, and both apps send their reply to the connector before answering, so it covers
"ack and reply". Two cases for us, each activity a stored turn and a card in reply:
``answer``, a manager's click on "yes" in a session's card (the next question comes back),
and ``coach``, a manager's typed ``coach <rep>`` (a session started). Prints p50 / p99
latency and activities per second per case and round, then the medians, and the count of
stored turns and of activities the connector received.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any, NamedTuple

import aiohttp
from aiohttp import web

from bench.machine import describe, percentile

TENANT = "bench-tenant"
CASES = (("answer", 1), ("answer", 20), ("coach", 1), ("coach", 20))
WARMUP = 30
APPS = ("echo bot", "smOS Coach")


async def _site(web_app: web.Application) -> int:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]


def echo_bot() -> web.Application:
    """The bare SDK: anonymous CloudAdapter, an AgentApplication that echoes a message."""
    from microsoft_agents.hosting.aiohttp import CloudAdapter, start_agent_process
    from microsoft_agents.hosting.core import (
        AgentApplication,
        AgentAuthConfiguration,
        ApplicationOptions,
        ConnectionManager,
        MemoryStorage,
        TurnContext,
        TurnState,
    )

    from bot.teams.app import msal_provider

    connections = ConnectionManager(msal_provider, connections_configurations={
        "SERVICE_CONNECTION": AgentAuthConfiguration(anonymous_allowed=True)})
    adapter = CloudAdapter(connection_manager=connections)
    agent = AgentApplication[TurnState](
        ApplicationOptions(storage=MemoryStorage(), start_typing_timer=False),
        connection_manager=connections)

    @agent.activity("message")
    async def echo(context: TurnContext, _state: TurnState) -> None:
        await context.send_activity(f"you said: {context.activity.text}")

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await start_agent_process(request, agent, adapter)
        return response if response is not None else web.Response(status=202)

    web_app = web.Application()
    web_app.router.add_post("/api/messages", messages)
    return web_app


def setup(app: Any, managers: int) -> None:
    """``managers`` managers (bound to Teams ids) with one rep each; the first half
    mid-session, at the "does the rep agree?" card."""
    from bot.channels.who import Who
    from flows.messages import Say, Submit
    from storage import tenancy
    from storage.models import DEFAULT_ORG, Person

    now = datetime.now(UTC)
    with app.sessions.begin() as db:
        tenancy.link(db, DEFAULT_ORG, "teams", TENANT, now)
        for n in range(managers):
            boss = Person(org_id=DEFAULT_ORG, email=f"m{n}@bench.example",
                          name=f"Manager {n}", role="manager", timezone="UTC",
                          teams_user_id=f"aad-m{n}", created_at=now, updated_at=now)
            db.add(boss)
            db.flush()
            db.add(Person(org_id=DEFAULT_ORG, email=f"r{n}@bench.example", name=f"Rep {n}",
                          role="rep", manager_id=boss.id, timezone="UTC", created_at=now,
                          updated_at=now))
    for n in range(managers // 2):
        who = Who("teams", TENANT, f"aad-m{n}")
        app.runner.handle(who, Say(f"/coach r{n}@bench.example"))
        app.runner.handle(who, Submit({"purpose": "p", "objectives": "o", "value_to_rep": "v"}),
                          expect_step="set_stage")


def serve(conn: Any, db_url: str, managers: int) -> None:
    asyncio.run(_serve(conn, db_url, managers))


async def _serve(conn: Any, db_url: str, managers: int) -> None:
    import logging

    from bot.bootstrap import bootstrap
    from bot.clock import SystemClock
    from bot.server import DELIVERY_DELAY, make_web_app
    from bot.settings import Settings
    from bot.teams.app import build_teams
    from tests.teams.fake_connector import FakeConnector

    logging.disable(logging.WARNING)
    fake = await FakeConnector(checking=False).start()
    app = bootstrap(Settings(coach_env="test", database_url=db_url, teams_tenant_id=TENANT),
                    SystemClock())
    setup(app, managers)
    teams = build_teams(app, delivery_delay=DELIVERY_DELAY)  # as coach serve does
    ours = await _site(make_web_app(app, teams, delivery_every=None))
    bare = await _site(echo_bot())
    conn.send((fake.url, {"echo bot": bare, "smOS Coach": ours}, _stored(app)))
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    await teams.gateway.idle()
    conn.send((_stored(app), len(fake.sent)))
    await fake.close()


def _stored(app: Any) -> int:
    """Rows in the transition log: one per stored turn (or more for a session start)."""
    from sqlalchemy import func, select

    from storage.models import TransitionLog

    with app.sessions() as db:
        return int(db.scalar(select(func.count(TransitionLog.id))) or 0)


def activity(kind: str, n: int, service_url: str) -> bytes:
    said: dict[str, Any] = {"text": f"coach r{n}@bench.example"} if kind == "coach" else {
        "replyToId": f"card-{n}", "value": {"coach": "choose", "choice": "yes",
                                            "step": "rep_aligned", "label": "Yes",
                                            "question": "Does the rep agree?"}}
    return json.dumps({
        "type": "message", "id": f"bench-{n}", "channelId": "msteams",
        "serviceUrl": service_url, **said,
        "from": {"id": f"29:m{n}", "aadObjectId": f"aad-m{n}", "name": f"Manager {n}"},
        "conversation": {"id": f"a:m{n}", "conversationType": "personal", "tenantId": TENANT},
        "recipient": {"id": "28:bench-bot", "name": "Coach"},
        "channelData": {"tenant": {"id": TENANT}}}).encode()


async def load(port: int, bodies: list[bytes], concurrency: int) -> tuple[list[float], float]:
    """POST every body; return latencies (ms) and activities per second."""
    url = f"http://127.0.0.1:{port}/api/messages"
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                start = time.perf_counter()
                async with s.post(url, data=body, headers=headers) as response:
                    await response.read()
                    assert response.status in (200, 202), response.status
                latencies.append((time.perf_counter() - start) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return latencies, len(bodies) / elapsed


class Result(NamedTuple):
    round: int
    kind: str
    concurrency: int
    app: str
    latencies: list[float]
    rate: float


async def run(service_url: str, ports: dict[str, int], requests: int, rounds: int
              ) -> list[Result]:
    """Each round runs every case against the echo bot, then us, with the same users
    (fresh ones each case: every activity of ours starts a session)."""
    results: list[Result] = []
    half = managers_per_kind(requests, rounds)
    users = {"answer": iter(range(half)), "coach": iter(range(half, 2 * half))}
    for round_ in range(1, rounds + 1):
        for kind, concurrency in CASES:
            bodies = [activity(kind, next(users[kind]), service_url)
                      for _ in range(WARMUP + requests)]
            for app in APPS:
                await load(ports[app], bodies[:WARMUP], concurrency)
                latencies, rate = await load(ports[app], bodies[WARMUP:], concurrency)
                results.append(Result(round_, kind, concurrency, app, latencies, rate))
    return results


def managers_per_kind(requests: int, rounds: int) -> int:
    return 2 * (WARMUP + requests) * rounds


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_teams")
    parser.add_argument("--requests", type=int, default=200, help="measured activities per case")
    parser.add_argument("--rounds", type=int, default=3, help="repeat every case; the summary "
                        "gives medians (this machine's speed drifts)")
    args = parser.parse_args()
    managers = 2 * managers_per_kind(args.requests, args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = multiprocessing.get_context("spawn")
        end, child = ctx.Pipe()
        server = ctx.Process(target=serve, args=(child, f"sqlite:///{Path(tmp) / 'b.db'}",
                                                 managers))
        server.start()
        service_url, ports, stored_before = end.recv()
        results = asyncio.run(run(service_url, ports, args.requests, args.rounds))
        end.send("done")
        stored_after, replies = end.recv()
        server.join(timeout=30)
    report(args, results, stored_after - stored_before, replies)
    return 0


def report(args: argparse.Namespace, results: list[Result], stored: int, replies: int) -> None:
    sent = sum(len(r.latencies) for r in results if r.app == APPS[1]) + (
        len(CASES) * args.rounds * WARMUP)
    print(f"Machine: {describe()}")
    print(f"SQLite file; {args.requests} measured activities per case after {WARMUP} warm-up, "
          f"{args.rounds} rounds. Activities sent to smOS Coach: {sent}; transition log rows "
          f"written meanwhile: {stored}; activities the fake connector received from both "
          f"apps: {replies}")
    header = (f"{'case':<8}{'conc':>5}  {'app':<11}{'p50 ms':>8}{'p99 ms':>8}"
              f"{'activities/s':>16}")
    for round_ in range(1, args.rounds + 1):
        print(f"\nRound {round_}\n{header}")
        bare = 0.0
        for r in results:
            if r.round != round_:
                continue
            bare = r.rate if r.app == APPS[0] else bare
            rate = f"{r.rate:.0f}" + ("" if r.app == APPS[0] else f" ({r.rate / bare:.0%})")
            print(f"{r.kind:<8}{r.concurrency:>5}  {r.app:<11}"
                  f"{percentile(r.latencies, 50):>8.2f}{percentile(r.latencies, 99):>8.2f}"
                  f"{rate:>16}")
    print(f"\nMedians over {args.rounds} rounds (ratios: the median of the rounds' own)\n"
          f"{header}{'p50 ratio':>11}")
    for kind, concurrency in CASES:
        by_app = {app: [r for r in results if (r.kind, r.concurrency, r.app) ==
                        (kind, concurrency, app)] for app in APPS}
        for app in APPS:
            mine = by_app[app]
            p50 = median(percentile(r.latencies, 50) for r in mine)
            p99 = median(percentile(r.latencies, 99) for r in mine)
            rate = f"{median(r.rate for r in mine):.0f}"
            ratio = ""
            if app != APPS[0]:
                pairs = list(zip(by_app[APPS[0]], mine, strict=True))
                rate += f" ({median(o.rate / b.rate for b, o in pairs):.0%})"
                slower = median(percentile(o.latencies, 50) / percentile(b.latencies, 50)
                                for b, o in pairs)
                ratio = f"{slower:.2f}x"
            print(f"{kind:<8}{concurrency:>5}  {app:<11}{p50:>8.2f}{p99:>8.2f}{rate:>16}"
                  f"{ratio:>11}")


if __name__ == "__main__":
    raise SystemExit(main())
