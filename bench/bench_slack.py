"""Slack ack latency and throughput: our app against a bare Bolt ``AsyncApp``.

    .venv/bin/python -m bench.bench_slack [--requests N] [--rounds R] [--threaded]

A server process hosts our ``coach serve`` Slack endpoint (on a SQLite file), a
bare Bolt app (default runner, a handler that acks and opens a one-block modal)
and the fake Slack Web API both call (loopback; ``--separate-api`` moves it to a
process of its own). This process sends signed ``/coach`` commands and button
clicks at concurrency 1 and 20 and prints, per case and round, ack latency p50 /
p99, acks per second, requests per second until every resulting view reached the
fake API (for us: every turn persisted) and the server's CPU time per request;
then the medians over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any, NamedTuple
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select

from bench.machine import describe, percentile

SECRET = "bench-signing-secret"
TEAM = "T0TEAM"
CASES = (("/coach", 1), ("/coach", 20), ("click", 1), ("click", 20))
WARMUP = 30


@dataclass
class Ports:
    fake: int
    ours: int
    bare: int


# Server process -------------------------------------------------------------------------


def fake_api(conn: Any, managers: int) -> None:
    """The fake Slack Web API in a process of its own (``--separate-api``)."""

    async def main() -> None:
        fake, stats = await _start_fake(managers)
        conn.send((fake.url, stats))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        await fake.close()

    asyncio.run(main())


async def _start_fake(managers: int) -> tuple[Any, int]:
    from tests.slack.fake_slack import FakeSlack

    fake = await FakeSlack(checking=False).start()
    for n in range(managers):  # the modals the click cases answer in
        fake.views[f"VB{n}"] = {"id": f"VB{n}", "hash": "h", "type": "modal"}

    async def views(request: web.Request) -> web.Response:
        # Long poll: answers once the fake API has seen that many views, so waiting for
        # the work after the ack costs the measured process nothing.
        return web.json_response(
            {"calls": await fake.wait_views(int(request.query.get("at_least", 0))),
             "cpu": time.process_time()})

    stats = web.Application()
    stats.router.add_get("/stats", views)
    return fake, await _site(stats)


def serve(conn: Any, db_url: str, managers: int, threaded: bool, profile: str | None,
          api: tuple[str, int] | None) -> None:
    """Our app and the bare Bolt app, each on its own port, in one process (with the
    fake API too, unless it runs in a process of its own)."""
    if profile is None:
        asyncio.run(_serve(conn, db_url, managers, threaded, api, None))
        return
    import cProfile

    # CPU time, not wall time (a loaded machine preempts the process), while requests are
    # served, not during the setup
    prof = cProfile.Profile(time.process_time)
    asyncio.run(_serve(conn, db_url, managers, threaded, api, prof))
    prof.dump_stats(profile)


async def _serve(conn: Any, db_url: str, managers: int, threaded: bool,
                 api: tuple[str, int] | None, prof: Any) -> None:
    import logging

    from bot.bootstrap import bootstrap
    from bot.clock import SystemClock
    from bot.server import DELIVERY_DELAY, make_web_app
    from bot.settings import Settings
    from bot.slack.app import build_slack

    logging.disable(logging.WARNING)
    fake = None
    if api is None:
        fake, stats = await _start_fake(managers)
        api = (fake.url, stats)
    app = bootstrap(Settings(coach_env="test", database_url=db_url,
                             slack_bot_token="xoxb-bench", slack_signing_secret=SECRET,
                             slack_api_url=api[0]), SystemClock())
    setup(app, managers)
    slack = build_slack(app, threaded=threaded or None, delivery_delay=DELIVERY_DELAY)
    ours = await _site(make_web_app(app, slack, delivery_every=None))
    bare = await _site(bare_bolt(api[0]))
    conn.send((Ports(api[1], ours, bare), _logged(app)))
    if prof is not None:
        prof.enable()
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    await slack.handlers.background.idle()
    if prof is not None:
        prof.disable()
    conn.send(_logged(app))
    if fake is not None:
        await fake.close()


def _logged(app: Any) -> int:
    """Rows in the transition log: one per persisted turn (or more for a session start)."""
    from storage.models import TransitionLog

    with app.sessions() as db:
        return int(db.scalar(select(func.count(TransitionLog.id))) or 0)


async def _site(web_app: web.Application) -> int:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]


def setup(app: Any, managers: int) -> None:
    """``managers`` managers with one rep each; half of them mid-session at a yes/no step."""
    from bot.channels.who import Who
    from flows.messages import Say, Submit
    from storage import tenancy, views
    from storage.models import DEFAULT_ORG, Person

    now = datetime.now(UTC)
    with app.sessions.begin() as db:
        tenancy.link(db, DEFAULT_ORG, "slack", TEAM, now)
        for n in range(managers):
            boss = Person(org_id=DEFAULT_ORG, email=f"m{n}@bench.example",
                          name=f"Manager {n}", role="manager", timezone="UTC",
                          slack_user_id=f"UM{n}", created_at=now, updated_at=now)
            db.add(boss)
            db.flush()
            db.add(Person(org_id=DEFAULT_ORG, email=f"r{n}@bench.example",
                          name=f"Rep {n}", role="rep", manager_id=boss.id, timezone="UTC",
                          slack_user_id=f"UR{n}", created_at=now, updated_at=now))
            # The click case's modal (click_body) is this manager's: a button may update only
            # its own user's modal, so the bench records the owner as opening it would.
            views.remember(db, f"VB{n}", TEAM, f"UM{n}", now)
    for n in range(managers // 2, managers):
        who = Who("slack", TEAM, f"UM{n}")
        app.runner.handle(who, Say(f"/coach r{n}@bench.example"))
        app.runner.handle(who, Submit({"purpose": "p", "objectives": "o", "value_to_rep": "v"}),
                          expect_step="set_stage")


def bare_bolt(api_url: str) -> web.Application:
    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=api_url),
                    signing_secret=SECRET)
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Bare"},
             "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hello"}}]}

    @bolt.command("/coach")
    async def command(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    @bolt.action(re.compile(r"^coach\."))
    async def click(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    return web_app


# Load generator ---------------------------------------------------------------------------


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    return {"X-Slack-Request-Timestamp": ts, "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts,
                                                                              body=body)}


def command_body(n: int) -> str:
    return urlencode({"team_id": TEAM, "user_id": f"UM{n}", "command": "/coach",
                      "text": f"r{n}@bench.example", "trigger_id": f"t{n}",
                      "channel_id": "C1", "response_url": "http://127.0.0.1:9/r",
                      "api_app_id": "A1"})


def click_body(n: int) -> str:
    payload = {
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": f"UM{n}", "team_id": TEAM},
        "api_app_id": "A1", "trigger_id": f"t{n}",
        "container": {"type": "view", "view_id": f"VB{n}"},
        "view": {"id": f"VB{n}", "hash": "", "type": "modal", "callback_id": "coach.step",
                 "private_metadata": json.dumps({"f": "sled", "s": "rep_aligned", "n": 1})},
        "actions": [{"type": "button", "action_id": "coach.choose.0", "block_id": "choose.x",
                     "value": json.dumps({"s": "rep_aligned", "c": "yes"}),
                     "text": {"type": "plain_text", "text": "Yes"}, "action_ts": "1"}]}
    return urlencode({"payload": json.dumps(payload)})


async def load(port: int, stats: int, bodies: list[str], concurrency: int
               ) -> tuple[list[float], float, float, float]:
    """Send every body; return ack latencies (ms), acks/s, requests/s until the fake
    API saw every resulting view (the work after the ack done, each turn persisted), and
    the server process's CPU milliseconds per request."""
    url = f"http://127.0.0.1:{port}/slack/events"
    queue: asyncio.Queue[str] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    prepared = {body: signed(body) for body in bodies}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        before, cpu_before = await _views(session, stats, 0)

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                start = time.perf_counter()
                async with session.post(url, data=body.encode(), headers=prepared[body]) as r:
                    await r.read()
                    assert r.status == 200, r.status
                latencies.append((time.perf_counter() - start) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        acked = time.perf_counter() - start
        _, cpu_after = await _views(session, stats, before + len(bodies))
        elapsed = time.perf_counter() - start
    return latencies, len(bodies) / acked, len(bodies) / elapsed, (
        (cpu_after - cpu_before) * 1000 / len(bodies))


async def _views(session: aiohttp.ClientSession, stats: int, at_least: int
                 ) -> tuple[int, float]:
    """Views the fake API has seen (waiting for ``at_least``), and the CPU seconds the
    server process has used so far (valid while the fake API runs in it)."""
    async with session.get(f"http://127.0.0.1:{stats}/stats",
                           params={"at_least": str(at_least)}) as r:
        answer = await r.json()
        return int(answer["calls"]), float(answer["cpu"])


class Result(NamedTuple):
    round: int
    kind: str  # /coach | click
    concurrency: int
    app: str  # bare Bolt | smOS Coach
    latencies: list[float]  # ack latency per request, ms
    acks: float  # responses per second
    done: float  # requests per second until every view reached the API
    cpu: float  # server CPU ms per request


async def run(ports: Ports, requests: int, cases: tuple[tuple[str, int], ...], rounds: int
              ) -> list[Result]:
    """Each round runs every case against bare Bolt, then against our app (same users)."""
    results: list[Result] = []
    commands = iter(range(0, 10**6))
    clicks = iter(range(requests_per_half(requests, rounds), 10**6))
    for round_ in range(1, rounds + 1):
        for kind, concurrency in cases:
            source = commands if kind == "/coach" else clicks
            make = command_body if kind == "/coach" else click_body
            users = [next(source) for _ in range(WARMUP + requests)]  # fresh ones for us
            bodies = [make(n) for n in users]
            for who, port in (("bare Bolt", ports.bare), ("smOS Coach", ports.ours)):
                await load(port, ports.fake, bodies[:WARMUP], concurrency)
                latencies, acks, done, cpu = await load(port, ports.fake, bodies[WARMUP:],
                                                        concurrency)
                results.append(Result(round_, kind, concurrency, who, latencies, acks, done,
                                      cpu))
    return results


def requests_per_half(requests: int, rounds: int) -> int:
    """Managers the /coach cases use (two cases a round); the click cases use as many."""
    return 2 * (WARMUP + requests) * rounds


def _rate(value: float, bare: float, who: str) -> str:
    return f"{value:.0f}" if who == "bare Bolt" else f"{value:.0f} ({value / bare:.0%})"


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_slack")
    parser.add_argument("--requests", type=int, default=400, help="measured requests per case")
    parser.add_argument("--rounds", type=int, default=3,
                        help="repeat every case this many times; the summary gives medians "
                             "(this machine's speed drifts from minute to minute)")
    parser.add_argument("--threaded", action="store_true",
                        help="run SQLite turns in a database thread (as PostgreSQL does) "
                             "instead of on the event loop")
    parser.add_argument("--profile", metavar="FILE", help="write the server's cProfile here")
    parser.add_argument("--separate-api", action="store_true",
                        help="run the fake Web API in its own process (default: in the "
                             "server's, so three processes do not share two cores)")
    parser.add_argument("--case", choices=["/coach", "click"], action="append",
                        help="only these cases (default: both)")
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
    managers = 2 * requests_per_half(args.requests, args.rounds)
    ctx = multiprocessing.get_context("spawn")
    api = None
    if args.separate_api:
        api_end, api_child = ctx.Pipe()
        api_process = ctx.Process(target=fake_api, args=(api_child, managers))
        api_process.start()
        api = api_end.recv()
    app_end, app_child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(app_child, db_url,
                                             managers, args.threaded, args.profile, api))
    server.start()
    ports, logs_before = app_end.recv()
    cases = tuple(c for c in CASES if not args.case or c[0] in args.case)
    results = asyncio.run(run(ports, args.requests, cases, args.rounds))
    app_end.send("done")
    logs_after = app_end.recv()
    server.join(timeout=30)
    if args.separate_api:
        api_end.send("done")
        api_process.join(timeout=30)
    report(args, results, logs_after - logs_before)


def report(args: argparse.Namespace, results: list[Result], logged: int) -> None:
    mode = "in a database thread" if args.threaded else "on the event loop"
    print(f"Machine: {describe()}")
    turns = len(results) // 2 * (args.requests + WARMUP)
    where = "its own process" if args.separate_api else "the server process"
    database = "PostgreSQL (scratch database)" if args.database_url else "SQLite file"
    print(f"Fake Web API in {where}. Database: {database}; turns run {mode}; "
          f"{args.requests} measured requests per case after {WARMUP} warm-up, "
          f"{args.rounds} rounds; {turns} turns sent to smOS Coach, transition log rows "
          f"written meanwhile: {logged}")
    print("acks/s: responses per second; done/s: requests per second until every view "
          "reached the API (for us, every turn persisted); % of bare Bolt in brackets")
    print("cpu ms: the server process's CPU time per request (with the fake API's share"
          + (")" if not args.separate_api else "; not measured with --separate-api)"))
    header = (f"{'case':<8}{'conc':>5}  {'app':<11}{'p50 ms':>8}{'p99 ms':>8}"
              f"{'acks/s':>14}{'done/s':>14}{'cpu ms':>8}")
    bare: dict[tuple[int, str, int], tuple[float, float]] = {}
    ratios: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for round_ in range(1, args.rounds + 1):
        print(f"\nRound {round_}\n{header}")
        for r, kind, concurrency, who, latencies, acks, done, cpu in results:
            if r != round_:
                continue
            if who == "bare Bolt":
                bare[(r, kind, concurrency)] = (acks, done)
            base = bare[(r, kind, concurrency)]
            if who != "bare Bolt":
                ratios.setdefault((kind, concurrency), []).append(
                    (acks / base[0], done / base[1]))
            print(f"{kind:<8}{concurrency:>5}  {who:<11}{percentile(latencies, 50):>8.2f}"
                  f"{percentile(latencies, 99):>8.2f}{_rate(acks, base[0], who):>14}"
                  f"{_rate(done, base[1], who):>14}{cpu:>8.2f}")
    print(f"\nMedians over {args.rounds} rounds (% of bare Bolt: the median of the "
          f"rounds' own ratios)\n{header}")
    for kind, concurrency in dict.fromkeys((r.kind, r.concurrency) for r in results):
        for who in ("bare Bolt", "smOS Coach"):
            mine = [r for r in results
                    if (r.kind, r.concurrency, r.app) == (kind, concurrency, who)]
            p50 = median(percentile(r.latencies, 50) for r in mine)
            p99 = median(percentile(r.latencies, 99) for r in mine)
            acks = median(r.acks for r in mine)
            done = median(r.done for r in mine)
            cpu = median(r.cpu for r in mine)
            if who == "bare Bolt":
                rates = f"{acks:>14.0f}{done:>14.0f}"
            else:
                acked = median(a for a, _ in ratios[(kind, concurrency)])
                finished = median(d for _, d in ratios[(kind, concurrency)])
                rates = (f"{f'{acks:.0f} ({acked:.0%})':>14}"
                         f"{f'{done:.0f} ({finished:.0%})':>14}")
            print(f"{kind:<8}{concurrency:>5}  {who:<11}{p50:>8.2f}{p99:>8.2f}{rates}"
                  f"{cpu:>8.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
