"""Complaints by channel received, days to resolve, and the searchable complaint list.

Hand-sized warehouse (tests/warehouse/conftest.py), March 2024 (deadlines judged at
2024-04-01, the end of the period):

===  ==============  ======  =====  ========  =========  =======  ==========  ======  ======
id   received        outlet  staff  customer  category   complex  resolved    subst.  repeat
===  ==============  ======  =====  ========  =========  =======  ==========  ======  ======
c4   03-01 08:00     A       S2     K3        attitude   yes      19 d        yes     no
c1   03-05 10:00     A       S1     K1        attitude   no       7 d         yes     yes (S1: c0)
c2   03-10 09:00     A       S1     K2        wait_time  no       20 d        no      yes (S1: c1)
c3   03-12 12:00     B       -      K1        wait_time  yes      open        -       yes (K1: c1)
c5   03-14 12:00     B       -      K4        facility   no       open        -       no (c6 > 90 d)
===  ==============  ======  =====  ========  =========  =======  ==========  ======  ======

All arrive by hotline; the ``channels`` fixture re-labels c3 as a regulator referral and
c5 as a letter. Severity is major for complex complaints, minor otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.warehouse.conftest import build_warehouse
from warehouse.complaint_views import (
    LIST_COLUMNS,
    complaint_list,
    complaints_by_channel,
    resolution_histogram,
)
from warehouse.kpi import complaint_summary

MARCH = {"start": "2024-03-01", "end": "2024-04-01"}


@pytest.fixture(scope="module")
def channels() -> Iterator[duckdb.DuckDBPyConnection]:
    """The hand-sized warehouse with c3 referred by the regulator and c5 sent by letter."""
    con = build_warehouse()
    con.execute("UPDATE fact_complaint SET channel = 'regulator' WHERE complaint_id = 'c3'")
    con.execute("UPDATE fact_complaint SET channel = 'letter' WHERE complaint_id = 'c5'")
    yield con
    con.close()


def _ids(frame: pl.DataFrame) -> list[str]:
    return frame["complaint_id"].to_list()


# ---------------------------------------------------------------- by channel


def test_by_channel_by_hand(channels: duckdb.DuckDBPyConnection) -> None:
    df = complaints_by_channel(channels, **MARCH)
    assert df["channel"].to_list() == ["hotline", "letter", "regulator"]  # ties by name
    assert df["complaints"].to_list() == [3, 1, 1]
    assert df["share"].to_list() == pytest.approx([0.6, 0.2, 0.2])
    hotline, letter, regulator = df.to_dicts()
    assert hotline["substantiated_share"] == pytest.approx(2 / 3)  # c1, c4 of c1, c2, c4
    assert hotline["resolution_days_mean"] == pytest.approx((7 + 20 + 19) / 3)
    assert hotline["closed_within_deadline_share"] == pytest.approx(2 / 3)  # c2 took 20 > 15
    assert hotline["repeat_share"] == pytest.approx(2 / 3)  # c1, c2
    # c5 (simple, open) passed its deadline on 03-29; c3 (complex, open) is due 04-11.
    assert letter["closed_within_deadline_share"] == 0.0
    assert regulator["closed_within_deadline_share"] is None
    assert letter["substantiated_share"] is None  # not decided yet
    assert regulator["repeat_share"] == 1.0
    assert letter["resolution_days_mean"] is None


def test_one_channel_equals_the_kpi_summary(base_wh: duckdb.DuckDBPyConnection) -> None:
    (row,) = complaints_by_channel(base_wh, **MARCH).to_dicts()
    summary = complaint_summary(base_wh, **MARCH).row(0, named=True)
    assert row["channel"] == "hotline"
    assert row["share"] == 1.0
    for name in (
        "complaints",
        "substantiated_share",
        "resolution_days_mean",
        "resolution_days_p90",
        "closed_within_deadline_share",
        "repeat_share",
    ):
        assert row[name] == pytest.approx(summary[name]), name


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"outlets": "B"}, {"letter": 1, "regulator": 1}),
        ({"position": "teller"}, {"hotline": 3}),  # c4: S2 was still a teller on 03-01
        ({"township": "west"}, {}),
    ],
)
def test_by_channel_respects_the_scope(
    channels: duckdb.DuckDBPyConnection, filters: dict, expected: dict
) -> None:
    df = complaints_by_channel(channels, **MARCH, **filters)
    assert dict(zip(df["channel"].to_list(), df["complaints"].to_list(), strict=True)) == expected
    assert (
        df["complaints"].sum() == complaint_summary(channels, **MARCH, **filters)["complaints"][0]
    )


def test_event_channel_filter_is_refused(base_wh: duckdb.DuckDBPyConnection) -> None:
    for fn in (complaints_by_channel, resolution_histogram, complaint_list):
        with pytest.raises(ValueError, match="channel"):
            fn(base_wh, **MARCH, channel="counter")


# ---------------------------------------------------------------- days to resolve


def test_resolution_bins_by_hand(base_wh: duckdb.DuckDBPyConnection) -> None:
    h = resolution_histogram(base_wh, **MARCH, bin_days=5, cap_days=20)
    # 7 in (5, 10]; 19 and 20 in (15, 20]; nothing beyond 20; c3 and c5 still open.
    assert h["bin_start_days"].to_list() == [0.0, 5.0, 10.0, 15.0, 20.0, None]
    assert h["bin_end_days"].to_list() == [5.0, 10.0, 15.0, 20.0, None, None]
    assert h["complaints"].to_list() == [0, 1, 0, 2, 0, 2]
    assert h["complaints"].sum() == complaint_summary(base_wh, **MARCH)["complaints"][0]


def test_resolution_bins_without_open_complaints(base_wh: duckdb.DuckDBPyConnection) -> None:
    h = resolution_histogram(base_wh, **MARCH, bin_days=10, cap_days=10, outlets="A")
    assert h["complaints"].to_list() == [1, 2]  # c1 within 10 days; c2, c4 beyond; none open


# ---------------------------------------------------------------- the list


def test_list_is_newest_first_with_its_columns(base_wh: duckdb.DuckDBPyConnection) -> None:
    df = complaint_list(base_wh, **MARCH)
    assert df.columns == list(LIST_COLUMNS)
    assert _ids(df) == ["c5", "c3", "c2", "c1", "c4"]
    c1 = df.filter(pl.col("complaint_id") == "c1").row(0, named=True)
    assert c1["outlet_name"] == "Outlet A"
    assert c1["staff_name"] == "One"
    assert c1["is_repeat"] is True
    assert c1["resolution_days"] == 7.0
    assert c1["deadline_days"] == 15


def test_within_deadline_agrees_with_the_kpi(base_wh: duckdb.DuckDBPyConnection) -> None:
    df = complaint_list(base_wh, **MARCH)
    flags = dict(zip(_ids(df), df["within_deadline"].to_list(), strict=True))
    assert flags == {"c1": True, "c2": False, "c3": None, "c4": True, "c5": False}
    judged = df["within_deadline"].drop_nulls()
    share = complaint_summary(base_wh, **MARCH)["closed_within_deadline_share"][0]
    assert judged.sum() / judged.len() == pytest.approx(share)
    later = complaint_list(base_wh, **MARCH, as_of=dt.datetime(2024, 4, 20))
    assert later.filter(pl.col("complaint_id") == "c3")["within_deadline"][0] is False


def test_resolved_on_the_deadline_day_is_in_time() -> None:
    con = build_warehouse()
    con.execute(
        "UPDATE fact_complaint SET resolution_days = 15,"
        " resolved_at = received_at + INTERVAL 15 DAY WHERE complaint_id = 'c2'"
    )
    df = complaint_list(con, **MARCH)
    assert df.filter(pl.col("complaint_id") == "c2")["within_deadline"][0] is True
    judged = df["within_deadline"].drop_nulls()
    share = complaint_summary(con, **MARCH)["closed_within_deadline_share"][0]
    assert judged.sum() / judged.len() == pytest.approx(share) == pytest.approx(3 / 4)
    con.close()


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("k1", ["c3", "c1"]),  # customer ref, case-insensitive
        ("attitude", ["c1", "c4"]),  # category code
        ("态度", ["c1", "c4"]),  # category label in Chinese (服务态度)
        ("Waiting", ["c3", "c2"]),  # category label in English (Waiting time)
        ("s2", ["c4"]),  # staff id
        ("two", ["c4"]),  # staff name
        ("outlet b", ["c5", "c3"]),  # every word must match: outlet name "Outlet B"
        ("  C2  ", ["c2"]),  # complaint id, blanks ignored
        ("text", ["c5", "c3", "c2", "c1", "c4"]),  # description
        ("nothing-like-this", []),
        ("%", []),  # no LIKE wildcards: a literal substring
        ("' OR 1=1 --", []),  # user text is a parameter, never SQL
    ],
)
def test_search(base_wh: duckdb.DuckDBPyConnection, search: str, expected: list[str]) -> None:
    assert _ids(complaint_list(base_wh, **MARCH, search=search)) == expected


def test_empty_search_lists_everything(base_wh: duckdb.DuckDBPyConnection) -> None:
    assert complaint_list(base_wh, **MARCH, search="   ").height == 5


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"status": "open"}, ["c5", "c3"]),
        ({"status": ("closed",)}, ["c2", "c1", "c4"]),
        ({"severity": "major"}, ["c3", "c4"]),
        ({"status": "open", "severity": ("minor", "critical")}, ["c5"]),
        ({"status": (), "severity": None}, ["c5", "c3", "c2", "c1", "c4"]),  # empty = all
        ({"search": "wait", "status": "closed"}, ["c2"]),
        ({"limit": 2}, ["c5", "c3"]),
    ],
)
def test_status_severity_and_limit(
    base_wh: duckdb.DuckDBPyConnection, kwargs: dict, expected: list[str]
) -> None:
    assert _ids(complaint_list(base_wh, **MARCH, **kwargs)) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"outlets": "A"}, ["c2", "c1", "c4"]),
        ({"outlets": ("A", "B"), "township": "east"}, ["c5", "c3", "c2", "c1", "c4"]),
        ({"township": "west"}, []),
        ({"outlet_type": "sub_branch"}, ["c5", "c3"]),
        ({"position": "teller"}, ["c2", "c1", "c4"]),
    ],
)
def test_list_respects_the_outlet_scope(
    base_wh: duckdb.DuckDBPyConnection, filters: dict, expected: list[str]
) -> None:
    assert _ids(complaint_list(base_wh, **MARCH, **filters)) == expected
    # The search cannot reach outside the scope.
    assert set(_ids(complaint_list(base_wh, **MARCH, search="outlet", **filters))) == set(expected)


def test_period_is_the_day_received(base_wh: duckdb.DuckDBPyConnection) -> None:
    assert _ids(complaint_list(base_wh, start="2024-01-01", end="2024-02-01")) == ["c0"]
    assert _ids(complaint_list(base_wh, start="2024-03-05", end="2024-03-11")) == ["c2", "c1"]


# ---------------------------------------------------------------- the small county


@pytest.fixture(scope="module")
def county(small_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(small_warehouse), read_only=True)
    yield con
    con.close()


COUNTY = {"start": dt.date(2025, 12, 1), "end": dt.date(2026, 3, 1)}


def _raw(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The county's complaints of the period with outlet and staff names, by plain SQL."""
    return con.sql(
        "SELECT c.*, o.outlet_name, o.township, s.staff_name FROM fact_complaint c"
        " JOIN dim_outlet o USING (outlet_code)"
        " LEFT JOIN (SELECT staff_id, max(staff_name) AS staff_name FROM dim_staff GROUP BY 1)"
        " s USING (staff_id)"
        " WHERE c.received_at >= $start AND c.received_at < $end",
        params=COUNTY,
    ).pl()


def test_county_list_matches_plain_sql(county: duckdb.DuckDBPyConnection) -> None:
    raw = _raw(county)
    got = complaint_list(county, **COUNTY)
    assert got.height == raw.height > 0
    assert set(_ids(got)) == set(raw["complaint_id"].to_list())
    assert got["received_at"].is_sorted(descending=True)
    township = raw["township"][0]
    scoped = complaint_list(county, **COUNTY, township=township)
    assert set(_ids(scoped)) == set(
        raw.filter(pl.col("township") == township)["complaint_id"].to_list()
    )


@pytest.mark.parametrize("term", ["态度", "<b>", "窗口", "0310"])
def test_county_search_matches_an_independent_filter(
    county: duckdb.DuckDBPyConnection, term: str
) -> None:
    raw = _raw(county)
    columns = ["complaint_id", "category", "description", "customer_ref", "staff_id"]
    columns += ["staff_name", "outlet_code", "outlet_name"]
    hit = pl.any_horizontal(
        pl.col(c).fill_null("").str.to_lowercase().str.contains(term.lower(), literal=True)
        for c in columns
    )
    if term == "态度":  # the Chinese label of category attitude (服务态度)
        hit = hit | (pl.col("category") == "attitude")
    expected = set(raw.filter(hit)["complaint_id"].to_list())
    got = complaint_list(county, **COUNTY, search=term)
    assert set(_ids(got)) == expected
    assert expected  # the term occurs in the county, so the test can fail


def test_county_descriptions_come_back_raw(county: duckdb.DuckDBPyConnection) -> None:
    got = complaint_list(county, **COUNTY, search="<b>")
    assert all("<b>" in d for d in got["description"].to_list())


def test_county_channels_add_up(county: duckdb.DuckDBPyConnection) -> None:
    raw = _raw(county)
    df = complaints_by_channel(county, **COUNTY)
    expected = raw.group_by("channel").len()
    assert dict(zip(df["channel"].to_list(), df["complaints"].to_list(), strict=True)) == dict(
        zip(expected["channel"].to_list(), expected["len"].to_list(), strict=True)
    )
    assert df["complaints"].is_sorted(descending=True)
    hist = resolution_histogram(county, **COUNTY)
    assert hist["complaints"].sum() == raw.height
    open_row = hist.filter(pl.col("bin_start_days").is_null())
    assert open_row["complaints"].sum() == raw["resolution_days"].null_count()
