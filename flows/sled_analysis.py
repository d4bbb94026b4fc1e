"""SLED's data side: the context card, picking the gap from ROAM, and the stretch path.

The manager picks the gap once from the ROAM numbers: its numbers fill the views form
and suggest chart answers (Q01 from the numbers, Q03 from the team's same period). A
rep on target gets a stretch goal instead of the corrective chart (METHOD §3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows import roam
from flows.chart_steps import SUGGESTED_KEY, suggestion
from flows.effects import RecordStage
from flows.engine import Answer, Context, FlowState, Go, as_mapping
from flows.messages import Choice, Message
from flows.sled_session import SledSession
from flows.sled_text import MODEL_LABELS, STAGES, STRETCH, VIEWS, SledText, views_from_data

GAP_SPECIFIC = "Q01_gap_specific"
STANDARD_ACHIEVABLE = "Q03_standard_achievable"
STRETCH_GAP = "stretch"
METRIC = "metric:"


def fill(template: str, state: FlowState, **extra: Any) -> str:
    return template.format(rep=SledSession.of(state.data).rep_or_default,
                           rep_ref=SledSession.of(state.data).rep_ref, **STAGES, **extra)


# The context card -----------------------------------------------------------------------


def context_card(data: Mapping[str, Any]) -> str:
    """What the manager sees before the session: history, plans, blockers, ROAM."""
    brief = data.get("brief", {})
    lines = [SledText.card_title.format(rep=data["rep_name"])]
    last = brief.get("last_session")
    lines.append(SledText.card_last.format(date=last["date"], focus=last["focus"],
                                    leaf=last["leaf"] or "open") if last else SledText.card_no_last)
    if brief.get("review_due"):
        lines.append(SledText.card_review.format(date=brief["review_due"]))
    model = brief.get("pending_model")
    if model:
        label = MODEL_LABELS.get(model["model"], model["model"])
        lines.append(SledText.card_model.format(model=label, date=model["date"],
                                         rep_ref=data.get("rep_ref", "")))
    actions = brief.get("open_actions", [])
    lines.append(SledText.card_actions.format(count=len(actions) or "none"))
    lines += [(SledText.card_blocked_note if a.get("note") and a["status"] == "blocked"
               else SledText.card_action).format(**{"note": "", **a}) for a in actions[:8]]
    checkins = brief.get("checkins", [])
    if checkins:
        lines.append(SledText.card_checkins)
        lines += [SledText.card_checkin.format(**c) for c in checkins[:3]]
    blockers = [c for c in checkins[:3] if c.get("blockers")]
    if blockers:
        lines.append(SledText.card_blockers)
        lines += [SledText.card_blocker.format(week=c["week"],
                                               note=c["blockers"]) for c in blockers]
    lines.append(roam.describe(brief.get("roam", {})))
    return "\n".join(lines)


# Picking the gap --------------------------------------------------------------------------


def _snapshot(state: FlowState) -> Mapping[str, Any]:
    return as_mapping(as_mapping(state.data.get("brief")).get("roam"))


def gap_choices(state: FlowState) -> tuple[Choice, ...]:
    lines = [x for x in roam.lines_of(_snapshot(state)) if x.below]
    choices = [Choice(METRIC + x.metric, roam.gap_text(x)) for x in lines]
    if not any(x.kind == "result" for x in lines):
        choices.append(Choice(STRETCH_GAP, "Set a stretch or development goal"))
    choices.append(Choice("other", "Another gap (I'll describe it)"))
    return tuple(choices)


def gap_prompt(state: FlowState, ctx: Context) -> Message:
    return Message(fill(SledText.gap, state), choices=gap_choices(state))


def choose_gap(state: FlowState, answer: Answer, ctx: Context) -> Go:
    """Keep the picked line's numbers and the chart answers they suggest."""
    picked = str(answer)
    if picked == STRETCH_GAP:
        return Go("stretch_goal", {"gap": picked, "gap_numbers": None, SUGGESTED_KEY: {}})
    line = (roam.line_for(_snapshot(state), picked.removeprefix(METRIC))
            if picked.startswith(METRIC) else None)
    if line is None:
        return Go("views", {"gap": picked, "gap_numbers": None, SUGGESTED_KEY: {}})
    numbers = {"metric": line.metric, "actual": line.actual, "target": line.target,
               "gap": line.gap, "gap_pct": line.gap_pct, "statement": roam.gap_text(line)}
    return Go("views", {"gap": picked, "gap_numbers": numbers,
                        SUGGESTED_KEY: suggested_answers(line)})


def suggested_answers(line: roam.Line) -> dict[str, list[Any]]:
    """Chart answers the numbers decide: Q01 (the gap has numbers) and Q03 (a teammate
    met the same standard in the same period), each with its evidence in one line."""
    found = {GAP_SPECIFIC: suggestion(True,
                                      SledText.gap_in_numbers.format(gap=roam.gap_text(line)))}
    if line.peers:
        if line.peers_met:
            reason = SledText.peers_met.format(met=line.peers_met, peers=line.peers,
                                        metric=line.metric)
        else:
            avg = (SledText.team_avg.format(value=roam.fmt(line.benchmark))
                   if line.benchmark is not None else "")
            reason = SledText.peers_missed.format(peers=line.peers, metric=line.metric, avg=avg)
        found[STANDARD_ACHIEVABLE] = suggestion(line.peers_met > 0, reason)
    return found


def gap_numbers(state: FlowState) -> Mapping[str, Any]:
    return as_mapping(state.data.get("gap_numbers"))


def views_prompt(state: FlowState, ctx: Context) -> Message:
    numbers = gap_numbers(state)
    if not numbers:
        return Message(fill(SledText.views, state), form=VIEWS)
    statement = str(numbers["statement"])
    return Message(fill(SledText.views_from_data, state, gap=statement),
                   form=views_from_data(statement))


def views(state: FlowState, answer: Answer, ctx: Context) -> Go:
    """A gap from the data is not typed again: a blank statement keeps its numbers."""
    values = dict(as_mapping(answer))
    numbers = gap_numbers(state)
    if numbers and not values.get("gap_statement"):
        values["gap_statement"] = str(numbers["statement"])
    return Go("focus", {"views": values})


def focus_prompt(state: FlowState, ctx: Context) -> Message:
    """The focus areas; the one a review planned for this session comes first, marked."""
    planned = SledSession.of(state.data).planned_focus
    choices = sorted((Choice(f.id, f.label + (SledText.planned if f.id == planned else ""))
                      for f in ctx.playbook.focus_areas), key=lambda c: c.id != planned)
    return Message(fill(SledText.focus, state), choices=tuple(choices))


def focus(state: FlowState, answer: Answer, ctx: Context) -> Go:
    """The focus is agreed; a stretch goal goes straight to its plan (no chart)."""
    if state.data.get("gap") != STRETCH_GAP:
        return Go("problem_agreed", {"focus": answer})
    stretch = as_mapping(state.data.get("stretch"))
    values = {"roam": _snapshot(state), "gap": STRETCH_GAP, "stretch_goal": stretch["goal"],
              "rep_view": stretch.get("rep_view", ""), "focus_area": answer}
    return Go("action", {"focus": answer, "agreed_solution": stretch["goal"]},
              (RecordStage(SledSession.of(state.data).session_id, "L", values),))


# The stretch path ------------------------------------------------------------------------


def stretch_prompt(state: FlowState, ctx: Context) -> Message:
    return Message(fill(SledText.stretch_goal, state), form=STRETCH)


def stretch(state: FlowState, answer: Answer, ctx: Context) -> Go:
    return Go("focus", {"stretch": dict(as_mapping(answer))})
