"""``coach keys generate`` and ``coach keys rotate``: the key that encrypts the Slack OAuth
tokens at rest (COACH_ENCRYPTION_KEY), and re-encrypting every stored token with the first
of the configured keys. To rotate: put a new key first (``new,old``), run rotate, then drop
the old key."""

from __future__ import annotations

import argparse

from bot.cli.audit import cli_actor
from bot.cli.errors import UsageError
from bot.cli.opening import open_app
from bot.keyring import KeyMissing, Keyring, generate_key
from bot.slack.installations import SealedInstallationStore
from storage import audit


def run_generate(args: argparse.Namespace) -> int:
    print(generate_key())
    return 0


def run_rotate(args: argparse.Namespace) -> int:
    app = open_app()
    try:
        keys = app.settings.encryption_keys
        if not keys:
            raise UsageError("COACH_ENCRYPTION_KEY is not set: make a key with "
                             "coach keys generate and set it first")
        store = SealedInstallationStore(app.settings.slack_client_id or "", app.engine,
                                        Keyring(keys))
        try:
            with app.engine.begin() as conn:
                rewritten = store.reseal_all(conn)
                audit.record(conn, at=app.clock.now(), actor=cli_actor(app.settings),
                             action="keys.rotate", subject="slack tokens",
                             detail={"values": rewritten, "keys": len(keys)})
        except KeyMissing as exc:
            raise UsageError(f"{exc}; nothing was changed") from None
        print(f"{rewritten} stored token value(s) encrypted with the first key. "
              "Keys after the first may now be removed from COACH_ENCRYPTION_KEY.")
        return 0
    finally:
        app.close()


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("keys", help="the key that encrypts Slack tokens at rest")
    group_sub = group.add_subparsers(required=True, metavar="ACTION")
    group_sub.add_parser("generate", help="print a new key for COACH_ENCRYPTION_KEY") \
        .set_defaults(run=run_generate)
    group_sub.add_parser("rotate", help="encrypt every stored token with the first key of "
                         "COACH_ENCRYPTION_KEY (plaintext ones too)").set_defaults(run=run_rotate)
