"""/coach without a name in a large tree asks for a name instead of listing thousands, and
a name matching many lists a few of them."""

from __future__ import annotations

from bench.history import NOW, PLATFORM, TENANT, build_people
from bot.channels.who import Who
from flows.messages import Say
from tests.support import make_app


def test_a_vp_is_asked_for_a_name_and_shown_a_few_matches(db_url: str) -> None:
    app = make_app(db_url, demo=False, start=NOW)
    with app.engine.begin() as conn:
        org = build_people(conn, 80)
    vp = Who(PLATFORM, TENANT, org.email(org.vp))
    asked = app.runner.handle(vp, Say("/coach"))[-1].text
    assert "You can coach more than 30 people" in asked and "Rep" not in asked
    many = app.runner.handle(vp, Say("/coach rep"))[-1].text
    assert "matches more than 20 people" in many and many.count("<p") == 20
    manager = Who(PLATFORM, TENANT, org.email(org.managers[0]))
    listed = app.runner.handle(manager, Say("/coach"))[-1].text
    assert f"Rep {org.reps[0]}" in listed  # a team of eight: named
    app.close()
