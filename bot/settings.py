"""One typed settings object, read once from the environment (and a .env file).

Every secret may come from a file instead: ``<NAME>_FILE`` names the file (a Docker or
Kubernetes secret), see :mod:`bot.secret_files`."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Literal

import limits
from cryptography.fernet import Fernet
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url

from bot.secret_files import ConfigError, SecretFiles

# Where rate limits are counted (COACH_RATE_LIMIT_STORAGE, bot/channels/limits.py): in this
# process, or in a shared storage the service ships a client for.
IN_PROCESS = "memory"
SHARED_STORAGES = ("redis", "rediss", "redis+unix")
STORAGE_SCHEMES = (IN_PROCESS, *SHARED_STORAGES)


def storage_scheme(uri: str) -> str:
    """The scheme of a COACH_RATE_LIMIT_STORAGE URI (``redis``...)."""
    return urllib.parse.urlparse(uri.strip()).scheme.lower()

PLACEHOLDERS = {"", "changeme", "change-me", "xxx", "todo", "secret", "placeholder", "your-token"}
SECRETS = ("slack_bot_token", "slack_signing_secret", "slack_app_token", "slack_client_secret",
           "teams_app_password", "openai_api_key", "database_password", "coach_encryption_key")
# Read from <NAME>_FILE when that is set: the secrets, and DATABASE_URL (it may hold one).
FROM_FILES = (*SECRETS, "database_url")
NO_LIMIT = ("", "off", "none")  # COACH_RATE_LIMIT values that turn the limit off

__all__ = ["ConfigError", "Settings", "load_settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = SecretFiles(settings_cls, FROM_FILES, env_settings, dotenv_settings)
        return init_settings, files, env_settings, dotenv_settings, file_secret_settings

    coach_env: Literal["development", "production", "test"] = "development"
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path.cwd() / 'coach.db'}")
    # The PostgreSQL password, kept out of DATABASE_URL (DATABASE_PASSWORD_FILE: a secret file).
    database_password: str | None = None
    coach_playbook: str | None = None
    coach_log_level: str = "WARNING"
    # Log lines as text (a terminal) or JSON (a log collector): bot/observability/logs.py.
    coach_log_format: Literal["text", "json"] = "text"
    # Seconds ``coach serve`` keeps answering after SIGTERM before it closes its port:
    # /readyz says 503 and new requests get 503, so a load balancer that polls /readyz
    # stops sending work here first (bot/server.py).
    coach_shutdown_delay: float = Field(default=0.0, ge=0, le=300)
    # The operating rhythm in ``coach serve`` (bot/rhythm/hosting.py): seconds between two
    # runs of the due work on the elected replica, between a follower's tries to take over
    # (a dead leader is replaced within about this long), and a leased outbox row's hold
    # (a process killed mid-send leaves its rows to another after this long).
    coach_scheduler_interval: float = Field(default=30.0, gt=0, le=3600)
    coach_leader_retry: float = Field(default=5.0, gt=0, le=25)
    coach_outbox_lease: float = Field(default=120.0, gt=0, le=3600)
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str | None = None
    # Slack workspaces (team or enterprise ids, comma-separated) that belong to the
    # organisation; with OAuth, an installation from any other workspace reaches nobody.
    slack_team_ids: str | None = None
    teams_app_id: str | None = None
    teams_app_password: str | None = None
    # Microsoft Entra tenants (comma-separated) whose Teams users belong to the organisation;
    # a user of any other tenant reaches nobody.
    teams_tenant_id: str | None = None
    # How the app id proves itself to Entra (the SDK's MSAL auth types): ClientSecret with
    # TEAMS_APP_PASSWORD, certificate with TEAMS_CERT_FILE, UserManagedIdentity without.
    teams_auth_type: str | None = None
    teams_cert_file: str | None = None
    # With an app id, replies go only to https Bot Connector hosts: Microsoft's own and
    # these (comma-separated); any other serviceUrl is refused (the SDK's anti-SSRF check).
    # TEAMS_OUTBOUND_CHECK=false turns the check off (a local connector over http).
    teams_service_hosts: str | None = None
    teams_outbound_check: bool = True
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    coach_llm_model: str = "gpt-4o-mini"
    # Which OpenAI API the model is asked through: chat completions (every compatible
    # server) or responses (OpenAI's newer API).
    coach_llm_api: Literal["chat", "responses"] = "chat"
    # Seconds one request may take, and retries on 429 / 5xx / timeouts (the openai
    # client's own backoff, which honours Retry-After). The default client waits 600 s.
    coach_llm_timeout: float = Field(default=8.0, gt=0, le=120)
    coach_llm_retries: int = Field(default=1, ge=0, le=5)
    # Per turn: seconds all of one turn's model work may take, retries included, and the
    # most tokens one answer may use; past either the plain flow goes on without it.
    coach_llm_turn_budget: float = Field(default=20.0, gt=0, le=600)
    coach_llm_max_tokens: int = Field(default=800, ge=50, le=16000)
    # Fernet keys (comma-separated, the first encrypts; `coach keys generate` makes one): with
    # one, the Slack OAuth tokens are encrypted at rest (bot/keyring.py).
    coach_encryption_key: str | None = None
    # Turns one chat user may start (the `limits` library's notation, ";" between limits);
    # "off": no limit (bot/channels/limits.py).
    coach_rate_limit: str = "10 per 10 seconds; 60 per minute"
    # Where those limits are counted, a `limits` storage URI: memory:// in each process,
    # redis://host:6379/0 one budget shared by every replica.
    coach_rate_limit_storage: str = "memory://"
    # Who runs the command line, as the audit log names them (default: the OS user).
    coach_actor: str | None = None

    @field_validator("coach_rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        if value.strip().lower() not in NO_LIMIT:
            try:
                limits.parse_many(value)
            except ValueError:
                raise ValueError("expected limits like '10 per 10 seconds; 60 per minute', "
                                 "or 'off'") from None
        return value

    @field_validator("coach_rate_limit_storage")
    @classmethod
    def _rate_limit_storage_is_known(cls, value: str) -> str:
        if storage_scheme(value) not in STORAGE_SCHEMES:
            raise ValueError("expected memory:// or a Redis URI like redis://redis:6379/0")
        return value

    @field_validator("coach_encryption_key")
    @classmethod
    def _keys_are_fernet_keys(cls, value: str | None) -> str | None:
        for position, key in enumerate(_items(value), start=1):
            try:
                Fernet(key)
            except ValueError:
                raise ValueError(f"key {position} is not a Fernet key (32 url-safe base64 "
                                 "bytes); make one with: coach keys generate") from None
        return value

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.coach_env != "development":
            for name in SECRETS:
                value = getattr(self, name)
                if value is not None and value.strip().lower() in PLACEHOLDERS:
                    raise ValueError(f"{name.upper()} looks like a placeholder; set the real value")
        return self

    @property
    def llm_configured(self) -> bool:
        """A model is configured: a key or a base URL (the playbook may still turn it off)."""
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def encryption_keys(self) -> tuple[str, ...]:
        """COACH_ENCRYPTION_KEY as a tuple of keys, the one that encrypts first."""
        return _items(self.coach_encryption_key)

    @property
    def rate_limits(self) -> tuple[limits.RateLimitItem, ...]:
        """COACH_RATE_LIMIT parsed; empty: no limit."""
        if self.coach_rate_limit.strip().lower() in NO_LIMIT:
            return ()
        return tuple(limits.parse_many(self.coach_rate_limit))

    @property
    def slack_teams(self) -> tuple[str, ...]:
        """SLACK_TEAM_IDS as a tuple of ids (blank items dropped)."""
        return _items(self.slack_team_ids)

    @property
    def teams_tenants(self) -> tuple[str, ...]:
        """TEAMS_TENANT_ID as a tuple of tenant ids (blank items dropped)."""
        return _items(self.teams_tenant_id)

    @property
    def sqlalchemy_url(self) -> str:
        """Accept the usual postgres:// spellings and use the psycopg 3 driver; put
        DATABASE_PASSWORD in when it is set."""
        url = self.database_url
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                url = "postgresql+psycopg://" + url[len(prefix):]
                break
        if self.database_password is None:
            return url
        return make_url(url).set(password=self.database_password).render_as_string(
            hide_password=False)


def _items(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper() or 'settings'}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"configuration error: {problems}") from None
