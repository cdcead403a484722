"""A month's star assessment: every counter employee and outlet scored, ranked, compared.

This is the provisional assessment the star page shows and ``rccdash assess`` prints; it
is computed on the fly from the warehouse with the configured model.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from warehouse.kpi.source import Connection
from warehouse.periods import month_bounds, previous_month
from warehouse.stars.inputs import outlet_inputs, staff_inputs
from warehouse.stars.model import StarModel, load_model
from warehouse.stars.scoring import Scored, score_subjects


def month_end_positions(con: Connection, end: dt.date) -> pl.DataFrame:
    """Each staff member's position and outlet on the month's last day."""
    day = end - dt.timedelta(days=1)
    return con.sql(
        """SELECT staff_id, position, outlet_code, staff_name FROM dim_staff
           WHERE valid_from <= ? AND (valid_to IS NULL OR ? < valid_to)""",
        params=[day, day],
    ).pl()


def ranked(scored: list[Scored], inputs: pl.DataFrame, groups: list[str]) -> pl.DataFrame:
    """Scores as a table with overall and in-group ranks (ties share the better rank)."""
    if not scored:  # a month without data: an empty table with the same columns
        empty = {
            "subject_id": pl.String,
            "status": pl.String,
            "score": pl.Float64,
            "stars": pl.Int64,
            "capped_by": pl.String,
            "rank": pl.Int64,
        }
        empty |= {g: pl.String for g in groups} | {f"rank_in_{g}": pl.Int64 for g in groups}
        return pl.DataFrame(schema=empty)
    frame = pl.DataFrame(
        [
            {
                "subject_id": s.subject_id,
                "status": s.status,
                "score": s.score,
                "stars": s.stars,
                "capped_by": s.capped_by,
                **{f"points_{k}": v for k, v in s.points.items()},
            }
            for s in scored
        ],
        infer_schema_length=None,
    )
    frame = frame.join(inputs.select("subject_id", *groups), on="subject_id", how="left")
    rank = pl.col("score").rank(method="min", descending=True)
    return frame.with_columns(
        rank=rank.cast(pl.Int64),
        **{f"rank_in_{g}": rank.over(g).cast(pl.Int64) for g in groups},
    ).sort("score", descending=True, nulls_last=True)


def assess_month(
    con: Connection, month: str, model: StarModel | None = None
) -> dict[str, pl.DataFrame]:
    """Score staff and outlets for ``month`` with ranks and movement against the month before.

    Returns ``{"staff": ..., "outlets": ...}``; ``movement`` is stars now minus stars the
    month before (null when either month is not rated).
    """
    model = model or load_model()
    out = {}
    earlier = score_month(con, previous_month(month), model)
    for subject, frame in score_month(con, month, model).items():
        before = earlier[subject].select("subject_id", previous_stars="stars")
        out[subject] = frame.join(before, on="subject_id", how="left").with_columns(
            movement=pl.col("stars") - pl.col("previous_stars")
        )
    return out


def score_month(con: Connection, month: str, model: StarModel) -> dict[str, pl.DataFrame]:
    """Scores of one month, without movement: half the work of :func:`assess_month`.

    For uses that need one month's stars only (the quarterly payout).
    """
    start, end = month_bounds(month)
    positions = month_end_positions(con, end)
    staff = staff_inputs(con, start=start, end=end, positions=positions)
    outlets = outlet_inputs(con, start=start, end=end)
    staff_scores = ranked(
        score_subjects(staff, model, "staff"), staff, ["peer_group", "outlet_code"]
    )
    staff_scores = staff_scores.join(
        positions.select(subject_id="staff_id", staff_name="staff_name"),
        on="subject_id",
        how="left",
    )
    types = con.sql("SELECT outlet_code AS subject_id, outlet_type FROM dim_outlet").pl()
    outlets = outlets.join(types, on="subject_id", how="left")
    outlet_scores = ranked(score_subjects(outlets, model, "outlets"), outlets, ["outlet_type"])
    return {"staff": staff_scores, "outlets": outlet_scores}
