"""Through the terminal chat: a review's rerun of the chart plans what /model then runs;
NO_ACTION in a review; /model refused after REFER_PERSONAL; escalations go above the
coach; the check-in lists only the rep's own shared actions."""

from __future__ import annotations

from sqlalchemy import select

from bot.cli.demo_org import DOMAIN
from storage.models import ActionItem, Escalation, LeafOutcome, Person, Review
from tests.support import Console, full_session, last_step, make_app, texts

ALICE = f"alice@{DOMAIN}"


def _review_to_chart(console: Console) -> None:
    full_session(console)
    console.choose("later")
    console.say("/review alice")
    console.submit(value="14")  # no move from the baseline
    console.choose("done")
    console.choose("done")


def test_a_review_rerun_plans_the_model_that_model_then_runs(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    _review_to_chart(console)
    # Q01-Q06 yes, Q07 no, Q08 no, Q09 no, Q10 no, Q12 yes, Q13 no → TRAINING
    for answer in ["yes"] * 6 + ["no", "no", "no", "no", "yes"]:
        console.choose(answer)
    replies = console.choose("no")
    assert any(r.get("leaf") == "TRAINING" for r in replies) and last_step(replies) == "leaf_step"
    replies = console.submit(skill="Discovery", good_looks_like="Five open questions")
    assert last_step(replies) == "plan_review" and "/model" in texts(replies)
    replies = console.submit(review_date="2026-12-29")
    assert "/model" in texts(replies)
    with app.sessions() as db:
        outcome = db.scalars(select(LeafOutcome).where(LeafOutcome.review_id.is_not(None))).one()
        assert (outcome.leaf, outcome.kind) == ("TRAINING", "SkillTraining")
        assert outcome.values["skill"] == "Discovery"
        planned = db.scalars(select(Review).where(Review.status == "planned")).one()
        assert planned.due_date.isoformat() == "2026-12-29"
    assert last_step(console.say("/model alice")) == "tell"
    app.close()


def test_no_action_in_a_review_is_stored_as_no_action(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    _review_to_chart(console)
    console.choose("yes")
    console.choose("no")  # Q02 → NO_ACTION
    replies = console.submit(reason="Territory change next month")
    assert "no action for now" in texts(replies) and "new solution" not in texts(replies)
    with app.sessions() as db:
        review = db.scalars(select(Review).where(Review.status == "done")).one()
        assert (review.outcome, review.leaf) == ("no_action", "NO_ACTION")
    app.close()


def test_model_is_refused_after_a_personal_referral(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    full_session(console)  # a coaching model is planned for alice...
    console.choose("later")
    _review = console.say("/review alice")
    console.submit(value="14")
    console.choose("done")
    console.choose("done")
    for answer in ["yes"] * 6 + ["no"]:
        console.choose(answer)
    console.choose("yes")  # Q08 → REFER_PERSONAL, inside the review
    replies = console.submit(note="Family illness; EAP number given")
    assert last_step(replies) == "plan_review"
    console.submit(review_date="2026-12-29")
    replies = console.say("/model alice")  # ...but not after a personal referral
    assert "personal matter" in texts(replies) and last_step(replies) is None
    app.close()


def test_a_leader_coaching_escalates_to_the_admins_not_to_themself(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app, actor=f"lee@{DOMAIN}")
    console.say("/coach dev")
    console.submit(purpose="p", objectives="o", value_to_rep="v")
    for verb, value in [("choose", "yes"), ("choose", "other")]:
        getattr(console, verb)(value)
    console.submit(gap_statement="g", rep_view="r", manager_view="m")
    console.choose("prospecting")
    console.choose("yes")
    console.choose("yes")
    console.choose("yes")
    console.choose("no")  # Q03 → SYSTEMIC_REDESIGN
    replies = console.submit(owner="RevOps", impact="Quota above market", evidence="0 of 9 reps")
    told = [r for r in replies if r.get("to") not in (None, f"lee@{DOMAIN}")]
    assert [r["to"] for r in told] == [f"admin@{DOMAIN}"]
    assert "Quota above market" in told[0]["text"] and "RevOps" in told[0]["text"]
    with app.sessions() as db:
        escalation = db.scalars(select(Escalation)).one()
        assert db.get(Person, escalation.owner_id).email == f"admin@{DOMAIN}"
    app.close()


def test_checkin_lists_only_the_reps_own_shared_actions(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    full_session(console)
    console.choose("later")
    with app.sessions.begin() as db:
        items = db.scalars(select(ActionItem).order_by(ActionItem.id)).all()
        assert [a.shared for a in items] == [True, False]  # the rep's; the manager's
        items[0].shared = False  # the manager chose to keep even this one
    console.send({"as": ALICE})
    console.say("/checkin")
    replies = console.choose("answer")
    assert "Role-play" not in texts(replies) and "recordings" not in texts(replies)
    app.close()
