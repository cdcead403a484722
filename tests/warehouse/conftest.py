"""A hand-sized warehouse for the KPI tests: every expected number is derived in the tests.

Outlets A and B (township "east") have a handful of events in March 2024; outlet C
(township "west") has none. Staff S2 is a teller at A until 2024-03-15 and a lobby
manager at B from then on. February 2024 (the previous period) and March 2023 (last year)
hold a few events at A for the comparisons. The ``wh`` fixture is parametrised: every test
using it runs once on the base tables and once with the marts refreshed.

Events (all counter unless noted; wait / service in seconds):

====  ==========  =====  ========  =====  =====  =======  ==========  ==============  ====
id    day         outlet ticket    wait   serv.  staff    type        status          sat.
====  ==========  =====  ========  =====  =====  =======  ==========  ==============  ====
a1    2024-03-04  A      09:10     60     210    S1       deposit     completed 1000  5
a2    2024-03-04  A      09:20     300    100    S1       withdrawal  completed 400   3
a3    2024-03-04  A      09:40     1000   300    S2       deposit     completed 500,  -
                                                                      is_reversed
a4    2024-03-04  A      10:30*    -      60     S2       deposit     reversed (of a3)
a5    2024-03-04  A      10:05     120    90     S1       enquiry     error           4
a6    2024-03-04  A      10:15*    -      40     -        withdrawal  completed 200 (ATM)
a7    2024-03-04  A      10:20     -      -      -        deposit     abandoned
a8    2024-03-06  A      11:00     -      -      -        deposit     abandoned
a9    2024-03-06  A      11:30     -      -      -        deposit     abandoned
a10   2024-03-18  A      14:00     900    150    S1       deposit     completed 300   -
b1    2024-03-11  B      09:00     30     120    S3       deposit     completed 2000  2
b2    2024-03-20  B      09:05     1200   180    S2       withdrawal  completed 700   5
b3    2024-03-20  B      15:00*    -      60     -        deposit     completed 100 (cash
                                                                      recycler)
x1    2024-04-02  A      09:00     10     100    S1       deposit     completed 50 (April)
p1    2024-02-05  A      09:00     100    200    S1       deposit     completed 800   5
p2    2024-02-05  A      09:30     -      -      -        deposit     abandoned
l1    2023-03-06  A      09:00     50     100    S1       deposit     completed 600
l2    2023-03-06  A      09:10     20     100    S1       withdrawal  completed 100
====  ==========  =====  ========  =====  =====  =======  ==========  ==============  ====

(* = no ticket: arrival is the start of service.)

Counter roster segments (window): A 2024-03-04 S1 w1 09:00-12:00, S2 w2 09:30-12:00;
A 2024-03-06 S1 w1 11:00-12:00 and S2 w1 11:30-12:00 (a handover on one window);
A 2024-03-18 S1 w1 13:30-15:00; B 2024-03-11 S3 w1 08:30-10:00; B 2024-03-20 S2 w1
09:00-09:30. Lobby duty (no window): A 2024-03-04 S4 09:00-12:00.
Staffed counter seconds: A = 10800 + 9000 + 3600 + 1800 + 5400 = 30600 (8.5 h),
B = 5400 + 1800 = 7200 (2 h), total 37800 (10.5 h).

Complaints: c0 2024-01-20 A S1 K9; c1 2024-03-05 10:00 A S1 K1 attitude simple, resolved
after 7 days, substantiated; c2 2024-03-10 09:00 A S1 K2 wait_time simple, resolved after
20 days, not substantiated; c3 2024-03-12 12:00 B no staff K1 wait_time complex, open;
c4 2024-03-01 08:00 A S2 K3 attitude complex, resolved after 19 days, substantiated;
c5 2024-03-14 12:00 B no staff K4 facility simple, open; c6 2023-10-01 B no staff K4.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from warehouse import marts
from warehouse.schema import migrate

D = dt.date
TS = dt.datetime


def _at(day: str, hhmm: str) -> TS:
    return TS.fromisoformat(f"{day} {hhmm}:00")


def event(
    txn_id: str,
    outlet: str,
    day: str,
    time: str,
    *,
    wait: int | None = None,
    service: int | None = None,
    channel: str = "counter",
    btype: str = "deposit",
    staff: str | None = None,
    window: int | None = None,
    status: str = "completed",
    sat: int | None = None,
    amount: float | None = None,
    reversal_of: str | None = None,
    is_reversed: bool = False,
    ticketed: bool = True,
) -> tuple[Any, ...]:
    """One fact_transaction row; timestamps follow from ticket time, wait and service."""
    t0 = _at(day, time)
    ticket = t0 if ticketed else None
    if status == "abandoned":
        started = completed = None
    else:
        started = t0 + dt.timedelta(seconds=wait or 0) if ticketed else t0
        completed = started + dt.timedelta(seconds=service) if service is not None else None
    wait_s = int((started - ticket).total_seconds()) if ticket and started else None
    service_s = int((completed - started).total_seconds()) if completed and started else None
    arrival = ticket or started
    return (
        txn_id,
        outlet,
        arrival.date(),
        channel,
        btype,
        staff,
        window,
        amount,
        "regular",
        ticket,
        ticket,
        started,
        completed,
        arrival,
        status,
        sat,
        reversal_of,
        is_reversed,
        wait_s,
        service_s,
        1,
    )


EVENTS = [
    event(
        "a1",
        "A",
        "2024-03-04",
        "09:10",
        wait=60,
        service=210,
        staff="S1",
        window=1,
        sat=5,
        amount=1000,
    ),
    event(
        "a2",
        "A",
        "2024-03-04",
        "09:20",
        wait=300,
        service=100,
        btype="withdrawal",
        staff="S1",
        window=1,
        sat=3,
        amount=400,
    ),
    event(
        "a3",
        "A",
        "2024-03-04",
        "09:40",
        wait=1000,
        service=300,
        staff="S2",
        window=2,
        amount=500,
        is_reversed=True,
    ),
    event(
        "a4",
        "A",
        "2024-03-04",
        "10:30",
        service=60,
        staff="S2",
        window=2,
        status="reversed",
        amount=500,
        reversal_of="a3",
        ticketed=False,
    ),
    event(
        "a5",
        "A",
        "2024-03-04",
        "10:05",
        wait=120,
        service=90,
        btype="enquiry",
        staff="S1",
        window=1,
        status="error",
        sat=4,
    ),
    event(
        "a6",
        "A",
        "2024-03-04",
        "10:15",
        service=40,
        channel="atm",
        btype="withdrawal",
        amount=200,
        ticketed=False,
    ),
    event("a7", "A", "2024-03-04", "10:20", status="abandoned"),
    event("a8", "A", "2024-03-06", "11:00", status="abandoned"),
    event("a9", "A", "2024-03-06", "11:30", status="abandoned"),
    event(
        "a10", "A", "2024-03-18", "14:00", wait=900, service=150, staff="S1", window=1, amount=300
    ),
    event(
        "b1",
        "B",
        "2024-03-11",
        "09:00",
        wait=30,
        service=120,
        staff="S3",
        window=1,
        sat=2,
        amount=2000,
    ),
    event(
        "b2",
        "B",
        "2024-03-20",
        "09:05",
        wait=1200,
        service=180,
        btype="withdrawal",
        staff="S2",
        window=1,
        sat=5,
        amount=700,
    ),
    event(
        "b3",
        "B",
        "2024-03-20",
        "15:00",
        service=60,
        channel="cash_recycler",
        amount=100,
        ticketed=False,
    ),
    event("x1", "A", "2024-04-02", "09:00", wait=10, service=100, staff="S1", window=1, amount=50),
    event(
        "p1",
        "A",
        "2024-02-05",
        "09:00",
        wait=100,
        service=200,
        staff="S1",
        window=1,
        sat=5,
        amount=800,
    ),
    event("p2", "A", "2024-02-05", "09:30", status="abandoned"),
    event("l1", "A", "2023-03-06", "09:00", wait=50, service=100, staff="S1", window=1, amount=600),
    event(
        "l2",
        "A",
        "2023-03-06",
        "09:10",
        wait=20,
        service=100,
        btype="withdrawal",
        staff="S1",
        window=1,
        amount=100,
    ),
]

OUTLETS = [
    ("A", "Outlet A", "east", "township_branch", 3, 1, D(2000, 1, 1), None, None),
    ("B", "Outlet B", "east", "sub_branch", 2, 1, D(2000, 1, 1), None, None),
    ("C", "Outlet C", "west", "service_point", 1, 0, D(2000, 1, 1), None, None),
]
STAFF = [
    ("S1", D(2020, 1, 1), None, "One", "A", "teller", D(2020, 1, 1), "active", True),
    ("S2", D(2020, 1, 1), D(2024, 3, 15), "Two", "A", "teller", D(2020, 1, 1), "active", False),
    ("S2", D(2024, 3, 15), None, "Two", "B", "lobby_manager", D(2020, 1, 1), "active", True),
    ("S3", D(2020, 1, 1), None, "Three", "B", "teller", D(2020, 1, 1), "active", True),
    ("S4", D(2020, 1, 1), None, "Four", "A", "lobby_manager", D(2020, 1, 1), "active", True),
]
BUSINESS_TYPES = [
    ("deposit", "Deposit", "存款", 150, 1),
    ("withdrawal", "Withdrawal", "取款", 150, -1),
    ("enquiry", "Enquiry", "咨询", 90, 0),
]


def _segment(
    day: str, staff: str, outlet: str, window: int | None, start: str, end: str
) -> tuple[Any, ...]:
    s, e = _at(day, start), _at(day, end)
    return (D.fromisoformat(day), staff, outlet, window, s, e, int((e - s).total_seconds()), 1)


ROSTER = [
    _segment("2024-03-04", "S1", "A", 1, "09:00", "12:00"),
    _segment("2024-03-04", "S2", "A", 2, "09:30", "12:00"),
    _segment("2024-03-04", "S4", "A", None, "09:00", "12:00"),
    _segment("2024-03-06", "S1", "A", 1, "11:00", "12:00"),
    _segment("2024-03-06", "S2", "A", 1, "11:30", "12:00"),
    _segment("2024-03-18", "S1", "A", 1, "13:30", "15:00"),
    _segment("2024-03-11", "S3", "B", 1, "08:30", "10:00"),
    _segment("2024-03-20", "S2", "B", 1, "09:00", "09:30"),
]


def _complaint(
    cid: str,
    received: str,
    outlet: str,
    staff: str | None,
    customer: str,
    category: str,
    *,
    complex_: bool = False,
    resolved_days: float | None = None,
    substantiated: bool | None = None,
) -> tuple[Any, ...]:
    at = TS.fromisoformat(received)
    resolved = at + dt.timedelta(days=resolved_days) if resolved_days is not None else None
    status = "closed" if resolved else "open"
    severity = "major" if complex_ else "minor"
    return (
        cid,
        at,
        "hotline",
        outlet,
        staff,
        customer,
        category,
        severity,
        complex_,
        "text",
        status,
        resolved,
        substantiated,
        "none",
        None,
        resolved_days,
        1,
    )


COMPLAINTS = [
    _complaint(
        "c0", "2024-01-20 10:00:00", "A", "S1", "K9", "other", resolved_days=3, substantiated=False
    ),
    _complaint(
        "c1",
        "2024-03-05 10:00:00",
        "A",
        "S1",
        "K1",
        "attitude",
        resolved_days=7,
        substantiated=True,
    ),
    _complaint(
        "c2",
        "2024-03-10 09:00:00",
        "A",
        "S1",
        "K2",
        "wait_time",
        resolved_days=20,
        substantiated=False,
    ),
    _complaint("c3", "2024-03-12 12:00:00", "B", None, "K1", "wait_time", complex_=True),
    _complaint(
        "c4",
        "2024-03-01 08:00:00",
        "A",
        "S2",
        "K3",
        "attitude",
        complex_=True,
        resolved_days=19,
        substantiated=True,
    ),
    _complaint("c5", "2024-03-14 12:00:00", "B", None, "K4", "facility"),
    _complaint(
        "c6", "2023-10-01 12:00:00", "B", None, "K4", "other", resolved_days=2, substantiated=False
    ),
]

TARGETS = [
    (2024, "service_level", None, 0.85),
    (2024, "service_level", "A", 0.9),
    (2024, "complaints_per_10k", None, 2.0),
    (2023, "service_level", None, 0.7),
]


def build_warehouse(con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding the rows above."""
    con = con or duckdb.connect()
    migrate(con)
    con.executemany("INSERT INTO dim_outlet VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", OUTLETS)
    con.executemany("INSERT INTO dim_staff VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", STAFF)
    con.executemany("INSERT INTO dim_business_type VALUES (?, ?, ?, ?, ?)", BUSINESS_TYPES)
    marks = ", ".join("?" * len(EVENTS[0]))
    con.executemany(f"INSERT INTO fact_transaction VALUES ({marks})", EVENTS)
    con.executemany("INSERT INTO fact_roster VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ROSTER)
    marks = ", ".join("?" * len(COMPLAINTS[0]))
    con.executemany(f"INSERT INTO fact_complaint VALUES ({marks})", COMPLAINTS)
    con.executemany("INSERT INTO ref_kpi_target VALUES (?, ?, ?, ?)", TARGETS)
    return con


@pytest.fixture(scope="module", params=["base", "marts"])
def wh(request: pytest.FixtureRequest) -> Iterator[duckdb.DuckDBPyConnection]:
    """The hand-sized warehouse, read from base tables or from freshly refreshed marts."""
    con = build_warehouse()
    if request.param == "marts":
        marts.refresh(con)
        assert marts.fresh_marts(con) == set(marts.MARTS)
    yield con
    con.close()


@pytest.fixture(scope="module")
def base_wh() -> Iterator[duckdb.DuckDBPyConnection]:
    """The hand-sized warehouse without marts (for tests that need only one run)."""
    con = build_warehouse()
    yield con
    con.close()
