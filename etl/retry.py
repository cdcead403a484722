"""Quarantine retry: re-validate quarantined rows once the data they failed on is fixed.

A row that refers to an outlet the outlets file got wrong, or to a teller the staff file
does not place there, is quarantined, correctly. Once the operator loads the corrected
reference file, those rows must be able to come back, yet loading the same transactions
file again is skipped as already loaded. :func:`retry_quarantine` re-stages the
quarantined rows from the records kept in ``etl_quarantine`` through exactly the staging,
rules and duplicate checks of a load (:mod:`etl.stage`), against today's reference data
and configuration:

* each original load whose rows are retried gets a retry of its own: an ``etl_load`` row
  with status ``retry`` and ``retry_of`` naming it, conserving rows like any load (read =
  loaded + duplicate + quarantined + dropped, read being the rows re-checked);
* a row that now passes is loaded under the retry's load id; one that now duplicates a
  loaded row is released as a duplicate; either way its quarantine row stays, marked
  ``released_by`` / ``released_as``, so the original file and source row are still known;
* a row that still fails stays quarantined with its reasons as they are now.

The retry runs in a new version of the warehouse like a load (atomic, under the writer
lock); a retry that would change nothing makes no version at all, so running it twice
changes nothing the second time.

:func:`advice` is the one line a load's summary ends with when rows failed on reference
data: what to fix, and how to get the rows back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from etl.atomic import next_version, open_read_only, writer_lock
from etl.kinds import ExportKind
from etl.load_sql import finish_run, move_rows, next_load_id, record_load
from etl.mapping import build_mapping, literal, quote
from etl.profiles import Profile, load_profile
from etl.raw import RawRows
from etl.stage import decide, drop_staged, stage
from warehouse.settings import os_user

_RECORDS = "retry_records"
RETRY = "retry"  # etl_load.status of a retry


@dataclass
class RetryOutcome:
    """What a retry did with one earlier load's quarantined rows."""

    retry_of: int
    file_name: str
    kind: str
    checked: int = 0
    loaded: int = 0
    duplicate: int = 0
    dropped: int = 0
    quarantined: int = 0  # still quarantined
    reasons_changed: int = 0
    load_id: int | None = None  # the retry's own load id; None when nothing changed
    message: str = ""
    rule_counts: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether the retry changes the warehouse for this load."""
        return bool(self.loaded or self.duplicate or self.dropped or self.reasons_changed)


class _NothingChanged(Exception):
    """No row was released and no reason changed: discard the new version."""


def retry_quarantine(
    db_path: Path,
    *,
    load_id: int | None = None,
    rule: str | None = None,
    profile: str | None = None,
    run_by: str | None = None,
    on_note: Callable[[str], None] | None = None,
) -> list[RetryOutcome]:
    """Re-validate the quarantined rows (of one load, or failing one rule) and load those that pass.

    ``profile`` overrides the import profile each load recorded (needed when a load was
    mapped with a profile file that is no longer where it was). Returns one outcome per
    earlier load whose rows were re-checked, in load order.
    """
    with writer_lock(db_path, on_wait=on_note):
        with open_read_only(db_path) as con:
            targets = con.execute(
                """SELECT l.load_id, l.file_name, l.file_sha256, l.source_kind, l.profile,
                          l.encoding, count(*)
                   FROM etl_quarantine q JOIN etl_load l USING (load_id)
                   WHERE q.released_by IS NULL AND ($load_id IS NULL OR q.load_id = $load_id)
                     AND ($rule IS NULL OR list_contains(q.rules, $rule))
                   GROUP BY ALL ORDER BY l.load_id""",
                {"load_id": load_id, "rule": rule},
            ).fetchall()
        if not targets:
            return []
        outcomes: list[RetryOutcome] = []
        why = f"quarantine retry of load(s) {', '.join(str(t[0]) for t in targets)}"
        try:
            with next_version(db_path, locked=True, on_note=on_note, why=why[:500]) as con:
                for original, name, digest, kind, recorded, encoding, _ in targets:
                    outcome = RetryOutcome(original, name, kind)
                    outcomes.append(outcome)
                    try:
                        chosen = load_profile(profile or recorded or "default")
                    except (FileNotFoundError, ValueError) as exc:
                        outcome.message = (
                            f"import profile {recorded!r} of load {original} not found ({exc});"
                            " give it with --profile"
                        )
                        continue
                    _retry_one(con, outcome, chosen, rule, digest, encoding, run_by)
                if not any(o.changed for o in outcomes):
                    raise _NothingChanged
                if any(o.loaded for o in outcomes):
                    finish_run(con)
        except _NothingChanged:
            pass
        return outcomes


def _retry_one(
    con: duckdb.DuckDBPyConnection,
    outcome: RetryOutcome,
    profile: Profile,
    rule: str | None,
    digest: str,
    encoding: str | None,
    run_by: str | None,
) -> None:
    """Re-stage one load's quarantined rows and settle each (see the module docstring)."""
    began = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    original = outcome.retry_of
    where = f"load_id = {int(original)} AND released_by IS NULL" + (
        f" AND list_contains(rules, {literal(rule)})" if rule else ""
    )
    [first] = con.execute(f"SELECT raw_record FROM etl_quarantine WHERE {where} LIMIT 1").fetchall()
    columns = list(json.loads(first[0]))
    shape = json.dumps(dict.fromkeys(columns, "VARCHAR"), ensure_ascii=False)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_RECORDS} AS SELECT source_row AS __row,"
        f" unnest(from_json(raw_record, {literal(shape)})) FROM etl_quarantine WHERE {where}"
    )
    try:
        raw = RawRows(
            columns=columns,
            rows=int(con.execute(f"SELECT count(*) FROM {_RECORDS}").fetchall()[0][0]),
            encoding=encoding or "utf-8",
            clean=frozenset(),
            relation=f"SELECT * FROM {_RECORDS}",
        )
        mapping = build_mapping(columns, profile, outcome.kind)
        stage(con, raw, mapping, profile, file_name=outcome.file_name)
        fates = decide(con, mapping, profile)
        outcome.checked, outcome.loaded = fates.read, fates.load
        outcome.duplicate, outcome.dropped = fates.duplicate, fates.dropped
        outcome.quarantined = fates.quarantined
        outcome.rule_counts = fates.rule_counts
        same_row = f"q.load_id = {int(original)} AND q.source_row = f.__row"
        outcome.reasons_changed = int(
            con.execute(
                f"SELECT count(*) FROM etl_quarantine q JOIN fate f ON {same_row}"
                " WHERE f.fate = 'quarantined' AND q.rules <> f.rules"
            ).fetchall()[0][0]
        )
        if not outcome.changed:
            return
        con.execute("BEGIN TRANSACTION")
        try:
            retry_id = next_load_id(con)
            con.execute(
                f"UPDATE etl_quarantine q SET rules = f.rules FROM fate f"
                f" WHERE {same_row} AND f.fate = 'quarantined' AND q.rules <> f.rules"
            )
            con.execute(
                f"UPDATE etl_quarantine q SET released_by = {retry_id}, released_as = f.fate"
                f" FROM fate f WHERE {same_row} AND f.fate IN ('duplicate', 'dropped')"
            )
            con.execute(
                f"UPDATE etl_quarantine q SET released_by = {retry_id}, released_as = 'loaded'"
                f" FROM (SELECT __row FROM stg ANTI JOIN fate USING (__row)) f WHERE {same_row}"
            )
            if outcome.loaded:
                move_rows(con, outcome.kind, retry_id)
            summary = (
                f"retry of load {original}: {outcome.loaded} loaded, {outcome.duplicate}"
                f" duplicate, {outcome.dropped} dropped, {outcome.quarantined} still quarantined"
            )
            record_load(
                con,
                load_id=retry_id,
                file_name=outcome.file_name,
                digest=digest,
                kind=outcome.kind,
                fates=fates,
                status=RETRY,
                started=began,
                message=summary,
                profile=profile.name,
                encoding=encoding,
                run_by=run_by or os_user(),
                retry_of=original,
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        outcome.load_id = retry_id
    finally:
        drop_staged(con)
        con.execute(f"DROP TABLE IF EXISTS {_RECORDS}")


# Reference rules a corrected reference file can cure, and the file that cures each.
_CURABLE = {
    "unknown_outlet": ("outlet_code", "outlets", "outlet {value}"),
    "staff_not_assigned": ("staff_id", "staff", "staff member {value}"),
}


def advice(
    con: duckdb.DuckDBPyConnection, file_name: str, kind: ExportKind, *, rejected: bool
) -> str | None:
    """One line on what to do next when staged rows failed on reference data, or None.

    Reads the staged rows and their fates (temp tables ``stg``, ``fate``), so it runs
    inside a load, before the file's staging is dropped. It names the value most rows
    refer to, says whether the reference file's row for it was itself quarantined, and
    how to get the rows back: a retry when they were quarantined, loading the file again
    when the whole file was rejected.
    """
    best: tuple[int, str, str, str] | None = None
    for rule_name, (column, cured_by, noun) in _CURABLE.items():
        if column not in kind.types:
            continue
        found = con.execute(
            f"""SELECT s.{quote(column)}, count(*) AS n FROM stg s JOIN fate f USING (__row)
                WHERE list_contains(f.rules, {literal(rule_name)}) GROUP BY 1
                ORDER BY n DESC, 1 LIMIT 1"""
        ).fetchall()
        if found and (best is None or found[0][1] > best[0]):
            best = (int(found[0][1]), str(found[0][0]), cured_by, noun)
    if best is None:
        return None
    rows, value, cured_by, noun = best
    held = con.execute(
        f"""SELECT l.file_name FROM etl_quarantine q JOIN etl_load l USING (load_id)
            WHERE l.source_kind = {literal(cured_by)} AND q.released_by IS NULL
              AND contains(q.raw_record::VARCHAR, {literal(json.dumps(value))})
            ORDER BY l.load_id DESC LIMIT 1"""
    ).fetchall()
    then = f"load {file_name} again" if rejected else "run rccdash quarantine --retry"
    who = noun.format(value=value)
    if held:
        fix = held[0][0]
        return (
            f"{rows:,} rows refer to {who}, which was quarantined in {fix}:"
            f" fix {fix}, load it, then {then}"
        )
    if cured_by == "staff":
        return (
            f"{rows:,} rows name {who}, whom no staff file places at that outlet on that day:"
            f" correct the staff file, load it, then {then}"
        )
    return (
        f"{rows:,} rows refer to {who}, which no {cured_by} file has:"
        f" add it to the {cured_by} file, load it, then {then}"
    )
