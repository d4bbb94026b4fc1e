"""Secrets at rest: the Slack OAuth tokens in our database, encrypted with Fernet
(``cryptography``: AES-128-CBC with an HMAC, a timestamped token) when COACH_ENCRYPTION_KEY
is set. Several keys (comma-separated) make a ``MultiFernet``: the first encrypts, any
opens, so a key is rotated by putting a new one first and running ``coach keys rotate``.

Values written before a key was set are plaintext and still read; the next write (or a
rotation) encrypts them. A Fernet token always starts with ``gAAAAA`` (the version byte
0x80, then a 64-bit timestamp whose high bytes are zero), which no Slack token
(``xox…``) or webhook URL (``https://…``) does: that is how a stored value is told apart."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SEALED_PREFIX = "gAAAAA"


class KeyMissing(Exception):
    """An encrypted value that no configured key opens (or no key is configured)."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


def looks_sealed(value: str) -> bool:
    return value.startswith(SEALED_PREFIX)


class Keyring:
    """Encrypts and decrypts stored secrets with the configured keys (none: plaintext)."""

    def __init__(self, keys: Sequence[str] = ()) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys]) if keys else None

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def seal(self, value: str | None) -> str | None:
        """The value to store: encrypted when a key is set (an already encrypted one as
        it is), else the value itself."""
        if value is None or self._fernet is None or looks_sealed(value):
            return value
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str | None) -> str | None:
        """The stored value in clear (plaintext from before a key was set: as it is)."""
        if value is None or not looks_sealed(value):
            return value
        if self._fernet is None:
            raise KeyMissing("a stored Slack token is encrypted but COACH_ENCRYPTION_KEY is "
                             "not set: set the key it was encrypted with")
        try:
            return self._fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            raise KeyMissing("a stored Slack token is encrypted with a key that is not in "
                             "COACH_ENCRYPTION_KEY: add the old key after the new one") from None

    def rotate(self, value: str | None) -> str | None:
        """The value encrypted with the first key (plaintext ones included)."""
        if value is None or self._fernet is None:
            return value
        if not looks_sealed(value):
            return self.seal(value)
        try:
            return self._fernet.rotate(value.encode()).decode()
        except InvalidToken:
            raise KeyMissing("a stored Slack token is encrypted with a key that is not in "
                             "COACH_ENCRYPTION_KEY: add the old key after the new one") from None
