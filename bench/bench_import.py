"""``coach metrics import`` of a large file: rows per second and the peak memory (RSS) of
the import process, on SQLite and PostgreSQL, then the same file again (idempotent: all
rows unchanged).

    .venv/bin/python -m bench.bench_import [--rows 200000] [--pg URL] [--only sqlite|postgresql]

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
from bench.history import METRICS, Org, build_people
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


def import_once(url: str, path: Path) -> tuple[float, int, str]:
    """Seconds, peak RSS (KiB) and the summary line of one ``coach metrics import``."""
    env = {**os.environ, "DATABASE_URL": url}
    t0 = time.perf_counter()
    main = "import sys; from bot.cli import main; sys.exit(main())"
    child = subprocess.Popen([sys.executable, "-c", main, "metrics", "import", str(path)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - t0
    out = (child.stdout.read() if child.stdout else b"").decode()
    err = (child.stderr.read() if child.stderr else b"").decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"import failed: {out} {err[-2000:]}")
    return elapsed, usage.ru_maxrss, out.strip().splitlines()[0]


def run(label: str, url: str, rows: int) -> None:
    app = bootstrap(Settings(coach_env="test", database_url=url))
    reps = -(-rows // (len(METRICS) * MONTHS))
    with app.engine.begin() as conn:
        org = build_people(conn, reps)
    app.close()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "metrics.csv"
        write_file(path, org, rows)
        for attempt in ("first", "again"):
            seconds, rss, summary = import_once(url, path)
            print(f"{label:<11} {attempt:<6} {rows / seconds:9,.0f} rows/s  {seconds:6.1f} s  "
                  f"peak RSS {rss / 1024:6.0f} MB   {summary.split(': ', 1)[-1]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="an admin URL; a scratch database is created and dropped")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    print(f"machine: {describe()}")
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{Path(tmp) / 'import.db'}", args.rows)
    if args.only != "sqlite":
        with_pg_database(args.pg, lambda url: run("PostgreSQL", url, args.rows))


if __name__ == "__main__":
    main()
