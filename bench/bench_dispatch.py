"""Dispatching due check-ins: our outbox worker + Slack notifier against a bare
slack_sdk ``chat_postMessage`` loop, to the same fake Slack API, in the same run.

    .venv/bin/python -m bench.bench_dispatch [--count N] [--rounds R] [--database-url PG_ADMIN_URL]

``N`` reps (bound to Slack users) each get a due check-in: an outbox row of kind
``slack`` with the scheduled payload of the operating rhythm (``"scheduled": {"kind":
"checkin", "at": ...}``, key ``checkin:<person>:<week>``), queued through
``storage.outbox.enqueue``, then the database analyzed (as a running one has
statistics; on PostgreSQL vacuumed too, as autovacuum does between two bursts). Our
side sends them as ``coach serve`` does: the ``OutboxWorker`` (lease → send → mark,
``RECIPIENTS_AT_ONCE`` recipients side by side) with the Slack notifier (the
recipient's Slack id looked up, the DM rendered, the key in the message metadata). The
bare side posts the same rendered DMs with a bare ``AsyncWebClient`` loop at the same
concurrency, with no database. The fake Slack API (tests/slack/fake_slack.py) runs in a
process of its own, so this process's peak RSS is the dispatcher's (and the bare
loop's); the fake keeps the calls it gets out of its garbage collector's reach
(``keep_frozen``). Printed: both rates (msgs/s), ours as a share of the bare loop's
(target ≥ 80 %), duplicates (messages per key beyond one; target 0), rows lost (not
sent), and peak RSS (target < 150 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import multiprocessing
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

import aiohttp
from aiohttp import web

from bench.machine import describe

TEAM = "T0TEAM"
NOW = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)  # Friday 15:00 in New York: check-ins due
TARGET_RATIO = 0.80
TARGET_RSS_MB = 150


# The fake Slack API, in its own process --------------------------------------------------


def fake_api(conn: Any) -> None:
    async def main() -> None:
        from tests.slack.fake_slack import FakeSlack

        fake = await FakeSlack(checking=False).start()

        async def stats(request: web.Request) -> web.Response:
            prefix = request.query.get("prefix", "")
            posts = [c for c in fake.of("chat.postMessage")
                     if _key(c.args).startswith(prefix)]
            keys = {_key(c.args) for c in posts}
            return web.json_response({"posts": len(posts), "keys": len(keys)})

        app = web.Application()
        app.router.add_get("/stats", stats)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        conn.send((fake.url, f"http://127.0.0.1:{port}/stats"))
        freezing = asyncio.ensure_future(keep_frozen())
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        freezing.cancel()
        await runner.cleanup()
        await fake.close()

    logging.disable(logging.WARNING)
    asyncio.run(main())


async def keep_frozen() -> None:
    """The fake keeps every call it gets (hundreds of thousands by the last round), and a
    full collection of the garbage collector walks them all: left alone, its pauses grew
    round by round and fell on whichever sender was running. Moved out of the collector's
    reach every half second, they cost nothing."""
    while True:
        await asyncio.sleep(0.5)
        gc.freeze()


def _key(args: dict[str, Any]) -> str:
    import json

    metadata = args.get("metadata") or {}
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return str((metadata.get("event_payload") or {}).get("key", ""))


async def fake_stats(url: str, prefix: str) -> dict[str, int]:
    async with aiohttp.ClientSession() as http, http.get(url, params={"prefix": prefix}) as r:
        return dict(await r.json())


# The org and its due check-ins ----------------------------------------------------------


def build(app: Any, count: int, first: int) -> list[tuple[str, str]]:
    """``count`` reps bound to Slack users; their (email, Slack id)."""
    from storage.models import DEFAULT_ORG, Person

    reps = [(f"rep{n}@dispatch.example", f"U{n:08d}") for n in range(first, first + count)]
    with app.engine.begin() as conn:
        for start in range(0, count, 1000):  # not 10,000 at once: this process's peak RSS
            conn.execute(Person.__table__.insert(), [  # is the dispatcher's, not the setup's
                {"org_id": DEFAULT_ORG, "email": email, "name": f"Rep {n}", "role": "rep",
                 "timezone": "America/New_York", "slack_user_id": user, "active": True,
                 "created_at": NOW, "updated_at": NOW}
                for n, (email, user) in enumerate(reps[start:start + 1000], first + start)])
    return reps


def queue_checkins(app: Any, reps: list[tuple[str, str]], week: str) -> None:
    """Each rep's due check-in, as the rhythm queues it: one keyed outbox row."""
    from sqlalchemy import select

    from bot.clock import zone
    from flows.messages import Message, message_to_json
    from storage import outbox
    from storage.models import Person

    message = message_to_json(Message("Hi, time for your weekly check-in. It takes about "
                                      "two minutes.", flow="checkin"))
    at = NOW.astimezone(zone("America/New_York")).isoformat()
    emails = {email for email, _ in reps}
    with app.engine.begin() as conn:
        ids = {email: pid for pid, email in conn.execute(select(Person.id, Person.email))
               if email in emails}
        for email, _ in reps:
            outbox.enqueue(conn, key=f"checkin:{ids[email]}:{week}", kind="slack",
                           target=email, now=NOW, payload={
                               "tenant": TEAM, "message": message,
                               "scheduled": {"kind": "checkin", "at": at}})
    # Statistics, as a database that has been running has them (autovacuum, PRAGMA
    # optimize): without them PostgreSQL reads every person of the org to find a lease's 200.
    # On PostgreSQL the earlier rounds' dead row versions vacuumed too, as autovacuum does
    # between two bursts (0021_outbox_vacuum): left there, a round's leases walked the
    # previous rounds' in ix_outbox_due, and the planner turned to the primary key.
    vacuum = "VACUUM ANALYZE" if app.engine.dialect.name == "postgresql" else "ANALYZE"
    with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(vacuum)


def sent_rows(app: Any) -> int:
    """Check-in rows marked sent, every round so far."""
    from sqlalchemy import func, select

    from storage.models import Outbox

    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Outbox).where(
            Outbox.status == "sent", Outbox.idempotency_key.like("checkin:%"))).scalar() or 0)


# The two senders --------------------------------------------------------------------------


async def ours(app: Any, count: int) -> float:
    """Seconds for the outbox worker + Slack notifier to send every due row."""
    from bot.slack.app import build_slack

    slack = build_slack(app)
    life = slack.lifetime(None)  # type: ignore[arg-type]
    await anext(life)
    try:
        started = time.perf_counter()
        sent = await slack.gateway.outbox.run_once()
        elapsed = time.perf_counter() - started
    finally:
        await anext(life, None)
        slack.gateway.close()
    assert sent == count, f"sent {sent} of {count}"
    return elapsed


async def bare(api_url: str, reps: list[tuple[str, str]], prefix: str) -> float:
    """Seconds for a bare AsyncWebClient to post the same DMs, as many at once."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.channels.outbox import RECIPIENTS_AT_ONCE
    from bot.slack import render
    from bot.slack.notifier import outbox_metadata
    from flows.messages import Message

    text, blocks = render.dm(Message("Hi, time for your weekly check-in. It takes about "
                                     "two minutes.", flow="checkin"))
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(token="xoxb-bench", base_url=api_url, session=session)
        queue = list(enumerate(reps))

        async def one_lane() -> None:
            while queue:
                n, (_, user) = queue.pop()
                await client.chat_postMessage(channel=user, text=text, blocks=blocks,
                                              metadata=outbox_metadata(f"{prefix}{n}"))

        started = time.perf_counter()
        await asyncio.gather(*(one_lane() for _ in range(RECIPIENTS_AT_ONCE)))
        return time.perf_counter() - started


# The run ----------------------------------------------------------------------------------


def run(count: int, rounds: int, database_url: str | None) -> dict[str, float]:
    from bot.bootstrap import bootstrap
    from bot.clock import ManualClock
    from bot.settings import Settings

    parent, child = multiprocessing.get_context("spawn").Pipe()
    fake = multiprocessing.get_context("spawn").Process(target=fake_api, args=(child,))
    fake.start()
    api_url, stats_url = parent.recv()
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'dispatch.db'}"
        app = bootstrap(Settings(coach_env="test", database_url=url, slack_bot_token="xoxb-bench",
                                 slack_signing_secret="bench", slack_api_url=api_url),
                        ManualClock(NOW))
        ours_rates, bare_rates = [], []
        duplicates = lost = 0
        try:
            for round_ in range(rounds):
                week = (NOW.date() + timedelta(weeks=round_)).isoformat()
                reps = build(app, count, 1 + round_ * count)
                queue_checkins(app, reps, week)
                # alternate who goes first: the shared machine's load drifts
                if round_ % 2 == 0:
                    bare_seconds = asyncio.run(bare(api_url, reps, f"bare:{round_}:"))
                    ours_seconds = asyncio.run(ours(app, count))
                else:
                    ours_seconds = asyncio.run(ours(app, count))
                    bare_seconds = asyncio.run(bare(api_url, reps, f"bare:{round_}:"))
                seen = asyncio.run(fake_stats(stats_url, "checkin:"))
                duplicates = seen["posts"] - seen["keys"]
                lost = count * (round_ + 1) - sent_rows(app)
                bare_rates.append(count / bare_seconds)
                ours_rates.append(count / ours_seconds)
                print(f"round {round_ + 1}: ours {ours_rates[-1]:7.0f} msgs/s   bare "
                      f"{bare_rates[-1]:7.0f} msgs/s   ratio {ours_rates[-1] / bare_rates[-1]:.0%}",
                      flush=True)
        finally:
            app.close()
            parent.send("stop")
            fake.join(timeout=30)
    return {"ours": median(ours_rates), "bare": median(bare_rates),
            "duplicates": duplicates, "lost": lost,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    logging.disable(logging.WARNING)  # here, not in run(): the tests call run() in-process
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200,
                        help="due check-ins to dispatch per round (default 200; the issue's "
                             "figure: 10000)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds; medians are printed")
    parser.add_argument("--database-url",
                        help="a PostgreSQL admin URL: the run uses a scratch database created "
                             "and dropped there (default: a SQLite file in a temporary folder)")
    args = parser.parse_args()
    if args.count < 1 or args.rounds < 1:
        parser.error("--count and --rounds must be at least 1")
    print(describe(), flush=True)
    if args.database_url:
        from bench.bench_turns import with_pg_database

        found: list[dict[str, float]] = []
        with_pg_database(args.database_url,
                         lambda url: found.append(run(args.count, args.rounds, url)))
        figures = found[0]
    else:
        figures = run(args.count, args.rounds, None)
    ratio = figures["ours"] / figures["bare"]
    print(f"{args.count:,} due check-ins to the fake Slack API "
          f"({'PostgreSQL' if args.database_url else 'SQLite'}):")
    print(f"  outbox worker + Slack notifier  {figures['ours']:8.0f} msgs/s")
    print(f"  bare AsyncWebClient loop        {figures['bare']:8.0f} msgs/s")
    print(f"  ratio {ratio:.0%} (target ≥ {TARGET_RATIO:.0%})   duplicates "
          f"{figures['duplicates']:.0f} (target 0)   lost {figures['lost']:.0f}   peak RSS "
          f"{figures['rss_mb']:.0f} MB (target < {TARGET_RSS_MB} MB)")


if __name__ == "__main__":
    main()
