"""Loading the playbook: the shipped default, an org's override, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import playbook_loader as loader
from bot.playbook_loader import DEFAULT_PLAYBOOK, PlaybookConfigError, load_playbook


def write(tmp_path: Path, text: str | bytes, name: str = "my-playbook.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def refused(path: Path) -> PlaybookConfigError:
    with pytest.raises(PlaybookConfigError) as caught:
        load_playbook(path)
    assert isinstance(caught.value, ValueError)
    return caught.value


def test_default_loads() -> None:
    playbook = load_playbook(None)
    assert playbook.chart.start == "Q01_gap_specific"
    assert playbook.chart.questions["Q01_gap_specific"].yes == "Q02_worth_pursuing"
    assert [m.id for m in playbook.meetings][:2] == ["team_meeting", "pipeline_review"]
    assert playbook.checkin.day == "fri"


def test_override_rewords_a_chart_question_and_keeps_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "chart:\n"
        "  questions:\n"
        "    Q04_knows_gap:\n"
        "      text: Has anyone told the rep, with numbers, that they are below standard?\n"
        "digest:\n"
        "  send: {time: '07:30'}\n"
    ))
    playbook = load_playbook(str(path))
    question = playbook.chart.questions["Q04_knows_gap"]
    assert question.text.startswith("Has anyone told the rep")
    assert (question.yes, question.no) == ("Q05_knows_what", "FEEDBACK")
    assert (playbook.digest.send_time, playbook.digest.send_day) == ("07:30", "mon")
    assert playbook == load_playbook(path)  # str or Path alike


def test_bad_rhythm_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "# our cadence\n"
        "meetings:\n"
        "  - {id: team_meeting, label: Team meeting, rhythm: weekly}\n"
        "  - id: standup\n"
        "    label: Stand-up\n"
        "    rhythm: hourly\n"
    ))
    error = refused(path)
    assert str(error) == (
        f"{path} line 6: meetings.1.rhythm: must be one of daily, weekly, biweekly, monthly,"
        " quarterly (got 'hourly')"
    )
    assert (error.file, error.line, error.key) == (str(path), 6, "meetings.1.rhythm")


def test_missing_value_points_at_the_entry_that_lacks_it(tmp_path: Path) -> None:
    path = write(tmp_path, "meetings:\n  - id: standup\n    label: Stand-up\n")
    error = refused(path)
    assert (error.line, error.key) == (2, "meetings.0.rhythm")
    assert error.problem == "must be non-empty text"


def test_changed_chart_branch_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "chart:\n"
        "  questions:\n"
        "    Q07_obstacle_present:\n"
        "      text: Is something in the way?\n"
        '      "no": REFER_PERSONAL\n'
    ))
    assert str(refused(path)) == (
        f"{path} line 5: chart.questions.Q07_obstacle_present.no: is fixed at"
        " 'Q08_personal_problem'; only the wording may change"
    )


def test_new_chart_id_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "chart:\n  leaves:\n    MY_LEAF: {category: none, next: x}\n")
    error = refused(path)
    assert (error.line, error.key) == (3, "chart.leaves.MY_LEAF")
    assert error.problem == "is not an id of the solution chart"


def test_bare_yes_key_is_explained(tmp_path: Path) -> None:
    path = write(tmp_path, "chart:\n  questions:\n    Q01_gap_specific:\n      yes: DEFINE_GAP\n")
    error = refused(path)
    assert (error.line, error.key) == (4, "chart.questions.Q01_gap_specific.yes")
    assert "quote the key" in error.problem


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, "digest:\n  coverage_days: 7\n  compare_weeek: 2\n")
    assert str(refused(path)) == (
        f"{path} line 3: digest.compare_weeek: is not a playbook key; did you mean 'compare_weeks'?"
    )


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "checkin:\n  day: fri\n   time: '15:00'\n")
    error = refused(path)
    assert error.line == 3 and error.key is None
    assert str(error).startswith(f"{path} line 3: not valid YAML: mapping values are not allowed")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert str(refused(path)) == f"{path}: no such file"


def test_duplicate_key(tmp_path: Path) -> None:
    path = write(tmp_path, "checkin:\n  day: fri\n  time: '15:00'\n  day: mon\n")
    assert str(refused(path)) == (
        f"{path} line 4: checkin.day: appears twice in the same mapping (first on line 2)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- weekly\n", " line 1: the top level must be a mapping of playbook keys (got a list)"),
        ("# all commented out\n",
         ": the top level must be a mapping of playbook keys (got an empty file)"),
        ("a: 1\n---\nb: 2\n", " line 2: not valid YAML: expected a single document in the stream"
                              " but found another document"),
        ("x: !!python/object/apply:os.system [echo]\n", " line 1: not valid YAML: could not"
                                                        " determine a constructor for the tag"),
    ],
)
def test_unusable_documents(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    assert str(refused(path)).startswith(f"{path}{message}")


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "checkin:\n  day: fri\n# caf\xe9\n".encode("latin-1"))
    assert str(refused(path)) == f"{path} line 3: is not UTF-8 text (byte 0xe9); save it as UTF-8"


@pytest.mark.parametrize(("text", "line", "character"), [
    ("\x00", 1, "U+0000"), ("checkin:\n  day: fri\n# \x07\n", 3, "U+0007"),
    ("a: 1\n" * 2000 + "b: \x1b\n", 2001, "U+001B"),  # past the reader's first chunk
])
def test_a_character_yaml_does_not_allow_names_the_line(tmp_path: Path, text: str, line: int,
                                                         character: str) -> None:
    """Found by the playbook fuzz drill: a NUL byte raised PyYAML's ReaderError, uncaught."""
    path = write(tmp_path, text)
    assert str(refused(path)) == (f"{path} line {line}: has a character YAML does not allow "
                                  f"({character}); remove it")


def test_unreadable_path(tmp_path: Path) -> None:
    assert str(refused(tmp_path)) == f"{tmp_path}: is a directory, not a YAML file"


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffcheckin:\n  day: thu\n")
    assert load_playbook(path).checkin.day == "thu"


def test_error_in_the_default_points_at_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = write(tmp_path, DEFAULT_PLAYBOOK.read_text().replace(
        "  coverage_days: 14", "  coverage_days: 0"), "default.yaml")
    monkeypatch.setattr(loader, "DEFAULT_PLAYBOOK", broken)
    override = write(tmp_path, "checkin:\n  day: thu\n")
    lines = broken.read_text().splitlines()
    line = lines.index("  coverage_days: 0") + 1
    error = refused(override)
    assert (error.file, error.line, error.key) == (str(broken), line, "digest.coverage_days")
