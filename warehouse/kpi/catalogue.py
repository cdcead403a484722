"""The KPI catalogue: name, labels, unit, good direction, format and target of every KPI.

The dashboard colours a change and formats a value by looking the KPI up here, so it never
needs to know that a falling wait time is good news and a falling service level is not.
Everything comes from ``config/kpi.yaml``; targets are overridden per year by
``ref_kpi_target`` (county row, then outlet row).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

from warehouse.kpi.relations import table
from warehouse.kpi.source import Connection, backend_of
from warehouse.settings import load_config

DIRECTIONS = ("up", "down", "none")


@dataclass(frozen=True)
class Kpi:
    """One KPI as the catalogue describes it."""

    name: str
    label_en: str
    label_zh: str
    unit: str
    direction: str
    format: str
    source: str
    target: float | None = None
    ceiling: float | None = None
    aliases: tuple[str, ...] = ()

    def goodness(self, value: float) -> float:
        """Score a value so that better is higher: the direction, bent at the ceiling.

        Utilisation is good up to its healthy ceiling and bad beyond, so above the ceiling
        the score falls again.
        """
        if self.direction == "down":
            return -value
        if self.ceiling is not None and value > self.ceiling:
            return self.ceiling - (value - self.ceiling)
        return value

    def rank_of(self, value: float | None, among: pl.Series) -> int | None:
        """``value``'s rank among ``among`` (1 = best in the good direction, ties share).

        None for a KPI without a good direction (a volume) or without a value: "3rd of 24"
        only makes sense where higher or lower is better.

        >>> wait = Kpi("wait_p90_s", "", "", "s", "down", "", "")
        >>> wait.rank_of(300.0, pl.Series([200.0, 300, 900]))
        2
        """
        if value is None or self.direction not in ("up", "down"):
            return None
        better = among > value if self.direction == "up" else among < value
        return int(better.sum()) + 1


@cache
def _catalogue() -> dict[str, Kpi]:
    """Parse config/kpi.yaml into Kpi objects once per process, validating it."""
    raw: dict[str, dict[str, Any]] = load_config("kpi")["kpis"]
    out = {}
    for name, spec in raw.items():
        direction = spec["direction"]
        if direction not in DIRECTIONS:
            raise ValueError(f"config/kpi.yaml: {name}: direction must be one of {DIRECTIONS}")
        out[name] = Kpi(
            name=name,
            label_en=spec["label_en"],
            label_zh=spec["label_zh"],
            unit=spec["unit"],
            direction=direction,
            format=spec["format"],
            source=spec["source"],
            target=None if spec.get("target") is None else float(spec["target"]),
            ceiling=None if spec.get("ceiling") is None else float(spec["ceiling"]),
            aliases=tuple(spec.get("aliases", ())),
        )
    return out


def kpi(name: str) -> Kpi:
    """Look up one KPI by name or by a ref_kpi_target alias."""
    cat = _catalogue()
    if name in cat:
        return cat[name]
    for entry in cat.values():
        if name in entry.aliases:
            return entry
    raise KeyError(f"unknown KPI {name!r}")


def kpi_names() -> tuple[str, ...]:
    """Every KPI name, in catalogue order."""
    return tuple(_catalogue())


def kpi_catalogue() -> pl.DataFrame:
    """Return the catalogue as a table, one row per KPI, for the dashboard and the docs.

    Columns: name, label_en, label_zh, unit, direction (up / down / none), format (a Python
    format spec: ``format(value, fmt)``), target (county default from config, may be null),
    ceiling, source (the function whose output has the column).
    """
    rows = [
        {
            "name": k.name,
            "label_en": k.label_en,
            "label_zh": k.label_zh,
            "unit": k.unit,
            "direction": k.direction,
            "format": k.format,
            "target": k.target,
            "ceiling": k.ceiling,
            "source": k.source,
        }
        for k in _catalogue().values()
    ]
    return pl.DataFrame(
        rows,
        schema={
            "name": pl.String,
            "label_en": pl.String,
            "label_zh": pl.String,
            "unit": pl.String,
            "direction": pl.String,
            "format": pl.String,
            "target": pl.Float64,
            "ceiling": pl.Float64,
            "source": pl.String,
        },
    )


def _target_rows(con: Connection, year: int) -> list[tuple[str, str | None, float]]:
    """ref_kpi_target rows of one year as (kpi name, outlet or None, target)."""
    t = table(backend_of(con), "ref_kpi_target")
    df = t.filter(t.year == year).select("kpi", "outlet_code", "target").to_polars()
    out = []
    for name, outlet, value in df.iter_rows():
        try:
            out.append((kpi(name).name, outlet, float(value)))
        except KeyError:
            continue  # a target for a KPI this version does not compute
    return out


def targets(con: Connection, year: int, outlet: str | None = None) -> pl.DataFrame:
    """Return the target of every KPI that has one, for the county or for one outlet.

    Precedence: the outlet's ``ref_kpi_target`` row, else the county row (outlet NULL) of
    that year, else the default in config/kpi.yaml. ``source`` says which one applied, so a
    screen can show "outlet target" versus "county target".

    Returns columns: kpi, target, direction, source ('outlet', 'county' or 'config').

    Example:
        ``targets(con, 2025, outlet="03104")`` has the row ("service_level", 0.85, "up",
        "outlet") when 03104 has its own 2025 target of 0.85, ("service_level", 0.8, "up",
        "county") otherwise.

    """
    return _resolve(_target_rows(con, year), outlet)


_TARGET_SCHEMA = {
    "kpi": pl.String,
    "target": pl.Float64,
    "direction": pl.String,
    "source": pl.String,
}


def _resolve(rows: list[tuple[str, str | None, float]], outlet: str | None) -> pl.DataFrame:
    """Apply the outlet > county > config precedence to one year's target rows."""
    county = {name: value for name, o, value in rows if o is None}
    own = {name: value for name, o, value in rows if outlet is not None and o == outlet}
    out = []
    for entry in _catalogue().values():
        if entry.name in own:
            value, source = own[entry.name], "outlet"
        elif entry.name in county:
            value, source = county[entry.name], "county"
        elif entry.target is not None:
            value, source = entry.target, "config"
        else:
            continue
        out.append((entry.name, value, entry.direction, source))
    return pl.DataFrame(out, schema=_TARGET_SCHEMA, orient="row")


def outlet_targets(con: Connection, year: int) -> pl.DataFrame:
    """Targets for every outlet at once (outlet_code, kpi, target, direction, source).

    A ranking of outlets colours each row against that outlet's own target; this reads
    ref_kpi_target once instead of once per outlet.
    """
    b = backend_of(con)
    rows = _target_rows(b, year)
    codes = table(b, "dim_outlet").select("outlet_code").to_polars()["outlet_code"].to_list()
    schema = {"outlet_code": pl.String, **_TARGET_SCHEMA}
    frames = [_resolve(rows, code).with_columns(outlet_code=pl.lit(code)) for code in sorted(codes)]
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat(frames).select(list(schema))


def is_improvement(name: str, before: float | None, after: float | None) -> bool | None:
    """Whether moving from ``before`` to ``after`` is good news for this KPI.

    None when either value is missing, the value did not move, or the KPI has no good
    direction: the dashboard then shows the change without colour.
    """
    entry = kpi(name)
    if before is None or after is None or entry.direction == "none":
        return None
    if any(isinstance(v, float) and math.isnan(v) for v in (before, after)):
        return None
    b, a = entry.goodness(float(before)), entry.goodness(float(after))
    if a == b:
        return None
    return a > b


def rag(name: str, value: float | None, target: float | None) -> str | None:
    """Red / amber / green of a value against its target, for the chairman's headline.

    Green meets the target in the KPI's good direction; amber misses it by at most the
    ``rag.amber_band`` fraction of the target (config/kpi.yaml); red misses it by more.
    None when there is no value, no target or no direction.
    """
    entry = kpi(name)
    if value is None or target is None or entry.direction == "none":
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    band = float(load_config("kpi")["rag"]["amber_band"]) * abs(target)
    shortfall = (target - value) if entry.direction == "up" else (value - target)
    if entry.ceiling is not None and value > entry.ceiling:
        shortfall = max(shortfall, value - entry.ceiling)
    if shortfall <= 0:
        return "green"
    return "amber" if shortfall <= band else "red"
