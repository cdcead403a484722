"""The percentiles ibis generates are DuckDB's exact QUANTILE_CONT over the events.

docs/kpi.md promises exact, interpolated percentiles (QUANTILE_CONT) computed from events;
this checks the generated SQL against a hand-written QUANTILE_CONT on random data, with
and without marts (the marts must not turn them into averages of daily figures).
"""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import ibis
import polars as pl
import pytest

from warehouse import marts
from warehouse.kpi import service_summary
from warehouse.kpi.filters import make_filters
from warehouse.kpi.service import service_expr
from warehouse.kpi.source import Source

from .conftest import BUSINESS_TYPES, OUTLETS, STAFF, event

PERIOD = {"start": "2024-05-01", "end": "2024-06-01"}


def random_warehouse(seed: int) -> duckdb.DuckDBPyConnection:
    from warehouse.schema import migrate

    rng = random.Random(seed)
    con = duckdb.connect()
    migrate(con)
    con.executemany("INSERT INTO dim_outlet VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", OUTLETS)
    con.executemany("INSERT INTO dim_staff VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", STAFF)
    con.executemany("INSERT INTO dim_business_type VALUES (?, ?, ?, ?, ?)", BUSINESS_TYPES)
    rows = []
    for i in range(700):
        day = dt.date(2024, 5, 1) + dt.timedelta(days=rng.randrange(31))
        time = f"{rng.randrange(8, 17):02d}:{rng.randrange(60):02d}"
        status = rng.choice(["completed"] * 8 + ["error", "abandoned"])
        rows.append(
            event(
                f"r{i}",
                rng.choice("AB"),
                day.isoformat(),
                time,
                wait=rng.randrange(0, 2400),
                service=rng.randrange(20, 900),
                staff=rng.choice(["S1", "S3"]),
                window=1,
                status=status,
            )
        )
    con.executemany(f"INSERT INTO fact_transaction VALUES ({', '.join('?' * len(rows[0]))})", rows)
    return con


REFERENCE = """
SELECT outlet_code,
       quantile_cont(wait_s, 0.5), quantile_cont(wait_s, 0.9), quantile_cont(service_s, 0.9)
FROM fact_transaction
WHERE channel = 'counter' AND status IN ('completed', 'error') AND NOT is_reversed
  AND business_date >= DATE '2024-05-01' AND business_date < DATE '2024-06-01'
GROUP BY outlet_code ORDER BY outlet_code
"""


@pytest.mark.parametrize("with_marts", [False, True])
def test_percentiles_equal_quantile_cont(with_marts: bool) -> None:
    con = random_warehouse(seed=4)
    if with_marts:
        marts.refresh(con)
    expected = con.sql(REFERENCE).fetchall()
    got = service_summary(con, by="outlet", use_marts=with_marts, **PERIOD)
    got = got.filter(pl.col("outlet_code") != "C")  # C has no events
    assert got.select("outlet_code", "wait_p50_s", "wait_p90_s", "service_p90_s").rows() == expected


def test_generated_sql_uses_quantile_cont() -> None:
    con = random_warehouse(seed=1)
    sql = ibis.to_sql(service_expr(Source.of(con), make_filters(**PERIOD), ("outlet",)))
    assert "QUANTILE_CONT" in sql and "APPROX" not in sql.upper()
