"""The month's honours and the penalty register that feed the star page and the payout."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from warehouse.stars.model import StarModel


def awards(assessment: dict[str, pl.DataFrame], model: StarModel) -> pl.DataFrame:
    """Window of Stars and Star of Service: the best subjects with enough stars, uncapped.

    A subject whose stars a veto capped cannot be honoured that month.
    """
    rows = []
    for award in model.awards:
        frame = assessment[award.subject].filter(
            (pl.col("status") == "rated")
            & (pl.col("stars") >= award.min_stars)
            & pl.col("capped_by").is_null()
        )
        for r in frame.sort("score", descending=True).head(award.top).iter_rows(named=True):
            rows.append({"award": award.name, "subject_id": r["subject_id"], "score": r["score"]})
    return pl.DataFrame(
        rows, schema={"award": pl.String, "subject_id": pl.String, "score": pl.Float64}
    )


def penalty_register(
    con: duckdb.DuckDBPyConnection, *, start: dt.date, end: dt.date
) -> pl.DataFrame:
    """Substantiated complaints against a named person in the period, with their penalty."""
    return con.sql(
        """SELECT strftime(received_at, '%Y-%m') AS month, complaint_id, received_at, staff_id,
                  outlet_code, category, severity, coalesce(penalty, 'none') AS penalty,
                  coalesce(penalty_amount, 0)::DOUBLE AS penalty_amount
           FROM fact_complaint
           WHERE substantiated AND staff_id IS NOT NULL AND received_at >= $start
             AND received_at < $end
           ORDER BY received_at, complaint_id""",
        params={"start": start, "end": end},
    ).pl()
