"""Assisted channels: the phone queue gets every service KPI and a staffing plan.

Three parts:

1. The real call-centre month (shared/datasets, loaded through the shipped profile): the
   KPI layer's flow, abandonment, wait and handling figures against an independent count
   made here from the raw text file with the csv module, and the hourly agent plan
   against an Erlang C written out here from its textbook closed form (factorials and
   powers, not the Erlang B recurrence warehouse.staffing uses).
2. The hand-sized warehouse of conftest.py with four phone calls added at outlet A: each
   assisted channel on its own and both in total, derived by hand in the comments; the
   counter's figures stay those of test_kpi_service.py.
3. The channel sets as configuration: they cover the channel domain, are checked, and
   apply when a KPI is queried (a changed set changes the KPIs read from marts too).
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import math
import os
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from etl.pipeline import LoadOptions, load_paths
from tests.warehouse.conftest import build_warehouse, event
from warehouse import marts
from warehouse.kpi import StaleMartError, service_summary
from warehouse.kpi import channels as channel_config
from warehouse.kpi import service as service_module
from warehouse.kpi.channels import ChannelSets, channel_sets
from warehouse.kpi.source import Source
from warehouse.settings import PROJECT_ROOT, load_config
from warehouse.staffing import staffing_plan

DATASETS = Path(os.environ.get("RCCDASH_SHARED", PROJECT_ROOT.parent / "shared")) / "datasets"
BANK = DATASETS / "anonymous_bank_february_1999.txt"
FEBRUARY_1999 = {"start": "1999-02-01", "end": "1999-03-01"}
NOT_LOGGED = "0:00:00"  # the file's "did not happen"
TARGET_WAIT_S = 900  # config/settings.yaml service.target_wait_s
LEVEL = 0.8  # config/kpi.yaml staffing.service_level


def approx(value: float) -> Any:
    return pytest.approx(value, rel=1e-12)


def one(df: pl.DataFrame, **keys: Any) -> dict[str, Any]:
    rows = df.filter(*[pl.col(k) == v for k, v in keys.items()]) if keys else df
    assert rows.height == 1, rows
    return rows.row(0, named=True)


# ------------------------------------------------------------------ 1. the call-centre month


def load_call_centre(folder: Path) -> Path:
    """A warehouse in ``folder`` holding the February 1999 call log, loaded as an operator
    would: the call centre's outlet row, then the file through
    config/profiles/anonymous_bank.yaml (the page tests use it too)."""
    assert BANK.exists(), f"shared dataset missing: {BANK}"
    outlets = folder / "outlets.csv"
    outlets.write_text(
        "outlet_code,outlet_name,outlet_type\nCALLCTR,Call centre,county_department\n",
        encoding="utf-8",
    )
    db = folder / "warehouse.duckdb"
    load_paths(db, [outlets], LoadOptions(report=False))
    [bank] = load_paths(db, [BANK], LoadOptions(profile="anonymous_bank", report=False))
    assert bank.status == "loaded", bank.message
    return db


@pytest.fixture(scope="module")
def call_centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """The February 1999 call log loaded through config/profiles/anonymous_bank.yaml."""
    db = load_call_centre(tmp_path_factory.mktemp("call_centre"))
    con = duckdb.connect(str(db), read_only=True)
    assert marts.fresh_marts(con) == set(marts.MARTS)  # the load refreshed them
    assert Source.of(con, use_marts=True).fresh == set(marts.MARTS)  # and KPIs read them
    yield con
    con.close()


def _seconds(clock: str) -> int:
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def _quantile(values: list[float], p: float) -> float:
    """Linear interpolation between order statistics (QUANTILE_CONT, numpy's default)."""
    xs = sorted(values)
    h = (len(xs) - 1) * p
    lo = math.floor(h)
    return xs[lo] + (h - lo) * (xs[min(lo + 1, len(xs) - 1)] - xs[lo])


def _raw_calls() -> list[dict[str, str]]:
    """The calls the profile keeps: PHANTOM calls and negative VRU times are its drop rules."""
    with BANK.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [r for r in rows if r["outcome"] != "PHANTOM" and int(r["vru_time"]) >= 0]


def _answered(call: dict[str, str]) -> bool:
    """Served by an agent, with the service start and end logged."""
    return call["outcome"] == "AGENT" and call["ser_start"] != NOT_LOGGED


def _wait_s(call: dict[str, str]) -> int:
    """Entry into the VRU to the agent picking up; a pick-up after midnight wraps."""
    return (_seconds(call["ser_start"]) - _seconds(call["vru_entry"])) % 86_400


def independent_count() -> dict[str, float]:
    """The month's figures from the raw file, by the definitions of docs/kpi.md."""
    calls = _raw_calls()
    answered = [c for c in calls if _answered(c)]
    waits = [_wait_s(c) for c in answered]
    handling = [int(c["ser_time"]) for c in answered]  # the log's own duration column
    return {
        "arrivals": len(calls),
        "served": sum(c["outcome"] == "AGENT" for c in calls),
        "abandoned": sum(c["outcome"] == "HANG" for c in calls),
        "abandonment_rate": sum(c["outcome"] == "HANG" for c in calls) / len(calls),
        "wait_mean_s": statistics.fmean(waits),
        "wait_p50_s": _quantile(waits, 0.5),
        "wait_p90_s": _quantile(waits, 0.9),
        "service_level": sum(w <= TARGET_WAIT_S for w in waits) / len(waits),
        "service_mean_s": statistics.fmean(handling),
        "service_p90_s": _quantile(handling, 0.9),
    }


@pytest.mark.parametrize("use_marts", [True, False], ids=["marts", "base"])
def test_call_centre_kpis_equal_an_independent_count(
    call_centre: duckdb.DuckDBPyConnection, use_marts: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = independent_count()
    got = one(service_summary(call_centre, use_marts=use_marts, **FEBRUARY_1999))
    assert got["arrivals"] == got["assisted_arrivals"] == expected["arrivals"] == 33_043
    assert got["served"] == got["assisted_served"] == expected["served"]
    assert got["abandoned"] == expected["abandoned"]
    for name in (
        "abandonment_rate",
        "wait_mean_s",
        "wait_p50_s",
        "wait_p90_s",
        "service_level",
        "service_mean_s",
        "service_p90_s",
    ):
        assert got[name] == approx(expected[name]), name
    # The phone is assisted service: nothing of it is self-service, nothing is counter.
    assert got["self_service_share"] == 0.0 and got["self_service_arrivals"] == 0
    assert got["counter_arrivals"] == 0 and got["counter_served"] == 0
    # Every answered call waited under the 15-minute counter target; 20 s, a call
    # centre's usual target, makes the service level a real count.
    monkeypatch.setattr(service_module, "target_wait_s", lambda: 20)
    at_20s = one(service_summary(call_centre, use_marts=use_marts, **FEBRUARY_1999))
    waits = [_wait_s(c) for c in _raw_calls() if _answered(c)]
    assert at_20s["service_level"] == approx(sum(w <= 20 for w in waits) / len(waits))
    assert 0.4 < at_20s["service_level"] < 0.8
    monkeypatch.undo()
    # By channel, the phone row is the month.
    phone = one(service_summary(call_centre, by="channel", use_marts=use_marts, **FEBRUARY_1999))
    assert phone["channel"] == "phone"
    for name, value in got.items():
        assert phone[name] == value, name


def _erlang_c(servers: int, load: float) -> float:
    """P(wait > 0) in M/M/N: the closed form with factorials, as in a textbook."""
    if servers <= load:
        return 1.0
    tail = load**servers / math.factorial(servers) * servers / (servers - load)
    head = sum(load**k / math.factorial(k) for k in range(servers))
    return tail / (head + tail)


def _servers_needed(per_hour: float, mean_s: float, target_s: float, level: float) -> int:
    """Fewest agents with P(wait <= target) = 1 - C(N, A) exp(-(N - A) t / E[S]) >= level."""
    load = per_hour * mean_s / 3600
    if load == 0:
        return 0
    n = 1
    while n <= load or 1 - _erlang_c(n, load) * math.exp(-(n - load) * target_s / mean_s) < level:
        n += 1
    return n


def independent_plan(target_s: float) -> dict[tuple[int, int], dict[str, Any]]:
    """Per (weekday, hour of VRU entry): calls per hour, mean handling, agents needed.

    Calls per hour average over the weekdays of February 1999 (four of each); the slot's
    mean handling is that of the answered calls entering in it, else the month's mean
    (the plan's documented fallback for a slot with callers but no answered call).
    """
    calls = _raw_calls()
    days = collections.Counter(
        (dt.date(1999, 2, 1) + dt.timedelta(days=i)).weekday() for i in range(28)
    )
    arrivals: collections.Counter[tuple[int, int]] = collections.Counter()
    handling: dict[tuple[int, int], list[int]] = collections.defaultdict(list)
    for c in calls:
        slot = (
            dt.datetime.strptime(c["date"], "%y%m%d").weekday(),
            _seconds(c["vru_entry"]) // 3600,
        )
        arrivals[slot] += 1
        if _answered(c):
            handling[slot].append(int(c["ser_time"]))
    month_mean = statistics.fmean(h for hs in handling.values() for h in hs)
    plan = {}
    for weekday in range(7):
        for hour in range(24):
            slot = (weekday, hour)
            per_hour = arrivals[slot] / days[weekday]
            mean = statistics.fmean(handling[slot]) if handling[slot] else None
            if mean is None and per_hour > 0:
                mean = month_mean
            needed = _servers_needed(per_hour, mean, target_s, LEVEL) if per_hour else 0
            plan[slot] = {"arrivals_per_hour": per_hour, "mean_service_s": mean, "needed": needed}
    return plan


@pytest.mark.parametrize("target_s", [TARGET_WAIT_S, 20], ids=["900s", "20s"])
def test_hourly_agent_plan_equals_an_independent_erlang_c(
    call_centre: duckdb.DuckDBPyConnection, target_s: float
) -> None:
    expected = independent_plan(target_s)
    wait = None if target_s == TARGET_WAIT_S else target_s  # the default is the setting
    plan = staffing_plan(
        call_centre, "CALLCTR", channel="phone", target_wait_s=wait, **FEBRUARY_1999
    )
    assert plan.height == 168
    beyond_stability = 0
    for row in plan.iter_rows(named=True):
        mine = expected[(row["weekday"], row["hour"])]
        slot = f"weekday {row['weekday']} hour {row['hour']}"
        assert row["arrivals_per_hour"] == approx(mine["arrivals_per_hour"]), slot
        if mine["mean_service_s"] is None:
            assert row["mean_service_s"] is None, slot
        else:
            assert row["mean_service_s"] == approx(mine["mean_service_s"]), slot
            load = mine["arrivals_per_hour"] * mine["mean_service_s"] / 3600
            assert row["offered_load"] == approx(load), slot
            beyond_stability += mine["needed"] > math.floor(load) + 1
        assert row["windows_needed"] == mine["needed"], slot
        # Agents are not on the roster: nothing staffed is claimed.
        assert row["windows_staffed"] is None and row["gap"] is None and row["status"] is None
    if target_s == 20:  # the 20 s target makes Erlang C do more than keep the queue stable
        assert beyond_stability > 20


def test_the_counter_plan_of_a_call_centre_is_empty_and_self_service_is_refused(
    call_centre: duckdb.DuckDBPyConnection,
) -> None:
    counter = staffing_plan(call_centre, "CALLCTR", **FEBRUARY_1999)
    assert counter["windows_needed"].sum() == 0 and counter["windows_staffed"].sum() == 0
    with pytest.raises(ValueError, match="not an assisted channel"):
        staffing_plan(call_centre, "CALLCTR", channel="atm", **FEBRUARY_1999)


# ------------------------------------------------------------------ 2. counter and phone

MARCH = {"start": "2024-03-01", "end": "2024-04-01"}
# Four calls at outlet A (no agent is in the staff master, no window): wait / handling.
PHONE_CALLS = [
    event(
        "ph1",
        "A",
        "2024-03-04",
        "09:00",
        wait=20,
        service=300,
        channel="phone",
        sat=5,
        btype="enquiry",
    ),
    event("ph2", "A", "2024-03-04", "09:05", channel="phone", status="abandoned"),
    event("ph3", "A", "2024-03-06", "14:00", wait=40, service=100, channel="phone"),
    event(
        "ph4",
        "A",
        "2024-03-18",
        "10:00",
        wait=1000,
        service=200,
        channel="phone",
        sat=2,
        btype="withdrawal",
    ),
]


def _with_phone() -> duckdb.DuckDBPyConnection:
    con = build_warehouse()
    marks = ", ".join("?" * len(PHONE_CALLS[0]))
    con.executemany(f"INSERT INTO fact_transaction VALUES ({marks})", PHONE_CALLS)
    return con


@pytest.fixture(scope="module", params=["base", "marts"])
def mixed(request: pytest.FixtureRequest) -> Iterator[duckdb.DuckDBPyConnection]:
    """The hand-sized warehouse with the phone calls, from base tables or fresh marts."""
    con = _with_phone()
    if request.param == "marts":
        marts.refresh(con)
        assert Source.of(con, use_marts=True).fresh == set(marts.MARTS)
    yield con
    con.close()


COUNTER_MARCH = {  # test_kpi_service.test_county_month: the counter alone
    "abandonment_rate": 3 / 10,
    "wait_mean_s": 2610 / 6,
    "wait_p50_s": 210.0,
    "wait_p90_s": 1050.0,
    "service_level": 5 / 6,
    "service_mean_s": 850 / 6,
    "service_p90_s": 195.0,
    "service_vs_standard": 850 / 840,
    "satisfaction_rate": 3 / 5,
    "rating_coverage": 5 / 6,
}


def test_each_assisted_channel_gets_its_own_figures(mixed: duckdb.DuckDBPyConnection) -> None:
    df = service_summary(mixed, by="channel", **MARCH)
    counter = one(df, channel="counter")
    for name, value in COUNTER_MARCH.items():
        assert counter[name] == approx(value), name
    phone = one(df, channel="phone")
    assert (phone["arrivals"], phone["assisted_arrivals"], phone["counter_arrivals"]) == (4, 4, 0)
    assert (phone["served"], phone["assisted_served"], phone["abandoned"]) == (3, 3, 1)
    assert phone["abandonment_rate"] == approx(1 / 4)
    # Waits 20 40 1000: p50 40, p90 at h = 1.8: 40 + 0.8 * 960.
    assert phone["wait_mean_s"] == approx(1060 / 3)
    assert phone["wait_p50_s"] == approx(40.0)
    assert phone["wait_p90_s"] == approx(808.0)
    assert phone["service_level"] == approx(2 / 3)
    # Handling 300 100 200: p90 at h = 1.8 of 100 200 300: 200 + 0.8 * 100.
    assert phone["service_mean_s"] == approx(200.0)
    assert phone["service_p90_s"] == approx(280.0)
    assert phone["service_vs_standard"] == approx(600 / (90 + 150 + 150))
    assert phone["satisfaction_rate"] == approx(1 / 2)  # ph1 5, ph4 2
    assert phone["rating_coverage"] == approx(2 / 3)
    assert phone["self_service_share"] == 0.0
    atm = one(df, channel="atm")  # self-service: no queue, so no queue figures
    assert atm["self_service_share"] == 1.0 and atm["assisted_arrivals"] == 0
    for name in ("abandonment_rate", "wait_mean_s", "wait_p90_s", "service_level"):
        assert atm[name] is None, name


def test_in_total_the_assisted_channels_are_one_population(
    mixed: duckdb.DuckDBPyConnection,
) -> None:
    r = one(service_summary(mixed, **MARCH))
    assert (r["arrivals"], r["counter_arrivals"], r["assisted_arrivals"]) == (16, 10, 14)
    assert (r["self_service_arrivals"], r["served"], r["assisted_served"]) == (2, 11, 9)
    assert r["abandonment_rate"] == approx(4 / 14)
    # Waits 20 30 40 60 120 300 900 1000 1200: p50 120; p90 at h = 7.2: 1000 + 0.2 * 200.
    assert r["wait_mean_s"] == approx(3670 / 9)
    assert r["wait_p50_s"] == approx(120.0)
    assert r["wait_p90_s"] == approx(1040.0)
    assert r["service_level"] == approx(7 / 9)
    # Handling 90 100 100 120 150 180 200 210 300: p90 at h = 7.2: 210 + 0.2 * 90.
    assert r["service_mean_s"] == approx(1450 / 9)
    assert r["service_p90_s"] == approx(228.0)
    assert r["service_vs_standard"] == approx(1450 / 1230)
    assert r["satisfaction_rate"] == approx(4 / 7)
    assert r["rating_coverage"] == approx(7 / 9)
    assert r["self_service_share"] == approx(2 / 16)
    # Productivity stays the counter's: phone agents are not on the roster of windows.
    assert r["counter_staff_hours"] == approx(10.5)
    assert r["served_per_staff_hour"] == approx(6 / 10.5)
    assert r["utilisation"] == approx(1210 / 37800)


def test_phone_plan_next_to_an_unchanged_counter_plan(mixed: duckdb.DuckDBPyConnection) -> None:
    phone = staffing_plan(mixed, "A", channel="phone", **MARCH)
    # Monday 9:00: ph1 and ph2 over the four Mondays of March 2024; ph1 took 300 s.
    monday9 = one(phone, weekday=0, hour=9)
    assert monday9["arrivals_per_hour"] == approx(2 / 4)
    assert monday9["mean_service_s"] == approx(300.0)
    assert monday9["windows_needed"] == 1
    assert monday9["windows_staffed"] is None and monday9["status"] is None
    assert phone["windows_needed"].sum() == 3  # Monday 9, Monday 10, Wednesday 14
    with build_warehouse() as without_phone:
        assert_frame_equal(
            staffing_plan(mixed, "A", **MARCH), staffing_plan(without_phone, "A", **MARCH)
        )


# ------------------------------------------------------------------ 3. the sets as configuration


def test_the_sets_split_the_channel_domain_and_carry_a_version() -> None:
    sets = channel_sets()
    domain = load_config("expectations")["kinds"]["transactions"]["in_set"]["channel"]
    assert set(sets.assisted) | set(sets.self_service) == set(domain)
    assert not set(sets.assisted) & set(sets.self_service)
    assert sets.assisted[0] == "counter" and "phone" in sets.assisted
    assert sets.version


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        ({"version": "x", "assisted": ["counter", "phone"], "self_service": ["phone"]}, "both"),
        ({"version": "x", "assisted": [], "self_service": ["atm"]}, "at least one"),
        ({"version": "x", "assisted": "counter", "self_service": []}, "list of channel codes"),
        ({"assisted": ["counter"], "self_service": []}, "version"),
    ],
)
def test_a_wrong_configuration_is_refused(
    monkeypatch: pytest.MonkeyPatch, channels: dict, message: str
) -> None:
    monkeypatch.setattr(channel_config, "load_config", lambda name: {"channels": channels})
    with pytest.raises(ValueError, match=message):
        channel_sets.__wrapped__()


def test_the_sets_apply_when_queried_even_from_marts(
    mixed: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter_only = ChannelSets(
        "test", ("counter",), ("atm", "cash_recycler", "pos", "online", "mobile", "phone")
    )
    monkeypatch.setattr(channel_config, "channel_sets", lambda: counter_only)
    r = one(service_summary(mixed, **MARCH))
    for name, value in COUNTER_MARCH.items():  # the phone calls are out of every queue KPI
        assert r[name] == approx(value), name
    assert r["self_service_share"] == approx(6 / 16)  # a6, b3 and the four calls
    with pytest.raises(ValueError, match="not an assisted channel"):
        staffing_plan(mixed, "A", channel="phone", **MARCH)


def test_marts_of_an_older_definition_are_not_read() -> None:
    # A warehouse refreshed by older code, read by this code before its next load: the
    # row counts still match, the columns do not (here: one the relation no longer has).
    with _with_phone() as con:
        marts.refresh(con)
        con.execute("ALTER TABLE mart_event ADD COLUMN self_service TINYINT")
        assert marts.fresh_marts(con) == set(marts.MARTS)  # on row counts alone
        with pytest.raises(StaleMartError, match="mart_event"):
            Source.of(con, use_marts=True)
        with pytest.warns(UserWarning, match="older than the data"):
            src = Source.of(con)
        assert src.fresh == {marts.MART_CELL, marts.MART_ROSTER}
        with pytest.warns(UserWarning, match="older than the data"):
            got = service_summary(con, by="channel", **MARCH)
        assert_frame_equal(got, service_summary(con, by="channel", use_marts=False, **MARCH))
