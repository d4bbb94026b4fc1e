"""The container's entry point: migrate the database to the latest schema, then become
the command (``coach serve`` unless one is given).

    python -m bot.cli.start [COMMAND ...]
    python -m bot.cli.start [--option ...]      (coach serve --option ...)

Replicas starting at once are safe: one migrates while the others wait for its lock,
then find nothing to do (storage/migrate.py). A migration that fails stops here, with
``coach db upgrade``'s one-line error and exit code, before anything is served. The
command then replaces this process (``exec``), so it is the one that receives SIGTERM."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from bot.cli.main import main as coach

DEFAULT_COMMAND = ("coach", "serve")


def main(argv: Sequence[str] | None = None) -> int:
    command = list(sys.argv[1:] if argv is None else argv)
    if not command or command[0].startswith("-"):  # options of the default command
        command = [*DEFAULT_COMMAND, *command]
    status = coach(["db", "upgrade"])
    if status:
        return status
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"coach: cannot start {command[0]!r}: {exc.strerror or exc}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    raise SystemExit(main())
