"""Project configuration: where the warehouse lives and the values in ``config/*.yaml``.

Every command that touches the warehouse resolves its path the same way
(``--db`` option, else ``RCCDASH_DB``, else the default in ``config/settings.yaml``),
so the CLI, the dashboard and a notebook never disagree about which file they read.
"""

from __future__ import annotations

import os
import pwd
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"
DB_ENV_VAR = "RCCDASH_DB"


@cache
def load_config(name: str) -> dict[str, Any]:
    """Parse ``config/<name>.yaml`` once per process.

    Raises a ``FileNotFoundError`` naming the file when it is missing, because a silent
    empty configuration would turn into wrong numbers much later.
    """
    path = CONFIG_DIR / f"{name}.yaml"
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file to use: explicit ``db``, else ``$RCCDASH_DB``, else the default."""
    if db:
        return Path(db)
    if env := os.environ.get(DB_ENV_VAR):
        return Path(env)
    return PROJECT_ROOT / load_config("settings")["warehouse"]["default_path"]


def os_user() -> str:
    """The operating-system account running this process, recorded with loads and publications.

    From the process's user id, not from ``$USER`` or ``$LOGNAME``: anyone can set those.
    """
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid {os.getuid()}"


def satisfied_from() -> int:
    """The lowest rating (1-5) counted as satisfied (config/kpi.yaml ``ratings``).

    Here rather than in the KPI layer: the marts store the satisfied flag and fingerprint
    this value without importing ibis.
    """
    value = load_config("kpi")["ratings"]["satisfied_from"]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValueError(f"config/kpi.yaml: ratings.satisfied_from must be 1-5, not {value!r}")
    return value
