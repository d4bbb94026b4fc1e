"""From a flow's ``AskModel`` to a request ready to send: inside the turn (where the names
to redact and the chart are at hand), the prompt is rendered from redacted values; the
model is asked after the turn's transaction, by the :class:`~bot.llm.assistant.Assistant`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

import prompts
from bot.channels.who import Who
from bot.llm import blockers
from bot.llm.answers import numbers_in
from bot.llm.privacy import redact
from flows.effects import AskModel
from flows.playbook import Playbook
from storage import people

PRIVATE_PREFIX = "private"  # a value whose key starts so is sent only when the org allows


@dataclass(frozen=True, slots=True)
class AssistRequest:
    """One model request, ready: the prompt (already redacted) and what its answer is
    checked against. ``occurrence`` keys the turn its answer starts (once only)."""

    task: str
    token: str
    who: Who
    person_id: int
    occurrence: str
    prompt: str
    known_numbers: frozenset[str]
    question_ids: tuple[str, ...] = ()
    today: date | None = None  # the speaker's local date, for drafted due dates
    quoted: str = ""  # blockers: the (redacted) text the answer must quote
    record_id: int | None = None  # blockers: the check-in the tagged blockers are kept on


class RequestPlanner:
    """Builds requests inside a turn; ``playbook`` says what the org allows to be sent."""

    def __init__(self, playbook: Playbook) -> None:
        self.playbook = playbook

    def plan(self, conn: Connection, who: Who, speaker_id: int, subject_id: int | None,
             ask: AskModel, occurrence: str) -> AssistRequest:
        allowed = self.sendable(ask.values)
        rep_first = str(allowed.get("rep") or "").split(" ")[0]
        names = people.names_around(conn, speaker_id, subject_id)
        values = {k: redact(_as_text(v), names=names, keep=rep_first)
                  for k, v in allowed.items()}
        values["rep"] = rep_first or "the rep"
        if ask.task == blockers.TASK:
            quoted = values.get("blockers", "")
            return AssistRequest(ask.task, ask.token, who, speaker_id, occurrence,
                                 blockers.blockers_prompt(quoted), frozenset(), quoted=quoted,
                                 record_id=_record(allowed.get("checkin_id")))
        extra, ids = self._task_values(ask.task)
        prompt = prompts.render(ask.task, **_for_template(ask.task, values), **extra)
        known = frozenset(numbers_in(" ".join(values.values())))
        return AssistRequest(ask.task, ask.token, who, speaker_id, occurrence, prompt, known,
                             ids, _day(allowed.get("today")))

    def sendable(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` without the private ones, unless the org's playbook allows them."""
        return {k: v for k, v in values.items()
                if self.playbook.model.send_private or not k.startswith(PRIVATE_PREFIX)}

    def _task_values(self, task: str) -> tuple[dict[str, str], tuple[str, ...]]:
        if task != "triage":
            return {}, ()
        chart = self.playbook.chart
        lines = "\n".join(f"{q.id}: {q.text}" for q in chart.questions.values())
        return {"questions": lines}, tuple(chart.questions)


def _for_template(task: str, values: Mapping[str, str]) -> dict[str, str]:
    """The template's own names, from the values a flow gave (absent ones empty)."""
    if task == "triage":
        gap = values.get("gap_statement") or values.get("gap", "")
        return {"rep": values["rep"], "problem": values.get("problem", ""),
                "focus": values.get("focus", ""), "gap": gap,
                "rep_view": values.get("rep_view", ""),
                "manager_view": values.get("manager_view", ""),
                "numbers": " ".join(v for v in (values.get("roam", ""),
                                                values.get("gap_numbers", "")) if v)}
    if task == "summary":
        gap = values.get("gap_statement") or values.get("gap", "")
        return {"rep": values["rep"], "focus": values.get("focus", ""), "gap": gap,
                "leaf": values.get("leaf", ""), "solution": values.get("solution", ""),
                "today": values.get("today", "")}
    if task == "questions":
        return {"rep": values["rep"], "numbers": values.get("roam", ""),
                "last_session": values.get("last_session", "") or "none"}
    return dict(values)


def _record(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
