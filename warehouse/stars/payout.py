"""The quarterly cash: the pool split by the quarter's average stars, fines deducted.

"Monthly assessment, quarterly cash": each month's stars come from the published
assessment when there is one, otherwise from the provisional one (and the table says so).
"""

from __future__ import annotations

import math

import duckdb
import polars as pl

from warehouse.stars.assess import month_bounds, score_month
from warehouse.stars.honours import penalty_register
from warehouse.stars.model import StarModel
from warehouse.stars.publish import published


def quarter_months(quarter: str) -> list[str]:
    """The three ``YYYY-MM`` months of ``YYYYQn``; ValueError for anything else."""
    try:
        year, number = quarter.upper().split("Q")
        first = (int(number) - 1) * 3 + 1
        if not 1 <= int(number) <= 4:
            raise ValueError
    except ValueError:
        raise ValueError(f"quarter must look like 2026Q1, got {quarter!r}") from None
    return [f"{int(year):04d}-{m:02d}" for m in range(first, first + 3)]


def level(average: float | None) -> int | None:
    """The star level of a quarter's average stars, rounded half up (3.5 -> 4)."""
    return None if average is None else math.floor(average + 0.5)


def split_pool(
    coefficients: list[float], penalties: list[float], pool: float
) -> list[tuple[float, float]]:
    """(gross, net) per person in yuan: the pool in proportion to the coefficients, minus fines.

    Shares are rounded to the fen by largest remainder, so the grosses add up to the pool
    exactly and the nets to the pool minus the fines; with nobody eligible nothing is paid.
    """
    total = sum(coefficients)
    if total <= 0:
        return [(0.0, -p) for p in penalties]
    pool_fen = round(pool * 100)
    exact = [pool_fen * c / total for c in coefficients]
    fen = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (fen[i] - exact[i], i))
    for i in by_remainder[: pool_fen - sum(fen)]:
        fen[i] += 1
    penalty_fen = [round(p * 100) for p in penalties]
    return [(f / 100, (f - p) / 100) for f, p in zip(fen, penalty_fen, strict=True)]


def _month_stars(
    con: duckdb.DuckDBPyConnection, month: str, model: StarModel
) -> tuple[pl.DataFrame, str]:
    """Staff stars of a month and where they come from (published vN / provisional)."""
    stored = published(con, month, "staff")
    if stored.height:
        return stored.select("subject_id", "stars"), f"published v{stored['version'][0]}"
    return score_month(con, month, model)["staff"].select("subject_id", "stars"), "provisional"


def payout(
    con: duckdb.DuckDBPyConnection, quarter: str, model: StarModel
) -> tuple[pl.DataFrame, list[str]]:
    """The payout table payroll takes, and where each month's stars came from."""
    months = quarter_months(quarter)
    start, _ = month_bounds(months[0])
    _, end = month_bounds(months[-1])
    table: pl.DataFrame | None = None
    sources = []
    for i, month in enumerate(months, start=1):
        stars, source = _month_stars(con, month, model)
        sources.append(f"{month}: {source}")
        stars = stars.rename({"stars": f"stars_m{i}"})
        table = (
            stars
            if table is None
            else table.join(stars, on="subject_id", how="full", coalesce=True)
        )
    assert table is not None
    fines = (
        penalty_register(con, start=start, end=end)
        .group_by(subject_id="staff_id")
        .agg(penalties=pl.col("penalty_amount").sum())
    )
    names = con.sql(
        "SELECT staff_id AS subject_id, staff_name, outlet_code FROM dim_staff"
        " WHERE valid_from < $end AND (valid_to IS NULL OR valid_to >= $end)",
        params={"end": end},
    ).pl()
    table = (
        table.join(fines, on="subject_id", how="full", coalesce=True)
        .join(names, on="subject_id", how="left")
        .with_columns(
            average_stars=pl.mean_horizontal("stars_m1", "stars_m2", "stars_m3"),
            penalties=pl.col("penalties").fill_null(0.0),
        )
        .sort("subject_id")
    )
    levels = [level(a) for a in table["average_stars"].to_list()]
    coefficients = [0.0 if lv is None else model.coefficients[lv] for lv in levels]
    money = split_pool(coefficients, table["penalties"].to_list(), model.pool_per_quarter)
    table = table.with_columns(
        level=pl.Series(levels, dtype=pl.Int64),
        coefficient=pl.Series(coefficients),
        gross=pl.Series([g for g, _ in money]),
        net=pl.Series([n for _, n in money]),
    )
    return table.select(
        staff_id="subject_id",
        name="staff_name",
        outlet_code="outlet_code",
        stars_m1="stars_m1",
        stars_m2="stars_m2",
        stars_m3="stars_m3",
        average_stars="average_stars",
        level="level",
        coefficient="coefficient",
        gross="gross",
        penalties="penalties",
        net="net",
    ), sources


def write_payout(table: pl.DataFrame, path: str) -> None:
    """Save the payout as CSV or XLSX, by the file's extension."""
    if path.lower().endswith(".xlsx"):
        table.to_pandas().to_excel(path, index=False)
    elif path.lower().endswith(".csv"):
        table.write_csv(path)
    else:
        raise ValueError(f"{path}: the payout file must end in .csv or .xlsx")
