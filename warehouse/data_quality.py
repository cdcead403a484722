"""What the loads did: load history, failed rules and quarantined rows, orphaned reversals.

For the operator who loads the monthly exports (the `rccdash quarantine` command and the
data-quality page): which files went in, where every row went, which validation rules
rows failed, and the rows themselves with their reasons. Reading ``etl_load`` and
``etl_quarantine`` is bookkeeping, not a KPI, so it lives here rather than in the KPI layer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb
import polars as pl

from warehouse.kpi.filters import make_filters, outlets_in_view


def load_history(con: duckdb.DuckDBPyConnection, *, limit: int = 200) -> pl.DataFrame:
    """The latest loads, newest first, with where every row went.

    Columns: load_id, file_name, source_kind, status, rows_read, rows_loaded,
    rows_duplicate, rows_quarantined, rows_dropped (read = loaded + duplicate +
    quarantined + dropped), started_at, finished_at (UTC), message, report_path (NULL
    when no report was written), profile, encoding, retry_of (for a quarantine retry,
    status ``retry``: the load whose quarantined rows it re-checked; its "read" are those),
    quarantined_now (the load's rows still in quarantine: fewer once a retry released some),
    outcome (status, with ``loaded_with_quarantine`` for a load that quarantined rows) and
    balanced (whether read = loaded + duplicate + quarantined + dropped holds).
    """
    return con.sql(
        """SELECT load_id, file_name, source_kind, status, rows_read, rows_loaded, rows_duplicate,
                  rows_quarantined, rows_dropped, started_at, finished_at, message, report_path,
                  profile, encoding, retry_of, coalesce(q.still, 0) AS quarantined_now,
                  CASE WHEN status = 'loaded' AND rows_quarantined > 0
                       THEN 'loaded_with_quarantine' ELSE status END AS outcome,
                  rows_read = rows_loaded + rows_duplicate + rows_quarantined + rows_dropped
                      AS balanced
           FROM etl_load
           LEFT JOIN (SELECT load_id, count(*) AS still FROM etl_quarantine
                      WHERE released_by IS NULL GROUP BY load_id) q USING (load_id)
           ORDER BY load_id DESC LIMIT ?""",
        params=[limit],
    ).pl()


def load_totals(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Totals over every load ever made, for the page's headline numbers.

    The history table shows the latest loads only; these count all of them: files loaded,
    rows read from files, rows loaded (by files and by quarantine retries), rows in
    quarantine now (a retry releases some), and when the last load finished.
    """
    files, read, loaded, last = con.execute(
        """SELECT count(*) FILTER (WHERE status = 'loaded'),
                  coalesce(sum(rows_read) FILTER (WHERE retry_of IS NULL), 0),
                  coalesce(sum(rows_loaded), 0), max(finished_at)
           FROM etl_load"""
    ).fetchall()[0]
    quarantined = con.execute(
        "SELECT count(*) FROM etl_quarantine WHERE released_by IS NULL"
    ).fetchall()[0][0]
    return {
        "files_loaded": int(files),
        "rows_read": int(read),
        "rows_loaded": int(loaded),
        "rows_quarantined": int(quarantined),
        "last_finished_at": last,
    }


def quarantined_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    load_id: int | None = None,
    limit: int = 1000,
    rule: str | None = None,
) -> pl.DataFrame:
    """Rows in quarantine now, with the rules they fail and the record as read.

    A row a quarantine retry released (loaded, or found a duplicate) is no longer listed.

    ``load_id`` keeps one load's rows, ``rule`` the rows that failed that rule (among
    others), so an operator can read all the rows behind one bar of the rule chart.

    Columns: load_id, file_name, source_row, rules (comma-separated), raw_record (JSON
    text: column name to the text value as read), ordered by load and row.
    """
    return con.sql(
        """SELECT q.load_id, l.file_name, q.source_row, array_to_string(q.rules, ', ') AS rules,
                  q.raw_record::VARCHAR AS raw_record
           FROM etl_quarantine q JOIN etl_load l USING (load_id)
           WHERE q.released_by IS NULL AND ($load_id IS NULL OR q.load_id = $load_id)
             AND ($rule IS NULL OR list_contains(q.rules, $rule))
           ORDER BY q.load_id, q.source_row LIMIT $limit""",
        params={"load_id": load_id, "rule": rule, "limit": limit},
    ).pl()


def rule_counts(con: duckdb.DuckDBPyConnection, *, load_id: int | None = None) -> pl.DataFrame:
    """How many quarantined rows failed each validation rule, most frequent first.

    A row failing two rules counts once under each, so the counts can add up to more than
    the rows quarantined; ``share`` is of the quarantined rows in scope (one load, or every
    load when ``load_id`` is None), so it reads "42% of the rejected rows failed this".

    Columns: rule, rows (BIGINT), share (0-1); sorted by rows descending, then rule.
    """
    return con.sql(
        """WITH q AS (
               SELECT rules FROM etl_quarantine
               WHERE released_by IS NULL AND ($load_id IS NULL OR load_id = $load_id)
           ),
           failed AS (SELECT unnest(rules) AS rule FROM q)
           SELECT rule, count(*)::BIGINT AS rows,
                  count(*) / (SELECT count(*) FROM q)::DOUBLE AS share
           FROM failed GROUP BY rule ORDER BY rows DESC, rule""",
        params={"load_id": load_id},
    ).pl()


def orphan_reversals(
    con: duckdb.DuckDBPyConnection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """Reversal rows (冲正) in [start, end) whose original transaction is not in the warehouse.

    The KPI layer counts an error on the reversed original, so a reversal whose original
    was never loaded (a missing export of an earlier month, a mistyped id) is an error
    nobody sees; the data-quality page lists them so the export can be fixed.

    Filters: outlets, township, outlet_type (of the outlet where the reversal happened).

    Returns:
        txn_id, outlet_code, business_date, reversal_of (the missing original's id),
        ordered by day, outlet and id.
    """
    f = make_filters(start, end, **filters)
    for name in ("channel", "business_type", "position"):
        if getattr(f, name) is not None:
            raise ValueError(f"orphaned reversals are per outlet; drop the {name!r} filter")
    return con.sql(
        """SELECT r.txn_id, r.outlet_code, r.business_date, r.reversal_of
           FROM fact_transaction r JOIN dim_outlet o USING (outlet_code)
           WHERE r.status = 'reversed' AND r.reversal_of IS NOT NULL
             AND r.business_date >= $start AND r.business_date < $end
             AND ($outlets IS NULL OR list_contains($outlets, o.outlet_code))
             AND NOT EXISTS (SELECT 1 FROM fact_transaction t WHERE t.txn_id = r.reversal_of)
           ORDER BY r.business_date, r.outlet_code, r.txn_id""",
        params={
            "start": f.start,
            "end": f.end,
            "outlets": outlets_in_view(con, f),
        },
    ).pl()
