"""Marts: refresh, freshness, and identical answers with and without them."""

from __future__ import annotations

import csv
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from etl.pipeline import LoadOptions, load_paths
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

from ..conftest import SmallCounty
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


# -- incremental refresh -----------------------------------------------------------------
#
# The hand-sized warehouse split into three loads, as the ETL would bring it in: load 1 the
# 2023 and February events (no roster), load 2 March 1-14 without a4, load 3 the rest with
# a4, the reversal of a3 (loaded in load 2), which flips a3's is_reversed like
# etl/load_sql.py _link_earlier_originals. After load 3 the facts equal the fixture.

TXN_LOAD = (
    "CASE WHEN business_date < DATE '2024-03-01' THEN 1"
    " WHEN business_date < DATE '2024-03-15' AND txn_id <> 'a4' THEN 2 ELSE 3 END"
)
ROSTER_LOAD = "CASE WHEN work_date < DATE '2024-03-15' THEN 2 ELSE 3 END"


def _staged(db: Path) -> duckdb.DuckDBPyConnection:
    """The hand-sized warehouse in ``db`` holding load 1; loads 2 and 3 wait in temp tables."""
    con = build_warehouse(duckdb.connect(str(db)))
    con.execute(f"UPDATE fact_transaction SET load_id = {TXN_LOAD}, is_reversed = false")
    con.execute(f"UPDATE fact_roster SET load_id = {ROSTER_LOAD}")
    for fact in ("fact_transaction", "fact_roster"):
        con.execute(f"CREATE TEMP TABLE held_{fact} AS FROM {fact} WHERE load_id > 1")
        con.execute(f"DELETE FROM {fact} WHERE load_id > 1")
    _record_load(con, 1)
    return con


def _record_load(con: duckdb.DuckDBPyConnection, load_id: int) -> None:
    con.execute(
        "INSERT INTO etl_load (load_id, file_name, file_sha256, source_kind, rows_read,"
        " rows_loaded, rows_quarantined, rows_duplicate, rows_dropped, status, started_at)"
        f" VALUES ({load_id}, 'f{load_id}.csv', 'x{load_id}', 'transactions', 0, 0, 0, 0, 0,"
        " 'loaded', now())"
    )


def _load(con: duckdb.DuckDBPyConnection, load_id: int) -> None:
    """Move a held load into the facts, then mark the originals its reversals point at."""
    for fact in ("fact_transaction", "fact_roster"):
        con.execute(f"INSERT INTO {fact} FROM held_{fact} WHERE load_id = {load_id}")
    con.execute(
        "UPDATE fact_transaction SET is_reversed = true WHERE NOT is_reversed AND txn_id IN"
        f" (SELECT reversal_of FROM fact_transaction WHERE load_id = {load_id})"
    )
    _record_load(con, load_id)


def _modes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {name: mode for name, (mode, _) in marts.modes(con).items()}


def assert_same_as_full_rebuild(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    """Every mart on ``con`` holds exactly the rows (and types) of a full rebuild.

    The full rebuild runs on a copy of the warehouse file, so the marts under test keep
    their incremental history for the next step.
    """
    con.execute("CHECKPOINT")
    ref = db.with_name(f"{db.stem}-full.duckdb")
    shutil.copyfile(db, ref)
    with duckdb.connect(str(ref)) as full:
        marts.refresh(full, full=True)
    con.execute(f"ATTACH '{ref}' AS ref (READ_ONLY)")
    try:
        for name in marts.MARTS:
            columns = (
                "SELECT column_name, data_type FROM duckdb_columns()"
                f" WHERE database_name = '{{}}' AND table_name = '{name}' ORDER BY column_index"
            )
            current = con.sql("SELECT current_database()").fetchall()[0][0]
            assert (
                con.sql(columns.format(current)).fetchall()
                == con.sql(columns.format("ref")).fetchall()
            ), name
            for a, b in ((name, f"ref.{name}"), (f"ref.{name}", name)):
                extra = con.sql(f"SELECT count(*) FROM (FROM {a} EXCEPT ALL FROM {b})")
                assert extra.fetchall()[0][0] == 0, f"{a} has rows {b} lacks"
    finally:
        con.execute("DETACH ref")
        ref.unlink()


def test_incremental_refresh_equals_full_rebuild_after_each_load(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    con = _staged(db)
    marts.refresh(con)
    assert marts.modes(con) == dict.fromkeys(marts.MARTS, ("full", "no mart_meta record"))
    assert_same_as_full_rebuild(con, db)

    marts.refresh(con)  # nothing loaded since
    assert _modes(con) == dict.fromkeys(marts.MARTS, "unchanged")

    _load(con, 2)  # new partitions, and the first roster rows (the roster mart was empty)
    assert marts.fresh_marts(con) == set()
    written = marts.refresh(con)
    assert _modes(con) == dict.fromkeys(marts.MARTS, "incremental")
    assert written["mart_event"] == 4 + 9  # l1 l2 p1 p2; a1-a9 but a4, b1
    assert_same_as_full_rebuild(con, db)

    _load(con, 3)  # a4 reverses a3 of load 2: a3's partition (A, 4 March) is re-derived
    reversed_ = con.sql("SELECT load_id FROM fact_transaction WHERE is_reversed").fetchall()
    assert reversed_ == [(2,)]  # a3
    written = marts.refresh(con)
    assert _modes(con) == dict.fromkeys(marts.MARTS, "incremental")
    assert written == {"mart_event": 18, "mart_event_cell": 14, "mart_roster_hour": 16}
    assert marts.fresh_marts(con) == set(marts.MARTS)
    assert_same_as_full_rebuild(con, db)
    # The loads add up to the fixture warehouse: the answers equal the base tables'.
    assert_frame_equal(
        service_summary(con, use_marts=True, by="outlet", **QUARTER),
        service_summary(build_warehouse(), use_marts=False, by="outlet", **QUARTER),
        check_exact=True,
    )


def test_a_usual_refresh_uses_the_kept_statements_and_compiles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "w.duckdb"
    con = _staged(db)
    marts.refresh(con)  # full builds compile the append statements for the next load
    kept = con.sql(f"SELECT mart, fingerprint FROM {marts.MART_SQL} ORDER BY 1").fetchall()
    assert [m for m, _ in kept] == sorted(marts.MARTS)
    assert len({f for _, f in kept}) == 1

    def no_compiling(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a usual refresh must not compile")

    from warehouse import mart_compile

    with monkeypatch.context() as patch:
        for name in ("backend", "events_of", "cells_of", "roster_of", "full_select"):
            patch.setattr(mart_compile, name, no_compiling)
        _load(con, 2)  # new rows only: nothing flipped
        marts.refresh(con)
    assert _modes(con) == dict.fromkeys(marts.MARTS, "incremental")
    assert_same_as_full_rebuild(con, db)


def test_statements_kept_for_another_definition_are_compiled_again(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    con = _staged(db)
    marts.refresh(con)
    current = con.sql(f"SELECT DISTINCT fingerprint FROM {marts.MART_SQL}").fetchall()
    # As if written by older code: a statement that would append nothing.
    con.execute(
        f"UPDATE {marts.MART_SQL} SET fingerprint = 'older',"
        " statement = 'SELECT * FROM ' || mart || ' WHERE false'"
    )
    _load(con, 2)
    marts.refresh(con)
    assert con.sql(f"SELECT DISTINCT fingerprint FROM {marts.MART_SQL}").fetchall() == current
    assert_same_as_full_rebuild(con, db)


def test_dimension_change_rebuilds_the_marts_that_read_it(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    con = _staged(db)
    _load(con, 2)
    marts.refresh(con)
    # S3 moves from B to A on 12 March: b1 (11 March) keeps B, the roster of the move too.
    con.execute(
        "UPDATE dim_staff SET valid_to = DATE '2024-03-12', is_current = false"
        " WHERE staff_id = 'S3'"
    )
    con.execute(
        "INSERT INTO dim_staff VALUES ('S3', DATE '2024-03-12', NULL, 'Three', 'A',"
        " 'lobby_manager', DATE '2020-01-01', 'active', true)"
    )
    _load(con, 3)
    marts.refresh(con)
    assert {name: reason for name, (_, reason) in marts.modes(con).items()} == dict.fromkeys(
        marts.MARTS, "changed: dim_staff"
    )
    assert_same_as_full_rebuild(con, db)

    con.execute(
        "UPDATE dim_business_type SET standard_handling_s = 120 WHERE business_type = 'deposit'"
    )
    marts.refresh(con)
    assert marts.modes(con) == {
        "mart_event": ("full", "changed: dim_business_type"),
        "mart_event_cell": ("full", "changed: dim_business_type"),
        "mart_roster_hour": ("unchanged", None),  # the roster does not read business types
    }
    assert_same_as_full_rebuild(con, db)


OLD_META = (
    "CREATE OR REPLACE TABLE mart_meta (mart VARCHAR PRIMARY KEY, source_table VARCHAR NOT"
    " NULL, source_rows BIGINT NOT NULL, last_load_id BIGINT, refreshed_at TIMESTAMP NOT NULL)"
)
# Changes between two refreshes that a load does not make, and the marts that must then be
# rebuilt rather than updated (the others still take the incremental path).
UNEXPLAINED: list[tuple[str, list[str], dict[str, str]]] = [
    (
        "is_reversed set without a reversal",
        ["UPDATE fact_transaction SET is_reversed = true WHERE txn_id = 'a1'"],
        {"mart_event": "is_reversed changed on rows of earlier loads"},
    ),
    (
        "event of an earlier load deleted",
        ["DELETE FROM fact_transaction WHERE txn_id = 'p2'"],
        {"mart_event": "rows of earlier loads were added or removed"},
    ),
    (
        "event added under an earlier load id",
        [
            "INSERT INTO fact_transaction SELECT * REPLACE ('z1' AS txn_id, 1 AS load_id)"
            " FROM fact_transaction WHERE txn_id = 'a1'"
        ],
        {"mart_event": "rows of earlier loads were added or removed"},
    ),
    (
        "roster segment of an earlier load deleted",
        ["DELETE FROM fact_roster WHERE work_date = DATE '2024-03-06' AND staff_id = 'S2'"],
        {"mart_roster_hour": "rows of earlier loads were added or removed"},
    ),
    (
        "mart rows deleted by hand",
        ["DELETE FROM mart_event_cell WHERE hour = 9"],
        {"mart_event_cell": "mart row count differs from mart_meta"},
    ),
    ("mart dropped", ["DROP TABLE mart_roster_hour"], {"mart_roster_hour": "mart missing"}),
    (
        "event mart dropped",
        ["DROP TABLE mart_event"],
        {"mart_event": "mart missing", "mart_event_cell": "mart_event was rebuilt"},
    ),
    (
        "mart_meta of the layout before incremental refresh",
        [OLD_META],
        dict.fromkeys(marts.MARTS, "no mart_meta record"),
    ),
    (
        "mart code changed since the last refresh",
        ['UPDATE mart_meta SET fingerprint = replace(fingerprint, \'"code": "\', \'"code": "x\')'],
        dict.fromkeys(marts.MARTS, "changed: code"),
    ),
]


def test_a_bookkeeping_migration_keeps_the_marts_a_fact_column_rebuilds_them(
    tmp_path: Path,
) -> None:
    db = tmp_path / "w.duckdb"
    con = _staged(db)
    marts.refresh(con)
    # A migration adding bookkeeping (as 0005 did to the loads' log and the quarantine).
    con.execute("ALTER TABLE etl_quarantine ADD COLUMN checked_again BOOLEAN")
    con.execute("INSERT INTO schema_migrations VALUES (99, 'bookkeeping', now())")
    _load(con, 2)
    marts.refresh(con)
    assert _modes(con) == dict.fromkeys(marts.MARTS, "incremental")
    # A change to the tables a mart may read (here a new reference table) rebuilds them.
    con.execute("CREATE TABLE ref_break (outlet_code VARCHAR, break_s INTEGER)")
    _load(con, 3)
    marts.refresh(con)
    assert marts.modes(con) == dict.fromkeys(marts.MARTS, ("full", "changed: schema"))
    assert_same_as_full_rebuild(con, db)


@pytest.mark.parametrize(
    ("name", "statements", "rebuilt"), UNEXPLAINED, ids=[u[0] for u in UNEXPLAINED]
)
def test_changes_a_load_does_not_make_force_a_full_rebuild(
    tmp_path: Path, name: str, statements: list[str], rebuilt: dict[str, str]
) -> None:
    db = tmp_path / "w.duckdb"
    con = _staged(db)
    _load(con, 2)
    marts.refresh(con)
    for statement in statements:
        con.execute(statement)
    _load(con, 3)
    marts.refresh(con)
    if "mart_event" in rebuilt:  # the cell mart shares the event mart's source
        rebuilt = {"mart_event_cell": rebuilt["mart_event"], **rebuilt}
    expected = {
        m: ("full", rebuilt[m]) if m in rebuilt else ("incremental", None) for m in marts.MARTS
    }
    assert marts.modes(con) == expected, name
    assert_same_as_full_rebuild(con, db)


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _late_reversal(db: Path, roster: Path, out: Path) -> tuple[Path, str]:
    """A file of the roster's month reversing a counter transaction already loaded."""
    with duckdb.connect(str(db), read_only=True) as con:
        txn, outlet, btype, amount = con.sql(
            "SELECT txn_id, outlet_code, business_type, amount FROM fact_transaction"
            " WHERE channel = 'counter' AND status = 'completed' AND NOT is_reversed"
            " AND amount IS NOT NULL ORDER BY business_date, txn_id LIMIT 1"
        ).fetchall()[0]
    with roster.open(encoding="utf-8") as handle:  # a teller on duty there that month
        duty = next(
            r for r in csv.DictReader(handle) if r["outlet_code"] == outlet and r["window_no"]
        )
    staff, window, day = duty["staff_id"], duty["window_no"], duty["work_date"]
    row = {
        "txn_id": "LATE-REVERSAL-1",
        "outlet_code": outlet,
        "channel": "counter",
        "business_type": btype,
        "staff_id": staff,
        "window_no": window,
        "amount": str(amount),
        "customer_segment": "regular",
        "ticket_at": "",
        "called_at": "",
        "started_at": f"{day} 10:00:00",
        "completed_at": f"{day} 10:01:00",
        "status": "reversed",
        "satisfaction": "",
        "reversal_of": txn,
    }
    return _write_csv(out / f"late_reversals_{day[:7]}.csv", [row]), txn


def test_etl_loads_refresh_the_marts_incrementally(
    small_county: SmallCounty, tmp_path: Path
) -> None:
    """Monthly loads through the ETL: each refresh is incremental and equals a rebuild."""
    exports, db = small_county.exports, tmp_path / "w.duckdb"
    months = sorted(p.stem.removeprefix("transactions_") for p in exports.glob("transactions_*"))
    monthly = [[exports / f"transactions_{m}.csv", exports / f"roster_{m}.csv"] for m in months]
    reference = [p for p in exports.glob("*.csv") if not any(m in p.name for m in months)]

    def load(paths: list[Path]) -> dict[str, tuple[str, str | None]]:
        outcomes = load_paths(db, paths, LoadOptions(report=False))
        assert all(o.status == "loaded" for o in outcomes), [(o.path, o.message) for o in outcomes]
        with duckdb.connect(str(db)) as con:
            assert marts.fresh_marts(con) == set(marts.MARTS)
            assert_same_as_full_rebuild(con, db)
            return marts.modes(con)

    assert load(reference + monthly[0]) == dict.fromkeys(
        marts.MARTS, ("full", "no mart_meta record")
    )
    assert load(monthly[1]) == dict.fromkeys(marts.MARTS, ("incremental", None))

    # The last month comes with a reversal of a first-month transaction: the original (an
    # earlier load) is marked reversed, and its partition re-derived.
    late, original = _late_reversal(db, monthly[2][1], tmp_path)
    assert load([*monthly[2], late]) == dict.fromkeys(marts.MARTS, ("incremental", None))
    with duckdb.connect(str(db), read_only=True) as con:
        flipped = con.sql(
            f"SELECT is_reversed, load_id FROM fact_transaction WHERE txn_id = '{original}'"
        ).fetchall()[0]
        first_month_load = con.sql(
            f"SELECT load_id FROM etl_load WHERE file_name = 'transactions_{months[0]}.csv'"
        ).fetchall()[0][0]
    assert flipped == (True, first_month_load)

    # A new assignment changes dim_staff (the position on past dates, the close of the old
    # assignment): the incremental path cannot re-derive that, so every mart is rebuilt.
    with (exports / "staff.csv").open(encoding="utf-8") as handle:
        teller = next(r for r in csv.DictReader(handle) if r["position"] == "teller")
    promoted = teller | {"position": "lobby_manager", "effective_from": f"{months[1]}-10"}
    assert load([_write_csv(tmp_path / "staff_change.csv", [promoted])]) == dict.fromkeys(
        marts.MARTS, ("full", "changed: dim_staff")
    )


def test_reversal_flip_hidden_by_a_hand_edit_still_rebuilds(tmp_path: Path) -> None:
    """The reversed count alone would not change: a new reversal flips a3, a hand edit
    clears a1. The flip is still seen, and the count no longer explains it: full rebuild."""
    db = tmp_path / "w.duckdb"
    con = _staged(db)
    _load(con, 2)
    con.execute("UPDATE fact_transaction SET is_reversed = true WHERE txn_id = 'a1'")
    marts.refresh(con)
    _load(con, 3)
    con.execute("UPDATE fact_transaction SET is_reversed = false WHERE txn_id = 'a1'")
    marts.refresh(con)
    assert _modes(con) == {
        "mart_event": "full",
        "mart_event_cell": "full",
        "mart_roster_hour": "incremental",
    }
    assert_same_as_full_rebuild(con, db)
