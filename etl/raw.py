"""One export file's records as DuckDB sees them, whichever reader reads them.

Staging (:mod:`etl.stage`) reads the records from :attr:`RawRows.relation`, and quarantine
copies the failing ones' text (:func:`quarantined_records`), so all readers end here:

* a plain UTF-8 CSV (:mod:`etl.direct`) is not read here at all: its relation is
  DuckDB's scan of the file, which staging reads in the same statement that stages it,
  numbering the records by their place in the file; the text of the few quarantined
  records is read back by number (:func:`etl.direct.read_records`);
* when staging cannot keep the file's order in one statement (a profile's SQL joins
  another table), DuckDB reads the plain file into a table first (:func:`materialise`);
* anything else, and any file DuckDB refuses, is read by the reference reader
  (:mod:`etl.read`), whose polars frame is copied in once, with its ``__row`` numbers,
  so the frame can be freed.

A relation gives one text column per header cell, named as the columns of
:class:`~etl.read.RawTable`'s frame and NULL for an empty value, and ``__row`` (the
record's number after the header) unless the records are numbered by position.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from etl.direct import FileBytes, PlainHead, csv_relation, read_records
from etl.mapping import quote
from etl.normalise import dirty_columns
from etl.read import ROW_COLUMN, RawTable, read_export

_TABLE = "raw_records"
_FRAME_VIEW = "raw_frame_in"


@dataclass(frozen=True)
class DirectSource:
    """A plain CSV DuckDB reads itself: where it is, its layout and what its scan found."""

    path: Path
    head: PlainHead
    scanned: FileBytes
    encoding_asked: str | None  # --encoding, for the reference reader if DuckDB refuses


@dataclass(frozen=True)
class RawRows:
    """What staging needs to know about a file's records besides their text."""

    columns: list[str]  # the text columns, in file order
    rows: int  # records holding at least one value
    encoding: str
    clean: frozenset[str]  # columns shown to need no trimming or folding
    relation: str  # SQL giving the text columns (and __row unless ``direct``)
    # Set while the records are numbered by their place in the file, not by a column.
    direct: DirectSource | None = None


def open_raw(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    encoding: str | None,
    plain: tuple[PlainHead, FileBytes] | None = None,
    table: RawTable | None = None,
) -> RawRows:
    """The file's records for staging: DuckDB's scan when ``plain`` allows, else etl.read's.

    Why this order: reading directly is several times cheaper; a file it does not suit is
    read by the reference reader, which raises :class:`~etl.read.ReadError` for a file
    that cannot be read. ``table`` is the reference reader's result when the caller
    already has it.
    """
    drop_raw(con)
    if table is None and plain is not None and plain[1].plain:
        head, scanned = plain
        return RawRows(
            head.names,
            scanned.records - len(scanned.empty),
            head.encoding,
            frozenset(head.names if scanned.clean else ()),
            csv_relation(path, head),
            DirectSource(path, head, scanned, encoding),
        )
    return _copy_in(con, table or read_export(path, encoding=encoding))


def _copy_in(con: duckdb.DuckDBPyConnection, table: RawTable) -> RawRows:
    """Copy the reference reader's frame into the records table, with its numbers."""
    columns = [c for c in table.frame.columns if c != ROW_COLUMN]
    clean = frozenset(columns) - dirty_columns(table.frame)
    con.register(_FRAME_VIEW, table.frame)
    try:
        con.execute(f"CREATE TEMP TABLE {_TABLE} AS SELECT * FROM {_FRAME_VIEW}")
    finally:
        con.unregister(_FRAME_VIEW)
    return RawRows(columns, table.frame.height, table.encoding, clean, f"SELECT * FROM {_TABLE}")


def reference(con: duckdb.DuckDBPyConnection, raw: RawRows) -> RawRows:
    """Read a direct file with etl.read after all (DuckDB refused it or miscounted)."""
    drop_raw(con)
    if raw.direct is None:
        return raw
    return _copy_in(con, read_export(raw.direct.path, encoding=raw.direct.encoding_asked))


def materialise(con: duckdb.DuckDBPyConnection, raw: RawRows) -> RawRows:
    """Let DuckDB read a direct file into the records table, numbered by ``rowid``.

    A plain scan into a table keeps the file's order; the records without any value are
    deleted, which leaves the others' numbers as they are. A file DuckDB refuses or
    miscounts is read by the reference reader instead.
    """
    source = raw.direct
    if source is None:
        return raw
    drop_raw(con)
    try:
        con.execute(f"CREATE TEMP TABLE {_TABLE} AS {raw.relation}")
    except duckdb.Error:  # a byte DuckDB refuses: etl.read says which line
        return reference(con, raw)
    read = con.execute(f"SELECT count(*) FROM {_TABLE}").fetchall()[0][0]
    if read != source.scanned.records:
        return reference(con, raw)  # cannot happen for a plain file; never trust it blind
    delete_empty(con, _TABLE, source.scanned)
    columns = ", ".join(quote(n) for n in raw.columns)
    relation = f"SELECT rowid + 1 AS {ROW_COLUMN}, {columns} FROM {_TABLE}"
    return RawRows(raw.columns, raw.rows, raw.encoding, raw.clean, relation)


def delete_empty(con: duckdb.DuckDBPyConnection, table: str, scanned: FileBytes) -> None:
    """Delete a positional table's rows of the records without any value (etl.read skips them)."""
    if scanned.empty:
        con.execute(f"DELETE FROM {table} WHERE rowid + 1 IN (SELECT unnest(?))", [scanned.empty])


def quarantined_records(con: duckdb.DuckDBPyConnection, raw: RawRows, numbers: str) -> str:
    """SQL giving ``__row`` and the text columns of at least the records ``numbers`` lists.

    ``numbers`` is a query giving record numbers. A direct file's records are read back
    from the file (only those asked for); the others are in the records table already.
    """
    if raw.direct is None:
        return raw.relation
    drop_raw(con)
    wanted = [row[0] for row in con.execute(numbers).fetchall()]
    records = read_records(raw.direct.path, raw.direct.head, wanted)
    schema = {ROW_COLUMN: pl.Int64, **dict.fromkeys(raw.columns, pl.String)}
    frame = pl.DataFrame(records, schema=schema, orient="row")
    con.register(_FRAME_VIEW, frame)
    try:
        con.execute(f"CREATE TEMP TABLE {_TABLE} AS SELECT * FROM {_FRAME_VIEW}")
    finally:
        con.unregister(_FRAME_VIEW)
    return f"SELECT * FROM {_TABLE}"


def drop_raw(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the table of a file's records, to free its memory for the next file."""
    con.execute(f"DROP TABLE IF EXISTS {_TABLE}")
