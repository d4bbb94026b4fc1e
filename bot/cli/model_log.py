"""``coach llm log``: the language model's request log, newest first, and the tokens used
per task (never the content unless the org's playbook keeps it, and never the key)."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from bot.cli.errors import UsageError
from bot.cli.opening import open_app
from storage import model_requests

MAX_ROWS = 10_000


class LogText:
    header = ("when (UTC)           task       outcome            ms  sent  got  "
              "tokens in/out  model")
    row = ("{at:%Y-%m-%d %H:%M:%S}  {purpose:<10} {outcome:<16} {latency:>6} {sent:>5} "
           "{got:>4}  {tokens:<13}  {model}")
    empty = "No model requests yet."
    totals = "Last 30 days, per task: {lines}"
    total = "{purpose} {requests} requests ({ok} ok), {tin} tokens in, {tout} out"


def run_model_log(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= MAX_ROWS:
        raise UsageError(f"--limit must be between 1 and {MAX_ROWS:,} (got {args.limit})")
    app = open_app()
    try:
        with app.engine.connect() as conn:
            rows = model_requests.recent(conn, args.limit)
            since = app.clock.now() - timedelta(days=30)
            per_task = model_requests.totals(conn, since)
        if args.json:
            for r in rows:
                print(json.dumps({
                    "at": r.at.isoformat(), "purpose": r.purpose, "outcome": r.outcome,
                    "detail": r.detail, "model": r.model, "api": r.api,
                    "latency_ms": r.latency_ms, "request_chars": r.request_chars,
                    "response_chars": r.response_chars, "prompt_tokens": r.prompt_tokens,
                    "completion_tokens": r.completion_tokens,
                    **({"content": r.content} if r.content is not None else {})},
                    ensure_ascii=False))
            return 0
        print(app.model.describe())
        if not rows:
            print(LogText.empty)
            return 0
        print(LogText.header)
        for r in rows:
            tokens = ("-" if r.prompt_tokens is None
                      else f"{r.prompt_tokens}/{r.completion_tokens or 0}")
            print(LogText.row.format(at=r.at, purpose=r.purpose[:10], outcome=r.outcome[:16],
                                     latency=r.latency_ms, sent=r.request_chars,
                                     got=r.response_chars, tokens=tokens, model=r.model))
        print(LogText.totals.format(lines="; ".join(
            LogText.total.format(purpose=t.purpose, requests=t.requests, ok=t.ok,
                                 tin=t.prompt_tokens, tout=t.completion_tokens)
            for t in per_task)))
        return 0
    finally:
        app.close()
