"""The keyring that encrypts stored Slack tokens: any text goes in and comes back; a stored
value that is not ours is refused with KeyMissing, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.keyring import SEALED_PREFIX, KeyMissing, Keyring, generate_key
from tests.fuzz import count, fuzz

OLD, NEW = generate_key(), generate_key()


@pytest.mark.slow
@fuzz()
@given(st.text())
def test_any_text_round_trips_and_rotates(value: str) -> None:
    count("keyring round trip")
    old, both = Keyring([OLD]), Keyring([NEW, OLD])
    sealed = old.seal(value)
    assert sealed is not None
    if value.startswith(SEALED_PREFIX):  # looks encrypted already: stored as it is
        assert sealed == value
        return
    assert len(value) < 12 or value not in sealed  # (a short one may turn up by chance)
    assert old.open(sealed) == value
    rotated = both.rotate(sealed)
    assert Keyring([NEW]).open(rotated) == value
    assert Keyring().open(value) == value  # plaintext from before a key: as it is


@pytest.mark.slow
@fuzz()
@given(st.text().map(lambda tail: SEALED_PREFIX + tail) | st.binary().map(
    lambda raw: SEALED_PREFIX + raw.hex()))
def test_a_stored_value_that_is_not_ours_is_refused_kindly(stored: str) -> None:
    count("keyring foreign value")
    for keyring in (Keyring(), Keyring([NEW])):
        with pytest.raises(KeyMissing):
            keyring.open(stored)
    with pytest.raises(KeyMissing):
        Keyring([NEW]).rotate(stored)
