"""The flows this bot runs, built once from the playbook, from each flow's one spec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows import checkin, coaching, escalation, review, sled, training
from flows.engine import Context, Flow, FlowState, Outcome, Person
from flows.playbook import Playbook
from flows.spec import FlowSpec

SPECS: tuple[FlowSpec, ...] = (sled.SPEC, training.SPEC, coaching.SPEC, review.SPEC,
                               checkin.SPEC, escalation.SPEC)


@dataclass(frozen=True)
class FlowSet:
    playbook: Playbook
    flows: Mapping[str, Flow]
    specs: Mapping[str, FlowSpec]

    def __getitem__(self, name: str) -> Flow:
        return self.flows[name]

    def start(self, name: str, ctx: Context, data: Mapping[str, Any]) -> Outcome:
        """Start a flow the way its tests do: through its spec's ``start``."""
        return self.specs[name].start(self.playbook, ctx, data, self.flows[name])

    def subject(self, state: FlowState) -> Person | None:
        """Whom this conversation is about, as its flow declares (no query needed)."""
        return self.specs[state.flow].subject(state.data)


def build_flows(playbook: Playbook) -> FlowSet:
    return FlowSet(playbook, {spec.name: spec.build(playbook) for spec in SPECS},
                   {spec.name: spec for spec in SPECS})
