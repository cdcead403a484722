"""The scope object against every warehouse read the dashboard makes.

Each entry of ``warehouse.reads.READS`` has a case here (a test fails when one has none),
and each case runs under the roles of the union: an outlet head sees exactly their
outlet (the numbers equal the read asked directly for that outlet, and nothing names
another outlet or its people), a teller only their own card, an analyst no pay, the
data operator only data quality, everybody without ``pii`` masked identifiers.

The county is the small synthetic one of ``tests/conftest.py`` (10 outlets, Dec-Feb),
copied with a few complaint narratives given a phone number and a resident id.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from access.roles import Account, Grant, Role, scope_of
from warehouse.reads import READS, UndeclaredRead, declared
from warehouse.scope import OutOfScope, Permission, Read, Scope, staff_of

START, END = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
MONTH, QUARTER = "2026-01", "2026Q1"
PHONE, RESIDENT_ID = "13812345678", "11010519491231002X"


@dataclass(frozen=True)
class County:
    """What the cases need to know about the small county."""

    con: duckdb.DuckDBPyConnection
    outlet: str  # the outlet head's outlet
    other: str  # another outlet
    outlet_names: dict[str, str]
    mine: frozenset[str]  # staff ever assigned to ``outlet``
    teller: str  # a teller of ``outlet`` (the teller account's own id)
    stranger: str  # a teller never assigned to ``outlet``
    names: dict[str, str]  # staff id -> name


@pytest.fixture(scope="module")
def county(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[County]:
    db = tmp_path_factory.mktemp("scope") / "warehouse.duckdb"
    shutil.copy(small_warehouse, db)
    with duckdb.connect(str(db)) as con:  # a few narratives quote a customer's identifiers
        con.execute(
            "UPDATE fact_complaint SET description = description || ? "
            "WHERE complaint_id IN (SELECT complaint_id FROM fact_complaint ORDER BY 1 LIMIT 40)",
            [f" 客户电话{PHONE}，身份证{RESIDENT_ID}"],
        )
    con = duckdb.connect(str(db), read_only=True)
    staff = con.sql(
        "SELECT staff_id, staff_name, outlet_code, position FROM dim_staff ORDER BY 1"
    ).pl()
    outlets = con.sql("SELECT outlet_code, outlet_name FROM dim_outlet ORDER BY 1").pl()
    busiest = con.execute(
        "SELECT outlet_code FROM fact_complaint GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchall()[0][0]
    mine = staff_of(con, frozenset({busiest}))
    tellers = staff.filter(pl.col("position") == "teller")
    teller = tellers.filter(pl.col("outlet_code") == busiest)["staff_id"][0]
    stranger = tellers.filter(~pl.col("staff_id").is_in(list(mine)))["staff_id"][0]
    yield County(
        con=con,
        outlet=busiest,
        other=next(o for o in outlets["outlet_code"] if o != busiest),
        outlet_names=dict(outlets.iter_rows()),
        mine=mine,
        teller=teller,
        stranger=stranger,
        names=dict(zip(staff["staff_id"], staff["staff_name"], strict=True)),
    )
    con.close()


def _account(*roles: Role, **extra: Any) -> Account:
    return Account("someone", "Someone", frozenset(roles), **extra)


def head(c: County) -> Scope:
    return scope_of(_account(Role.OUTLET_HEAD, outlets=frozenset({c.outlet})))


def teller(c: County) -> Scope:
    return scope_of(_account(Role.TELLER, staff_id=c.teller))


def analyst(c: County) -> Scope:
    return scope_of(_account(Role.ANALYST))


def chairman(c: County) -> Scope:
    return scope_of(_account(Role.CHAIRMAN, grants=frozenset({Grant.PII})))


def operator(c: County) -> Scope:
    return scope_of(_account(Role.OPERATOR))


def admin(c: County) -> Scope:
    return scope_of(_account(Role.ADMIN))


# One case per declared read: the keyword arguments a page would pass. ``who`` names the
# person a staff read is about (the case is run for a person in and out of reach).
Case = Callable[[County, str], dict[str, Any]]
P = {"start": START, "end": END}
KPIS = ("service_level", "wait_p90_s", "per_10k_transactions", "net_deposits")
CASES: dict[str, Case] = {
    "coverage": lambda c, who: {},
    "business_types": lambda c, who: {},
    "targets": lambda c, who: {"year": 2026},
    "publication": lambda c, who: {"month": MONTH},
    "outlets": lambda c, who: {},
    "scope_outlets": lambda c, who: {"township": None},
    "service_summary": lambda c, who: {**P, "by": ("outlet",)},
    "complaint_summary": lambda c, who: {**P, "by": ("outlet",)},
    "complaint_pareto": lambda c, who: P,
    "demand_profile": lambda c, who: P,
    "headline": lambda c, who: {**P, "kpis": KPIS},
    "outlet_changes": lambda c, who: {**P, "kpi_name": "wait_p90_s"},
    "outlet_benchmark": lambda c, who: {**P, "kpis": KPIS},
    "alerts": lambda c, who: P,
    "percentile_table": lambda c, who: P,
    "wait_histogram": lambda c, who: P,
    "complaints_by_channel": lambda c, who: P,
    "resolution_histogram": lambda c, who: P,
    "staffing_plans": lambda c, who: P,
    "pivot": lambda c, who: {**P, "rows": "staff", "columns": None, "measure": "served"},
    "chart_data": lambda c, who: {**P, "names": ("served",), "x": "outlet", "colour": None},
    "complaint_list": lambda c, who: P,
    "outlet_profile": lambda c, who: {"outlet": c.outlet},
    "outlet_staff": lambda c, who: {**P, "outlet": c.outlet, "kpis": ("served",)},
    "outlet_complaints": lambda c, who: {**P, "outlet": c.outlet},
    "staff_directory": lambda c, who: P,
    "staff_assignments": lambda c, who: {"staff_id": who},
    "peer_comparison": lambda c, who: {**P, "staff_id": who, "kpis": ("served", "wait_p90_s")},
    "staff_trend": lambda c, who: {**P, "staff_id": who},
    "staff_complaints": lambda c, who: {**P, "staff_id": who},
    "month_boards": lambda c, who: {"month": MONTH},
    "restatement": lambda c, who: {"month": MONTH, "subject": "staff"},
    "star_history": lambda c, who: {"subject": "staff", "subject_id": who, "months": (MONTH,)},
    "subject_breakdown": lambda c, who: {"month": MONTH, "subject": "staff", "subject_id": who},
    "penalties": lambda c, who: P,
    "quarter_payout": lambda c, who: {"quarter": QUARTER},
    "load_history": lambda c, who: {},
    "load_totals": lambda c, who: {},
    "rule_counts": lambda c, who: {},
    "quarantined_rows": lambda c, who: {},
    "missing_days": lambda c, who: P,
    "orphan_reversals": lambda c, who: P,
    "schema_tree": lambda c, who: {},
}
BY_NAME = {fn.__name__: fn for fn in READS}


def test_every_declared_read_has_a_case_here() -> None:
    assert set(CASES) == set(BY_NAME), "a read without a scope case, or a case without a read"


def test_a_read_that_is_not_declared_is_refused(county: County) -> None:
    with pytest.raises(UndeclaredRead, match="not declared"):
        chairman(county).read(county.con, _undeclared)


def _undeclared(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM fact_transaction").fetchall()[0][0]


# ------------------------------------------------------------ helpers that look at results


def _frames(value: Any) -> list[pl.DataFrame]:
    if isinstance(value, pl.DataFrame):
        return [value]
    if isinstance(value, tuple):
        return [f for v in value for f in _frames(v)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [f for fld in dataclasses.fields(value) for f in _frames(getattr(value, fld.name))]
    return []


def _texts(value: Any) -> set[str]:
    """Every text value in a result: frame cells, dataclass fields, tuple items."""
    found: set[str] = set()
    for frame in _frames(value):
        for column in frame.columns:
            if frame[column].dtype == pl.String:
                found |= {v for v in frame[column].to_list() if v is not None}
    if isinstance(value, str):
        found.add(value)
    if isinstance(value, tuple):
        for v in value:
            if isinstance(v, str):
                found.add(v)
            elif isinstance(v, tuple):
                found |= {x for x in v if isinstance(x, str)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        found |= {
            getattr(value, f.name)
            for f in dataclasses.fields(value)
            if isinstance(getattr(value, f.name), str)
        }
    return found


def _foreign(c: County, reach: frozenset[str], people: frozenset[str]) -> set[str]:
    """Codes, names and ids that belong to outlets and people outside a reach."""
    others = {o for o in c.outlet_names if o not in reach}
    outside = {s for s in c.names if s not in people}
    inside_names = {c.names[s] for s in people if s in c.names}
    return (
        others
        | {c.outlet_names[o] for o in others}
        | outside
        | ({c.names[s] for s in outside} - inside_names)
    )


def _run(scope: Scope, c: County, name: str, who: str) -> Any:
    fn = BY_NAME[name]
    return scope.read(c.con, fn, **CASES[name](c, who))


def _equal(a: Any, b: Any) -> bool:
    frames_a, frames_b = _frames(a), _frames(b)
    if len(frames_a) != len(frames_b):
        return False
    if not frames_a:
        return a == b
    return all(x.equals(y) for x, y in zip(frames_a, frames_b, strict=True))


# ---------------------------------------------------------------------------- outlet head


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_outlet_head_sees_their_outlet_and_nothing_of_others(county: County, name: str) -> None:
    scope = head(county)
    read = declared(BY_NAME[name])
    try:
        got = _run(scope, county, name, who=county.teller)
    except OutOfScope as refused:
        assert read.needs and not any(scope.can(p) for p in read.needs), (name, refused)
        return
    leaked = _texts(got) & _foreign(county, frozenset({county.outlet}), county.mine)
    assert not leaked, f"{name} showed {sorted(leaked)[:5]} to the head of {county.outlet}"
    if read.filters:  # the numbers are the read's own, asked for the head's outlet
        direct = BY_NAME[name](
            county.con, **{**CASES[name](county, county.teller), "outlets": (county.outlet,)}
        )
        direct = scope.redact(read, direct)
        assert _equal(got, direct), name


def test_the_heads_overview_totals_equal_service_summary_of_the_outlet(county: County) -> None:
    fn = BY_NAME["service_summary"]
    got = head(county).read(county.con, fn, start=START, end=END)
    arrivals = county.con.execute(
        "SELECT count(*) FROM fact_transaction WHERE outlet_code = ? AND business_date >= ?"
        " AND business_date < ? AND status <> 'reversed'",  # docs/kpi.md: every non-reversal row
        [county.outlet, START, END],
    ).fetchall()[0][0]
    assert got["arrivals"][0] == arrivals
    county_wide = fn(county.con, start=START, end=END)
    assert got["arrivals"][0] < county_wide["arrivals"][0]


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("outlet_profile", {"outlet": "OTHER"}),
        ("outlet_complaints", {"outlet": "OTHER", **P}),
        ("service_summary", {"outlets": ("OTHER",), **P}),
        ("staff_assignments", {"staff_id": "STRANGER"}),
        ("staff_trend", {"staff_id": "STRANGER", **P}),
        ("subject_breakdown", {"month": MONTH, "subject": "outlets", "subject_id": "OTHER"}),
        ("star_history", {"subject": "staff", "subject_id": "STRANGER", "months": (MONTH,)}),
    ],
)
def test_asking_an_outlet_head_for_another_outlet_or_person_is_refused_without_naming_it(
    county: County, name: str, kwargs: dict[str, Any]
) -> None:
    swap = {"OTHER": county.other, "STRANGER": county.stranger}
    kwargs = {
        k: swap.get(v, v)
        if isinstance(v, str)
        else tuple(swap.get(x, x) for x in v)
        if isinstance(v, tuple) and k == "outlets"
        else v
        for k, v in kwargs.items()
    }
    with pytest.raises(OutOfScope) as refused:
        head(county).read(county.con, BY_NAME[name], **kwargs)
    message = str(refused.value)
    assert county.outlet_names[county.other] not in message
    assert county.names[county.stranger] not in message


def test_a_pivot_by_staff_for_an_outlet_head_holds_only_their_people(county: County) -> None:
    got = head(county).read(county.con, BY_NAME["pivot"], **CASES["pivot"](county, ""))
    people = set(got[got.columns[0]].drop_nulls().to_list())
    assert people and people <= set(county.mine)


def test_the_benchmark_ranks_the_outlet_among_all_without_naming_others(county: County) -> None:
    fn = BY_NAME["outlet_benchmark"]
    got = head(county).read(county.con, fn, start=START, end=END, kpis=("wait_p90_s",))
    assert got["outlet_code"].to_list() == [county.outlet]
    every = BY_NAME["service_summary"](county.con, start=START, end=END, by="outlet")
    waits = every["wait_p90_s"].drop_nulls()
    mine = every.filter(pl.col("outlet_code") == county.outlet)["wait_p90_s"][0]
    assert got["rank"][0] == 1 + int((waits < mine).sum())  # lower waits are better
    assert got["ranked"][0] == waits.len() == 10
    assert got["county_median"][0] == pytest.approx(waits.median())


# ------------------------------------------------------------------------------- teller


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_teller_sees_only_their_own_card(county: County, name: str) -> None:
    scope = teller(county)
    try:
        got = _run(scope, county, name, who=county.teller)
    except OutOfScope:
        return
    own = frozenset({county.teller})
    people_leak = _texts(got) & ({s for s in county.names if s != county.teller})
    assert not people_leak, f"{name} showed other staff {sorted(people_leak)[:5]} to a teller"
    names = {county.names[s] for s in county.names if s != county.teller} - {
        county.names[county.teller]
    }
    assert not _texts(got) & names, name
    for frame in _frames(got):  # rows about someone are about the teller
        if "staff_id" in frame.columns:
            assert set(frame["staff_id"].drop_nulls().to_list()) <= own, name


@pytest.mark.parametrize(
    "name", ["service_summary", "month_boards", "outlet_profile", "complaint_list", "alerts"]
)
def test_a_teller_is_refused_outlet_wide_reads(county: County, name: str) -> None:
    with pytest.raises(OutOfScope):
        _run(teller(county), county, name, who=county.teller)


def test_a_teller_cannot_read_a_colleagues_card(county: County) -> None:
    colleague = next(s for s in sorted(county.mine) if s != county.teller)
    for name in ("staff_trend", "staff_complaints", "peer_comparison", "staff_assignments"):
        with pytest.raises(OutOfScope):
            _run(teller(county), county, name, who=colleague)


def test_a_teller_gets_their_own_payout_line_only(county: County) -> None:
    table, _ = teller(county).read(
        county.con, BY_NAME["quarter_payout"], quarter=QUARTER, staff_id=county.teller
    )
    assert table["staff_id"].to_list() == [county.teller]
    assert table["net"][0] is not None  # their own money is shown


# -------------------------------------------------------------------- pay and identifiers


def test_pay_amounts_are_empty_for_an_analyst_and_shown_to_the_chairman(county: County) -> None:
    kwargs = {"start": dt.date(2025, 12, 1), "end": dt.date(2026, 3, 1)}
    hidden = analyst(county).read(county.con, BY_NAME["penalties"], **kwargs)
    shown = chairman(county).read(county.con, BY_NAME["penalties"], **kwargs)
    assert hidden.height == shown.height > 0
    assert hidden["penalty_amount"].null_count() == hidden.height
    assert shown["penalty_amount"].drop_nulls().sum() > 0
    with pytest.raises(OutOfScope):
        analyst(county).read(county.con, BY_NAME["quarter_payout"], quarter=QUARTER)
    paid = scope_of(_account(Role.ANALYST, grants=frozenset({Grant.PAY})))
    table, _ = paid.read(county.con, BY_NAME["quarter_payout"], quarter=QUARTER)
    assert table["net"].drop_nulls().len() == table.height > 0


@pytest.mark.parametrize("name", ["complaint_list", "outlet_complaints"])
def test_identifiers_in_narratives_are_masked_without_pii(county: County, name: str) -> None:
    kwargs = {**CASES[name](county, ""), "start": dt.date(2025, 12, 1), "end": dt.date(2026, 3, 1)}
    masked = analyst(county).read(county.con, BY_NAME[name], **kwargs)
    clear = chairman(county).read(county.con, BY_NAME[name], **kwargs)
    text = " ".join(masked["description"].drop_nulls().to_list())
    assert PHONE in " ".join(clear["description"].drop_nulls().to_list())
    assert PHONE not in text and RESIDENT_ID not in text
    assert "138****5678" in text and "1101**********002X" in text


def test_searching_by_an_identifier_needs_pii(county: County) -> None:
    fn = BY_NAME["complaint_list"]
    with pytest.raises(OutOfScope):
        analyst(county).read(county.con, fn, start=START, end=END, search=PHONE)
    assert analyst(county).read(county.con, fn, start=START, end=END, search="态度").height > 0


# ------------------------------------------------------------------ the other roles


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_operator_reads_data_quality_and_no_kpi(county: County, name: str) -> None:
    read = declared(BY_NAME[name])
    allowed = not read.needs or Permission.LOADS in read.needs
    if allowed:
        _run(operator(county), county, name, who=county.teller)
    else:
        with pytest.raises(OutOfScope):
            _run(operator(county), county, name, who=county.teller)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_administrator_reads_nothing_of_the_warehouse_but_labels(
    county: County, name: str
) -> None:
    read = declared(BY_NAME[name])
    if read.needs:
        with pytest.raises(OutOfScope):
            _run(admin(county), county, name, who=county.teller)


def test_a_county_scope_changes_no_argument(county: County) -> None:
    kwargs = {"start": START, "end": END, "outlets": ("x",), "staff_id": "y"}
    bound = chairman(county).bind(Read(filters=True, staff_arg="staff_id"), kwargs, frozenset)
    assert bound == kwargs


def test_a_read_needing_a_permission_is_refused_without_it() -> None:
    scope = Scope(permissions=frozenset({Permission.KPIS}))
    with pytest.raises(OutOfScope, match="not part of your access"):
        scope.bind(Read(needs=(Permission.LOADS,)), {}, frozenset)
