"""Test helpers: a console session driven through the real protocol, on a real database."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.bootstrap import App, bootstrap
from bot.cli.demo_org import MANAGER, load_demo
from bot.clock import ManualClock
from bot.console.chat import run_jsonl
from bot.settings import Settings

START = datetime.fromisoformat("2026-12-01T15:00:00+00:00")


def make_app(db_url: str, *, demo: bool = True, start: datetime = START, **settings: Any) -> App:
    # No rate limit unless a test asks for one: scripted sessions answer faster than people.
    settings = {"coach_rate_limit": "off", **settings}
    app = bootstrap(Settings(coach_env="test", database_url=db_url, **settings),
                    ManualClock(start))
    if demo:
        with app.sessions.begin() as db:
            load_demo(db, start.date(), start)
    return app


class Console:
    """Speaks ``coach chat --jsonl`` to an in-process app, one line at a time."""

    def __init__(self, app: App, actor: str = MANAGER) -> None:
        self.app, self.actor = app, actor

    def send(self, obj: dict[str, Any] | str) -> list[dict[str, Any]]:
        line = obj if isinstance(obj, str) else json.dumps(obj)
        out = io.StringIO()
        run_jsonl(self.app, self.actor, io.StringIO(line + "\n"), out)
        replies = [json.loads(x) for x in out.getvalue().splitlines()]
        assert replies[-1] in ({"done": True},) or "error" in replies[-1], replies
        for obj_ in (obj,) if isinstance(obj, dict) else ():
            if "as" in obj_:
                self.actor = obj_["as"]
        return replies

    def say(self, text: str) -> list[dict[str, Any]]:
        return self.send({"say": text})

    def choose(self, choice: str) -> list[dict[str, Any]]:
        return self.send({"choose": choice})

    def submit(self, **values: Any) -> list[dict[str, Any]]:
        return self.send({"submit": values})


def last_step(replies: list[dict[str, Any]]) -> str | None:
    steps = [r.get("step") for r in replies if r.get("step")]
    return steps[-1] if steps else None


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def full_session(console: Console, rep: str = "alice") -> list[dict[str, Any]]:
    """Drive a complete S → L → E → D session to a COACHING leaf; return the last replies."""
    steps = [
        lambda: console.say(f"/coach {rep}"),
        lambda: console.submit(purpose="Improve win rate", objectives="Agree one behaviour",
                               agenda="ROAM, chart, plan", value_to_rep="Higher commission"),
        lambda: console.choose("yes"),
        lambda: console.choose("metric:win rate %"),
        lambda: console.submit(gap_statement="Win rate 14% vs 25%",
                               rep_view="Losing late-stage deals",
                               manager_view="Discovery is thin"),
        lambda: console.choose("opportunity_qualification"),
        lambda: console.choose("yes"),
    ]
    for step in steps:
        step()
    for _qid, answer in [("Q01_gap_specific", "yes"), ("Q02_worth_pursuing", "yes"),
                        ("Q03_standard_achievable", "yes"), ("Q04_knows_gap", "yes"),
                        ("Q05_knows_what", "yes"), ("Q06_knows_why", "yes"),
                        ("Q07_obstacle_present", "no"), ("Q08_personal_problem", "no"),
                        ("Q09_could_do_if_required", "no"), ("Q10_did_it_before", "yes")]:
        console.choose(answer)
    console.choose("yes")  # Q11_used_often → COACHING
    console.submit(behaviour="Discovery questions", goal="Weekly discovery role-play",
                   options="Shadow a top rep")
    console.submit(description="Role-play discovery with Maya", owner="rep", due="2026-12-08")
    console.choose("add")
    console.submit(description="Share top-rep call recordings", owner="manager",
                   due="2026-12-04")
    console.choose("done")
    console.submit(metric="win rate %", baseline="14", target="20", review_date="2026-12-15")
    console.choose("coaching")
    return console.choose("yes")


def blocked_checkin(console: Console, rep_email: str, blockers: str) -> None:
    """``rep_email`` answers this week's check-in: one action blocked with a note, the
    activity numbers, a coaching session had, ``blockers`` in words, confidence 4."""
    console.send({"as": rep_email})
    console.say("/checkin")
    console.choose("answer")
    console.choose("blocked")
    console.submit(note="No practice partner yet")
    console.submit(calls="41", meetings="6", proposals="2")
    console.choose("yes")
    console.submit(blockers=blockers)
    console.choose("4")


@dataclass
class Sleeps:
    """Stands in for asyncio.sleep in a notifier's retries: records, never waits."""

    waited: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waited.append(seconds)
