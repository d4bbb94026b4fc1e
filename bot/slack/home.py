"""The App Home tab: what a manager, rep or leader sees (views.publish), drawn from the
neutral home data (bot/services/home.py)."""

from __future__ import annotations

from typing import Any

from bot.clock import zone
from bot.services.home import HomeData
from bot.slack import limits
from bot.slack.render import Block, clip, dumps, escape, plain, sections
from bot.slack.text import SlackText
from storage import people

MAX_REPS = 20
MAX_ITEMS = 15


def view(data: HomeData) -> dict[str, Any]:
    blocks: list[Block] = [{"type": "header", "text": plain(f"Hi {data.name}",
                                                            limits.HEADER_TEXT)}]
    if data.role in people.COACHING_ROLES and data.role != "leader":
        blocks += _manager(data)
    elif data.role == "leader":
        blocks += _leader(data)
    elif data.role == "rep":
        blocks += _rep(data)
    else:
        blocks += sections(SlackText.home_admin)
    if data.escalations:
        blocks = [blocks[0], *_escalations(data), *blocks[1:]]  # what needs them, first
    return {"type": "home", "blocks": blocks[:limits.VIEW_BLOCKS]}


def stranger_view(text: str) -> dict[str, Any]:
    """The Home tab of someone we cannot show anything to, with why and what to do."""
    return {"type": "home", "blocks": sections(text)}


def _header(text: str) -> Block:
    return {"type": "header", "text": plain(text, limits.HEADER_TEXT)}


def _button(text: str, action_id: str, value: dict[str, Any], primary: bool = False) -> Block:
    button = {"type": "button", "action_id": action_id, "text": plain(text, limits.BUTTON_TEXT),
              "value": dumps(value)}
    return {**button, "style": "primary"} if primary else button


def _manager(data: HomeData) -> list[Block]:
    blocks: list[Block] = [_header(SlackText.home_manager)]
    if not data.reps:
        blocks += sections(SlackText.home_no_reps)
    for rep in data.reps[:MAX_REPS]:
        line = SlackText.home_rep_line.format(
            name=escape(rep.name), open=rep.open_actions,
            overdue=(SlackText.home_overdue.format(n=rep.overdue_actions)
                     if rep.overdue_actions else ""),
            last=rep.last_session.isoformat() if rep.last_session else "none",
            in_progress=SlackText.home_in_progress if rep.session_open else "")
        label = SlackText.continue_session if rep.session_open else SlackText.home_start
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": clip(line, 2900)},
                       "accessory": _button(label, f"coach.cmd.{rep.id}",
                                            {"t": f"/coach {rep.email}"}, rep.session_open)})
    if len(data.reps) > MAX_REPS:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"…and {len(data.reps) - MAX_REPS} more: `/coach name`"}]})
    blocks += [{"type": "divider"}, _header(SlackText.home_meetings)]
    local = zone(data.timezone)
    meetings = [f"• {m.meeting_type.replace('_', ' ')}"
                f"{' with ' + m.subject if m.subject else ''}: "
                f"{m.at.astimezone(local):%a %d %b %H:%M %Z}" for m in data.meetings]
    blocks += sections("\n".join(meetings) or SlackText.home_no_meetings)
    return blocks


def _rep(data: HomeData) -> list[Block]:
    blocks: list[Block] = [_header(SlackText.home_items)]
    if not data.items:
        blocks += sections(SlackText.home_no_items)
    for item in data.items[:MAX_ITEMS]:
        text = SlackText.home_item.format(
            description=escape(item.description), due=item.due.isoformat(),
            overdue=SlackText.home_item_overdue if item.overdue else "",
            status=item.status.replace("_", " "))
        if not item.owned:  # the manager's, shared for information: no buttons
            text += SlackText.home_item_managers
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 2900)}})
        if item.owned:
            blocks.append({"type": "actions", "block_id": f"item.{item.id}", "elements": [
                _button(SlackText.home_done, "coach.item.done", {"id": item.id}, True),
                _button(SlackText.home_blocked, "coach.item.blocked", {"id": item.id})]})
    checkin = SlackText.home_checkin.format(when=data.next_checkin,
                                            status=data.checkin_status.replace("_", " "))
    blocks += [{"type": "divider"},
               {"type": "section", "text": {"type": "mrkdwn", "text": checkin},
                "accessory": _button(SlackText.home_checkin_now, "coach.cmd.checkin",
                                     {"t": "/checkin"})}]
    return blocks


def _escalations(data: HomeData) -> list[Block]:
    """The owner's open escalations, each with Acknowledge while still open, and the way
    to the inbox (/escalations: resolve with a note, reassign)."""
    blocks: list[Block] = [_header(SlackText.home_escalations.format(
        count=data.open_escalations))]
    for item in data.escalations:
        text = SlackText.home_escalation.format(
            id=item.id, leaf=escape(item.leaf), rep=escape(item.rep),
            raiser=escape(item.raised_by), day=item.raised_on.isoformat(),
            impact=escape(item.impact),
            acknowledged=SlackText.home_escalation_acknowledged
            if item.status == "acknowledged" else "")
        block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 2900)}}
        if item.status == "open":
            block["accessory"] = _button(SlackText.home_escalation_ack,
                                         f"coach.cmd.escalation.{item.id}",
                                         {"t": f"/escalations ack {item.id}"})
        blocks.append(block)
    more = data.open_escalations - len(data.escalations)
    if more > 0:
        blocks += sections(SlackText.home_escalations_more.format(count=more))
    blocks += [{"type": "actions", "elements": [_button(
        SlackText.home_escalations_open, "coach.cmd.escalations", {"t": "/escalations"},
        True)]}, {"type": "divider"}]
    return blocks


def _leader(data: HomeData) -> list[Block]:
    f = data.figures
    if f is None:
        return []
    coverage = f"{round(100 * f.reps_coached / f.reps)}%" if f.reps else "-"
    return [_header(SlackText.home_digest), *sections(SlackText.home_digest_body.format(
        reps=f.reps, days=data.window_days, coached=f.reps_coached, coverage=coverage,
        sessions=f.sessions, open=f.open_actions, overdue=f.overdue_actions,
        escalations=f.open_escalations, email=data.email))]
