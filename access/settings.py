"""The access settings (``config/access.yaml``), read once into a typed, validated object.

A wrong value here locks everybody out or nobody, so it is checked at start with an error
naming the file and the key, instead of surfacing as a strange sign-in failure later.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from warehouse.settings import CONFIG_DIR, load_config

ACCESS_ENV_VAR = "RCCDASH_ACCESS"
FILE = CONFIG_DIR / "access.yaml"


class SignInMethod(StrEnum):
    """How people prove who they are."""

    LOCAL = "local"  # passwords in the account store
    OIDC = "oidc"  # the union's OpenID Connect provider (Streamlit's st.login)


class ConfigError(ValueError):
    """A value in config/access.yaml that cannot work."""


@dataclass(frozen=True)
class AccessSettings:
    """Sign-in, session, lockout and password settings."""

    store_file: str = "access.sqlite"
    method: SignInMethod = SignInMethod.LOCAL
    idle_timeout_s: float = 8 * 3600
    cookie_name: str = "rccdash_session"
    cookie_secure: bool = False
    max_failures: int = 5
    failure_window_s: float = 15 * 60
    lock_s: float = 15 * 60
    min_password_length: int = 10
    hash_time_cost: int = 3
    hash_memory_kib: int = 65536
    hash_parallelism: int = 4


def _get(raw: dict[str, Any], section: str, key: str, kind: type) -> Any:
    """``raw[section][key]`` converted to ``kind``; a ConfigError naming file and key."""
    try:
        value = raw[section][key]
    except (KeyError, TypeError):
        raise ConfigError(f"{FILE}: missing {section}.{key}") from None
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{FILE}: {section}.{key} must be true or false, got {value!r}")
        return value
    try:
        converted = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{FILE}: {section}.{key}: {value!r} is not a {kind.__name__}") from None
    if isinstance(converted, int | float) and not isinstance(converted, bool) and converted <= 0:
        raise ConfigError(f"{FILE}: {section}.{key} must be positive, got {value!r}")
    return converted


def parse(raw: dict[str, Any]) -> AccessSettings:
    """Validate the parsed YAML into :class:`AccessSettings`."""
    method = _get(raw, "sign_in", "method", str)
    try:
        chosen = SignInMethod(method)
    except ValueError:
        valid = ", ".join(m.value for m in SignInMethod)
        raise ConfigError(
            f"{FILE}: sign_in.method must be one of {valid}, got {method!r}"
        ) from None
    store_file = _get(raw, "store", "file", str)
    if not store_file.strip() or "/" in store_file:
        raise ConfigError(f"{FILE}: store.file must be a file name, got {store_file!r}")
    return AccessSettings(
        store_file=store_file,
        method=chosen,
        idle_timeout_s=60 * _get(raw, "session", "idle_timeout_minutes", float),
        cookie_name=_get(raw, "session", "cookie_name", str),
        cookie_secure=_get(raw, "session", "cookie_secure", bool),
        max_failures=_get(raw, "lockout", "max_failures", int),
        failure_window_s=60 * _get(raw, "lockout", "window_minutes", float),
        lock_s=60 * _get(raw, "lockout", "lock_minutes", float),
        min_password_length=_get(raw, "password", "min_length", int),
        hash_time_cost=_get(raw, "password", "hash_time_cost", int),
        hash_memory_kib=_get(raw, "password", "hash_memory_kib", int),
        hash_parallelism=_get(raw, "password", "hash_parallelism", int),
    )


@cache
def access_settings() -> AccessSettings:
    """``config/access.yaml``, validated, once per process."""
    return parse(load_config("access"))


def store_path(db_path: Path) -> Path:
    """The account store for the warehouse at ``db_path``: ``$RCCDASH_ACCESS``, else beside it."""
    if env := os.environ.get(ACCESS_ENV_VAR):
        return Path(env)
    return db_path.resolve().parent / access_settings().store_file
