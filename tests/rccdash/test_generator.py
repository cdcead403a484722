"""The synthetic county: deterministic, at the brief's volumes, and telling its story.

Each pattern is checked on the loaded warehouse with plain SQL written here, so a change
in the generator that flattens the story fails a test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pytest

from rccdash.synthetic.generate import GenerateOptions, generate_county
from tests.conftest import SmallCounty


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes_whatever_the_worker_count(tmp_path: Path) -> None:
    common = {"outlets": 6, "months": 1, "start": "2026-03", "volume": 0.3}
    generate_county(GenerateOptions(tmp_path / "a", seed=3, workers=1, **common))
    generate_county(GenerateOptions(tmp_path / "b", seed=3, workers=2, **common))
    generate_county(GenerateOptions(tmp_path / "c", seed=4, workers=1, **common))
    a, b, c = (_digests(tmp_path / x) for x in "abc")
    assert a == b
    assert len(a) == 8  # 5 reference files + transactions, roster, complaints
    assert a["transactions_2026-03.csv"] != c["transactions_2026-03.csv"]


@pytest.fixture(scope="module")
def con(small_warehouse: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(small_warehouse), read_only=True)
    yield connection
    connection.close()


def test_ids_keep_leading_zeros(con: duckdb.DuckDBPyConnection) -> None:
    codes = [r[0] for r in con.execute("SELECT outlet_code FROM dim_outlet").fetchall()]
    assert all(code.startswith("0") for code in codes)
    staff = con.execute("SELECT min(staff_id) FROM dim_staff").fetchone()[0]
    assert staff.startswith("000")


def test_counter_hour_profile_has_morning_peak_and_lunch_dip(
    con: duckdb.DuckDBPyConnection,
) -> None:
    by_hour = dict(
        con.execute(
            "SELECT hour(arrival_at), count(*) FROM fact_transaction"
            " WHERE channel = 'counter' GROUP BY 1"
        ).fetchall()
    )
    peak = max(by_hour, key=by_hour.__getitem__)
    assert peak in (9, 10)
    assert by_hour[12] < 0.6 * by_hour[10]
    assert by_hour[12] < by_hour[11] and by_hour[12] < by_hour[14]


def _daily(con: duckdb.DuckDBPyConnection, where: str) -> list[tuple[dt.date, str, int]]:
    return con.execute(
        f"""SELECT business_date, t.outlet_code, count(*) FROM fact_transaction t
            JOIN dim_outlet o USING (outlet_code) WHERE status <> 'reversed' AND {where}
            GROUP BY ALL"""
    ).fetchall()


def test_market_days_are_busier_at_township_outlets(small_county: SmallCounty, con) -> None:
    offsets = {o.code: o.market_offset for o in small_county.result.county.outlets}
    rows = _daily(con, "o.outlet_type = 'township_branch' AND business_date < DATE '2026-01-20'")
    market = [n for d, code, n in rows if d.day % 5 == offsets[code]]
    other = [
        n
        for d, code, n in rows
        if d.day % 5 != offsets[code] and d.day not in (8, 9, 14, 15, 16, 25, 26)
    ]
    assert sum(market) / len(market) > 1.3 * sum(other) / len(other)


def test_pension_day_and_spring_festival_run_up_are_peaks(con: duckdb.DuckDBPyConnection) -> None:
    def mean_per_outlet_day(where: str) -> float:
        rows = _daily(con, f"o.outlet_type = 'county_department' AND {where}")
        return sum(n for *_, n in rows) / len(rows)

    ordinary = mean_per_outlet_day(
        "business_date BETWEEN DATE '2025-12-01' AND DATE '2025-12-31'"
        " AND day(business_date) NOT IN (8, 9, 14, 15, 16, 25, 26)"
        " AND dayofweek(business_date) IN (2, 3, 4)"
    )
    pension = mean_per_outlet_day(
        "day(business_date) = 8 AND dayofweek(business_date) IN (2, 3, 4)"
        " AND business_date < DATE '2026-01-20'"
    )
    run_up = mean_per_outlet_day("business_date BETWEEN DATE '2026-02-05' AND DATE '2026-02-14'")
    assert pension > 1.25 * ordinary
    assert run_up > 1.4 * ordinary


def test_understaffed_outlet_has_longest_p90_wait(small_county: SmallCounty, con) -> None:
    understaffed = {o.code for o in small_county.result.county.outlets if o.understaffed}
    assert understaffed
    p90 = dict(
        con.execute(
            "SELECT outlet_code, quantile_cont(wait_s, 0.9) FROM fact_transaction"
            " WHERE channel = 'counter' AND wait_s IS NOT NULL GROUP BY 1"
        ).fetchall()
    )
    assert max(p90, key=p90.__getitem__) in understaffed
    aband = dict(
        con.execute(
            "SELECT outlet_code, avg((status = 'abandoned')::INT) FROM fact_transaction"
            " WHERE channel = 'counter' GROUP BY 1"
        ).fetchall()
    )
    assert max(aband, key=aband.__getitem__) in understaffed


def test_devices_installed_mid_period_take_load_off_the_counter(
    small_county: SmallCounty, con
) -> None:
    outlets = [o for o in small_county.result.county.outlets if o.devices_from is not None]
    assert outlets
    for outlet in outlets:
        before, after = con.execute(
            """SELECT avg((channel <> 'counter')::INT) FILTER (WHERE business_date < ?),
                      avg((channel <> 'counter')::INT) FILTER (WHERE business_date >= ?)
               FROM fact_transaction WHERE outlet_code = ? AND status <> 'reversed'""",
            [outlet.devices_from, outlet.devices_from, outlet.code],
        ).fetchone()
        assert before == 0
        assert after > 0.2


def test_staff_differ_in_speed(con: duckdb.DuckDBPyConnection) -> None:
    ratios = [
        r[0]
        for r in con.execute(
            """SELECT avg(service_s / standard_handling_s) FROM fact_transaction
               JOIN dim_business_type USING (business_type)
               WHERE channel = 'counter' AND status = 'completed' GROUP BY staff_id
               HAVING count(*) > 300"""
        ).fetchall()
    ]
    assert len(ratios) > 10
    assert max(ratios) / min(ratios) > 1.3


def test_complaint_prone_staff_top_the_substantiated_complaints(
    small_county: SmallCounty, con
) -> None:
    prone = {t.staff_id for t in small_county.result.county.tellers.values() if t.complaint_prone}
    counts = con.execute(
        "SELECT staff_id, count(*) FROM fact_complaint WHERE substantiated AND staff_id IS NOT NULL"
        " GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    top = {staff for staff, _ in counts[: len(prone)]}
    assert len(top & prone) >= len(prone) - 1
    assert all(n >= 2 for staff, n in counts if staff in prone)


def test_about_half_of_served_counter_customers_rate_the_service(con) -> None:
    coverage = con.execute(
        "SELECT avg((satisfaction IS NOT NULL)::INT) FROM fact_transaction"
        " WHERE channel = 'counter' AND status IN ('completed', 'error')"
    ).fetchone()[0]
    assert 0.45 < coverage < 0.55


def test_volumes_follow_the_brief(small_county: SmallCounty, con) -> None:
    configured = small_county.config["outlet_types"]["county_department"]["volume"]
    (mean,) = con.execute(
        """SELECT avg(n) FROM (SELECT business_date, count(*) AS n FROM fact_transaction
           JOIN dim_outlet USING (outlet_code) WHERE outlet_type = 'county_department'
           AND status <> 'reversed' GROUP BY 1)"""
    ).fetchone()
    expected = configured * small_county.options.volume
    assert 0.7 * expected < mean < 1.6 * expected
    service_point = con.execute(
        """SELECT avg(n) FROM (SELECT business_date, outlet_code, count(*) AS n
           FROM fact_transaction JOIN dim_outlet USING (outlet_code)
           WHERE outlet_type = 'service_point' GROUP BY ALL)"""
    ).fetchone()[0]
    assert service_point < mean / 4


def test_reversals_point_at_completed_originals(con: duckdb.DuckDBPyConnection) -> None:
    n_rev, n_linked = con.execute(
        """SELECT count(*), count(o.txn_id) FROM fact_transaction r
           LEFT JOIN fact_transaction o ON o.txn_id = r.reversal_of AND o.is_reversed
           WHERE r.status = 'reversed'"""
    ).fetchone()
    assert n_rev > 0
    assert n_linked == n_rev
