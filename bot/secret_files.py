"""Secrets from files: ``<NAME>_FILE`` holds the path of a file whose content is the value
of ``<NAME>`` (the convention of Docker and Kubernetes secrets, and of the official
PostgreSQL image). pydantic-settings' own ``secrets_dir`` reads every field from one folder
by its name; this reads each secret from the file its variable names.

A file that cannot be read, an empty one, or both ``NAME`` and ``NAME_FILE`` set is a
:class:`ConfigError` naming the variable (never the content)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource


class ConfigError(ValueError):
    """Bad configuration: the message names the variable."""


class SecretFiles(PydanticBaseSettingsSource):
    """The fields in ``names`` whose ``<NAME>_FILE`` is set (in the environment or the
    .env file), read from those files."""

    def __init__(self, settings_cls: type[BaseSettings], names: Iterable[str],
                 *given: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self.names = tuple(names)
        # Both sources are pydantic-settings' Env / DotEnv ones: their variables, lower case.
        self.variables: list[Mapping[str, str | None]] = [
            getattr(source, "env_vars", {}) for source in given]

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads every file at once

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in self.names:
            path = self._set(f"{name}_file")
            if path is None:
                continue
            if self._set(name) is not None:
                raise ConfigError(f"configuration error: set {name.upper()} or "
                                  f"{name.upper()}_FILE, not both")
            found[name] = read_secret(f"{name.upper()}_FILE", path)
        return found

    def _set(self, variable: str) -> str | None:
        for variables in self.variables:
            value = variables.get(variable)
            if value:
                return value
        return None


def read_secret(variable: str, path: str) -> str:
    """The secret in the file at ``path`` (surrounding white space and the final newline
    dropped), or a ConfigError that says what is wrong with the file."""
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ConfigError(f"configuration error: {variable}: no such file {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"configuration error: {variable}: {path} is a directory, "
                          "not a file") from None
    except PermissionError:
        raise ConfigError(f"configuration error: {variable}: {path} cannot be read "
                          "(permission denied)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"configuration error: {variable}: {path} is not UTF-8 "
                          "text") from None
    except OSError as exc:
        raise ConfigError(f"configuration error: {variable}: {path} cannot be read "
                          f"({exc.strerror or type(exc).__name__})") from None
    if not value:
        raise ConfigError(f"configuration error: {variable}: {path} is empty")
    return value
