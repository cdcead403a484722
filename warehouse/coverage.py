"""What the warehouse holds: the period covered and the outlets, for pickers and empty states."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl


@dataclass(frozen=True)
class Coverage:
    """The span of service events loaded, and how many there are."""

    first_day: dt.date | None
    last_day: dt.date | None
    events: int
    outlets: int

    @property
    def is_empty(self) -> bool:
        """True when no service events are loaded yet (the dashboard then explains how)."""
        return self.events == 0


def coverage(con: duckdb.DuckDBPyConnection) -> Coverage:
    """Period and size of the loaded data, so pages can default to the latest full month."""
    first, last, events = con.execute(
        "SELECT min(business_date), max(business_date), count(*) FROM fact_transaction"
    ).fetchall()[0]
    outlets = con.execute("SELECT count(*) FROM dim_outlet").fetchall()[0][0]
    return Coverage(first, last, int(events), int(outlets))


def outlets(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The outlet list (code, name, township, type) for filters and labels."""
    return con.sql(
        "SELECT outlet_code, outlet_name, township, outlet_type FROM dim_outlet"
        " ORDER BY outlet_code"
    ).pl()
