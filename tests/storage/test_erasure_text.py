"""How erasure rewrites text that names someone: any name (regex characters, any script,
any case) is found as a whole word and replaced; text that does not name them is left as
it is, in strings and in JSON alike."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from storage.erasure import ERASED_ID, ERASED_NAME, rewritten
from storage.footprint import Needles, names_them
from tests.fuzz import count, fuzz

EMAIL = "someone@org.example"
names = st.text(min_size=3, max_size=30).map(str.strip).filter(lambda n: len(n) >= 3)
words = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


def rewrite(value: object, name: str) -> object:
    found = Needles((EMAIL, name))
    by = {EMAIL: "erased-1@erased.invalid", name.lower(): ERASED_NAME}
    return rewritten(value, found.pattern(),
                      lambda m: by.get(m.group(0).lower(), ERASED_ID))


@pytest.mark.slow
@fuzz()
@given(names, words, words)
def test_a_name_between_any_words_is_replaced(name: str, before: str, after: str) -> None:
    count("erasure rewrites a name")
    pattern = Needles((EMAIL, name)).pattern()
    assume(not pattern.search(ERASED_NAME) and not pattern.search(ERASED_ID))
    assume(not pattern.search("erased-1@erased.invalid"))
    text = f"{before} {name.upper()} and {EMAIL}, {{{name}}} {after}"
    result = rewrite({"k": [text, {name: 1}]}, name)
    assert not names_them(result, pattern)
    untouched = f"{before} {after}"
    assume(not pattern.search(untouched))
    assert rewrite(untouched, name) == untouched


def test_a_name_inside_a_longer_word_is_left_alone() -> None:
    assert rewrite("Alice Adamsworth met Alice Adams.", "Alice Adams") == (
        f"Alice Adamsworth met {ERASED_NAME}.")
    assert re.search("Adams", str(rewrite({"Alice Adams": "x"}, "Alice Adams"))) is None
