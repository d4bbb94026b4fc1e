"""``coach teams package`` writes a package that passes a manifest check: the required
fields of schema 1.17, the ids, the scopes, the command menu from the command table, and
the two icons at the sizes Teams requires."""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot import command_table
from bot.cli.main import main

APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
REQUIRED = ("$schema", "manifestVersion", "version", "id", "developer", "name",
            "description", "icons", "accentColor")
HTTPS = re.compile(r"^https://[^\s/]+(/\S*)?$")


def check_manifest(manifest: dict[str, Any], files: set[str]) -> list[str]:
    """The checks the Teams Developer Portal makes that matter here."""
    problems = [f"missing {key}" for key in REQUIRED if key not in manifest]
    major, minor = (int(x) for x in manifest["manifestVersion"].split("."))
    if (major, minor) < (1, 17):
        problems.append(f"manifestVersion {manifest['manifestVersion']} < 1.17")
    if manifest["$schema"].split("/v")[-1].split("/")[0] != manifest["manifestVersion"]:
        problems.append("$schema and manifestVersion disagree")
    uuid.UUID(manifest["id"])
    if not re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"]):
        problems.append("version is not semver")
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        if not HTTPS.match(manifest["developer"].get(key, "")):
            problems.append(f"developer.{key} is not https")
    if not 0 < len(manifest["name"]["short"]) <= 30 or len(manifest["name"]["full"]) > 100:
        problems.append("name too long")
    if len(manifest["description"]["short"]) > 80 or len(manifest["description"]["full"]) > 4000:
        problems.append("description too long")
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", manifest["accentColor"]):
        problems.append("accentColor is not #RRGGBB")
    for icon in manifest["icons"].values():
        if icon not in files:
            problems.append(f"icon {icon} not in the package")
    for bot in manifest.get("bots", []):
        for command_list in bot["commandLists"]:
            if len(command_list["commands"]) > 10:
                problems.append("more than 10 commands in a list")
            for command in command_list["commands"]:
                if len(command["title"]) > 32 or len(command["description"]) > 128:
                    problems.append(f"command {command['title']} too long")
    for domain in manifest.get("validDomains", []):
        if "://" in domain or "/" in domain:
            problems.append(f"valid domain {domain} is not a host")
    return problems


def unpack(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files["manifest.json"]), files


def test_the_package_passes_the_manifest_check(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    out = tmp_path / "coach.zip"
    assert main(["teams", "package", "--out", str(out), "--domain", "coach.example.com"]) == 0
    manifest, files = unpack(out)
    assert check_manifest(manifest, set(files)) == []
    assert manifest["id"] == APP_ID
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID and set(bot["scopes"]) == {"personal", "team"}
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert titles[:4] == ["coach", "model", "review", "checkin"] and "help" in titles
    assert set(titles) <= {c.name for c in command_table.COMMANDS}  # from the one table
    assert "team" not in titles  # a Slack-only command
    assert {tuple(c["scopes"]) for c in bot["commandLists"]} == {("personal",), ("team",)}
    assert manifest["validDomains"] == ["coach.example.com", "token.botframework.com"]
    color = Image.open(io.BytesIO(files[manifest["icons"]["color"]]))
    outline = Image.open(io.BytesIO(files[manifest["icons"]["outline"]]))
    assert color.size == (192, 192) and outline.size == (32, 32)
    rgba = outline.convert("RGBA")
    pixels = [rgba.getpixel((x, y)) for x in range(32) for y in range(32)]
    assert {p[:3] for p in pixels if p[3]} == {(255, 255, 255)}  # white on transparent
    assert any(p[3] == 0 for p in pixels)


def test_the_check_finds_a_bad_manifest(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    out = tmp_path / "coach.zip"
    assert main(["teams", "package", "--out", str(out)]) == 0
    manifest, _ = unpack(out)
    manifest["manifestVersion"] = "1.16"
    manifest["developer"]["privacyUrl"] = "http://x"
    assert len(check_manifest(manifest, {"manifest.json"})) == 5


@pytest.mark.parametrize(("env", "args", "message"), [
    ({}, [], "set TEAMS_APP_ID"),
    ({"TEAMS_APP_ID": "not-a-guid"}, [], "must be the bot's Microsoft app id"),
    ({"TEAMS_APP_ID": APP_ID}, ["--domain", "https://x.example.com/"], "host name"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str],
                                          env: dict[str, str], args: list[str],
                                          message: str) -> None:
    monkeypatch.delenv("TEAMS_APP_ID", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "coach.zip"
    assert main(["teams", "package", "--out", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
