"""``coach privacy export EMAIL`` and ``coach privacy delete EMAIL``: everything stored about
a person as JSON, and erasing them (storage/footprint.py, storage/erasure.py). The person is
found by email within one organisation (``--org`` when the email is in several). Both acts
are recorded in the audit log, by the person's id, in the same transaction."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sqlalchemy import Connection

from bot.cli.audit import cli_actor
from bot.cli.errors import UsageError
from bot.cli.opening import open_app
from storage import audit, erasure, footprint
from storage.footprint import Someone


class PrivacyText:
    nobody = "nobody with the email {email} is known{where}"
    several = ("{email} is in several organisations ({orgs}): say which one with --org ID")
    already = "{email} belongs to a person who is already erased"
    exported = "Exported {rows} row(s) about person {id} to {out}."
    plan = ("This erases {name} <{email}> (person {id}, organisation {org}): {rows} row(s) "
            "refer to them and {mentions} other row(s) name them. Their identity and free "
            "text go; their sessions, check-ins and metrics stay in the figures, anonymous. "
            "This cannot be undone.")
    ask = "Type yes to erase them: "
    kept = "Nothing was changed."
    done = "Erased person {id}: {deleted} row(s) deleted, {cleared} cleared, {rewritten} " \
           "other row(s) rewritten."
    name_shared = ("Their name is also someone else's, so it was left where it appears in "
                   "others' text; their email and chat ids are gone.")


def find(conn: Connection, email: str, org: int | None) -> Someone:
    """The one person with ``email`` (in ``org`` when given), or a UsageError saying why not."""
    found = footprint.matching(conn, email, org)
    if not found:
        where = f" in organisation {org}" if org is not None else ""
        raise UsageError(PrivacyText.nobody.format(email=email, where=where))
    if len(found) > 1:
        orgs = ", ".join(str(s.org_id) for s in found)
        raise UsageError(PrivacyText.several.format(email=email, orgs=orgs))
    if found[0].erased:
        raise UsageError(PrivacyText.already.format(email=email))
    return found[0]


def run_export(args: argparse.Namespace) -> int:
    app = open_app()
    try:
        with app.engine.begin() as conn:
            someone = find(conn, args.email, args.org)
            exported = footprint.export(conn, someone, app.clock.now())
            rows = sum(footprint.counts(exported["records"]).values())
            audit.record(conn, at=app.clock.now(), actor=cli_actor(app.settings),
                         action="privacy.export", subject=f"person:{someone.id}",
                         org_id=someone.org_id, detail={"rows": rows})
        text = json.dumps(exported, indent=2, sort_keys=True, ensure_ascii=False)
        if args.out is None:
            print(text)
        else:
            try:
                args.out.write_text(text + "\n", encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None
            print(PrivacyText.exported.format(rows=rows, id=someone.id, out=args.out))
        return 0
    finally:
        app.close()


def run_delete(args: argparse.Namespace) -> int:
    app = open_app()
    try:
        with app.engine.begin() as conn:
            someone = find(conn, args.email, args.org)
            if not args.yes and not _confirmed(conn, someone):
                print(PrivacyText.kept)
                return 1
            report = erasure.erase(conn, someone, app.clock.now())
            audit.record(conn, at=app.clock.now(), actor=cli_actor(app.settings),
                         action="privacy.delete", subject=f"person:{someone.id}",
                         org_id=someone.org_id, detail=report.as_detail())
        print(PrivacyText.done.format(
            id=someone.id, deleted=sum(report.deleted.values()),
            cleared=sum(report.cleared.values()), rewritten=sum(report.rewritten.values())))
        if report.name_shared:
            print(PrivacyText.name_shared)
        return 0
    finally:
        app.close()


def _confirmed(conn: Connection, someone: Someone) -> bool:
    rows, named = footprint.extent(conn, someone)
    print(PrivacyText.plan.format(name=someone.name, email=someone.email, id=someone.id,
                                  org=someone.org_id, rows=rows, mentions=named))
    try:
        answer = input(PrivacyText.ask)
    except EOFError:
        answer = ""
    return answer.strip().lower() == "yes"


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("privacy", help="a person's data: export it, erase them")
    group_sub = group.add_subparsers(required=True, metavar="ACTION")
    export = group_sub.add_parser("export", help="everything stored about a person, as JSON")
    export.add_argument("email", metavar="EMAIL")
    export.add_argument("--org", type=int, metavar="ID",
                        help="the organisation (when the email is in several)")
    export.add_argument("--out", type=Path, metavar="FILE", help="write here, not to stdout")
    export.set_defaults(run=run_export)
    erase = group_sub.add_parser("delete", help="erase a person: no trace of their name, "
                                 "email or chat ids; others' figures unchanged")
    erase.add_argument("email", metavar="EMAIL")
    erase.add_argument("--org", type=int, metavar="ID",
                       help="the organisation (when the email is in several)")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.set_defaults(run=run_delete)

