"""Scores the triage prompt against the held-in chart cases: for each case (a manager's
sentence and the chart path to its leaf), the answers the model proposed on that path
against the case's, and whether the proposals alone reach the case's leaf.

    .venv/bin/python -m bench.bench_triage            # replay bench/triage/recorded.json
    .venv/bin/python -m bench.bench_triage --record   # ask the configured model, save

Replay goes through the real openai client to the fake OpenAI server of the tests, which
answers each case with its recorded reply: the figures show what the reader keeps or
rejects, and the prompt's size. ``--record`` (OPENAI_API_KEY or OPENAI_BASE_URL set)
asks the real model with the current prompt and overwrites the recordings, so a prompt
change shows its effect on the next replay.

The replies in the repository are hand-written stand-ins (``"source": "stand-in"`` in
recorded.json), not a model's: no model could be reached where this was built. The report
says so on its first line; its score measures the reader and the scoring until
``--record`` has replaced them with a real model's replies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import prompts
from bot.llm.answers import SCHEMAS, Rejected, numbers_in, read_triage
from bot.llm.client import ModelCall, ModelFailed, OpenAIModel, SetupText, shown_url
from bot.playbook_loader import load_playbook
from bot.settings import load_settings
from flows.chart import Chart, MissingAnswer, walk

HERE = Path(__file__).parent / "triage"
CASES, RECORDED = HERE / "cases.json", HERE / "recorded.json"


@dataclass(frozen=True)
class Score:
    case: str
    leaf: str
    on_path: int  # questions on the case's path
    right: int  # of those, proposed as the case answers them
    reached: str  # the leaf the proposals alone reach ("-": they stop short; "rejected")
    prompt_chars: int


def case_path(chart: Chart, leaf: str) -> dict[str, bool]:
    """The case's answers: the chart path from the start to ``leaf``."""
    def search(node: str, path: dict[str, bool]) -> dict[str, bool] | None:
        if chart.is_leaf(node):
            return path if node == leaf else None
        for answer in (True, False):
            found = search(chart.questions[node].branch(answer), {**path, node: answer})
            if found is not None:
                return found
        return None

    found = search(chart.start, {})
    if found is None:
        raise ValueError(f"no path to {leaf}")
    return found


def prompt_for(chart: Chart, problem: str) -> str:
    return prompts.render(
        "triage", rep="Alice", problem=problem, focus="", gap="", rep_view="",
        manager_view="", numbers="",
        questions="\n".join(f"{q.id}: {q.text}" for q in chart.questions.values()))


def score(chart: Chart, case: dict[str, Any], reply: str | None, prompt: str) -> Score:
    answers = case_path(chart, case["leaf"])
    read = (Rejected("empty", "no reply") if reply is None else
            read_triage(reply, tuple(chart.questions), numbers_in(case["problem"])))
    if isinstance(read, Rejected):
        return Score(case["id"], case["leaf"], len(answers), 0, f"rejected: {read.outcome}",
                     len(prompt))
    right = sum(1 for q, a in answers.items() if q in read and read[q][0] == a)
    try:
        reached = walk(chart, {q: a for q, (a, _) in read.items()}).leaf
    except MissingAnswer:
        reached = "-"
    return Score(case["id"], case["leaf"], len(answers), right, reached, len(prompt))


async def replay(chart: Chart, cases: list[dict[str, Any]], replies: dict[str, str]
                 ) -> list[Score]:
    from bot.settings import Settings
    from tests.llm.fake_openai import FakeOpenAI, Reply

    fake = FakeOpenAI().start()
    model = OpenAIModel(Settings(coach_env="test", openai_base_url=fake.base_url,
                                 coach_llm_timeout=5, coach_llm_retries=0))
    try:
        scores = []
        for case in cases:
            prompt = prompt_for(chart, case["problem"])
            fake.reply(Reply(replies.get(case["id"], "")))
            try:
                text: str | None = (await model.complete(
                    ModelCall("triage", prompt, SCHEMAS["triage"]))).text
            except ModelFailed:
                text = None
            scores.append(score(chart, case, text, prompt))
        return scores
    finally:
        await model.close()
        fake.stop()


async def record(chart: Chart, cases: list[dict[str, Any]]) -> dict[str, str]:
    settings = load_settings()
    if not settings.llm_configured:
        raise SystemExit("--record needs OPENAI_API_KEY or OPENAI_BASE_URL")
    model = OpenAIModel(settings)
    replies: dict[str, str] = {}
    try:
        for case in cases:
            try:
                reply = await model.complete(ModelCall("triage", prompt_for(chart, case["problem"]),
                                                       SCHEMAS["triage"]))
                replies[case["id"]] = reply.text
            except ModelFailed as failed:
                print(f"{case['id']}: {failed.outcome}")
    finally:
        await model.close()
    return replies


class BenchText:
    stand_in = ("Replayed replies: HAND-WRITTEN STAND-INS (bench/triage/recorded.json), not a "
                "model's answers; the score below measures the reader, not a model. Run "
                "--record against a real model to replace them.")
    recorded = "Replayed replies: recorded from {source} (bench/triage/recorded.json)."


def source_line(recorded: dict[str, Any]) -> str:
    """What the replayed replies are: the first line of every report."""
    source = str(recorded.get("source") or "stand-in")
    if source == "stand-in":
        return BenchText.stand_in
    return BenchText.recorded.format(source=source)


def report(scores: list[Score], recorded: dict[str, Any] | None = None) -> str:
    lines = [source_line(recorded or {}),
             f"{'case':<22} {'right':>7}  {'leaf reached':<28} prompt"]
    for s in scores:
        mark = "ok" if s.reached == s.leaf else "  "
        lines.append(f"{s.case:<22} {s.right:>3}/{s.on_path:<3}  {mark} {s.reached:<25} "
                     f"{s.prompt_chars:,}")
    right, total = sum(s.right for s in scores), sum(s.on_path for s in scores)
    leaves = sum(s.reached == s.leaf for s in scores)
    rejected = sum(s.reached.startswith("rejected") for s in scores)
    lines.append(f"answers on the cases' paths: {right}/{total} ({right / total:.0%}); "
                 f"leaves reached: {leaves}/{len(scores)}; answers rejected: {rejected}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true",
                        help="ask the configured model and overwrite the recordings")
    args = parser.parse_args()
    chart = load_playbook().chart
    cases = json.loads(CASES.read_text())["cases"]
    if args.record:
        recorded = json.loads(RECORDED.read_text())
        recorded["replies"] = asyncio.run(record(chart, cases))
        settings = load_settings()
        recorded["source"] = (f"{settings.coach_llm_model} at "
                              f"{shown_url(settings.openai_base_url or SetupText.default_url)}"
                              f" on {date.today().isoformat()}")
        recorded["about"] = "Model replies recorded with bench_triage --record."
        RECORDED.write_text(json.dumps(recorded, indent=1) + "\n")
    recorded = json.loads(RECORDED.read_text())
    print(report(asyncio.run(replay(chart, cases, recorded["replies"])), recorded))


if __name__ == "__main__":
    main()
