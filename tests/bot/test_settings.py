"""Settings: one typed object from the environment; placeholder secrets refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from bot.settings import ConfigError, load_settings


def test_defaults_to_a_sqlite_file_in_the_working_directory(
        monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path}/coach.db"


@pytest.mark.parametrize("url", ["postgres://u@h/db", "postgresql://u@h/db"])
def test_postgres_urls_use_psycopg3(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert load_settings().sqlalchemy_url == "postgresql+psycopg://u@h/db"


def test_placeholder_secrets_are_refused_outside_development(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_ENV", "production")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "changeme")
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET looks like a placeholder"):
        load_settings()
    monkeypatch.setenv("COACH_ENV", "development")
    assert load_settings().slack_signing_secret == "changeme"


def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_ENV", "staging")
    with pytest.raises(ConfigError, match="COACH_ENV"):
        load_settings()


# --- secrets from files (<NAME>_FILE) ----------------------------------------------------

FILE_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN",
                  "SLACK_CLIENT_SECRET", "TEAMS_APP_PASSWORD", "OPENAI_API_KEY",
                  "DATABASE_URL", "DATABASE_PASSWORD", "COACH_ENCRYPTION_KEY")


@pytest.mark.parametrize("variable", FILE_VARIABLES)
def test_every_secret_can_come_from_a_file(variable: str, monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    value = Fernet.generate_key().decode() if variable == "COACH_ENCRYPTION_KEY" \
        else "sqlite:///from-file.db" if variable == "DATABASE_URL" else "s3cret-from-a-file"
    secret = tmp_path / "secret"
    secret.write_text(value + "\n")  # what `echo` and most secret stores write
    monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv(f"{variable}_FILE", str(secret))
    assert getattr(load_settings(), variable.lower()) == value


def test_a_missing_or_unreadable_file_names_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=r"SLACK_BOT_TOKEN_FILE: no such file .*nowhere"):
        load_settings()
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(tmp_path))
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings()
    empty = tmp_path / "empty"
    empty.write_text("\n")
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(empty))
    with pytest.raises(ConfigError, match="is empty"):
        load_settings()
    if os.geteuid() != 0:  # root reads any file
        locked = tmp_path / "locked"
        locked.write_text("x")
        locked.chmod(0)
        monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(locked))
        with pytest.raises(ConfigError, match="permission denied"):
            load_settings()
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00")
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(binary))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings()


def test_a_secret_set_both_ways_is_refused(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-file")
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    monkeypatch.setenv("OPENAI_API_KEY_FILE", str(secret))
    with pytest.raises(ConfigError, match="set OPENAI_API_KEY or OPENAI_API_KEY_FILE, not both"):
        load_settings()


def test_the_file_may_be_named_in_the_dotenv_file(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    (tmp_path / "token").write_text("xoxb-from-file")
    (tmp_path / ".env").write_text(f"SLACK_BOT_TOKEN_FILE={tmp_path / 'token'}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert load_settings().slack_bot_token == "xoxb-from-file"


def test_a_file_secret_is_still_refused_when_a_placeholder(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("changeme")
    monkeypatch.setenv("COACH_ENV", "production")
    monkeypatch.setenv("SLACK_SIGNING_SECRET_FILE", str(secret))
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET looks like a placeholder"):
        load_settings()


def test_the_database_password_goes_into_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://coach@db:5432/coach")
    monkeypatch.setenv("DATABASE_PASSWORD", "p@ss/word:1")
    url = make_url(load_settings().sqlalchemy_url)
    assert (url.drivername, url.username, url.password, url.host, url.database) == (
        "postgresql+psycopg", "coach", "p@ss/word:1", "db", "coach")


def test_encryption_keys_and_rate_limits_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("COACH_ENCRYPTION_KEY", f"{first}, {second}")
    assert load_settings().encryption_keys == (first, second)
    monkeypatch.setenv("COACH_ENCRYPTION_KEY", f"{first},not-a-key")
    with pytest.raises(ConfigError, match=r"COACH_ENCRYPTION_KEY.*key 2 is not a Fernet key"):
        load_settings()
    monkeypatch.delenv("COACH_ENCRYPTION_KEY")
    assert [str(x) for x in load_settings().rate_limits] == ["10 per 10 second",
                                                            "60 per 1 minute"]
    monkeypatch.setenv("COACH_RATE_LIMIT", "off")
    assert load_settings().rate_limits == ()
    monkeypatch.setenv("COACH_RATE_LIMIT", "lots")
    with pytest.raises(ConfigError, match="COACH_RATE_LIMIT"):
        load_settings()
