"""One export file's records in a DuckDB temp table, whichever reader read them.

Staging (:mod:`etl.stage`) reads the records from :attr:`RawRows.relation`, and quarantine
copies the failing ones' text from it, so both readers end here:

* a plain UTF-8 CSV (:mod:`etl.direct`) is read by DuckDB straight into the table; its
  records are numbered by their place in it (a plain scan keeps the file's order);
* anything else, and any file DuckDB refuses (a byte that is not UTF-8), is read by the
  reference reader (:mod:`etl.read`), whose polars frame is copied in once, with its
  ``__row`` numbers, so the frame can be freed.

Either way the relation has ``__row`` (the record's number after the header) and one text
column per header cell, named as the columns of :class:`~etl.read.RawTable`'s frame and
NULL for an empty value; records without any value are not in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from etl.direct import FileBytes, PlainHead, csv_relation
from etl.mapping import quote
from etl.normalise import dirty_columns
from etl.read import ROW_COLUMN, RawTable, read_export

_TABLE = "raw_records"
_FRAME_VIEW = "raw_frame_in"


@dataclass(frozen=True)
class RawRows:
    """What staging needs to know about a file's records besides their text."""

    columns: list[str]  # the text columns, in file order
    rows: int  # records holding at least one value
    encoding: str
    clean: frozenset[str]  # columns shown to need no trimming or folding
    relation: str  # SQL giving __row and the text columns


def open_raw(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    encoding: str | None,
    plain: tuple[PlainHead, FileBytes] | None = None,
    table: RawTable | None = None,
) -> RawRows:
    """Read the file's records into DuckDB: directly when ``plain`` allows, else via etl.read.

    Why this order: reading directly is several times cheaper; a file it does not suit,
    or that DuckDB refuses, is read by the reference reader, which raises
    :class:`~etl.read.ReadError` for a file that cannot be read. ``table`` is the
    reference reader's result when the caller already has it.
    """
    drop_raw(con)
    if table is None and plain is not None and plain[1].plain:
        direct = _read_directly(con, path, *plain)
        if direct is not None:
            return direct
    table = table or read_export(path, encoding=encoding)
    columns = [c for c in table.frame.columns if c != ROW_COLUMN]
    clean = frozenset(columns) - dirty_columns(table.frame)
    con.register(_FRAME_VIEW, table.frame)
    try:
        con.execute(f"CREATE TEMP TABLE {_TABLE} AS SELECT * FROM {_FRAME_VIEW}")
    finally:
        con.unregister(_FRAME_VIEW)
    return RawRows(columns, table.frame.height, table.encoding, clean, f"SELECT * FROM {_TABLE}")


def _read_directly(
    con: duckdb.DuckDBPyConnection, path: Path, head: PlainHead, scanned: FileBytes
) -> RawRows | None:
    """Let DuckDB read a plain CSV; None (and no table) if it refuses or miscounts.

    The records are numbered by ``rowid``, their place in the table; the records without
    any value are deleted, which leaves the others' numbers as they are.
    """
    try:
        con.execute(f"CREATE TEMP TABLE {_TABLE} AS {csv_relation(path, head)}")
    except duckdb.Error:  # a byte that is not UTF-8: etl.read says which line
        drop_raw(con)
        return None
    if con.execute(f"SELECT count(*) FROM {_TABLE}").fetchall()[0][0] != scanned.records:
        drop_raw(con)  # cannot happen for a file the scan found plain; never trust it blind
        return None
    if scanned.empty:
        con.execute(f"DELETE FROM {_TABLE} WHERE rowid + 1 IN (SELECT unnest(?))", [scanned.empty])
    columns = ", ".join(quote(n) for n in head.names)
    relation = f"SELECT rowid + 1 AS {ROW_COLUMN}, {columns} FROM {_TABLE}"
    clean = frozenset(head.names if scanned.clean else ())
    return RawRows(head.names, scanned.records - len(scanned.empty), head.encoding, clean, relation)


def drop_raw(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the table of a file's records, to free its memory for the next file."""
    con.execute(f"DROP TABLE IF EXISTS {_TABLE}")
