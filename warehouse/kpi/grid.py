"""Shape finished KPI frames: list outlets that had no rows, and sort by the group keys.

An outlet with no events in a month is exactly what the chairman must see (a missing export
or a closed outlet), so it must appear as a row of zeros rather than silently drop out of
a ranking.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from warehouse.kpi.filters import CALENDAR_KEYS, KEY_COLUMNS, Filters, outlets_in_scope
from warehouse.kpi.source import Source

# Keys that may be crossed with the outlet list: every outlet has every day, hour, weekday.
_CROSSABLE = CALENDAR_KEYS | {"hour", "weekday"}


def complete_outlets(
    df: pl.DataFrame,
    src: Source,
    f: Filters,
    keys: Sequence[str],
    counts: Sequence[str],
) -> pl.DataFrame:
    """Add a row for every filtered outlet missing from a frame grouped by outlet.

    Applies when the grouping is the outlet alone or the outlet with calendar keys (each
    outlet is crossed with the calendar values present in the frame); with staff, channel
    or business type in the grouping a missing outlet has no meaningful rows to add.
    Count columns of added rows are 0, every other measure is null.
    """
    if "outlet" not in keys or any(k not in _CROSSABLE for k in keys if k != "outlet"):
        return df
    outlet_col = KEY_COLUMNS["outlet"]
    others = [KEY_COLUMNS[k] for k in keys if k != "outlet"]
    codes = pl.DataFrame(
        {outlet_col: outlets_in_scope(src, **f.outlet_scope())}, schema={outlet_col: pl.String}
    )
    if others:
        combos = df.select(others).unique()
        if combos.is_empty():
            return df
        grid = codes.join(combos, how="cross")
    else:
        grid = codes
    key_cols = [KEY_COLUMNS[k] for k in keys]
    missing = grid.join(df.select(key_cols), on=key_cols, how="anti")
    if missing.is_empty():
        return df
    fill = [
        pl.lit(0 if name in counts else None, dtype=dtype).alias(name)
        for name, dtype in df.schema.items()
        if name not in key_cols
    ]
    added = missing.with_columns(fill).select(df.columns).cast(dict(df.schema))
    return pl.concat([df, added])


def sort_by_keys(df: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """Sort by the group keys in the order given (nulls last), for stable output."""
    cols = [KEY_COLUMNS[k] for k in keys]
    return df.sort(cols, nulls_last=True) if cols else df
