"""The leader / VP App Home on a large org kept in a named PostgreSQL database: built once
(``--build``, the issue's full size by default: hours on a small machine), then measured
as often as needed against a bare primary-key read in the same run, with the plan of the
tree's figures (EXPLAIN ANALYZE: the row counts show how the cost scales).

    .venv/bin/python -m bench.bench_tree --database flat_history [--build --reps 10000]
                                         [--samples 30]

Never the database named ``test``. The org is bench/history.py's (ids from 1000: the VP
is 1000, leaders follow).
"""

from __future__ import annotations

import argparse
import time
from typing import Any, cast

from sqlalchemy import Table, bindparam, create_engine, event, select, text

from bench.bench_history import Counter
from bench.history import NOW, Scale, add_history, build_people, fix_sequences, org_of
from bench.machine import describe, percentile
from bot.bootstrap import bootstrap
from bot.clock import ManualClock
from bot.services import home
from bot.settings import Settings
from storage.migrate import upgrade
from storage.models import Person

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def url_of(database: str) -> str:
    if database == "test":
        raise SystemExit("never the database named test")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


def build(database: str, reps: int, *, fresh: bool, checkins: bool = True) -> None:
    """Load the org and its whole history into ``database``, 10 % first; ``fresh``: create
    it anew, else add the rest of the history to the 10 % loaded earlier (migrated to head);
    ``checkins=False``: the rest without check-ins, their conversations and logs."""
    if fresh:
        admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
        admin.dispose()
    engine = create_engine(url_of(database))
    upgrade(engine)
    scale, t0, rows = Scale(reps=reps), time.perf_counter(), 0
    if fresh:
        with engine.begin() as conn:
            org = build_people(conn, reps)
            fix_sequences(conn)
    else:
        org = org_of(reps)
    for lo, hi in ((0.0, 0.1), (0.1, 1.0)) if fresh else ((0.1, 1.0),):
        with engine.begin() as conn:
            rows += add_history(conn, org, scale, lo, hi, checkins=checkins or lo == 0.0)
            fix_sequences(conn)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        print(f"history {hi:.0%}: {rows:,} rows added, {time.perf_counter() - t0:.0f} s",
              flush=True)
    engine.dispose()


def measure(database: str, samples: int) -> None:
    app = bootstrap(Settings(coach_env="test", database_url=url_of(database)),
                    ManualClock(NOW), migrate=False)
    people = cast(Table, Person.__table__)
    with app.engine.connect() as conn:
        vp = conn.scalar(select(people.c.id).where(people.c.manager_id.is_(None),
                                                   people.c.role == "leader"))
        leader = conn.scalar(select(people.c.id).where(people.c.manager_id == vp).limit(1))
        counts = conn.execute(text(
            "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM action_item), "
            "(SELECT count(*) FROM coaching_session), (SELECT count(*) FROM checkin)")).one()
    print(f"machine: {describe()}\ndatabase {database}: {counts[0]:,} people, "
          f"{counts[1]:,} action items, {counts[2]:,} sessions, {counts[3]:,} check-ins")
    bare = select(people.c.name).where(people.c.id == bindparam("pid"))
    counter = Counter(app.engine)

    def bare_read() -> None:
        with app.engine.connect() as conn:
            conn.execute(bare, {"pid": vp}).one()

    def home_of(person_id: int) -> Any:
        def body() -> None:
            with app.sessions() as db:
                person = db.get(Person, person_id)
                assert person is not None
                home.load(db, person, NOW, app.playbook)
        return body

    for name, body in (("bare PK read", bare_read), ("leader App Home", home_of(leader)),
                       ("VP App Home", home_of(vp))):
        taken, statements = [], 0
        for i in range(samples + 1):
            before = counter.count
            t0 = time.perf_counter()
            body()
            elapsed = time.perf_counter() - t0
            statements = counter.count - before
            if i:
                taken.append(elapsed)
        print(f"{name:<18} p50 {percentile(taken, 50) * 1000:8.2f} ms  p99 "
              f"{percentile(taken, 99) * 1000:8.2f} ms  ({statements} statements)", flush=True)
    counter.close()
    seen: list[tuple[str, Any]] = []
    event.listen(app.engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, context, many: seen.append((sql, params)))
    home_of(vp)()
    statement, params = next((sql, params) for sql, params in seen if "RECURSIVE" in sql)
    with app.engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        print("\nEXPLAIN ANALYZE of the VP's tree figures:")
        print("\n".join(row[0] for row in plan))
    app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True, help="a PostgreSQL database name")
    parser.add_argument("--build", action="store_true", help="(re)create and load it first")
    parser.add_argument("--complete", action="store_true",
                        help="add the other 90 %% of the history to a database built at 10 %%")
    parser.add_argument("--without-checkins", action="store_true",
                        help="past 10 %%, leave out check-ins, conversations and logs")
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()
    if args.build or args.complete:
        build(args.database, args.reps, fresh=args.build, checkins=not args.without_checkins)
    measure(args.database, args.samples)


if __name__ == "__main__":
    main()
