"""Fixtures for flow tests: the default playbook and contexts with a fixed clock."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.engine import Context, Person
from flows.playbook import Playbook, build_playbook

PLAYBOOK_FILE = Path(__file__).parents[2] / "flows" / "data" / "playbook.yaml"
NOW = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)
TODAY = date(2026, 3, 10)
MANAGER = Person(1, "maya@example.com", "Maya Manager", "manager")
REP = Person(2, "sam@example.com", "Sam Rep", "rep")


@pytest.fixture(scope="session")
def default_raw() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(PLAYBOOK_FILE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def raw(default_raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of the default playbook's plain data, safe to change."""
    return copy.deepcopy(default_raw)


@pytest.fixture(scope="session")
def playbook(default_raw: dict[str, Any]) -> Playbook:
    return build_playbook(default_raw)


@pytest.fixture
def ctx(playbook: Playbook) -> Context:
    """The manager runs the flow about the rep."""
    return Context(NOW, TODAY, playbook, MANAGER, REP)


@pytest.fixture
def rep_ctx(playbook: Playbook) -> Context:
    """The rep answers their own check-in."""
    return Context(NOW, TODAY, playbook, REP)
