"""Marts: refresh, freshness, and identical answers with and without them."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from warehouse import marts
from warehouse.kpi import (
    StaleMartError,
    complaint_pareto,
    complaint_summary,
    demand_profile,
    deposit_summary,
    service_summary,
    windows_staffed,
)
from warehouse.staffing import staffing_plan

from .conftest import build_warehouse, event
from .test_kpi_service import MARCH

QUARTER = {"start": "2024-01-01", "end": "2024-04-01"}

# Calls whose answers must not depend on the marts: every grouping key, each filter,
# and the combinations that switch between cells and events.
CALLS: list[tuple[str, Callable[..., pl.DataFrame], dict[str, Any]]] = [
    ("service", service_summary, {}),
    *[
        ("service by " + k, service_summary, {"by": k})
        for k in (
            "outlet",
            "staff",
            "day",
            "week",
            "month",
            "quarter",
            "hour",
            "weekday",
            "channel",
            "business_type",
        )
    ],
    ("service outlet x type", service_summary, {"by": ("outlet", "business_type")}),
    ("service staff x hour", service_summary, {"by": ("staff", "hour"), "channel": "counter"}),
    ("service teller", service_summary, {"by": "outlet", "position": ["teller"]}),
    ("service east", service_summary, {"by": "month", "township": "east"}),
    ("service type", service_summary, {"outlet_type": "sub_branch", "business_type": "deposit"}),
    ("complaints", complaint_summary, {"by": "outlet"}),
    ("complaints staff", complaint_summary, {"by": ("staff", "month"), "position": "teller"}),
    ("pareto", complaint_pareto, {}),
    ("deposits", deposit_summary, {}),
    ("deposits day", deposit_summary, {"by": ("day", "staff")}),
    ("demand", demand_profile, {"channel": "counter"}),
    ("demand teller", demand_profile, {"position": "teller"}),
    ("windows", windows_staffed, {"outlets": "A"}),
]


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection]]:
    base, with_marts = build_warehouse(), build_warehouse()
    marts.refresh(with_marts)
    yield base, with_marts
    base.close()
    with_marts.close()


@pytest.mark.parametrize(("name", "fn", "kwargs"), CALLS, ids=[c[0] for c in CALLS])
def test_same_answers_with_and_without_marts(
    pair: tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection],
    name: str,
    fn: Callable[..., pl.DataFrame],
    kwargs: dict[str, Any],
) -> None:
    base, with_marts = pair
    expected = fn(base, use_marts=False, **QUARTER, **kwargs)
    got = fn(with_marts, use_marts=True, **QUARTER, **kwargs)
    assert expected.height > 0, name
    assert_frame_equal(got, expected, check_exact=True)


def test_staffing_plan_same_with_marts(
    pair: tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection],
) -> None:
    base, with_marts = pair
    assert_frame_equal(
        staffing_plan(with_marts, "A", use_marts=True, **MARCH),
        staffing_plan(base, "A", use_marts=False, **MARCH),
        check_exact=True,
    )


def test_refresh_writes_marts_and_meta() -> None:
    con = build_warehouse()
    written = marts.refresh(con)
    # 18 events; cells = distinct (outlet, date, hour, channel, type): A 4 Mar 9h counter
    # deposit (a1 a3) and withdrawal (a2) -> 2; 10h counter deposit (a4 a7), enquiry (a5),
    # ATM withdrawal (a6) -> 3; a8 a9 -> 1; a10, b1, b2, b3, x1 -> 5; p1 p2 -> 1;
    # l1 (deposit), l2 (withdrawal) -> 2: 14 cells.
    assert written["mart_event"] == 18
    assert written["mart_event_cell"] == 14
    # Roster hours: S1 4 Mar 9,10,11; S2 4 Mar 9,10,11; S4 9,10,11; 6 Mar S1 11, S2 11;
    # 18 Mar S1 13,14; 11 Mar S3 8,9; 20 Mar S2 9: 9 + 2 + 2 + 2 + 1 = 16 segment-hours.
    assert written["mart_roster_hour"] == 16
    meta = con.sql("SELECT mart, source_table, source_rows FROM mart_meta ORDER BY 1").fetchall()
    assert meta == [
        ("mart_event", "fact_transaction", 18),
        ("mart_event_cell", "fact_transaction", 18),
        ("mart_roster_hour", "fact_roster", 8),
    ]
    types = dict(
        con.sql(
            "SELECT column_name, data_type FROM duckdb_columns()"
            " WHERE table_name = 'mart_event_cell'"
        ).fetchall()
    )
    assert types["arrivals"] == "BIGINT"  # not DuckDB's HUGEINT sum type
    assert types["deposits"] == "DECIMAL(38,2)"


def test_stale_marts_are_not_read() -> None:
    con = build_warehouse()
    marts.refresh(con)
    row = event("z1", "B", "2024-03-25", "10:00", wait=5, service=50, staff="S3", window=1)
    con.execute(f"INSERT INTO fact_transaction VALUES ({', '.join('?' * len(row))})", row)
    assert marts.fresh_marts(con) == {"mart_roster_hour"}
    with pytest.warns(UserWarning, match="older than the data"):
        stale = service_summary(con, **MARCH)
    assert stale["arrivals"].to_list() == [13]  # the new row counts: base tables were read
    with pytest.raises(StaleMartError):
        service_summary(con, use_marts=True, **MARCH)
    marts.refresh(con)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert service_summary(con, use_marts=True, **MARCH)["arrivals"].to_list() == [13]


def test_a_new_load_makes_marts_stale() -> None:
    con = build_warehouse()
    con.execute(
        "INSERT INTO etl_load (load_id, file_name, file_sha256, source_kind, rows_read,"
        " rows_loaded, rows_quarantined, rows_duplicate, rows_dropped, status, started_at)"
        " VALUES (1, 'f.csv', 'x', 'transactions', 0, 0, 0, 0, 0, 'loaded', now())"
    )
    marts.refresh(con)
    assert marts.fresh_marts(con) == set(marts.MARTS)
    con.execute(
        "INSERT INTO etl_load (load_id, file_name, file_sha256, source_kind, rows_read,"
        " rows_loaded, rows_quarantined, rows_duplicate, rows_dropped, status, started_at)"
        " VALUES (2, 'g.csv', 'y', 'roster', 0, 0, 0, 0, 0, 'loaded', now())"
    )
    assert marts.fresh_marts(con) == set()


def test_refresh_inside_the_callers_transaction() -> None:
    con = build_warehouse()
    con.execute("BEGIN TRANSACTION")
    marts.refresh(con)
    con.execute("ROLLBACK")
    assert "mart_event" not in {
        r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()
    }
    marts.refresh(con)
    marts.drop(con)
    assert marts.status(con) == {}
