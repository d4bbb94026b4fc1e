"""Who is talking: a platform, its tenant (a Slack workspace, a Teams tenant) and the
platform's id of the user (the console uses the email)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Who:
    """Who is talking, as the platform knows them (the console uses the email)."""

    platform: str
    tenant: str
    user_key: str
