"""The escalation inbox on Slack: ``/coach escalations`` answers with each escalation and
its buttons (in a window); Acknowledge works from there; Resolve asks for the note in the
DM, filled in a modal."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Escalation
from tests.services.test_escalations import raise_escalation
from tests.slack.conftest import IDS, Harness
from tests.slack.driver import find_choice
from tests.slack.test_dm import fill_in, last_dm
from tests.support import Console


async def test_the_inbox_buttons_acknowledge_and_resolve(harness: Harness) -> None:
    raise_escalation(Console(harness.app))  # Maya, on the console: Lee owns it
    with harness.app.sessions() as db:
        escalation = db.scalars(select(Escalation)).one()
    lee = IDS["lee"]
    await harness.http.command(lee, "escalations")
    await harness.http.settle()
    shown = harness.fake.last_view()  # the reply to a command, in a window
    text = str(shown["blocks"])
    assert f"#{escalation.id} OPEN" in text and "Nobody hits 25% win rate" in text
    ack = find_choice(shown["blocks"], f"/escalations ack {escalation.id}")
    body = harness.http.action_in_view(lee, shown, ack)
    assert (await harness.http.interact(body)).status == 200
    await harness.http.settle()
    with harness.app.sessions() as db:
        assert db.get(Escalation, escalation.id).status == "acknowledged"  # type: ignore[union-attr]

    await harness.http.command(lee, f"escalations resolve {escalation.id}")
    await harness.http.settle()
    assert "what was done" in last_dm(harness, lee)["text"]  # the flow lives in the DM
    await fill_in(harness, lee, note="Quota model changed for Q1")
    with harness.app.sessions() as db:
        stored = db.get(Escalation, escalation.id)
        assert stored is not None and stored.status == "resolved"
        assert stored.resolution == "Quota model changed for Q1"
