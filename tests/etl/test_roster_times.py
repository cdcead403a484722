"""Rosters as attendance systems export them: the date in one column, the shift as a time of day."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from etl.pipeline import LoadOptions, load_paths
from tests.conftest import SmallCounty

REFERENCES = ("outlets.csv", "staff.csv", "business_types.csv", "holidays.csv")


@pytest.fixture(scope="module")
def references(small_county: SmallCounty, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding only the county's reference data."""
    db = tmp_path_factory.mktemp("roster-refs") / "warehouse.duckdb"
    outcomes = load_paths(
        db, [small_county.exports / n for n in REFERENCES], LoadOptions(report=False)
    )
    assert all(o.status == "loaded" for o in outcomes)
    return db


@pytest.fixture()
def warehouse(references: Path, tmp_path: Path) -> Path:
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(references, db)
    return db


def _someone(db: Path) -> tuple[str, str]:
    """A teller and the outlet they work at all through December 2025."""
    with duckdb.connect(str(db), read_only=True) as con:
        staff, outlet = con.execute(
            "SELECT staff_id, outlet_code FROM dim_staff WHERE position = 'teller'"
            " AND valid_from <= DATE '2025-12-01'"
            " AND (valid_to IS NULL OR valid_to > DATE '2025-12-31')"
            " ORDER BY staff_id LIMIT 1"
        ).fetchall()[0]
    return staff, outlet


def _roster(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT work_date, shift_start, shift_end, staffed_s FROM fact_roster"
            " ORDER BY shift_start"
        ).fetchall()


def _quarantined(db: Path) -> dict[int, list[str]]:
    """Source row number -> rules, of the quarantined rows."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT source_row, rules FROM etl_quarantine").fetchall()
    return {int(r): list(rules) for r, rules in rows}


def test_times_of_day_fall_on_the_work_date_and_bad_shifts_keep_their_rules(
    warehouse: Path, tmp_path: Path
) -> None:
    staff, outlet = _someone(warehouse)
    lines = [
        "work_date,staff_id,outlet_code,window_no,shift_start,shift_end",
        f"2025-12-01,{staff},{outlet},1,08:30,17:00",  # 1: HH:MM
        f"2025-12-02,{staff},{outlet},1,8:30,12:00",  # 2: H:MM, the morning
        f"2025-12-02,{staff},{outlet},1,13:30,17:00",  # 3: the afternoon after lunch
        f"2025-12-03,{staff},{outlet},1,08:30:00,17:00:00",  # 4: HH:MM:SS
        f"2025-12-04,{staff},{outlet},1,2025-12-04 09:00:00,2025-12-04 16:00:00",  # 5: full
        f"2025-12-05,{staff},{outlet},1,17:00,08:30",  # 6: ends before it starts
        f"2025-12-06,{staff},{outlet},1,00:00,23:00",  # 7: 23 hours
        f"2025-12-07,{staff},{outlet},1,8h30,17:00",  # 8: not a time
        f"2025-12-08,{staff},{outlet},1,2025-13-08 08:30:00,17:00",  # 9: a bad timestamp
    ]
    path = tmp_path / "roster_2025-12.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    [outcome] = load_paths(warehouse, [path], LoadOptions(report=False))
    assert outcome.status == "loaded", outcome.message
    assert (outcome.read, outcome.loaded, outcome.quarantined) == (9, 5, 4)

    day = dt.date
    at = dt.datetime
    assert _roster(warehouse) == [
        (day(2025, 12, 1), at(2025, 12, 1, 8, 30), at(2025, 12, 1, 17), 8.5 * 3600),
        (day(2025, 12, 2), at(2025, 12, 2, 8, 30), at(2025, 12, 2, 12), 3.5 * 3600),
        (day(2025, 12, 2), at(2025, 12, 2, 13, 30), at(2025, 12, 2, 17), 3.5 * 3600),
        (day(2025, 12, 3), at(2025, 12, 3, 8, 30), at(2025, 12, 3, 17), 8.5 * 3600),
        (day(2025, 12, 4), at(2025, 12, 4, 9), at(2025, 12, 4, 16), 7 * 3600),
    ]
    assert _quarantined(warehouse) == {
        6: ["timestamp_order"],
        7: ["duration_over_12h"],
        8: ["bad_type_shift_start"],
        9: ["bad_type_shift_start"],
    }


def test_chinese_headers_in_gbk_and_excel_time_cells(warehouse: Path, tmp_path: Path) -> None:
    staff, outlet = _someone(warehouse)
    csv_path = tmp_path / "排班_2025-12.csv"
    csv_path.write_bytes(
        (
            "日期,员工号,网点号,窗口号,上班时间,下班时间\n"
            f"2025-12-01,{staff},{outlet},2,8:30,12:00\n"
            f"2025-12-01,{staff},{outlet},2,14:00,17:30\n"
        ).encode("gbk")
    )
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["日期", "员工号", "网点号", "窗口号", "上班时间", "下班时间"])
    sheet.append([dt.date(2025, 12, 2), staff, outlet, 2, dt.time(8, 0), dt.time(11, 45)])
    sheet.append([dt.date(2025, 12, 2), staff, outlet, 2, dt.time(13, 15), dt.time(17, 0)])
    xlsx_path = tmp_path / "排班_2025-12b.xlsx"
    book.save(xlsx_path)

    outcomes = load_paths(warehouse, [csv_path, xlsx_path], LoadOptions(report=False))
    assert [o.status for o in outcomes] == ["loaded", "loaded"], [o.message for o in outcomes]
    at = dt.datetime
    assert [(r[1], r[2]) for r in _roster(warehouse)] == [
        (at(2025, 12, 1, 8, 30), at(2025, 12, 1, 12)),
        (at(2025, 12, 1, 14), at(2025, 12, 1, 17, 30)),
        (at(2025, 12, 2, 8), at(2025, 12, 2, 11, 45)),
        (at(2025, 12, 2, 13, 15), at(2025, 12, 2, 17)),
    ]
    # The staffed hours the KPIs use: 3.5 + 3.5 + 3.75 + 3.75 hours, cut into clock hours.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        seconds = con.execute("SELECT sum(staffed_s) FROM fact_roster").fetchall()[0][0]
    assert seconds == (3.5 + 3.5 + 3.75 + 3.75) * 3600
