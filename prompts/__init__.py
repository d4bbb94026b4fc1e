"""Prompt templates for the language model, one file per task: ``<task>.txt`` beside this
module, with ``$name`` placeholders (``string.Template``: JSON braces need no escaping).

Imports nothing of ours (see the import-linter contracts): the bot fills the values.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template

HERE = Path(__file__).parent


class UnknownPrompt(LookupError):
    """No template file of that name."""


@cache
def _template(name: str) -> Template:
    if not name.isidentifier():
        raise UnknownPrompt(name)
    path = HERE / f"{name}.txt"
    if not path.is_file():
        raise UnknownPrompt(name)
    return Template(path.read_text(encoding="utf-8"))


def names() -> tuple[str, ...]:
    """Every task that has a template."""
    return tuple(sorted(p.stem for p in HERE.glob("*.txt")))


def render(name: str, **values: object) -> str:
    """The prompt of task ``name`` with ``values`` filled in; a missing value raises
    ``KeyError`` (a template and its caller disagree: a bug, not a user error)."""
    return _template(name).substitute({k: str(v) for k, v in values.items()})
