"""CSV imports for ``coach people import`` and ``coach metrics import``.

Both check the whole file before writing anything: with any bad row they raise
:class:`ImportRejected` (nothing stored) unless ``skip_bad`` is set, in which
case the good rows are upserted and the bad ones reported. Re-importing a file
changes nothing. The caller owns the session and commits.
"""

from __future__ import annotations

import sys
from typing import TextIO

from bot.cli.import_metrics import import_metrics
from bot.cli.import_people import import_people
from bot.cli.import_table import ImportRejected, ImportReport, Progress

__all__ = [
    "ImportRejected",
    "ImportReport",
    "Progress",
    "import_metrics",
    "import_people",
    "stderr_progress",
]

_BAR_WIDTH = 30


def stderr_progress(label: str, stream: TextIO | None = None) -> Progress:
    """A one-line progress bar on a terminal's stderr; silent when it is not a terminal."""
    out = stream if stream is not None else sys.stderr
    if out is None or not out.isatty():
        return lambda done, total: None
    shown = -1

    def draw(done: int, total: int) -> None:
        nonlocal shown
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        if percent == shown and done < total:
            return
        shown = percent
        filled = percent * _BAR_WIDTH // 100
        bar = "#" * filled + "." * (_BAR_WIDTH - filled)
        out.write(f"\r{label} [{bar}] {done}/{total}")
        if done >= total:
            out.write("\n")
        out.flush()

    return draw
