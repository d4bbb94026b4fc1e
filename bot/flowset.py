"""The flows this bot runs, built once from the playbook."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from flows import checkin, coaching, review, sled, training
from flows.engine import Context, Flow, Outcome, begin
from flows.playbook import Playbook

MODULES: tuple[ModuleType, ...] = (sled, training, coaching, review, checkin)


@dataclass(frozen=True)
class FlowSet:
    playbook: Playbook
    flows: Mapping[str, Flow]

    def __getitem__(self, name: str) -> Flow:
        return self.flows[name]

    def start(self, name: str, ctx: Context, data: Mapping[str, Any]) -> Outcome:
        if name == sled.NAME:
            return sled.start(self.playbook, ctx, data, self.flows[sled.NAME])
        if name == review.NAME:  # its start turns the data into suggestions
            return review.start(self.playbook, ctx, data, self.flows[review.NAME])
        return begin(self.flows[name], data, ctx)


def build_flows(playbook: Playbook) -> FlowSet:
    return FlowSet(playbook, {m.NAME: m.build(playbook) for m in MODULES})
