"""Missing days per outlet, against a recount in Python and against planted gaps.

The small county has events at every outlet on every business day; a private copy with
one outlet-day (or one weekend day) deleted must report exactly that gap.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from warehouse.completeness import missing_days

START, END = dt.date(2025, 12, 1), dt.date(2026, 3, 1)


@pytest.fixture()
def copy(small_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the small county's warehouse, to delete events from."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(small_warehouse, db)
    return db


def _expected(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> dict:
    """Per outlet, the business days without events, recounted row by row in Python."""
    first, last = con.execute(
        "SELECT min(business_date), max(business_date) FROM fact_transaction"
    ).fetchall()[0]
    business = [
        d
        for d, ok in con.execute("SELECT date, is_business_day FROM dim_date").fetchall()
        if ok and start <= d < end and first <= d <= last
    ]
    seen = set(
        con.execute("SELECT DISTINCT outlet_code, business_date FROM fact_transaction").fetchall()
    )
    out = {}
    for code, opened in con.execute("SELECT outlet_code, opened_on FROM dim_outlet").fetchall():
        days = [d for d in business if opened is None or d >= opened]
        out[code] = (len(days), sorted(d for d in days if (code, d) not in seen))
    return out


def _as_dict(frame) -> dict:
    return {
        r["outlet_code"]: (r["business_days"], sorted(r["missing_dates"]))
        for r in frame.iter_rows(named=True)
    }


def test_agrees_with_a_recount_on_the_small_county(small_warehouse: Path) -> None:
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        found = missing_days(con, start=START, end=END)
        expected = _expected(con, START, END)
    assert _as_dict(found) == expected
    assert found["business_days"].min() > 50  # three months of working days
    assert (found["missing_days"] == found["missing_dates"].list.len()).all()
    assert (found["business_days"] == found["days_with_events"] + found["missing_days"]).all()


def test_a_deleted_outlet_day_is_reported_exactly(copy: Path) -> None:
    with duckdb.connect(str(copy)) as con:
        outlet, day = con.execute(
            "SELECT t.outlet_code, t.business_date FROM fact_transaction t"
            " JOIN dim_date d ON d.date = t.business_date"
            " WHERE d.is_business_day AND t.business_date BETWEEN '2026-01-10' AND '2026-01-31'"
            " ORDER BY 2, 1 LIMIT 1"
        ).fetchall()[0]
        con.execute(
            "DELETE FROM fact_transaction WHERE outlet_code = ? AND business_date = ?",
            [outlet, day],
        )
        found = missing_days(con, start=START, end=END)
        expected = _expected(con, START, END)
        february = missing_days(con, start="2026-02-01", end=END)
    assert _as_dict(found) == expected
    gaps = found.filter(found["missing_days"] > 0)
    assert gaps["outlet_code"].to_list() == [outlet]  # worst first, and only this outlet
    assert gaps["missing_dates"].item().to_list() == [day]
    assert gaps["days_with_events"].item() == gaps["business_days"].item() - 1
    assert february["missing_days"].sum() == 0  # outside the period asked


def test_weekends_and_holidays_are_not_missing(copy: Path) -> None:
    with duckdb.connect(str(copy)) as con:
        outlet, day = con.execute(
            "SELECT t.outlet_code, t.business_date FROM fact_transaction t"
            " JOIN dim_date d ON d.date = t.business_date"
            " WHERE NOT d.is_business_day ORDER BY 2, 1 LIMIT 1"
        ).fetchall()[0]
        con.execute(
            "DELETE FROM fact_transaction WHERE outlet_code = ? AND business_date = ?",
            [outlet, day],
        )
        found = missing_days(con, start=START, end=END)
    assert day.weekday() >= 5 or day.month in (1, 2)  # a weekend or a holiday
    assert found["missing_days"].sum() == 0


def test_outlet_filters_and_opening_date(copy: Path) -> None:
    with duckdb.connect(str(copy)) as con:
        township, kind = con.execute(
            "SELECT township, outlet_type FROM dim_outlet ORDER BY outlet_code LIMIT 1"
        ).fetchall()[0]
        in_township = {
            r[0]
            for r in con.execute(
                "SELECT outlet_code FROM dim_outlet WHERE township = ?", [township]
            ).fetchall()
        }
        of_kind = {
            r[0]
            for r in con.execute(
                "SELECT outlet_code FROM dim_outlet WHERE outlet_type = ?", [kind]
            ).fetchall()
        }
        con.execute(
            "UPDATE dim_outlet SET opened_on = DATE '2026-02-16' WHERE outlet_code = '03109'"
        )
        by_township = missing_days(con, start=START, end=END, township=township)
        by_kind = missing_days(con, start=START, end=END, outlet_type=kind)
        chosen = missing_days(con, start=START, end=END, outlets=["03109", "03101"])
        expected = _expected(con, START, END)
        with pytest.raises(ValueError, match="channel"):
            missing_days(con, start=START, end=END, channel="counter")
        with pytest.raises(TypeError):
            missing_days(con, start=START, end=END, townsip=township)
    assert set(by_township["outlet_code"]) == in_township
    assert set(by_kind["outlet_code"]) == of_kind
    assert set(chosen["outlet_code"]) == {"03109", "03101"}
    late = chosen.filter(chosen["outlet_code"] == "03109").row(0, named=True)
    assert late["business_days"] == expected["03109"][0]  # only days since it opened
    assert (
        late["business_days"]
        < chosen.filter(chosen["outlet_code"] == "03101")["business_days"].item()
    )
