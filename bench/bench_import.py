"""``coach metrics import`` (or ``coach people import``) of a large file: rows per second
and the peak memory (RSS) of the import process, on SQLite and PostgreSQL, then the same
file again (idempotent: all rows unchanged).

    .venv/bin/python -m bench.bench_import [--kind metrics|people] [--rows N] [--pg URL]
                                           [--only sqlite|postgresql]

``--kind people`` (100,000 people by default) writes the org chart bottom up: every rep
before their manager, every manager before their leader.

Each import runs as its own ``coach`` process (what an admin runs), so its peak RSS is the
import's alone. PostgreSQL runs in a scratch database created and dropped here.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_turns import with_pg_database
from bench.history import METRICS, Org, build_people, org_of
from bench.machine import describe
from bot.bootstrap import bootstrap
from bot.settings import Settings

MONTHS = 25


def write_file(path: Path, org: Org, rows: int) -> None:
    """``rows`` metric lines: four metrics a month, 25 months, as many reps as needed."""
    per_rep = len(METRICS) * MONTHS
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["email", "period_start", "period_end", "metric", "kind", "target",
                      "actual"])
        written = 0
        for rep in org.reps:
            for month in range(MONTHS):
                year, m = 2024 + month // 12, month % 12 + 1
                for name, kind in METRICS:
                    if written == rows:
                        return
                    out.writerow([org.email(rep).upper() if written % 7 == 0 else org.email(rep),
                                  f"{year}-{m:02d}-01", f"{year}-{m:02d}-28", name, kind,
                                  "20", f"{(rep + month) % 17}.5"])
                    written += 1
    if written < rows:
        raise ValueError(f"{len(org.reps)} reps give only {written} rows ({per_rep} each)")


def write_people(path: Path, rows: int) -> None:
    """``rows`` people (bench/history.py's org shape), reports before their managers."""
    reps = rows * 80 // 91  # a manager per 8 reps, a leader per 10 managers, one VP
    org = org_of(reps)
    while len(org.reps) + len(org.managers) + len(org.leaders) + 1 < rows:
        reps += 1
        org = org_of(reps)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["email", "name", "role", "manager_email", "timezone"])
        lines = [(pid, "rep", org.manager_of(i)) for i, pid in enumerate(org.reps)]
        lines += [(pid, "manager", org.leaders[i // 10]) for i, pid in enumerate(org.managers)]
        lines += [(pid, "leader", org.vp) for pid in org.leaders]
        lines += [(org.vp, "leader", None)]
        for pid, role, boss in lines[len(lines) - rows:]:
            out.writerow([org.email(pid), f"{role.title()} {pid}", role,
                          org.email(boss) if boss else "", "Europe/Paris"])


def import_once(url: str, path: Path, kind: str = "metrics") -> tuple[float, float, int, str]:
    """Seconds, CPU seconds, peak RSS (KiB) and the summary line of one ``coach <kind>
    import``. The import process's CPU time (user + system) moves far less than the
    seconds on a shared machine; a PostgreSQL server's own work is not in it."""
    env = {**os.environ, "DATABASE_URL": url}
    t0 = time.perf_counter()
    main = "import sys; from bot.cli import main; sys.exit(main())"
    child = subprocess.Popen([sys.executable, "-c", main, kind, "import", str(path)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - t0
    out = (child.stdout.read() if child.stdout else b"").decode()
    err = (child.stderr.read() if child.stderr else b"").decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"import failed: {out} {err[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss, out.strip().splitlines()[0]


def run(label: str, url: str, rows: int, kind: str = "metrics") -> None:
    app = bootstrap(Settings(coach_env="test", database_url=url))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}.csv"
        if kind == "people":
            write_people(path, rows)
        else:
            reps = -(-rows // (len(METRICS) * MONTHS))
            with app.engine.begin() as conn:
                org = build_people(conn, reps)
            write_file(path, org, rows)
        app.close()
        for attempt in ("first", "again"):
            seconds, cpu, rss, summary = import_once(url, path, kind)
            print(f"{label:<11} {kind:<8} {attempt:<6} {rows / seconds:9,.0f} rows/s  "
                  f"{seconds:6.1f} s  cpu {cpu:6.1f} s  peak RSS {rss / 1024:6.0f} MB   "
                  f"{summary.split(': ', 1)[-1]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=("metrics", "people"), default="metrics")
    parser.add_argument("--rows", type=int, help="200,000 metric rows, 100,000 people")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="an admin URL; a scratch database is created and dropped")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    rows = args.rows or (100_000 if args.kind == "people" else 200_000)
    print(f"machine: {describe()}")
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{Path(tmp) / 'import.db'}", rows, args.kind)
    if args.only != "sqlite":
        with_pg_database(args.pg, lambda url: run("PostgreSQL", url, rows, args.kind))


if __name__ == "__main__":
    main()
