"""What reaches the model: no private note, no email address, no phone number and no
name but the rep's first one, in any request body the fake server records (a session's
questions and triage, a check-in's blockers, every digest's narrative: the narrative's
figures name nobody at all); private values only when the org's playbook turns that on.
Redaction holds for any text."""

from __future__ import annotations

import json
import re

import phonenumbers
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from bot.channels.who import Who
from bot.cli.demo_org import DOMAIN, load_demo
from bot.llm.privacy import redact
from bot.llm.requests import RequestPlanner
from bot.playbook_loader import load_playbook
from flows.effects import AskModel
from storage.models import Person
from tests.e2e.test_rep_sees import Surface
from tests.fuzz import count, fuzz
from tests.leaf_script import PRIVATE_NOTE, SECRET, Script, drive
from tests.llm.fake_openai import FakeOpenAI, task_of
from tests.llm.sessions import (
    ALICE,
    answer_checkin,
    model_app,
    rhythm_running_since,
    triage_reply,
)
from tests.support import START, Console

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
NAMES = ("Alice", "Adams", "Bob", "Brown", "Maya", "Manager", "Carmen", "Cruz", "Lee", "Leader",
         "Omar", "Desai", "Erin", "Evans")
TYPED = ("Call bob.brown@example.com or (415) 555-2671, or Bob Brown's cell +44 20 7946 0958; "
         "Maya Manager and Carmen Cruz think Alice Adams skips discovery")


def phones_in(text: str) -> list[str]:
    return [m.raw_string for m in phonenumbers.PhoneNumberMatcher(
        text, "US", leniency=phonenumbers.Leniency.POSSIBLE)]


def test_no_private_note_email_phone_or_other_name_reaches_the_model(
        db_url: str, fake_openai: FakeOpenAI) -> None:
    app = model_app(db_url, fake_openai)
    chart = app.playbook.chart
    # A session with a private leaf first: its note must never be sent, later or then.
    console = Console(app)
    surface = Surface(console)
    surface._keep(console.say("/coach bob"))
    surface.submit(purpose="p", objectives="o", value_to_rep="v")
    drive(Script(chart, "REFER_PERSONAL"), surface.step, surface.fields, surface.choose,
          surface.submit)
    # Then a session whose every free text carries an email, phones and other names.
    fake_openai.reply(triage_reply(), task="triage")
    console.say("/coach alice")
    console.submit(purpose=TYPED, objectives=TYPED, agenda=TYPED, value_to_rep=TYPED)
    console.choose("yes")
    console.choose("metric:win rate %")
    console.submit(gap_statement=TYPED, rep_view=TYPED, manager_view=TYPED)
    console.choose("opportunity_qualification")
    console.choose("yes")
    replies = console.submit(problem=TYPED)
    assert any(r.get("step") == "triage" for r in replies)  # the model was asked, answered
    # Alice's check-in, its blockers typed the same way; then Monday's digests.
    answer_checkin(Console(app, ALICE), TYPED)
    rhythm_running_since(app)
    digests = [r for r in console.send({"clock": "2026-12-07T13:30:00+00:00"})
               if r.get("kind") == "digest"]
    assert len(digests) == 3  # Lee, Maya, Omar
    app.close()
    assert [task_of(json.loads(b)) for b in fake_openai.bodies] == [
        "questions", "triage", "questions", "triage", "blockers", *["narrative"] * 3]
    reps = ("Bob", "Bob", "Alice", "Alice", "Alice", None, None, None)
    for raw, rep in zip(fake_openai.bodies, reps, strict=True):
        sent = json.dumps(json.loads(raw), ensure_ascii=False)  # the text, unescaped
        prompt = json.loads(raw)["messages"][0]["content"]
        assert SECRET not in sent and PRIVATE_NOTE not in sent
        assert not EMAIL.findall(prompt), EMAIL.findall(prompt)
        assert not phones_in(prompt), phones_in(prompt)
        for name in NAMES:
            if name != rep:
                assert not re.search(rf"\b{name}\b", prompt), (name, prompt)
        if rep is not None:
            assert re.search(rf"\b{rep}\b", prompt)  # the rep's first name stays
    assert "skips discovery" in json.loads(fake_openai.bodies[4])["messages"][0]["content"]


def test_private_values_are_sent_only_when_the_org_allows(engine: Engine, tmp_path) -> None:
    with engine.begin() as conn:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as db:
            load_demo(db, START.date(), START)
            db.flush()
            maya = db.query(Person).filter_by(email=f"maya@{DOMAIN}").one()
            alice = db.query(Person).filter_by(email=f"alice@{DOMAIN}").one()
            ask = AskModel("triage", "t", {"rep": "Alice Adams", "problem": "skips discovery",
                                           "private_note": f"{SECRET} caring for a parent"})
            who = Who("console", "local", maya.email)
            closed = RequestPlanner(load_playbook()).plan(conn, who, maya.id, alice.id, ask, "o")
            yaml = tmp_path / "p.yaml"
            yaml.write_text("llm:\n  send_private: true\n")
            open_ = RequestPlanner(load_playbook(yaml)).plan(conn, who, maya.id, alice.id, ask,
                                                             "o")
    assert SECRET not in closed.prompt and "skips discovery" in closed.prompt
    assert "Adams" not in closed.prompt and "Alice" in closed.prompt
    assert SECRET not in open_.prompt  # no template places a private note yet
    assert "private_note" not in RequestPlanner(load_playbook()).sendable(ask.values)
    assert "private_note" in RequestPlanner(load_playbook(yaml)).sendable(ask.values)


local = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789._+-"),
                min_size=1, max_size=20).filter(lambda s: s[0].isalnum() and s[-1].isalnum())
domain = st.from_regex(r"[a-z0-9]{1,12}(\.[a-z]{2,6}){1,2}", fullmatch=True)
emails = st.builds(lambda a, d: f"{a}@{d}", local, domain)
phones = st.sampled_from(["(415) 555-2671", "415-555-0100", "+1 212 555 0199",
                          "+44 20 7946 0958", "+49 30 901820", "212.555.0123",
                          "+33 1 42 68 53 00"])
filler = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="@"),
                 max_size=40)
names = st.lists(st.from_regex(r"[A-Z][a-z]{2,9} [A-Z][a-z]{2,9}", fullmatch=True),
                 min_size=1, max_size=4)


@fuzz(0.2)
@given(before=filler, email=emails, between=filler, phone=phones, after=filler)
def test_redaction_removes_every_email_and_phone(before: str, email: str, between: str,
                                                 phone: str, after: str) -> None:
    count("redact: emails and phones")
    text = f"{before} {email} {between} {phone} {after}"
    out = redact(text)
    assert email not in out and phone not in out
    assert "[email]" in out and "[phone]" in out
    assert not phones_in(out.replace("[phone]", " "))


@fuzz(0.2)
@given(people=names, text=filler, keep_first=st.booleans())
def test_redaction_removes_every_name_but_the_reps_first(people: list[str], text: str,
                                                         keep_first: bool) -> None:
    count("redact: names")
    rep_first = people[0].split()[0] if keep_first else ""
    written = " and ".join(people) + " " + text
    out = redact(written, names=people, keep=rep_first)
    for person in people:
        for part in person.split():
            if part.casefold() == rep_first.casefold():
                continue
            assert not re.search(rf"(?<!\w){re.escape(part)}(?!\w)", out, re.IGNORECASE), (
                part, out)
    if rep_first:
        assert rep_first in out


@fuzz(0.5)
@given(st.text(max_size=300), st.lists(st.text(max_size=20), max_size=5), st.text(max_size=20))
def test_redaction_never_fails(text: str, people: list[str], keep: str) -> None:
    count("redact: any text")
    assert isinstance(redact(text, names=people, keep=keep), str)
