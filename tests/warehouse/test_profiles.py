"""Outlet and staff profiles on the small synthetic county, checked with independent SQL."""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path

import duckdb
import polars as pl
import pytest

from warehouse.kpi import service_summary
from warehouse.profiles import (
    outlet_complaints,
    outlet_profile,
    outlet_staff,
    peer_comparison,
    scope_outlets,
    staff_assignments,
    staff_complaints,
    staff_directory,
    staff_position,
    staff_trend,
)

START, END = dt.date(2026, 2, 1), dt.date(2026, 3, 1)
QUARTER = (dt.date(2025, 12, 1), dt.date(2026, 3, 1))
SERVED_SQL = """SELECT staff_id, count(*) FILTER (WHERE status IN ('completed', 'error')
                       AND NOT is_reversed)
                FROM fact_transaction WHERE outlet_code = ? AND business_date >= ?
                  AND business_date < ? AND staff_id IS NOT NULL GROUP BY 1"""


@pytest.fixture(scope="module")
def con(small_warehouse: Path):
    connection = duckdb.connect(str(small_warehouse), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def transferred(con) -> tuple[str, str, str, dt.date]:
    """A person who moved: (staff id, old outlet, new outlet, day of the move)."""
    row = con.execute(
        """SELECT a.staff_id, a.outlet_code, b.outlet_code, b.valid_from
           FROM dim_staff a JOIN dim_staff b
             ON a.staff_id = b.staff_id AND a.valid_to = b.valid_from
           WHERE a.outlet_code <> b.outlet_code
             AND b.valid_from > DATE '2025-12-01' AND b.valid_from < DATE '2026-03-01'
           ORDER BY 1 LIMIT 1"""
    ).fetchall()
    assert row, "the small county has a transfer inside its three months"
    return row[0]


def test_scope_outlets_follows_the_dimension(con) -> None:
    assert scope_outlets(con) is None
    expected = {
        r[0]
        for r in con.execute(
            "SELECT outlet_code FROM dim_outlet WHERE township = '城关'"
            " AND outlet_type = 'sub_branch'"
        ).fetchall()
    }
    assert set(scope_outlets(con, township="城关", outlet_type=("sub_branch",))) == expected
    assert scope_outlets(con, outlets=("03101", "nope")) == ("03101",)
    assert scope_outlets(con, township=("城关",), outlets=("03103",)) == ()


def test_outlet_profile(con) -> None:
    row = outlet_profile(con, outlet="03101").row(0, named=True)
    name, windows = con.execute(
        "SELECT outlet_name, counter_windows FROM dim_outlet WHERE outlet_code = '03101'"
    ).fetchall()[0]
    assert (row["outlet_name"], row["counter_windows"]) == (name, windows)
    assert outlet_profile(con, outlet="99999").is_empty()


def test_outlet_complaints_match_sql(con) -> None:
    found = outlet_complaints(con, outlet="03101", start=QUARTER[0], end=QUARTER[1])
    expected = con.execute(
        """SELECT complaint_id FROM fact_complaint WHERE outlet_code = '03101'
             AND received_at >= DATE '2025-12-01' AND received_at < DATE '2026-03-01'
           ORDER BY received_at DESC, complaint_id"""
    ).fetchall()
    assert found["complaint_id"].to_list() == [r[0] for r in expected]
    assert found.height > 3
    named = found.filter(pl.col("staff_id").is_not_null())
    assert named.height and named["staff_name"].null_count() == 0
    assert set(found["penalty"]) <= {"none", "criticism", "fine", "suspension", "transfer"}
    february = outlet_complaints(con, outlet="03101", start=START, end=END)
    assert 0 < february.height < found.height
    assert february["received_at"].min() >= dt.datetime(2026, 2, 1)


def test_staff_complaints_match_sql(con) -> None:
    person, count = con.execute(
        """SELECT staff_id, count(*) FROM fact_complaint WHERE staff_id IS NOT NULL
             AND received_at >= DATE '2025-12-01' AND received_at < DATE '2026-03-01'
           GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"""
    ).fetchall()[0]
    found = staff_complaints(con, staff_id=person, start=QUARTER[0], end=QUARTER[1])
    assert found.height == count
    assert set(found["staff_id"]) == {person}
    times = found["received_at"].to_list()
    assert times == sorted(times, reverse=True)
    # Under an outlet filter only the complaints at those outlets remain.
    where = found["outlet_code"][0]
    at_one = staff_complaints(
        con, staff_id=person, start=QUARTER[0], end=QUARTER[1], outlets=(where,)
    )
    assert at_one.height == found.filter(pl.col("outlet_code") == where).height
    elsewhere = sorted(
        set(con.sql("SELECT outlet_code FROM dim_outlet").pl()["outlet_code"]) - {where}
    )
    none = staff_complaints(con, staff_id=person, start=QUARTER[0], end=QUARTER[1],
                            outlets=tuple(elsewhere))  # fmt: skip
    assert none.height == found.filter(pl.col("outlet_code") != where).height
    mine = outlet_complaints(con, outlet=where, start=QUARTER[0], end=QUARTER[1])
    assert outlet_complaints(
        con, outlet=where, start=QUARTER[0], end=QUARTER[1], outlets=tuple(elsewhere)
    ).is_empty()
    assert mine.height > 0


def test_staff_directory_lists_people_by_their_posts_in_view(con, transferred) -> None:
    person, old, new, moved = transferred
    everyone = staff_directory(con, start=QUARTER[0], end=QUARTER[1])
    expected = con.execute(
        """SELECT count(DISTINCT staff_id) FROM dim_staff WHERE valid_from < DATE '2026-03-01'
             AND (valid_to IS NULL OR valid_to > DATE '2025-12-01')"""
    ).fetchall()[0][0]
    assert everyone.height == expected
    assert everyone.filter(pl.col("staff_id") == person)["outlet_code"][0] == new  # latest post
    at_old = staff_directory(con, start=QUARTER[0], end=QUARTER[1], outlets=(old,))
    assert at_old.filter(pl.col("staff_id") == person)["outlet_code"].to_list() == [old]
    after = staff_directory(con, start=moved, end=moved + dt.timedelta(days=20), outlets=(old,))
    assert person not in after["staff_id"].to_list()  # gone from the old outlet by then
    assert set(at_old["outlet_code"]) == {old}


def test_staff_assignments_latest_first(con, transferred) -> None:
    person, old, new, moved = transferred
    history = staff_assignments(con, staff_id=person)
    assert history["outlet_code"].to_list()[:2] == [new, old]
    assert history["valid_from"][0] == moved and history["valid_to"][1] == moved
    assert staff_position(con, staff_id=person, end=END) == history["position"][0]
    assert staff_position(con, staff_id="nobody", end=END) is None


def test_outlet_staff_kpis_and_complaints(con) -> None:
    found = outlet_staff(
        con, outlet="03101", start=START, end=END, kpis=("served", "served_per_staff_hour")
    )
    served = dict(con.execute(SERVED_SQL, ["03101", START, END]).fetchall())
    assert served
    for row in found.filter(pl.col("served").is_not_null()).iter_rows(named=True):
        assert row["served"] == served[row["staff_id"]]
    assert set(served) <= set(found["staff_id"])
    assigned = {
        r[0]
        for r in con.execute(
            """SELECT staff_id FROM dim_staff WHERE outlet_code = '03101'
                 AND valid_from < DATE '2026-03-01'
                 AND (valid_to IS NULL OR valid_to > DATE '2026-02-01')"""
        ).fetchall()
    }
    assert assigned <= set(found["staff_id"])
    assert found["staff_name"].null_count() == 0
    complaints = dict(
        con.execute(
            """SELECT staff_id, count(*) FROM fact_complaint WHERE outlet_code = '03101'
                 AND staff_id IS NOT NULL AND received_at >= DATE '2026-02-01'
                 AND received_at < DATE '2026-03-01' GROUP BY 1"""
        ).fetchall()
    )
    for row in found.iter_rows(named=True):
        assert row["complaints"] == complaints.get(row["staff_id"], 0)


def test_peer_comparison_against_the_tellers(con) -> None:
    tellers = service_summary(con, start=START, end=END, by="staff", position="teller").filter(
        pl.col("staff_id").is_not_null()
    )
    person = tellers.sort("served")["staff_id"][tellers.height // 2]
    found = peer_comparison(
        con,
        staff_id=person,
        start=START,
        end=END,
        kpis=("served", "errors_per_1000", "counter_staff_hours"),
    )
    assert found["kpi"].to_list() == ["served", "errors_per_1000", "counter_staff_hours"]
    served = found.row(0, named=True)
    values = tellers["served"].to_list()
    mine = tellers.filter(pl.col("staff_id") == person)["served"][0]
    assert served["value"] == mine
    assert served["peer_median"] == pytest.approx(statistics.median(values))
    assert (served["peer_min"], served["peer_max"], served["peers"]) == (
        min(values),
        max(values),
        len(values),
    )
    assert served["rank"] == sum(v > mine for v in values) + 1
    errors = found.row(1, named=True)  # lower is better
    rates = tellers["errors_per_1000"].drop_nulls().to_list()
    assert errors["rank"] == sum(v < errors["value"] for v in rates) + 1
    assert found.row(2, named=True)["rank"] is None  # a volume has no better direction


def test_peer_comparison_in_view_and_without_counter_work(con) -> None:
    tellers = service_summary(
        con, start=START, end=END, by="staff", position="teller", outlets=("03101",)
    ).filter(pl.col("staff_id").is_not_null())
    person = tellers["staff_id"][0]
    found = peer_comparison(
        con, staff_id=person, start=START, end=END, kpis=("served",), outlets=("03101",)
    )
    assert found["peers"][0] == tellers.height
    head = con.execute(
        "SELECT staff_id FROM dim_staff WHERE position = 'outlet_head' LIMIT 1"
    ).fetchall()[0][0]
    assert peer_comparison(con, staff_id=head, start=START, end=END, kpis=("served",)).is_empty()


def test_staff_trend_is_their_months(con) -> None:
    person = con.execute(
        """SELECT staff_id FROM fact_transaction WHERE staff_id IS NOT NULL
           GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"""
    ).fetchall()[0][0]
    trend = staff_trend(con, staff_id=person, start=QUARTER[0], end=QUARTER[1])
    assert trend["month"].to_list() == sorted(trend["month"].to_list())
    for row in trend.iter_rows(named=True):
        month_end = (row["month"] + dt.timedelta(days=32)).replace(day=1)
        served = con.execute(
            """SELECT count(*) FILTER (WHERE status IN ('completed', 'error')
                      AND NOT is_reversed)
               FROM fact_transaction WHERE staff_id = ? AND business_date >= ?
                 AND business_date < ?""",
            [person, row["month"], month_end],
        ).fetchall()[0][0]
        assert row["served"] == served
    assert trend.height == 3
