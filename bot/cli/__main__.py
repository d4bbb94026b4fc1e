"""``python -m bot.cli``: the same as ``coach``."""

from bot.cli.main import main

raise SystemExit(main())
