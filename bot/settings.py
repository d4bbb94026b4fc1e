"""One typed settings object, read once from the environment (and a .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDERS = {"", "changeme", "change-me", "xxx", "todo", "secret", "placeholder", "your-token"}
SECRETS = ("slack_bot_token", "slack_signing_secret", "slack_app_token", "slack_client_secret",
           "teams_app_password", "openai_api_key")


class ConfigError(ValueError):
    """Bad configuration: the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    coach_env: Literal["development", "production", "test"] = "development"
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path.cwd() / 'coach.db'}")
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
    def slack_teams(self) -> tuple[str, ...]:
        """SLACK_TEAM_IDS as a tuple of ids (blank items dropped)."""
        return _items(self.slack_team_ids)

    @property
    def teams_tenants(self) -> tuple[str, ...]:
        """TEAMS_TENANT_ID as a tuple of tenant ids (blank items dropped)."""
        return _items(self.teams_tenant_id)

    @property
    def sqlalchemy_url(self) -> str:
        """Accept the usual postgres:// spellings and use the psycopg 3 driver."""
        url = self.database_url
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix):]
        return url


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
