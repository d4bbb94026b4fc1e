"""``coach chart``: walk the solution chart from a JSON answer file or interactively."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from bot.cli.errors import EXIT_BAD_INPUT, UsageError
from bot.playbook_loader import load_playbook
from bot.settings import load_settings
from flows.chart import Chart, ChartResult, MissingAnswer, parse_answer, walk


def walk_file(chart: Chart, path: Path) -> ChartResult:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise UsageError(f"{path}: the JSON nests too deeply") from None
    except ValueError:  # Python reads at most 4,300 digits of an integer
        raise UsageError(f"{path}: a number in the file has too many digits") from None
    if not isinstance(raw, dict):
        raise UsageError(f'{path}: expected an object like {{"Q01_gap_specific": true}}')
    answers: dict[str, bool] = {}
    for key, value in raw.items():
        if key not in chart.questions:
            raise UsageError(f"{path}: {_quote(key)} is not a question id of the solution chart")
        answer = parse_answer(value)
        if answer is None:
            raise UsageError(f"{path}: {key} must be true/false or \"yes\"/\"no\"")
        answers[key] = answer
    try:
        return walk(chart, answers)
    except MissingAnswer as missing:
        q = missing.question
        raise UsageError(f"{path}: the chart needs an answer to {q.id} ({q.text})") from None


def _quote(key: str, limit: int = 40) -> str:
    """A key from the file as an error quotes it: a short prefix, printable."""
    return repr(key[:limit]) + ("…" if len(key) > limit else "")


def interactive(chart: Chart, read: Callable[[str], str],
                write: Callable[[str], None]) -> ChartResult | None:
    answers: dict[str, bool] = {}
    while True:
        try:
            return walk(chart, answers)
        except MissingAnswer as missing:
            q = missing.question
            while True:
                try:
                    text = read(f"{q.id}: {q.text} [yes/no] ")
                except EOFError:
                    write("")
                    return None
                answer = parse_answer(text)
                if answer is not None:
                    answers[q.id] = answer
                    break
                write("Please answer yes or no.")


def run_chart(args: argparse.Namespace) -> int:
    playbook = load_playbook(load_settings().coach_playbook)
    if args.answers is None:
        result = interactive(playbook.chart, input, print)
        if result is None:
            return EXIT_BAD_INPUT
    else:
        result = walk_file(playbook.chart, args.answers)
    if args.json:
        print(json.dumps(result.as_json()))
    else:
        steps = " → ".join(f"{q} {'yes' if a else 'no'}" for q, a in result.path)
        print(f"{result.leaf} ({result.category})\npath: {steps}\n"
              f"next: {playbook.chart.leaves[result.leaf].next}")
    return 0
