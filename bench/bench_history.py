"""Commands as the organisation's history grows: each at 0 %, 10 % and 100 % of the
history (bench/history.py), next to a bare primary-key read in the same run, on SQLite and
PostgreSQL.

    .venv/bin/python -m bench.bench_history [--reps N | --full] [--samples N] [--pg URL]
                                            [--only sqlite|postgresql]

The default (400 reps, ~1.1 M rows) runs in a few minutes on a small machine; ``--full``
is the issue's probe (10,000 reps, ~27 M rows: hours of loading). PostgreSQL runs in a
scratch database created and dropped here (never the one named in ``--pg``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, event, select

from bench.bench_turns import with_pg_database
from bench.history import (
    NOW,
    PLATFORM,
    TENANT,
    TODAY,
    Org,
    Scale,
    add_history,
    build_people,
    fix_sequences,
)
from bench.machine import describe, percentile
from bot.bootstrap import App, bootstrap
from bot.channels.who import Who
from bot.clock import ManualClock
from bot.services import home
from bot.settings import Settings
from flows.messages import Say
from storage import briefing, conversations
from storage.models import Person

STAGES = ((0.0, 0.0), (0.0, 0.1), (0.1, 1.0))  # history slices added before each round
SAMPLED = 16  # people the commands rotate over, spread across the org


class Counter:
    """Statements sent to the database (a before_cursor_execute listener)."""

    def __init__(self, engine: Engine) -> None:
        self.count, self.engine = 0, engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def commands(app: App, org: Org, to_cancel: list[Who]) -> dict[str, Callable[[int], object]]:
    """What each row of the report runs, given a sample number; a turn that starts a
    conversation leaves its speaker in ``to_cancel`` (cancelled untimed)."""
    step = max(1, len(org.reps) // SAMPLED)
    reps = list(range(0, len(org.reps), step))[:SAMPLED]
    people = cast(Table, Person.__table__)
    bare = select(people.c.name).where(people.c.id == bindparam("pid"))

    def rep(i: int) -> int:
        return reps[i % len(reps)]

    def coach_as(i: int) -> Who:
        return Who(PLATFORM, TENANT, org.email(org.manager_of(rep(i))))

    def bare_read(i: int) -> None:
        with app.engine.connect() as conn:
            conn.execute(bare, {"pid": org.reps[rep(i)]}).one()

    def first_query(i: int) -> None:
        with app.engine.connect() as conn:
            conversations.load_turn(conn, PLATFORM, TENANT, org.email(org.reps[rep(i)]))

    def card(i: int) -> None:
        with app.engine.connect() as conn:
            briefing.card(conn, org.reps[rep(i)], org.manager_of(rep(i)), TODAY)

    def home_of(person_of: Callable[[int], int]) -> Callable[[int], object]:
        def body(i: int) -> None:
            with app.sessions() as db:
                person = db.get(Person, person_of(i))
                assert person is not None
                home.load(db, person, NOW, app.playbook)
        return body

    return {
        "bare PK read": bare_read,
        "/coach turn": lambda i: _start(app, "/coach", org.email(org.reps[rep(i)]),
                                        coach_as(i), to_cancel),
        "/review turn": lambda i: _start(app, "/review", org.email(org.reps[rep(i)]),
                                         coach_as(i), to_cancel),
        "first query (load_turn)": first_query,
        "context card": card,
        "manager App Home": home_of(lambda i: org.manager_of(rep(i))),
        "leader App Home": home_of(lambda i: org.leader_of(rep(i))),
        "VP App Home": home_of(lambda i: org.vp),
    }


def _start(app: App, command: str, rep: str, me: Who, to_cancel: list[Who]) -> None:
    """Run ``command`` about the rep; it must start its conversation (else the bench would
    time a refusal)."""
    answer = app.runner.handle(me, Say(f"{command} {rep}"))
    text = answer[0].text if answer else ""
    if "There's no" in text or "couldn't" in text or "went wrong" in text:
        raise RuntimeError(f"{command} did not start: {text[:200]}")
    to_cancel.append(me)


def measure(app: App, org: Org, samples: int) -> dict[str, tuple[float, float, int]]:
    """p50 and p99 (ms) of each command, and the statements it sent (per run)."""
    counter = Counter(app.engine)
    to_cancel: list[Who] = []
    figures: dict[str, tuple[float, float, int]] = {}
    for name, body in commands(app, org, to_cancel).items():
        taken: list[float] = []
        statements = 0
        for i in range(samples + 1):
            before = counter.count
            t0 = time.perf_counter()
            body(i)
            elapsed = time.perf_counter() - t0
            statements = counter.count - before
            while to_cancel:
                app.runner.handle(to_cancel.pop(), Say("/cancel"))
            if i:  # the first is the warm-up
                taken.append(elapsed)
        figures[name] = (percentile(taken, 50) * 1000, percentile(taken, 99) * 1000, statements)
    counter.close()
    return figures


def run(label: str, url: str, scale: Scale, samples: int) -> None:
    app = bootstrap(Settings(coach_env="test", database_url=url), ManualClock(NOW))
    t0 = time.perf_counter()
    with app.engine.begin() as conn:
        org = build_people(conn, scale.reps)
        fix_sequences(conn)
    rows = 0
    results: list[tuple[str, dict[str, tuple[float, float, int]]]] = []
    for lo, hi in STAGES:
        if hi > lo:
            with app.engine.begin() as conn:
                rows += add_history(conn, org, scale, lo, hi)
                fix_sequences(conn)
            _analyze(app.engine)
        print(f"{label}: history {hi:.0%} ({rows:,} rows, loaded in "
              f"{time.perf_counter() - t0:.0f} s)", flush=True)
        results.append((f"{hi:.0%}", measure(app, org, samples)))
    app.close()
    report(label, scale, results)


def _analyze(engine: Engine) -> None:
    """What a database that has been running has: PostgreSQL's autovacuum statistics.
    (SQLite gets none unless the application asks: measured as the application runs.)"""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


def report(label: str, scale: Scale,
           results: list[tuple[str, dict[str, tuple[float, float, int]]]]) -> None:
    print(f"\n{label}: {scale.reps} reps; p50 / p99 in ms (statements per command)")
    stages = [stage for stage, _ in results]
    print(f"{'':<26}" + "".join(f"{s:>24}" for s in stages))
    for name in results[0][1]:
        cells = []
        for _, figures in results:
            p50, p99, statements = figures[name]
            cells.append(f"{p50:8.2f} / {p99:8.2f} ({statements:>3})")
        print(f"{name:<26}" + "".join(f"{c:>24}" for c in cells))
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=400, help="reps in the org (default 400)")
    parser.add_argument("--full", action="store_true", help="the issue's 10,000-rep org")
    parser.add_argument("--samples", type=int, default=30, help="runs of each command")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="an admin URL; a scratch database is created and dropped")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    scale = Scale(reps=10_000 if args.full else args.reps)
    print(f"machine: {describe()}")
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{Path(tmp) / 'history.db'}", scale, args.samples)
    if args.only != "sqlite":
        with_pg_database(args.pg, lambda url: run("PostgreSQL", url, scale, args.samples))


if __name__ == "__main__":
    main()
