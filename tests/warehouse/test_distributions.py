"""Wait and handling-time histograms and percentiles, against hand counts and independent SQL.

The hand-sized warehouse (tests/warehouse/conftest.py) has six served counter customers
in March 2024 (a3 was reversed, so it is not served):

====  ======  ====  =======  ====
id    outlet  wait  service  staff position on the day
====  ======  ====  =======  ====
a1    A       60    210      S1 teller
a2    A       300   100      S1 teller
a5    A       120   90       S1 teller (an error is still served)
a10   A       900   150      S1 teller
b1    B       30    120      S3 teller
b2    B       1200  180      S2 lobby manager (transferred 2024-03-15)
====  ======  ====  =======  ====
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.warehouse.conftest import build_warehouse, event
from warehouse.distributions import percentile_table, wait_histogram
from warehouse.kpi import service_summary

MARCH = {"start": "2024-03-01", "end": "2024-04-01"}
FEBRUARY_2026 = {"start": dt.date(2026, 2, 1), "end": dt.date(2026, 3, 1)}
SMALL_PERIOD = {"start": dt.date(2025, 12, 1), "end": dt.date(2026, 3, 1)}


def _counts(frame: pl.DataFrame) -> dict[int | None, int]:
    """Non-zero bins as {bin_start_s: customers} (None = no recorded time)."""
    nonzero = frame.filter(pl.col("customers") > 0)
    return dict(zip(nonzero["bin_start_s"].to_list(), nonzero["customers"].to_list(), strict=True))


# ---------------------------------------------------------------- hand-sized warehouse


def test_wait_bins_by_hand(wh: duckdb.DuckDBPyConnection) -> None:
    h = wait_histogram(wh, **MARCH, bin_s=60, cap_s=900)
    # right-closed: 30 and 60 in [0, 60]; 120 in (60, 120]; 300 in (240, 300];
    # 900 in (840, 900]; 1200 beyond the cap.
    assert _counts(h) == {0: 2, 60: 1, 240: 1, 840: 1, 900: 1}
    assert h.height == 16  # 15 regular bins and the overflow row, no missing-value row
    assert h["bin_start_s"].to_list()[:3] == [0, 60, 120]
    assert h["bin_end_s"].to_list()[:3] == [60, 120, 180]
    last = h.row(-1, named=True)
    assert (last["bin_start_s"], last["bin_end_s"], last["customers"]) == (900, None, 1)
    assert h["share"].sum() == pytest.approx(1.0)
    assert h.filter(pl.col("bin_start_s") == 0)["share"][0] == pytest.approx(2 / 6)


def test_handling_bins_by_hand(wh: duckdb.DuckDBPyConnection) -> None:
    h = wait_histogram(wh, **MARCH, measure="service_s", bin_s=60, cap_s=180)
    # 90, 100, 120 in (60, 120]; 150, 180 in (120, 180]; 210 beyond.
    assert h["customers"].to_list() == [0, 3, 2, 1]


def test_bins_left_of_the_target_are_the_service_level(wh: duckdb.DuckDBPyConnection) -> None:
    h = wait_histogram(wh, **MARCH, bin_s=60, cap_s=900)
    summary = service_summary(wh, **MARCH).row(0, named=True)
    within = h.filter(pl.col("bin_end_s") <= 900)["customers"].sum()
    assert within == 5  # 900 s exactly is within the target, as service_level counts it
    assert within / h["customers"].sum() == pytest.approx(summary["service_level"])


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"outlets": "B"}, {0: 1, 900: 1}),
        ({"position": "teller"}, {0: 2, 60: 1, 240: 1, 840: 1}),  # b2: lobby manager
        ({"township": "west"}, {}),
    ],
)
def test_filters_are_the_kpi_layers(
    wh: duckdb.DuckDBPyConnection, filters: dict, expected: dict
) -> None:
    h = wait_histogram(wh, **MARCH, bin_s=60, cap_s=900, **filters)
    assert _counts(h) == expected
    served = service_summary(wh, **MARCH, **filters)["counter_served"][0]
    assert h["customers"].sum() == served


def test_empty_scope_has_the_grid_and_no_shares(wh: duckdb.DuckDBPyConnection) -> None:
    h = wait_histogram(wh, **MARCH, bin_s=300, cap_s=900, township="west")
    assert h.height == 4
    assert h["customers"].to_list() == [0, 0, 0, 0]
    assert h["share"].null_count() == 4


def test_customers_without_a_time_get_their_own_row() -> None:
    con = build_warehouse()
    # A served counter customer with no ticket: no waiting time recorded.
    row = event("z1", "A", "2024-03-05", "09:00", service=100, staff="S1", window=1, ticketed=False)
    con.execute(f"INSERT INTO fact_transaction VALUES ({', '.join('?' * len(row))})", row)
    h = wait_histogram(con, **MARCH, bin_s=60, cap_s=900)
    missing = h.row(-1, named=True)
    assert (missing["bin_start_s"], missing["bin_end_s"], missing["customers"]) == (None, None, 1)
    assert h["customers"].sum() == 7 == service_summary(con, **MARCH)["counter_served"][0]
    handling = wait_histogram(con, **MARCH, measure="service_s", bin_s=60, cap_s=180)
    assert handling["bin_start_s"].null_count() == 0  # z1 has a handling time
    con.close()


def test_percentiles_by_hand(wh: duckdb.DuckDBPyConnection) -> None:
    table = percentile_table(wh, **MARCH)
    waits = pl.Series([30, 60, 120, 300, 900, 1200], dtype=pl.Float64)
    wait = table.filter(pl.col("measure") == "wait_s").row(0, named=True)
    assert wait["customers"] == 6
    assert wait["mean_s"] == pytest.approx(2610 / 6)
    assert wait["p50_s"] == pytest.approx(210.0)  # halfway between 120 and 300
    for q, name in ((0.75, "p75_s"), (0.9, "p90_s"), (0.95, "p95_s")):
        assert wait[name] == pytest.approx(waits.quantile(q, interpolation="linear"))
    assert wait["max_s"] == 1200
    summary = service_summary(wh, **MARCH).row(0, named=True)
    assert wait["p90_s"] == pytest.approx(summary["wait_p90_s"])
    handling = table.filter(pl.col("measure") == "service_s").row(0, named=True)
    assert handling["p90_s"] == pytest.approx(summary["service_p90_s"])
    assert handling["max_s"] == 210


def test_percentiles_of_nobody_are_null(wh: duckdb.DuckDBPyConnection) -> None:
    table = percentile_table(wh, **MARCH, quantiles=(0.5, 0.975), township="west")
    assert table.columns == ["measure", "customers", "mean_s", "p50_s", "p97.5_s", "max_s"]
    assert table["customers"].to_list() == [0, 0]
    assert table["p97.5_s"].null_count() == 2


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"measure": "abandoned"}, ValueError),
        ({"bin_s": 60, "cap_s": 90}, ValueError),
        ({"bin_s": 0}, ValueError),
        ({"townsip": "east"}, TypeError),
    ],
)
def test_bad_arguments_are_refused(
    base_wh: duckdb.DuckDBPyConnection, kwargs: dict, error: type[Exception]
) -> None:
    with pytest.raises(error):
        wait_histogram(base_wh, **MARCH, **kwargs)


def test_bad_quantiles_are_refused(base_wh: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile_table(base_wh, **MARCH, quantiles=(0.5, 1.0))


# ---------------------------------------------------------------- the small county


@pytest.fixture(scope="module")
def county(small_warehouse: Path):
    con = duckdb.connect(str(small_warehouse), read_only=True)
    yield con
    con.close()


def _served_counter(con: duckdb.DuckDBPyConnection, period: dict, where: str = "TRUE"):
    """Served counter customers straight from fact_transaction (independent of the KPI layer)."""
    return con.sql(
        "SELECT t.wait_s, t.service_s FROM fact_transaction t"
        " JOIN dim_outlet o USING (outlet_code)"
        " WHERE t.channel = 'counter' AND t.status IN ('completed', 'error')"
        " AND NOT t.is_reversed AND t.business_date >= $start AND t.business_date < $end"
        f" AND {where}",
        params=period,
    ).pl()


def _expected_bins(values: pl.Series, bin_s: int, cap_s: int) -> dict[int | None, int]:
    """Right-closed binning in plain Python."""
    out: dict[int | None, int] = {}
    for v in values.to_list():
        if v is None:
            key = None
        elif v > cap_s:
            key = cap_s
        else:
            key = max(-(-v // bin_s) - 1, 0) * bin_s
        out[key] = out.get(key, 0) + 1
    return out


@pytest.mark.parametrize(
    ("filters", "where"),
    [
        ({}, "TRUE"),
        ({"outlets": ("03101", "03104")}, "t.outlet_code IN ('03101', '03104')"),
        ({"township": "城关"}, "o.township = '城关'"),
    ],
)
@pytest.mark.parametrize("measure", ["wait_s", "service_s"])
def test_county_bins_match_independent_sql(
    county: duckdb.DuckDBPyConnection, filters: dict, where: str, measure: str
) -> None:
    expected_rows = _served_counter(county, FEBRUARY_2026, where)
    assert expected_rows.height > 0
    h = wait_histogram(county, **FEBRUARY_2026, measure=measure, bin_s=60, cap_s=1800, **filters)
    assert _counts(h) == _expected_bins(expected_rows[measure], 60, 1800)
    counter_served = service_summary(county, **FEBRUARY_2026, **filters)["counter_served"][0]
    assert h["customers"].sum() == counter_served == expected_rows.height


@pytest.mark.parametrize(
    "filters",
    [{}, {"position": "teller"}, {"outlet_type": "service_point"}, {"outlets": "03105"}],
)
def test_county_bins_add_up_to_counter_served(
    county: duckdb.DuckDBPyConnection, filters: dict
) -> None:
    for period in (FEBRUARY_2026, SMALL_PERIOD):
        h = wait_histogram(county, **period, **filters)
        assert (
            h["customers"].sum()
            == service_summary(county, **period, **filters)["counter_served"][0]
        )


def test_county_marts_and_base_tables_agree(county: duckdb.DuckDBPyConnection) -> None:
    marts = wait_histogram(county, **FEBRUARY_2026, use_marts=True, township="城关")
    base = wait_histogram(county, **FEBRUARY_2026, use_marts=False, township="城关")
    assert marts.equals(base)


def test_county_percentiles_match_polars(county: duckdb.DuckDBPyConnection) -> None:
    rows = _served_counter(county, FEBRUARY_2026)
    table = percentile_table(county, **FEBRUARY_2026)
    summary = service_summary(county, **FEBRUARY_2026).row(0, named=True)
    for measure in ("wait_s", "service_s"):
        got = table.filter(pl.col("measure") == measure).row(0, named=True)
        values = rows[measure].drop_nulls().cast(pl.Float64)
        assert got["customers"] == values.len()
        assert got["mean_s"] == pytest.approx(values.mean())
        assert got["max_s"] == values.max()
        for q in (0.5, 0.75, 0.9, 0.95):
            assert got[f"p{q * 100:g}_s"] == pytest.approx(
                values.quantile(q, interpolation="linear")
            )
    wait = table.filter(pl.col("measure") == "wait_s").row(0, named=True)
    assert (wait["p50_s"], wait["p90_s"]) == (summary["wait_p50_s"], summary["wait_p90_s"])
