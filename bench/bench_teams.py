"""Teams activity handling: our ``/api/messages`` against a bare Agents SDK echo bot.

    .venv/bin/python -m bench.bench_teams [--requests N] [--rounds R] [--database-url URL]
        [--case answer|coach] [--profile FILE]

A server process hosts our ``coach serve`` Teams endpoint (anonymous; on a SQLite file, or
with ``--database-url`` on a scratch PostgreSQL database created and dropped there) and a
bare Microsoft 365 Agents SDK ``AgentApplication`` (``CloudAdapter``, a message handler that
echoes the text). The fake Bot Connector both reply to (loopback) runs in a process of its
own, as the fake Slack API of ``bench_dispatch`` does: the connector is Microsoft's
service, so its work (twice per ``answer`` for us: the reply and the answered card's
update; once for the echo bot) is not the server's; it keeps the activities it gets out of
its garbage collector's reach (``keep_frozen``). This process POSTs message activities at
concurrency 1 and 20; a request's time is until its HTTP answer, and both apps send their
reply to the connector before answering, so it covers "ack and reply". Two cases for us,
each activity a stored turn and a card in reply: ``answer``, a manager's click on "yes" in
a session's card (the next question comes back), and ``coach``, a manager's typed
``coach <rep>`` (a session started). Every user has installed the app first (unmeasured).
Prints p50 / p99 latency, activities per second and the server process's CPU milliseconds
per activity per case and round, then the medians, and per case the activities sent to us
against the transition-log rows written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
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


def connector(conn: Any) -> None:
    """The fake Bot Connector, in this process of its own, with a ``GET /received`` of the
    activities it got, until the bench says it is done."""
    import logging

    from bench.bench_dispatch import keep_frozen
    from tests.teams.fake_connector import FakeConnector

    async def main() -> None:
        fake = await FakeConnector(checking=False).start()

        async def received(_request: web.Request) -> web.Response:
            return web.json_response({"received": len(fake.sent)})

        counter = web.Application()
        counter.router.add_get("/received", received)
        conn.send((fake.url, await _site(counter)))
        freezing = asyncio.ensure_future(keep_frozen())
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        freezing.cancel()
        await fake.close()

    logging.disable(logging.WARNING)
    asyncio.run(main())


def serve(conn: Any, db_url: str, managers: int, profile: str | None) -> None:
    """Both apps in this process; with ``profile``, a cProfile of
    CPU time (not wall time: a loaded machine preempts the process) while requests are
    served, not during the setup."""
    if profile is None:
        asyncio.run(_serve(conn, db_url, managers, None))
        return
    import cProfile

    prof = cProfile.Profile(time.process_time)
    asyncio.run(_serve(conn, db_url, managers, prof))
    prof.dump_stats(profile)


async def _serve(conn: Any, db_url: str, managers: int, prof: Any) -> None:
    import logging

    from bot.bootstrap import bootstrap
    from bot.clock import SystemClock
    from bot.server import DELIVERY_DELAY, make_web_app
    from bot.settings import Settings
    from bot.teams.app import build_teams
    logging.disable(logging.WARNING)
    app = bootstrap(Settings(coach_env="test", database_url=db_url, teams_tenant_id=TENANT),
                    SystemClock())
    setup(app, managers)
    teams = build_teams(app, delivery_delay=DELIVERY_DELAY)  # as coach serve does

    async def stats(_request: web.Request) -> web.Response:
        """The server's CPU seconds so far (once our work after the answers is done) and
        the transition-log rows."""
        await teams.gateway.idle()
        cpu = time.process_time()
        stored = await teams.gateway.database.run(_stored, app)
        return web.json_response({"cpu": cpu, "stored": stored})

    stats_app = web.Application()
    stats_app.router.add_get("/stats", stats)
    ours = await _site(make_web_app(app, teams, delivery_every=None))
    bare = await _site(echo_bot())
    conn.send((await _site(stats_app), {"echo bot": bare, "smOS Coach": ours}))
    if prof is not None:
        prof.enable()
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    await teams.gateway.idle()
    if prof is not None:
        prof.disable()
    conn.send("stopped")
    teams.gateway.close()
    app.close()


def _stored(app: Any) -> int:
    """Rows in the transition log: one per stored turn (or more for a session start)."""
    from sqlalchemy import func, select

    from storage.models import TransitionLog

    with app.sessions() as db:
        return int(db.scalar(select(func.count(TransitionLog.id))) or 0)


def activity(kind: str, n: int, service_url: str) -> bytes:
    """Manager ``n``'s activity of this ``kind``: ``answer`` (a click on "yes"), ``coach``
    (typed) or ``install`` (the app added to their personal scope)."""
    said: dict[str, Any] = {
        "answer": {"type": "message", "replyToId": f"card-{n}",
                   "value": {"coach": "choose", "choice": "yes", "step": "rep_aligned",
                             "label": "Yes", "question": "Does the rep agree?"}},
        "coach": {"type": "message", "text": f"coach r{n}@bench.example"},
        "install": {"type": "installationUpdate", "action": "add"},
    }[kind]
    return json.dumps({
        "id": f"{kind}-{n}", "channelId": "msteams", "serviceUrl": service_url, **said,
        "from": {"id": f"29:m{n}", "aadObjectId": f"aad-m{n}", "name": f"Manager {n}"},
        "conversation": {"id": f"a:m{n}", "conversationType": "personal", "tenantId": TENANT},
        "recipient": {"id": "28:bench-bot", "name": "Coach"},
        "channelData": {"tenant": {"id": TENANT}}}).encode()


class Ports(NamedTuple):
    stats: int  # the server's GET /stats
    apps: dict[str, int]
    received: int  # the fake connector's GET /received


class Stats(NamedTuple):
    cpu: float  # the server process's CPU seconds so far
    stored: int  # transition-log rows
    received: int  # activities the fake connector received, from both apps


async def _stats(session: aiohttp.ClientSession, ports: Ports) -> Stats:
    async with session.get(f"http://127.0.0.1:{ports.stats}/stats") as response:
        server = await response.json()
    async with session.get(f"http://127.0.0.1:{ports.received}/received") as response:
        fake = await response.json()
    return Stats(float(server["cpu"]), int(server["stored"]), int(fake["received"]))


class Load(NamedTuple):
    latencies: list[float]  # ms per activity, until its HTTP answer
    rate: float  # activities per second
    cpu: float  # the server's CPU ms per activity
    stored: int  # transition-log rows written meanwhile
    received: int  # activities the connector received meanwhile


async def load(ports: Ports, app: str, bodies: list[bytes], concurrency: int) -> Load:
    """POST every body to ``app`` with ``concurrency`` requests in flight."""
    url = f"http://127.0.0.1:{ports.apps[app]}/api/messages"
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
        before = await _stats(s, ports)

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
        after = await _stats(s, ports)
    return Load(latencies, len(bodies) / elapsed, (after.cpu - before.cpu) * 1000 / len(bodies),
                after.stored - before.stored, after.received - before.received)


class Result(NamedTuple):
    round: int
    kind: str
    concurrency: int
    app: str
    measured: Load
    sent: int  # activities sent to the app in this case, warm-up included
    stored: int  # transition-log rows written meanwhile, warm-up included


async def run(ports: Ports, service_url: str, requests: int, rounds: int,
              cases: tuple[tuple[str, int], ...]) -> list[Result]:
    """Each round runs every case against the echo bot, then us, with the same users
    (fresh ones each case: every activity of ours starts a session or answers one). Every
    user has installed the app first, as a user chatting with the bot has: Teams sent us
    their ``installationUpdate``, so we hold their chat's reference, as after the earlier
    steps of their session (a chat's first activity in a process stores it in its turn)."""
    results: list[Result] = []
    half = managers_per_kind(requests, rounds)
    await load(ports, APPS[1], [activity("install", n, service_url) for n in range(2 * half)],
               20)
    users = {"answer": iter(range(half)), "coach": iter(range(half, 2 * half))}
    for round_ in range(1, rounds + 1):
        for kind, concurrency in cases:
            bodies = [activity(kind, next(users[kind]), service_url)
                      for _ in range(WARMUP + requests)]
            for app in APPS:
                warm = await load(ports, app, bodies[:WARMUP], concurrency)
                measured = await load(ports, app, bodies[WARMUP:], concurrency)
                results.append(Result(round_, kind, concurrency, app, measured, len(bodies),
                                      warm.stored + measured.stored))
    return results


def managers_per_kind(requests: int, rounds: int) -> int:
    return 2 * (WARMUP + requests) * rounds


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_teams")
    parser.add_argument("--requests", type=int, default=200, help="measured activities per case")
    parser.add_argument("--rounds", type=int, default=3, help="repeat every case; the summary "
                        "gives medians (this machine's speed drifts)")
    parser.add_argument("--case", choices=["answer", "coach"], action="append",
                        help="only these cases (default: both)")
    parser.add_argument("--profile", metavar="FILE", help="write the server's cProfile here")
    parser.add_argument("--database-url", metavar="URL",
                        help="a PostgreSQL admin URL: the run uses a scratch database created "
                             "and dropped there (default: a SQLite file)")
    args = parser.parse_args()
    if args.database_url:
        from bench.bench_turns import with_pg_database

        with_pg_database(args.database_url, lambda url: measure(args, url))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            measure(args, f"sqlite:///{Path(tmp) / 'bench.db'}")
    return 0


def measure(args: argparse.Namespace, db_url: str) -> None:
    managers = 2 * managers_per_kind(args.requests, args.rounds)
    load_before = _load_average()
    ctx = multiprocessing.get_context("spawn")
    to_connector, connector_end = ctx.Pipe()
    fake = ctx.Process(target=connector, args=(connector_end,))
    fake.start()
    service_url, received = to_connector.recv()
    end, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(child, db_url, managers, args.profile))
    server.start()
    stats, apps = end.recv()
    cases = tuple(c for c in CASES if not args.case or c[0] in args.case)
    results = asyncio.run(run(Ports(stats, apps, received), service_url, args.requests,
                              args.rounds, cases))
    end.send("done")
    end.recv()
    server.join(timeout=60)
    to_connector.send("done")
    fake.join(timeout=60)
    report(args, results, f"{load_before} before, {_load_average()} after")


def report(args: argparse.Namespace, results: list[Result], load: str) -> None:
    database = "PostgreSQL (scratch database)" if args.database_url else "SQLite file"
    print(f"Machine: {describe()}; load average (1, 5, 15 min) {load}")
    print(f"Database: {database}; {args.requests} measured activities per case after {WARMUP} "
          f"warm-up, {args.rounds} rounds. cpu ms: the server process's CPU time per "
          f"activity (the fake connector runs in a process of its own)")
    header = (f"{'case':<8}{'conc':>5}  {'app':<11}{'p50 ms':>8}{'p99 ms':>8}"
              f"{'activities/s':>16}{'cpu ms':>8}")
    for round_ in range(1, args.rounds + 1):
        print(f"\nRound {round_}\n{header}")
        bare = 0.0
        for r in results:
            if r.round != round_:
                continue
            m = r.measured
            bare = m.rate if r.app == APPS[0] else bare
            rate = f"{m.rate:.0f}" + ("" if r.app == APPS[0] else f" ({m.rate / bare:.0%})")
            print(f"{r.kind:<8}{r.concurrency:>5}  {r.app:<11}"
                  f"{percentile(m.latencies, 50):>8.2f}{percentile(m.latencies, 99):>8.2f}"
                  f"{rate:>16}{m.cpu:>8.2f}")
    print(f"\nMedians over {args.rounds} rounds (ratios: the median of the rounds' own)\n"
          f"{header}{'p50 ratio':>11}")
    for kind, concurrency in dict.fromkeys((r.kind, r.concurrency) for r in results):
        by_app = {app: [r.measured for r in results if (r.kind, r.concurrency, r.app) ==
                        (kind, concurrency, app)] for app in APPS}
        for app in APPS:
            mine = by_app[app]
            p50 = median(percentile(m.latencies, 50) for m in mine)
            p99 = median(percentile(m.latencies, 99) for m in mine)
            rate = f"{median(m.rate for m in mine):.0f}"
            ratio = ""
            if app != APPS[0]:
                pairs = list(zip(by_app[APPS[0]], mine, strict=True))
                rate += f" ({median(o.rate / b.rate for b, o in pairs):.0%})"
                slower = median(percentile(o.latencies, 50) / percentile(b.latencies, 50)
                                for b, o in pairs)
                ratio = f"{slower:.2f}x"
            cpu = median(m.cpu for m in mine)
            print(f"{kind:<8}{concurrency:>5}  {app:<11}{p50:>8.2f}{p99:>8.2f}{rate:>16}"
                  f"{cpu:>8.2f}{ratio:>11}")
    print("\nEvery turn stored? Activities sent to smOS Coach (warm-up included) and "
          "transition-log rows written meanwhile; activities the connector received from us")
    for kind, concurrency in dict.fromkeys((r.kind, r.concurrency) for r in results):
        ours = [r for r in results if (r.kind, r.concurrency, r.app) ==
                (kind, concurrency, APPS[1])]
        sent = sum(r.sent for r in ours)
        stored = sum(r.stored for r in ours)
        received = sum(r.measured.received for r in ours)
        measured = sum(len(r.measured.latencies) for r in ours)
        print(f"{kind:<8}{concurrency:>5}  sent {sent}, stored {stored}"
              f"{'' if stored == sent else '  (NOT one each)'}; connector received "
              f"{received} for the {measured} measured")


def _load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
