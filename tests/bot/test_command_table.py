"""One declared command table: the runner, /help, Slack's parser and renderer agree."""

from __future__ import annotations

from bot import command_table
from bot.services.commands import commands
from bot.slack import parse, render


def test_every_command_the_runner_knows_is_declared_and_the_reverse() -> None:
    runner = set(commands())
    declared = {c.name for c in command_table.COMMANDS if "console" in c.surfaces}
    assert runner == declared


def test_slack_reaches_every_runner_command_as_a_subcommand() -> None:
    assert parse.RUNNER_VERBS | {"help", "coach"} == set(commands())
    for name in command_table.SLACK_SUBCOMMANDS:
        assert render.slack_commands(f"say /{name} now") == f"say /coach {name} now"
    assert render.slack_commands("/coach alice") == "/coach alice"


def test_help_lists_what_each_role_may_use() -> None:
    rep = "\n".join(command_table.help_lines("rep", "console"))
    manager = "\n".join(command_table.help_lines("manager", "slack"))
    assert "/checkin" in rep and "/coach" not in rep and "/model" not in rep
    assert "/coach <rep>" in manager and "/coach team add @rep" in manager
    assert "/checkin" not in manager and "/hello" not in manager
