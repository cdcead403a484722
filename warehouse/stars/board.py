"""What the star, outlet and staff pages show of the assessment: published, else provisional.

Why: the leading group reviews published months, which never change, while everybody
wants to see the current month before it is published. Every screen that shows stars
reads them here, so all of them agree and all of them say where the numbers come from
(``source`` = "published v2" or "provisional"). A month with a published version is read
from that version; any other month is assessed on the fly with the configured model
(:func:`warehouse.stars.assess.assess_month`).

Outlet-scope filters (``township``, ``outlet_type``, ``outlets``) choose which rows are
shown, after the whole county is assessed: a teller's rank is always among all the
county's tellers, and the honours and the payout are the county's. Staff are in view by
the outlet they were assigned to at the month's end (the outlet the assessment records).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import duckdb
import polars as pl

from warehouse.periods import month_bounds, previous_month, quarter_months
from warehouse.profiles import Codes, latest_assignments, scope_outlets
from warehouse.stars.assess import assess_month, month_end_positions, ranked
from warehouse.stars.honours import awards, penalty_register
from warehouse.stars.inputs import outlet_inputs, staff_inputs
from warehouse.stars.model import StarModel, load_model
from warehouse.stars.payout import payout
from warehouse.stars.publish import (
    check_seal,
    published,
    published_versions,
    restatement_changes,
)
from warehouse.stars.scoring import BreakdownLine, Scored, breakdown, score_subjects

SUBJECTS = ("outlets", "staff")
PROVISIONAL = "provisional"
NO_DATA = "no data"
BOARD_COLUMNS = {
    "subject_id": pl.String,
    "name": pl.String,
    "outlet_code": pl.String,
    "outlet_name": pl.String,
    "peer_group": pl.String,
    "status": pl.String,
    "score": pl.Float64,
    "stars": pl.Int64,
    "capped_by": pl.String,
    "capped_severity": pl.String,
    "rank": pl.Int64,
    "rank_in_group": pl.Int64,
    "movement": pl.Int64,
}
_CAPPED_BY = r"substantiated (\S+) complaint"  # scoring's wording of a veto


@dataclass(frozen=True)
class Publication:
    """Who published the month's latest version, when, with which model, and why if restated.

    ``sealed``: True when its rows still match the seal taken at publishing, False when
    they were changed since (the page says so and the payout refuses the month), None for
    a version published before seals existed and not sealed yet.
    """

    month: str
    version: int
    model_version: str
    published_at: dt.datetime
    published_by: str
    reason: str | None
    sealed: bool | None = None


def publication(con: duckdb.DuckDBPyConnection, *, month: str) -> Publication | None:
    """The latest published version of ``month``; None while the month is provisional."""
    versions = published_versions(con, month)
    if not versions:
        return None
    row = con.execute(
        """SELECT month, version, model_version, published_at, published_by, reason
           FROM star_assessment WHERE month = ? AND version = ?""",
        [month, versions[-1]],
    ).fetchall()[0]
    return Publication(*row, sealed=check_seal(con, month, versions[-1]))


@dataclass(frozen=True)
class MonthBoards:
    """Both leaderboards of a month in view, its honours, and where they come from."""

    month: str
    source: str  # "published v2" or "provisional"
    outlets: pl.DataFrame
    staff: pl.DataFrame
    awards: pl.DataFrame  # award, subject, subject_id, name, outlet_code, score, stars

    def of(self, subject: str) -> pl.DataFrame:
        """The leaderboard of ``subject`` ("outlets" or "staff")."""
        if subject not in SUBJECTS:
            raise ValueError(f"subject must be one of {SUBJECTS}, got {subject!r}")
        return self.outlets if subject == "outlets" else self.staff


def month_boards(
    con: duckdb.DuckDBPyConnection,
    *,
    month: str,
    township: Codes = None,
    outlet_type: Codes = None,
    outlets: Codes = None,
) -> MonthBoards:
    """Both leaderboards of a month and its honours, for the outlets in view.

    Board columns (the same published or provisional): subject_id, name, outlet_code,
    outlet_name, peer_group (position for staff, outlet type for outlets), status, score,
    stars, capped_by, capped_severity (e.g. "major/critical"), rank (county-wide),
    rank_in_group (within the peer group), movement (stars minus last month's),
    ``points_<indicator>`` per indicator, and source. Best first; not rated last.
    The honours (Window of Stars, Star of Service) are the county's, then scoped.
    """
    model = load_model()
    versions = published_versions(con, month)
    if versions:
        source = f"published v{versions[-1]}"
        raw = {s: _from_published(published(con, month, s)) for s in SUBJECTS}
    else:
        source = PROVISIONAL
        raw = assess_month(con, month, model)
    lookups = _lookups(con, month)
    county = {
        subject: _standard(raw[subject], subject, lookups, model).with_columns(
            source=pl.lit(source)
        )
        for subject in SUBJECTS
    }
    scope = scope_outlets(con, township=township, outlet_type=outlet_type, outlets=outlets)
    return MonthBoards(
        month,
        source,
        _in_scope(county["outlets"], scope),
        _in_scope(county["staff"], scope),
        _in_scope(_honours(county, model), scope),
    )


def month_board(
    con: duckdb.DuckDBPyConnection,
    *,
    month: str,
    subject: str,
    township: Codes = None,
    outlet_type: Codes = None,
    outlets: Codes = None,
) -> pl.DataFrame:
    """One leaderboard (``subject`` = "outlets" or "staff"); see :func:`month_boards`."""
    boards = month_boards(
        con, month=month, township=township, outlet_type=outlet_type, outlets=outlets
    )
    return boards.of(subject)


def _honours(county: dict[str, pl.DataFrame], model: StarModel) -> pl.DataFrame:
    """The county's honours with who received them."""
    honoured = awards(county, model)
    subject_of = {a.name: a.subject for a in model.awards}
    parts = [
        honoured.filter(pl.col("award").replace_strict(subject_of, default=None) == subject)
        .join(
            county[subject].select("subject_id", "name", "outlet_code", "stars"),
            on="subject_id",
            how="left",
        )
        .with_columns(subject=pl.lit(subject))
        for subject in SUBJECTS
    ]
    return pl.concat(parts).select(
        "award", "subject", "subject_id", "name", "outlet_code", "score", "stars"
    )


def _from_published(stored: pl.DataFrame) -> pl.DataFrame:
    """A published version's rows with the points JSON spread into points_<indicator>."""
    if stored.is_empty():
        return stored
    points = [json.loads(p) if p else {} for p in stored["points"].to_list()]
    keys = list(dict.fromkeys(k for p in points for k in p))
    spread = pl.DataFrame(
        {f"points_{k}": [p.get(k) for p in points] for k in keys},
        schema={f"points_{k}": pl.Float64 for k in keys},
    )
    return pl.concat([stored.drop("points"), spread], how="horizontal")


def _lookups(con: duckdb.DuckDBPyConnection, month: str) -> dict[str, pl.DataFrame]:
    """Outlet names and types, and staff names (latest assignment before the month's end)."""
    _, end = month_bounds(month)
    outlets = con.sql("SELECT outlet_code, outlet_name, outlet_type FROM dim_outlet").pl()
    staff = latest_assignments(con, end=end).select(subject_id="staff_id", name="staff_name")
    return {"outlets": outlets, "staff": staff}


def _standard(
    frame: pl.DataFrame, subject: str, lookups: dict[str, pl.DataFrame], model: StarModel
) -> pl.DataFrame:
    """Bring an assessed or a published table to the board's columns and order."""
    indicators = [f"points_{i.name}" for i in model.subjects[subject].indicators]
    extra = [c for c in frame.columns if c.startswith("points_") and c not in indicators]
    points = [*indicators, *extra]
    outlets = lookups["outlets"]
    if subject == "outlets":  # an outlet is its own outlet; its peers share its type
        base = (
            frame.drop("outlet_code", "peer_group", "outlet_type", strict=False)
            .with_columns(outlet_code=pl.col("subject_id"))
            .join(outlets, on="outlet_code", how="left")
            .with_columns(name=pl.col("outlet_name"), peer_group=pl.col("outlet_type"))
        )
    else:
        base = (
            frame.drop("staff_name", strict=False)
            .join(lookups["staff"], on="subject_id", how="left")
            .join(outlets.drop("outlet_type"), on="outlet_code", how="left")
        )
    derived = ("capped_severity", "rank_in_group")
    present = set(base.columns)
    board = base.select(
        *[
            (pl.col(c) if c in present else pl.lit(None)).cast(t).alias(c)
            for c, t in BOARD_COLUMNS.items()
            if c not in derived
        ],
        *[(pl.col(c) if c in present else pl.lit(None)).cast(pl.Float64).alias(c) for c in points],
    )
    group_rank = pl.col("score").rank(method="min", descending=True).over("peer_group")
    board = board.with_columns(
        capped_severity=pl.col("capped_by").str.extract(_CAPPED_BY, 1),
        rank_in_group=group_rank.cast(pl.Int64),
    )
    return board.select(*BOARD_COLUMNS, *points).sort(["rank", "subject_id"], nulls_last=True)


def _in_scope(board: pl.DataFrame, scope: tuple[str, ...] | None) -> pl.DataFrame:
    """The rows of outlets in view (staff by the outlet the assessment records)."""
    return board if scope is None else board.filter(pl.col("outlet_code").is_in(scope))


@dataclass(frozen=True)
class Breakdown:
    """One subject's month explained: the points of each indicator and the next star.

    ``lines`` has one row per indicator: indicator, kpi, normalise, value (the raw
    indicator value), share (of the weight earned), weight, points, headroom (points still
    open) and lift_to (for a straight-line indicator that could lift the next star on its
    own: the value it would have to reach). ``advice`` is the model's own sentence
    (:func:`warehouse.stars.scoring.breakdown`); the other fields say the same for
    screens in any language. For a published month the points are the published ones and
    ``values_recomputed`` says the raw values were recomputed from the current data.
    """

    subject_id: str
    month: str
    source: str
    status: str
    score: float | None
    stars: int | None
    capped_by: str | None
    capped_severity: str | None
    next_stars: int | None
    points_needed: float | None
    lift_from: str | None
    advice: str
    values_recomputed: bool
    lines: pl.DataFrame


def subject_breakdown(
    con: duckdb.DuckDBPyConnection,
    *,
    month: str,
    subject: str,
    subject_id: str,
    township: Codes = None,
    outlet_type: Codes = None,
    outlets: Codes = None,
) -> Breakdown | None:
    """What earned each point of a subject's month, and what would lift the next star.

    None when the subject is not on the month's board in view.
    """
    model = load_model()
    board, computed = _one_board(con, month, subject, model)
    scope = scope_outlets(con, township=township, outlet_type=outlet_type, outlets=outlets)
    board = _in_scope(board, scope).filter(pl.col("subject_id") == subject_id)
    if board.is_empty():
        return None
    row = board.row(0, named=True)
    provisional = computed is not None
    if computed is None:  # published: the raw values are recomputed from the data
        computed = _scored_month(con, month, subject, model)[1]
    current = computed.get(subject_id)
    if provisional and current is not None:
        scored = current
    else:
        scored = _published_scored(row, current, subject, model)
    lines, advice = breakdown(scored, model, subject)
    frame = _lines_frame(lines, model, subject)
    next_stars = points_needed = lift_from = None
    nxt = model.next_band(scored.score) if scored.score is not None else None
    if nxt is not None and scored.status == "rated" and not scored.capped_by:
        next_stars, points_needed = nxt[1], nxt[0] - scored.score
        frame, lift_from = _lift(frame, points_needed, model, subject)
    return Breakdown(
        subject_id=subject_id,
        month=month,
        source=row["source"],
        status=scored.status,
        score=scored.score,
        stars=scored.stars,
        capped_by=scored.capped_by,
        capped_severity=row["capped_severity"],
        next_stars=next_stars,
        points_needed=points_needed,
        lift_from=lift_from,
        advice=advice,
        values_recomputed=not provisional,
        lines=frame,
    )


def _scored_month(
    con: duckdb.DuckDBPyConnection, month: str, subject: str, model: StarModel
) -> tuple[pl.DataFrame, dict[str, Scored]]:
    """One subject's month scored from the data as the assessment scores it, ranks included.

    A quarter of :func:`assess_month`'s work (one subject, no month before, so no
    movement): enough for a history or a breakdown. Returns the ranked table and each
    subject's :class:`Scored` (points, shares and raw values).
    """
    start, end = month_bounds(month)
    if subject == "staff":
        inputs = staff_inputs(con, start=start, end=end, positions=month_end_positions(con, end))
        groups = ["peer_group", "outlet_code"]
    else:
        types = con.sql("SELECT outlet_code AS subject_id, outlet_type FROM dim_outlet").pl()
        inputs = outlet_inputs(con, start=start, end=end).join(types, on="subject_id", how="left")
        groups = ["outlet_type"]
    scored = score_subjects(inputs, model, subject)
    return ranked(scored, inputs, groups), {s.subject_id: s for s in scored}


def _one_board(
    con: duckdb.DuckDBPyConnection, month: str, subject: str, model: StarModel
) -> tuple[pl.DataFrame, dict[str, Scored] | None]:
    """One subject's county board of a month without movement, and the scores behind it.

    Published months are read back (no scores computed: None); other months are scored
    with :func:`_scored_month`.
    """
    versions = published_versions(con, month)
    computed = None
    if versions:
        raw, source = _from_published(published(con, month, subject)), f"published v{versions[-1]}"
    else:
        raw, computed = _scored_month(con, month, subject, model)
        source = PROVISIONAL
    board = _standard(raw, subject, _lookups(con, month), model)
    return board.with_columns(source=pl.lit(source)), computed


def _published_scored(row: dict, computed: Scored | None, subject: str, model: StarModel) -> Scored:
    """A published row as a :class:`Scored`: its points, score and stars; current values."""
    if row["status"] != "rated":
        return Scored(row["subject_id"], row["status"], {}, {}, {}, None, None, None)
    indicators = model.subjects[subject].indicators
    points = {i.name: row.get(f"points_{i.name}") or 0.0 for i in indicators}
    shares = {i.name: points[i.name] / i.weight for i in indicators}
    values = computed.values if computed and computed.values else {i.name: None for i in indicators}
    return Scored(
        row["subject_id"],
        "rated",
        points,
        shares,
        values,
        row["score"],
        row["stars"],
        row["capped_by"],
    )


def _lines_frame(lines: list[BreakdownLine], model: StarModel, subject: str) -> pl.DataFrame:
    """The breakdown lines as a table, with each indicator's normalisation."""
    methods = {i.name: i.normalise for i in model.subjects[subject].indicators}
    return pl.DataFrame(
        [
            {
                "indicator": line.indicator,
                "kpi": line.kpi,
                "normalise": methods[line.indicator],
                "value": None if line.value is None else float(line.value),
                "share": line.share,
                "weight": line.weight,
                "points": line.points,
                "headroom": line.headroom,
                "lift_to": None,
            }
            for line in lines
        ],
        schema={
            "indicator": pl.String,
            "kpi": pl.String,
            "normalise": pl.String,
            "value": pl.Float64,
            "share": pl.Float64,
            "weight": pl.Float64,
            "points": pl.Float64,
            "headroom": pl.Float64,
            "lift_to": pl.Float64,
        },
    )


def _lift(
    frame: pl.DataFrame, needed: float, model: StarModel, subject: str
) -> tuple[pl.DataFrame, str | None]:
    """What would lift the next star: lift_to on each line, and the indicator to lift it.

    lift_to is the value a straight-line indicator would have to reach to lift the star
    on its own; the indicator returned is the one with most room, if it alone could (as
    :func:`warehouse.stars.scoring.breakdown` advises), else None.
    """
    spec = {i.name: i for i in model.subjects[subject].indicators}
    targets = []
    for row in frame.iter_rows(named=True):
        ind = spec[row["indicator"]]
        target = None
        if ind.normalise == "linear" and row["headroom"] >= needed:
            share = (row["points"] + needed) / ind.weight
            assert ind.zero_at is not None and ind.full_at is not None
            target = ind.zero_at + share * (ind.full_at - ind.zero_at)
        targets.append(target)
    best = frame.sort("headroom", descending=True, maintain_order=True).row(0, named=True)
    lift_from = best["indicator"] if best["headroom"] >= needed else None
    return frame.with_columns(lift_to=pl.Series(targets, dtype=pl.Float64)), lift_from


def star_history(
    con: duckdb.DuckDBPyConnection,
    *,
    subject: str,
    subject_id: str,
    months: tuple[str, ...],
    township: Codes = None,
    outlet_type: Codes = None,
    outlets: Codes = None,
) -> pl.DataFrame:
    """A subject's stars month by month, for the outlet and staff pages.

    One row per month of ``months`` in which the subject is on the board in view:
    month, status, score, stars, capped_by, rank, rank_in_group, source. Each month is
    published or scored like :func:`month_boards` (same scores and ranks), for this
    subject only.
    """
    model = load_model()
    scope = scope_outlets(con, township=township, outlet_type=outlet_type, outlets=outlets)
    columns = ["status", "score", "stars", "capped_by", "rank", "rank_in_group"]
    schema = {"month": pl.String} | {c: BOARD_COLUMNS[c] for c in columns}
    frames = [pl.DataFrame(schema=schema | {"source": pl.String})]
    for month in months:
        board, _ = _one_board(con, month, subject, model)
        frames.append(
            _in_scope(board, scope)
            .filter(pl.col("subject_id") == subject_id)
            .select(pl.lit(month).alias("month"), *columns, "source")
        )
    return pl.concat(frames)


def penalties(
    con: duckdb.DuckDBPyConnection,
    *,
    start: dt.date,
    end: dt.date,
    staff_id: str | None = None,
    township: Codes = None,
    outlet_type: Codes = None,
    outlets: Codes = None,
) -> pl.DataFrame:
    """The penalty register of the period at outlets in view, with the person's name.

    Substantiated complaints against a named person (see
    :func:`warehouse.stars.honours.penalty_register`), optionally of one ``staff_id``.
    """
    register = penalty_register(con, start=start, end=end)
    names = latest_assignments(con, end=end).select("staff_id", "staff_name")
    frame = register.join(names, on="staff_id", how="left").select(
        "month",
        "complaint_id",
        "received_at",
        "staff_id",
        "staff_name",
        "outlet_code",
        "category",
        "severity",
        "penalty",
        "penalty_amount",
    )
    if staff_id is not None:
        frame = frame.filter(pl.col("staff_id") == staff_id)
    scope = scope_outlets(con, township=township, outlet_type=outlet_type, outlets=outlets)
    return _in_scope(frame, scope)


def quarter_payout(
    con: duckdb.DuckDBPyConnection,
    *,
    quarter: str,
    staff_id: str | None = None,
    township: Codes = None,
    outlet_type: Codes = None,
    outlets: Codes = None,
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """The quarter's payout rows of the people in view, and where each month's stars came from.

    The pool is split over the whole county (:func:`warehouse.stars.payout.payout`); the
    filters only choose the rows, so a person's money never depends on the view; with
    ``staff_id``, only that person's line (a teller's own card). Sources read
    "YYYY-MM: published vN", "YYYY-MM: provisional" or "YYYY-MM: no data".
    """
    table, sources = payout(con, quarter, load_model())
    # A month nobody was assessed in (not loaded yet) says so rather than "provisional".
    sources = [
        f"{month}: {NO_DATA}" if table[f"stars_m{i}"].null_count() == table.height else source
        for i, (month, source) in enumerate(zip(quarter_months(quarter), sources, strict=True), 1)
    ]
    if staff_id is not None:
        table = table.filter(pl.col("staff_id") == staff_id)
    scope = scope_outlets(con, township=township, outlet_type=outlet_type, outlets=outlets)
    return _in_scope(table, scope), tuple(sources)


def restatement(
    con: duckdb.DuckDBPyConnection,
    *,
    month: str,
    subject: str,
    township: Codes = None,
    outlet_type: Codes = None,
    outlets: Codes = None,
) -> pl.DataFrame:
    """What the latest restatement of ``month`` changed for subjects in view (empty if none).

    Columns: subject_id, name, old_score, new_score, old_stars, new_stars.
    """
    versions = published_versions(con, month)
    if len(versions) < 2:
        return pl.DataFrame(
            schema={
                "subject_id": pl.String,
                "name": pl.String,
                "old_score": pl.Float64,
                "new_score": pl.Float64,
                "old_stars": pl.Int64,
                "new_stars": pl.Int64,
            }
        )
    changes = restatement_changes(con, month, subject, versions[-2], versions[-1])
    board = month_board(con, month=month, subject=subject).select(
        "subject_id", "name", "outlet_code"
    )
    frame = changes.join(board, on="subject_id", how="left")
    scope = scope_outlets(con, township=township, outlet_type=outlet_type, outlets=outlets)
    return _in_scope(frame, scope).select(
        "subject_id", "name", "old_score", "new_score", "old_stars", "new_stars"
    )


def assessment_month(start: dt.date, end: dt.date, last_data_day: dt.date) -> str:
    """The month a period's star page shows: the last complete month inside the period.

    A month is complete when the period covers all of it and data reach its last day.
    With none complete (a few days' custom range, a quarter just begun) it is the month
    of the period's last day with data.
    """
    stop = min(end, last_data_day + dt.timedelta(days=1))
    month = f"{stop.year:04d}-{stop.month:02d}"
    while True:
        first, after = month_bounds(month)
        if first < start:
            break
        if after <= stop:
            return month
        month = previous_month(month)
    last = stop - dt.timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"
