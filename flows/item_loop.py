"""One step asked once per item: each action in a review or a check-in.

The step loops to itself; which item it is on is read from the trail (how many
times the step was answered on this path), so going back one step lands on the
previous item with nothing to rewind. A loop is entered once per pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flows.engine import FlowState


def position(state: FlowState, loop_step: str) -> int:
    """How many items ``loop_step`` has already asked about on this path."""
    return state.trail.count(loop_step)


def items(state: FlowState, key: str) -> Sequence[Mapping[str, Any]]:
    """The list of items a flow was started with under ``key``."""
    raw = state.data.get(key, [])
    return [x for x in raw if isinstance(x, Mapping)] if isinstance(raw, list) else []
