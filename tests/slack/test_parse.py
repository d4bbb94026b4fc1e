"""parse.py on the shared full-shape samples: every field present, blank or filled in."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.channels.who import Who
from bot.slack import parse
from bot.slack.render import ViewMeta
from flows.messages import Choose, Say, Submit
from tests.slack.driver import sample


def command(text: str, **extra: Any) -> parse.Command:
    body = sample("SlashCommandPayload")
    body.update(team_id="T1", user_id="U1", command="/coach", text=text, trigger_id="tr",
                **extra)
    return parse.command(body)


@pytest.mark.parametrize(("text", "kind", "given", "mention"), [
    ("", "picker", None, None),
    ("   ", "picker", None, None),
    ("help", "help", None, None),
    ("HELP me", "help", None, None),
    ("alice", "coach", Say("/coach alice"), None),
    ("Alice   Adams", "coach", Say("/coach Alice Adams"), None),
    ("<@U0BOB|bob>", "coach", Say("/coach"), "U0BOB"),
    ("<@W0BOB>", "coach", Say("/coach"), "W0BOB"),
    ("review <@U0BOB|bob>", "runner", Say("/review"), "U0BOB"),
    ("checkin", "runner", Say("/checkin"), None),
    ("back stage", "runner", Say("/back stage"), None),
    ("team add <@U0NEW|nia>", "team_add", None, "U0NEW"),
    ("team add nia", "team_usage", None, None),
    ("team", "team_usage", None, None),
])
def test_commands(text: str, kind: str, given: Say | None, mention: str | None) -> None:
    cmd = command(text)
    assert (cmd.kind, cmd.given, cmd.mention) == (kind, given, mention)
    assert cmd.who == Who("slack", "T1", "U1") and cmd.trigger_id == "tr"


def test_blank_samples_parse_to_nothing_harmful() -> None:
    blank = parse.action(sample("BlockActionPayload"))
    assert blank.kind == "unknown" and blank.given is None
    submitted = parse.submission(sample("ViewSubmissionPayload"))
    assert submitted.given == Submit({}) and submitted.meta == ViewMeta()
    assert parse.command(sample("SlashCommandPayload")).kind == "picker"
    for name in ("MessagePayload", "MessageBotPayload", "MessageChangedPayload",
                 "AppMentionPayload"):
        assert parse.dm_text(sample(name)["event"]) is None
    assert parse.event_key(sample("AppHomeOpenedPayload")) is None


def test_enterprise_install_without_a_team_uses_the_users_team() -> None:
    body = sample("BlockActionPayload")
    body["team"] = None
    body["user"].update(id="U1", team_id="T9")
    body["enterprise"] = {"id": "E1", "name": "Org"}
    assert parse.who_of(body) == Who("slack", "T9", "U1")
    body["user"]["team_id"] = ""
    assert parse.who_of(body).tenant == "E1"


def test_a_button_in_a_message() -> None:
    body = sample("BlockActionPayload")
    body["team"]["id"], body["user"]["id"] = "T1", "U1"
    body["container"].update(type="message", channel_id="D1", message_ts="5.5")
    body["channel"]["id"] = "D1"
    body["actions"][0].update(action_id="coach.choose.1", block_id="choose.rep_aligned",
                              value=json.dumps({"s": "rep_aligned", "c": "yes"}),
                              text={"type": "plain_text", "text": "Yes"})
    action = parse.action(body)
    assert (action.kind, action.given, action.expect_step) == ("choose", Choose("yes"),
                                                               "rep_aligned")
    assert (action.in_view, action.channel, action.message_ts, action.label) == (
        False, "D1", "5.5", "Yes")


def test_a_submission_reads_every_input_kind() -> None:
    body = sample("ViewSubmissionPayload")
    body["user"]["id"], body["team"]["id"] = "U1", "T1"
    body["view"]["private_metadata"] = json.dumps({"f": "sled", "s": "success", "n": 7})
    body["view"]["state"] = {"values": {
        "7.metric": {"metric": {"type": "plain_text_input", "value": "win rate"}},
        "7.baseline": {"baseline": {"type": "number_input", "value": "14"}},
        "7.review_date": {"review_date": {"type": "datepicker", "selected_date": "2026-12-15"}},
        "7.owner": {"owner": {"type": "static_select", "selected_option": {"value": "rep"}}},
        "7.note": {"note": {"type": "plain_text_input", "value": None}},
    }}
    submitted = parse.submission(body)
    assert submitted.given == Submit({"metric": "win rate", "baseline": "14",
                                      "review_date": "2026-12-15", "owner": "rep"})
    assert (submitted.meta.flow, submitted.meta.step, submitted.meta.nonce) == (
        "sled", "success", 7)


@pytest.mark.parametrize("metadata", ["", "not json", "[1]", '{"n": "x", "s": 5}'])
def test_bad_private_metadata_is_ignored(metadata: str) -> None:
    assert parse.read_meta(metadata).step is None


def test_dm_text() -> None:
    event = sample("MessagePayload")["event"]
    event.update(type="message", channel_type="im", channel="D1", user="U1", text=" hi ",
                 bot_id="", bot_profile=None, subtype="")
    assert parse.dm_text(event) == "hi"
    assert parse.dm_text({**event, "channel_type": "channel", "channel": "C1"}) is None
    assert parse.dm_text({**event, "subtype": "message_changed"}) is None


def test_the_users_own_team_is_the_tenant_in_a_slack_connect_channel() -> None:
    body = sample("BlockActionPayload")
    body["team"]["id"] = "T0OURS"
    body["user"].update(id="U1", team_id="T0THEIRS")
    assert parse.who_of(body).tenant == "T0THEIRS"
    event = sample("MessagePayload")
    event.update(team_id="T0OURS")
    event["event"].update(user_team="T0THEIRS")
    assert parse.tenant_of(event) == "T0THEIRS"
    event["event"]["user_team"] = ""
    assert parse.tenant_of(event) == "T0OURS"
