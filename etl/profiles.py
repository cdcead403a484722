"""Import profiles: how a foreign export maps onto the canonical fields.

A profile (``config/profiles/NAME.yaml`` or any YAML file) says, per canonical field, which
headers may carry it (aliases), how its values translate (value maps), which texts mean
"did not happen" (null sentinels), how its dates and times are written (formats, or a date
column plus a time column), a constant, or a DuckDB SQL expression over the raw columns;
and which rows to drop, each rule with a name so dropped rows are counted by rule.
The format is documented in ``docs/import-profiles.md``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from warehouse.settings import CONFIG_DIR

PROFILE_DIR = CONFIG_DIR / "profiles"
FIELD_KEYS = {"aliases", "values", "null_values", "formats", "date", "time", "constant", "sql"}
PROFILE_KEYS = {
    "name",
    "description",
    "kind",
    "extends",
    "null_values",
    "formats",
    "fields",
    "drop_rows",
    "skip_rules",
}


class ProfileError(ValueError):
    """A profile is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class FieldSpec:
    """How one canonical field is found and translated."""

    aliases: tuple[str, ...] = ()
    values: dict[str, str] = field(default_factory=dict)
    null_values: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    date: str | None = None
    time: str | None = None
    constant: str | None = None
    sql: str | None = None


@dataclass(frozen=True)
class DropRule:
    """Rows for which the SQL condition is true are dropped and counted under ``name``."""

    name: str
    when: str


@dataclass(frozen=True)
class Profile:
    """A complete import profile, with the built-in default merged underneath."""

    name: str
    description: str
    kind: str | None
    null_values: tuple[str, ...]
    formats: tuple[str, ...]
    fields: dict[str, FieldSpec]
    drop_rows: tuple[DropRule, ...]
    skip_rules: frozenset[str]  # reference checks that cannot apply to this source
    source: Path


def normalise_header(text: str) -> str:
    """Fold a header for matching: NFKC (full-width to ASCII), no spaces, lower case."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(folded.split()).lower()


def _as_tuple(value: Any, where: str) -> tuple[str, ...]:
    """A YAML scalar or list as a tuple of strings."""
    if value is None:
        return ()
    if isinstance(value, str | int | float):
        return (str(value),)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    raise ProfileError(f"{where}: expected a text or a list, got {type(value).__name__}")


def _field(name: str, spec: Any, where: str) -> FieldSpec:
    """Parse one ``fields:`` entry."""
    if not isinstance(spec, dict):
        raise ProfileError(f"{where}: fields.{name} must be a mapping")
    unknown = set(spec) - FIELD_KEYS
    if unknown:
        raise ProfileError(
            f"{where}: fields.{name} has unknown key(s) {sorted(unknown)};"
            f" allowed: {sorted(FIELD_KEYS)}"
        )
    values = spec.get("values") or {}
    if not isinstance(values, dict):
        raise ProfileError(f"{where}: fields.{name}.values must map raw text to canonical text")
    if bool(spec.get("date")) != bool(spec.get("time")):
        raise ProfileError(
            f"{where}: fields.{name} needs both `date` and `time` columns, or neither"
        )
    constant = spec.get("constant")
    return FieldSpec(
        aliases=_as_tuple(spec.get("aliases"), f"{where}: fields.{name}.aliases"),
        values={
            str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items()
        },
        null_values=_as_tuple(spec.get("null_values"), f"{where}: fields.{name}.null_values"),
        formats=_as_tuple(spec.get("formats"), f"{where}: fields.{name}.formats"),
        date=spec.get("date"),
        time=spec.get("time"),
        constant=None if constant is None else str(constant),
        sql=spec.get("sql"),
    )


def _read(path: Path) -> dict[str, Any]:
    """Parse a profile file, refusing anything but a mapping with known keys."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a profile is a mapping with keys {sorted(PROFILE_KEYS)}")
    unknown = set(data) - PROFILE_KEYS
    if unknown:
        raise ProfileError(
            f"{path}: unknown key(s) {sorted(unknown)}; allowed: {sorted(PROFILE_KEYS)}"
        )
    return data


def resolve_profile_path(name_or_path: str) -> Path:
    """A profile given by name (``config/profiles/NAME.yaml``) or by path."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return candidate
    named = PROFILE_DIR / f"{name_or_path}.yaml"
    if named.exists():
        return named
    available = sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))
    raise ProfileError(f"no profile {name_or_path!r}; built-in profiles: {', '.join(available)}")


def load_profile(name_or_path: str = "default") -> Profile:
    """Load a profile, merged over the one it ``extends`` (``default`` unless ``extends: null``)."""
    path = resolve_profile_path(name_or_path)
    data = _read(path)
    where = str(path)
    parent_name = data.get("extends", "default" if path.stem != "default" else None)
    fields: dict[str, FieldSpec] = {}
    null_values: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    drops: tuple[DropRule, ...] = ()
    if parent_name:
        parent = load_profile(parent_name)
        fields, null_values, formats = dict(parent.fields), parent.null_values, parent.formats
    for name, spec in (data.get("fields") or {}).items():
        own = _field(str(name), spec, where)
        base = fields.get(str(name))
        if base is not None and not (own.constant or own.sql or own.date):
            own = FieldSpec(
                aliases=own.aliases + base.aliases,
                values={**base.values, **own.values},
                null_values=own.null_values or base.null_values,
                formats=own.formats or base.formats,
            )
        fields[str(name)] = own
    for i, rule in enumerate(data.get("drop_rows") or []):
        if not isinstance(rule, dict) or set(rule) != {"name", "when"}:
            raise ProfileError(f"{where}: drop_rows[{i}] needs exactly `name` and `when`")
        drops += (DropRule(str(rule["name"]), str(rule["when"])),)
    return Profile(
        name=str(data.get("name", path.stem)),
        description=str(data.get("description", "")),
        kind=data.get("kind"),
        null_values=null_values + _as_tuple(data.get("null_values"), f"{where}: null_values"),
        formats=_as_tuple(data.get("formats"), f"{where}: formats") or formats,
        fields=fields,
        drop_rows=drops,
        skip_rules=frozenset(_as_tuple(data.get("skip_rules"), f"{where}: skip_rules")),
        source=path,
    )
