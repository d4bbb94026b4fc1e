"""The ``coach`` command line: the entry point (main), its errors, and one module per
group of commands (chart, imports, demo, workspaces)."""

from bot.cli.main import main

__all__ = ["main"]
