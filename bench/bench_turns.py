"""Engine turns (load state → flow step → persist) against a bare "read one row, write one
row" loop on the same database, SQLite and PostgreSQL.

    .venv/bin/python -m bench.bench_turns [--sessions N] [--pg URL]

Prints p50 / p99 per turn and the ratio to the bare loop.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Table, bindparam, select, text

from bench.machine import describe, percentile
from bot.bootstrap import App, bootstrap
from bot.cli.demo_org import MANAGER, load_demo
from bot.clock import ManualClock
from bot.console.chat import who
from bot.settings import Settings
from flows.messages import Choose, Input, Say, Submit
from storage.db import make_engine
from storage.models import Conversation

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
CHART = ["yes", "yes", "yes", "yes", "yes", "yes", "no", "no", "no", "yes", "yes"]


def session_inputs(rep: str) -> list[Input]:
    return [
        Say(f"/coach {rep}"),
        Submit({"purpose": "Lift win rate", "objectives": "One behaviour",
                "value_to_rep": "Commission"}),
        Choose("yes"), Choose("other"),
        Submit({"gap_statement": "14% vs 25%", "rep_view": "r", "manager_view": "m"}),
        Choose("prospecting"), Choose("yes"),
        *[Choose(a) for a in CHART],
        Submit({"behaviour": "Open questions first", "goal": "Five discovery questions"}),
        Submit({"description": "Role-play", "owner": "rep", "due": "2026-12-08"}),
        Choose("done"),
        Submit({"metric": "win rate", "baseline": "14", "target": "20",
                "review_date": "2026-12-15"}),
        Choose("coaching"), Choose("yes"), Choose("later"),
    ]


def engine_turns(app: App, sessions: int, starts: list[float] | None = None) -> list[float]:
    """Every turn of ``sessions`` full sessions; ``starts`` also collects the /coach turns."""
    samples: list[float] = []
    me = who(MANAGER)
    for i in range(sessions):
        for given in session_inputs(["alice", "bob", "carmen"][i % 3]):
            t0 = time.perf_counter()
            app.runner.handle(me, given)
            samples.append(time.perf_counter() - t0)
            if starts is not None and isinstance(given, Say):
                starts.append(samples[-1])
        _check_ended(app)
    return samples


def _check_ended(app: App) -> None:
    """A session the script no longer fits (a flow changed) would measure retries: stop."""
    table = cast(Table, Conversation.__table__)
    with app.sessions() as db:
        open_steps = db.execute(select(table.c.flow, table.c.state["step"])
                                .where(table.c.status != "ended")).all()
    if open_steps:
        raise RuntimeError(f"the scripted session did not end: {open_steps}")


def bare_loop(app: App, turns: int) -> list[float]:
    """The floor: one transaction that reads one row and writes one row, with table-level
    statements built once (the cheapest SQLAlchemy path, as the runner's hot path uses)."""
    table = cast(Table, Conversation.__table__)
    read = select(table.c.state, table.c.version).where(table.c.id == bindparam("cid"))
    write = (table.update().where(table.c.id == bindparam("cid"))
             .values(state=bindparam("state"), version=bindparam("next_version")))
    samples: list[float] = []
    with app.sessions.begin() as db:
        row_id = db.scalar(select(table.c.id).limit(1))
    for i in range(turns):
        t0 = time.perf_counter()
        with app.sessions.begin() as db:
            row = db.execute(read, {"cid": row_id}).one()
            db.execute(write, {"cid": row_id, "state": {**row.state, "n": i},
                               "next_version": row.version + 1})
        samples.append(time.perf_counter() - t0)
    return samples


def run(label: str, url: str, sessions: int) -> None:
    app = bootstrap(Settings(coach_env="test", database_url=url), ManualClock(START))
    with app.sessions.begin() as db:
        load_demo(db, START.date(), START)
    engine_turns(app, 3)  # warm up: caches, the first session rows
    starts: list[float] = []
    turns = engine_turns(app, sessions, starts)
    bare = bare_loop(app, len(turns))
    app.close()
    report(label, turns, bare, starts)


def report(label: str, turns: list[float], bare: list[float], starts: list[float]) -> None:
    ms = 1000.0
    p50, p99 = percentile(turns, 50) * ms, percentile(turns, 99) * ms
    b50, b99 = percentile(bare, 50) * ms, percentile(bare, 99) * ms
    s50 = percentile(starts, 50) * ms
    print(f"{label:<11} engine turn  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  ({len(turns)} turns)")
    print(f"{'':<11} bare r/w     p50 {b50:6.2f} ms  p99 {b99:6.2f} ms")
    print(f"{'':<11} ratio        p50 {p50 / b50:5.2f}x    p99 {p99 / b99:5.2f}x")
    print(f"{'':<11} overhead     p50 {(p50 - b50) / b50:5.2f}x of the bare loop "
          "(turn minus bare, divided by bare)")
    print(f"{'':<11} /coach turns p50 {s50:6.2f} ms  (3 reads, including the context card, "
          f"and 3 writes; {len(starts)} of the turns)")


def with_pg_database(admin_url: str, body: Callable[[str], None]) -> None:
    name = f"coach_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        body(admin.url.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=40, help="full SLED sessions per DB")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="an admin URL; a scratch database is created and dropped")
    args = parser.parse_args()
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.sessions)
    with_pg_database(args.pg, lambda url: run("PostgreSQL", url, args.sessions))


if __name__ == "__main__":
    main()
