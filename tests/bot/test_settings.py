"""Settings: one typed object from the environment; placeholder secrets refused."""

from __future__ import annotations

import pytest

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
