"""The weekly digest's message (issue 10 §7).

A minimal stand-in with the contract's exact signature (RHYTHM.md), so the rhythm's
weekly digest job runs end to end: the digest helper's module replaces this file at
merge with every figure of METHOD §8, the text and the chart.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from flows.messages import Message
from flows.playbook import Playbook
from storage import overviews
from storage.models import Person


class DigestText:
    title = "Your weekly digest, week of {week}"
    figures = ("{reps} reps, {coached} coached in the last {days} days ({sessions} sessions); "
               "{open} open actions, {overdue} overdue; {escalations} open escalations.")


def digest_message(db: Session, recipient: Person, week: date, playbook: Playbook,
                   now: datetime) -> Message:
    """The digest for ``recipient`` about the ISO week starting ``week`` (a Monday)."""
    f = overviews.tree_figures(db, recipient, now, playbook.digest.coverage_days)
    return Message("\n".join([
        DigestText.title.format(week=week.isoformat()),
        DigestText.figures.format(reps=f.reps, coached=f.reps_coached,
                                  days=playbook.digest.coverage_days, sessions=f.sessions,
                                  open=f.open_actions, overdue=f.overdue_actions,
                                  escalations=f.open_escalations)]))
