"""Published assessments: immutable versions of a month, restatements with their reason.

A month once published keeps its numbers even if late data arrives; restating it adds a
version beside the first, and both can be read and compared.

Immutable by rule is not enough when the file can be opened by anyone with DuckDB: each
version is sealed with the SHA-256 of its rows (:func:`seal`), computed by DuckDB over a
canonical text of every row, and checked on every read (:func:`check_seal`). A changed
row shows as a broken seal on the stars page and stops the payout of its quarter.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import polars as pl

from warehouse.settings import os_user
from warehouse.stars.model import StarModel, load_model

SCORE_COLUMNS = [
    "subject_id",
    "outlet_code",
    "peer_group",
    "status",
    "score",
    "stars",
    "capped_by",
    "rank",
    "movement",
]


class AlreadyPublished(Exception):
    """The month is published; only a restatement with a reason may add a version."""


class BrokenSeal(Exception):
    """A published version's rows no longer match its seal: changed after publishing."""


# One row of star_score as text, every column, in a fixed order; the seal hashes all of a
# version's rows in key order.
_ROW_TEXT = (
    "concat_ws(chr(31), "
    + ", ".join(
        f"coalesce({c}::VARCHAR, chr(0))"
        for c in (
            "subject_type",
            "subject_id",
            "outlet_code",
            "peer_group",
            "status",
            "score",
            "stars",
            "capped_by",
            "rank",
            "movement",
            "points",
        )
    )
    + ")"
)


def seal(con: duckdb.DuckDBPyConnection, month: str, version: int) -> str:
    """The SHA-256 of a version's rows as they are stored now."""
    return con.execute(
        f"SELECT sha256(coalesce(string_agg({_ROW_TEXT}, chr(30)"
        " ORDER BY subject_type, subject_id), '')) FROM star_score"
        " WHERE month = ? AND version = ?",
        [month, version],
    ).fetchall()[0][0]


def check_seal(con: duckdb.DuckDBPyConnection, month: str, version: int) -> bool | None:
    """True when a version's rows match its seal, False when not, None when never sealed."""
    stored = con.execute(
        "SELECT content_sha256 FROM star_assessment WHERE month = ? AND version = ?",
        [month, version],
    ).fetchall()
    if not stored or stored[0][0] is None:
        return None
    return stored[0][0] == seal(con, month, version)


def seal_unsealed(con: duckdb.DuckDBPyConnection) -> int:
    """Seal the versions published before seals existed (as they are now); how many."""
    rows = con.execute(
        "SELECT month, version FROM star_assessment WHERE content_sha256 IS NULL"
    ).fetchall()
    for month, version in rows:
        con.execute(
            "UPDATE star_assessment SET content_sha256 = ? WHERE month = ? AND version = ?",
            [seal(con, month, version), month, version],
        )
    return len(rows)


def published_versions(con: duckdb.DuckDBPyConnection, month: str) -> list[int]:
    """Versions of ``month`` published so far, oldest first.

    A warehouse created before assessments could be published (schema version 2) has
    none: it is read as it is, and gets the tables at its next load or ``rccdash schema``.
    """
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'star_assessment'"
    ).fetchall()[0][0]
    if not exists:
        return []
    rows = con.execute(
        "SELECT version FROM star_assessment WHERE month = ? ORDER BY version", [month]
    ).fetchall()
    return [r[0] for r in rows]


def publish(
    con: duckdb.DuckDBPyConnection,
    month: str,
    assessment: dict[str, pl.DataFrame],
    model: StarModel,
    *,
    by: str,
    run_by: str | None = None,
    restate: bool = False,
    reason: str | None = None,
) -> int:
    """Store an assessment as the next version of ``month`` and return that version.

    ``by`` is the person who published (the signed-in user, or ``--by``), ``run_by`` the
    operating-system account of the process (default: this one). Raises
    :class:`AlreadyPublished` when the month is published and this is not a restatement,
    and ValueError for a restatement without a reason or of nothing.
    """
    versions = published_versions(con, month)
    if versions and not restate:
        raise AlreadyPublished(
            f"{month} is already published (version {versions[-1]}); "
            "restate it with --restate --reason to add a new version"
        )
    if restate and not versions:
        raise ValueError(f"{month} has not been published: nothing to restate")
    if restate and not (reason and reason.strip()):
        raise ValueError("a restatement needs a reason")
    version = (versions[-1] if versions else 0) + 1
    as_of = con.execute("SELECT coalesce(max(load_id), 0) FROM etl_load").fetchall()[0][0]
    con.execute("BEGIN TRANSACTION")
    try:
        for subject, frame in assessment.items():
            _insert_scores(con, month, version, subject, frame)
        con.execute(
            "INSERT INTO star_assessment VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                month,
                version,
                model.version,
                as_of,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                by,
                reason if restate else None,
                run_by or os_user(),
                seal(con, month, version),
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return version


def publish_month(
    con: duckdb.DuckDBPyConnection,
    month: str,
    *,
    by: str,
    run_by: str | None = None,
    restate: bool = False,
    reason: str | None = None,
    model: StarModel | None = None,
) -> tuple[int, dict[str, pl.DataFrame]]:
    """Assess ``month`` on ``con`` and store it as the month's next version.

    What ``rccdash assess --publish`` and the stars page both do, on the writable copy
    the caller opened; returns the version and the assessment stored.
    """
    from warehouse.stars.assess import assess_month  # the KPI layer: not for every load

    model = model or load_model()
    assessment = assess_month(con, month, model)
    version = publish(
        con, month, assessment, model, by=by, run_by=run_by, restate=restate, reason=reason
    )
    return version, assessment


def _insert_scores(
    con: duckdb.DuckDBPyConnection, month: str, version: int, subject: str, frame: pl.DataFrame
) -> None:
    """Write one subject type's scores of a version."""
    points = [c for c in frame.columns if c.startswith("points_")]
    rows = []
    for r in frame.iter_rows(named=True):
        record = {c: r.get(c) for c in SCORE_COLUMNS}
        record["points"] = json.dumps({p.removeprefix("points_"): r[p] for p in points})
        rows.append([month, version, subject, *record.values()])
    if rows:
        con.executemany(
            "INSERT INTO star_score VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )


def published(
    con: duckdb.DuckDBPyConnection, month: str, subject: str, version: int | None = None
) -> pl.DataFrame:
    """Scores of a published version (the latest by default); empty when unpublished."""
    chosen = version or max(published_versions(con, month), default=0)
    if not chosen:
        return pl.DataFrame(
            schema={"version": pl.Int64, "subject_id": pl.String, "stars": pl.Int64}
        )
    return con.sql(
        "SELECT * FROM star_score WHERE month = ? AND version = ? AND subject_type = ?"
        " ORDER BY rank NULLS LAST, subject_id",
        params=[month, chosen, subject],
    ).pl()


def restatement_changes(
    con: duckdb.DuckDBPyConnection, month: str, subject: str, old: int, new: int
) -> pl.DataFrame:
    """Subjects whose score or stars differ between two versions of a month."""
    return con.sql(
        """SELECT coalesce(a.subject_id, b.subject_id) AS subject_id,
                  a.score AS old_score, b.score AS new_score, a.stars AS old_stars,
                  b.stars AS new_stars
           FROM (SELECT * FROM star_score
                 WHERE month = $m AND version = $old AND subject_type = $s) a
           FULL JOIN (SELECT * FROM star_score
                      WHERE month = $m AND version = $new AND subject_type = $s) b
             USING (subject_id)
           WHERE a.score IS DISTINCT FROM b.score OR a.stars IS DISTINCT FROM b.stars
           ORDER BY subject_id""",
        params={"m": month, "old": old, "new": new, "s": subject},
    ).pl()
