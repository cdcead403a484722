"""Keep ``dim_date`` covering the data, with the holiday calendar applied.

Days are added a whole calendar year at a time, so period comparisons (previous period,
same period last year) always find their dates.
"""

from __future__ import annotations

import duckdb


def ensure_years(con: duckdb.DuckDBPyConnection, first_year: int, last_year: int) -> None:
    """Add every day of ``first_year``..``last_year`` missing from ``dim_date``."""
    con.execute(
        """
        INSERT INTO dim_date
        SELECT d::DATE, year(d), quarter(d), month(d), day(d), isodow(d) - 1, weekofyear(d),
               strftime(d, '%Y-%m'), year(d) || 'Q' || quarter(d), isodow(d) >= 6,
               false, NULL, isodow(d) < 6
        FROM range(make_date(?, 1, 1), make_date(? + 1, 1, 1), INTERVAL 1 DAY) AS r(d)
        WHERE d::DATE NOT IN (SELECT date FROM dim_date)
        """,
        [first_year, last_year],
    )


def ensure_covers(con: duckdb.DuckDBPyConnection, table: str, column: str) -> None:
    """Extend ``dim_date`` to the full years spanned by ``table.column``."""
    span = con.execute(f"SELECT year(min({column})), year(max({column})) FROM {table}").fetchall()[
        0
    ]
    if span and span[0] is not None:
        ensure_years(con, int(span[0]), int(span[1]))


def apply_holidays(con: duckdb.DuckDBPyConnection, holidays: str) -> None:
    """Mark days off and make-up working days from a relation with (date, name, is_day_off)."""
    span = con.execute(f"SELECT year(min(date)), year(max(date)) FROM {holidays}").fetchall()[0]
    if not span or span[0] is None:
        return
    ensure_years(con, int(span[0]), int(span[1]))
    con.execute(
        f"""
        UPDATE dim_date SET
            is_holiday = h.is_day_off,
            holiday_name = h.name,
            is_business_day = NOT h.is_day_off
        FROM {holidays} AS h
        WHERE dim_date.date = h.date
        """
    )
