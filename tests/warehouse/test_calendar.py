"""dim_date: whole years, weekdays, holidays and make-up working days."""

from __future__ import annotations

import datetime as dt

import duckdb

from warehouse.calendar import apply_holidays, ensure_years
from warehouse.schema import migrate


def test_holidays_and_make_up_days() -> None:
    con = duckdb.connect()
    migrate(con)
    con.execute(
        "CREATE TEMP TABLE h AS SELECT * FROM (VALUES"
        " (DATE '2026-02-16', 'Spring Festival', true),"
        " (DATE '2026-02-28', 'Spring Festival', false)) AS v(date, name, is_day_off)"
    )
    apply_holidays(con, "h")
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT date, weekday, is_weekend, is_holiday, is_business_day, year_quarter"
            " FROM dim_date"
        ).fetchall()
    }
    assert len(rows) == 365
    # 2026-02-16 is a Monday made a day off; 2026-02-28 a Saturday made a working day.
    assert rows[dt.date(2026, 2, 16)] == (0, False, True, False, "2026Q1")
    assert rows[dt.date(2026, 2, 28)] == (5, True, False, True, "2026Q1")
    assert rows[dt.date(2026, 3, 1)] == (6, True, False, False, "2026Q1")
    ensure_years(con, 2025, 2026)
    assert con.execute("SELECT count(*) FROM dim_date").fetchone()[0] == 365 * 2
