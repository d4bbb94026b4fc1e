"""The one declared list of commands: name, usage, summary and who may use them.

The terminal's /help, Slack's ``/coach help``, the Slack parser's subcommands and the
renderer that turns ``/resume`` into ``/coach resume`` are all derived from it.
Pure data: no imports of ours, so any adapter may read it.
"""

from __future__ import annotations

from dataclasses import dataclass

EVERYONE = frozenset({"rep", "manager", "leader", "admin"})
COACHES = frozenset({"manager", "leader"})
ALL_SURFACES = frozenset({"console", "slack", "teams"})


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command. ``usage`` is written as on the terminal (``/coach <rep>``); Slack
    shows it as a subcommand of its one slash command (``/coach review <rep>``)."""

    name: str
    usage: str
    summary: str
    roles: frozenset[str] = EVERYONE
    surfaces: frozenset[str] = ALL_SURFACES
    listed: bool = True  # False: a command the adapters send, not one people type


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("coach", "/coach <rep>",
                "start (or continue) a SLED coaching session with one of your reps", COACHES),
    CommandSpec("model", "/model <rep>",
                "run (or continue) the field training or coaching planned in the last session",
                COACHES),
    CommandSpec("review", "/review <rep>",
                "review the action plan with the rep (results, actions, next step)", COACHES),
    CommandSpec("checkin", "/checkin", "answer this week's check-in", frozenset({"rep"})),
    CommandSpec("escalations", "/escalations",
                "your escalations: acknowledge, resolve with a note, or reassign",
                frozenset({"manager", "leader", "admin"})),
    CommandSpec("meetings", "/meetings [number move <when> | number skip]",
                "your next meetings: move or skip one", COACHES),
    CommandSpec("away", "/away <last day away> | /away off",
                "out of office: no check-ins or nudges until then"),
    CommandSpec("team", "/coach team add @rep",
                "add a direct report (when your playbook allows it)", COACHES,
                frozenset({"slack"})),
    CommandSpec("resume", "/resume [number or name]",
                "continue a paused conversation (several: pick one from the list)"),
    CommandSpec("pause", "/pause", "pause what you are doing; nothing is lost"),
    CommandSpec("back", "/back", "go back one question, answers kept (/back stage: to the "
                "previous stage)"),
    CommandSpec("cancel", "/cancel", "stop the current conversation (asks first when you "
                "have answered a few questions)"),
    CommandSpec("help", "/help", "this list"),
    CommandSpec("hello", "/hello", "pick up where you left off", listed=False),
)
BY_NAME = {c.name: c for c in COMMANDS}
# Commands Slack reaches as ``/coach <name> ...`` and hands to the runner unchanged.
SLACK_SUBCOMMANDS = frozenset(c.name for c in COMMANDS if c.name not in ("coach", "team"))


def available(role: str, surface: str) -> list[CommandSpec]:
    """The commands this role may use on this surface, in the table's order."""
    return [c for c in COMMANDS if c.listed and role in c.roles and surface in c.surfaces]


def help_lines(role: str, surface: str) -> list[str]:
    """One line per command this role may use: usage, then what it does."""
    shown = available(role, surface)
    width = max((len(c.usage) for c in shown), default=0)
    return [f"  {c.usage.ljust(width)}  {c.summary}" for c in shown]
