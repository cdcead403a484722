"""The quarterly cash: the pool split by the quarter's average stars, fines deducted.

"Monthly assessment, quarterly cash": each month's stars come from the published
assessment. Payroll's file (``rccdash payout``) is made from published months only; with
``provisional=True`` (the dashboard's preview, ``--provisional``) a month not published yet
is assessed on the fly, and the table says so. A published month whose seal is broken
(its rows were changed after publishing) stops the payout whatever is asked.
"""

from __future__ import annotations

import math

import duckdb
import polars as pl

from warehouse.periods import month_bounds, quarter_months
from warehouse.spreadsheet import neutralised
from warehouse.stars.assess import score_month
from warehouse.stars.honours import penalty_register
from warehouse.stars.model import StarModel
from warehouse.stars.publish import BrokenSeal, check_seal, published


class NotPublished(Exception):
    """A month of the quarter has no published assessment, and provisional was not asked for."""


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
    con: duckdb.DuckDBPyConnection, month: str, model: StarModel, provisional: bool
) -> tuple[pl.DataFrame, str]:
    """Staff stars of a month and where they come from (published vN / provisional)."""
    stored = published(con, month, "staff")
    if stored.height:
        version = int(stored["version"][0])
        if check_seal(con, month, version) is False:
            raise BrokenSeal(
                f"the published stars of {month} (version {version}) were changed after"
                " publishing: no payout until the month is restated"
            )
        return stored.select("subject_id", "stars"), f"published v{version}"
    if not provisional:
        raise NotPublished(
            f"{month} is not published: publish it first (rccdash assess {month} --publish),"
            " or pass --provisional for a preview"
        )
    return score_month(con, month, model)["staff"].select("subject_id", "stars"), "provisional"


def payout(
    con: duckdb.DuckDBPyConnection, quarter: str, model: StarModel, *, provisional: bool = True
) -> tuple[pl.DataFrame, list[str]]:
    """The payout table payroll takes, and where each month's stars came from.

    Raises :class:`NotPublished` for an unpublished month unless ``provisional``, and
    :class:`warehouse.stars.publish.BrokenSeal` for a month changed after publishing.
    """
    months = quarter_months(quarter)
    start, _ = month_bounds(months[0])
    _, end = month_bounds(months[-1])
    table: pl.DataFrame | None = None
    sources = []
    for i, month in enumerate(months, start=1):
        stars, source = _month_stars(con, month, model, provisional)
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


def write_payout(table: pl.DataFrame, path: str, sources: list[str] | None = None) -> None:
    """Save the payout as CSV or XLSX, by the file's extension.

    With ``sources``, every row says which stars it was computed from ("2026-01: published
    v1; ..."), so a file made from provisional months cannot pass for the real one.
    """
    if sources is not None:
        table = table.with_columns(stars_basis=pl.lit("; ".join(sources)))
    table = neutralised(table)
    if path.lower().endswith(".xlsx"):
        table.to_pandas().to_excel(path, index=False)
    elif path.lower().endswith(".csv"):
        table.write_csv(path)
    else:
        raise ValueError(f"{path}: the payout file must end in .csv or .xlsx")
