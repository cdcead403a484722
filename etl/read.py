r"""Read one export file (CSV/TSV/TXT or XLSX) into an all-text table, strictly.

The union's exports come from several systems: UTF-8 with or without BOM, GBK/GB18030 from
older ones, any of four delimiters, Excel files with a title row above the header and a
合计 row at the bottom. This module turns one such file into a :class:`RawTable` whose
values are exactly the text in the file (the 合计 rows too: staging recognises them, see
:mod:`etl.subtotals`). It never guesses types (IDs keep their leading zeros; ``6.22E+18``
stays that text so the validator can reject it) and never repairs bytes: anything it cannot
read faithfully is a :class:`ReadError` naming the file and, where known, the line. Big
plain UTF-8 CSVs usually bypass it (:mod:`etl.direct`); this module is the reference those
must agree with, and the path for everything else.

Text files are parsed by polars with every column as ``pl.String``. A UTF-8 file is parsed
in place (polars rejects invalid UTF-8 itself; the title and header rows it skips are
decoded here). Only when that fails, or for another encoding, is the whole file decoded in
Python, in newline-aligned chunks: to find the line of a bad byte, or to transcode GB18030
to a temporary UTF-8 file. The newline byte 0x0A is never part of a multi-byte character in
UTF-8 or GB18030 (nor in GBK, Big5, Shift-JIS), so cutting after a newline never splits a
character and a plain strict ``bytes.decode`` per chunk gives the bad byte's exact offset.

Rules worth knowing:

* Encoding detection: a UTF-8 BOM means ``utf-8-sig``; else a file that is valid UTF-8 is
  ``utf-8``; else a valid GB18030 file is ``gb18030``; else :class:`ReadError`. One
  refinement: a file whose text before its first invalid byte already holds several UTF-8
  multi-byte characters is taken as UTF-8 with a corrupt byte (typically one GBK value
  pasted into a UTF-8 file) and rejected at that line, because decoding it as GB18030
  would "succeed" and silently turn all its Chinese into mojibake.
* Delimiter: the one among ``,`` ``\t`` ``;`` ``|`` that splits the most of the first
  rows into the same number (> 1) of fields; ties go to the larger field count, then to
  that order.
* Header: the first row that ``header_hint`` accepts, or without a hint the first row
  with more than half as many non-empty cells as the fullest of the first 20 rows ("more
  than" so that a title in A1 of a two-column sheet is not taken for the header). Rows
  above it are title rows.
* Line ends: LF or CRLF. A carriage return alone is part of the value, as polars reads it;
  in the header (a file whose lines end in CR alone) it is a :class:`ReadError`.
* Rows: ``__row`` numbers records after the header (1 = first). Records with no value at
  all (blank lines, ``,,,,`` lines, empty sheet rows) are dropped but keep their number,
  so ``__row`` still points at the place in the file. A record with more fields than the
  header is a :class:`ReadError`; one with fewer is padded with nulls.
* Columns: an empty header cell gets the frame name ``__col<N>`` (1-based position); such
  a column is dropped (from ``header`` too) when it is a trailing one with no values,
  which is what spreadsheet exports pad rows with. Duplicate header names are a
  :class:`ReadError`, since the mapping step could not tell them apart; so is a name
  holding a NUL byte, which no column name can.
* Workbooks: a part that would inflate like a zip bomb, rows numbered beyond Excel's
  1,048,576, more than 50 million cells under the header, or a sheet whose XML breaks
  while it is read are each a :class:`ReadError`, never a hang or a crash.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import math
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import chain, islice
from pathlib import Path
from typing import Any

import polars as pl

ROW_COLUMN = "__row"
DELIMITERS = (",", "\t", ";", "|")

_CHUNK_BYTES = 16 << 20
_HEAD_BYTES = 1 << 20
_SCAN_ROWS = 20
_UTF8_EVIDENCE_BYTES = 12  # multi-byte UTF-8 bytes before a bad byte that settle "UTF-8"
_BOM = codecs.BOM_UTF8
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_LONE_CR = re.compile(r"\r(?!\n)")
_EXCEL_INT_LIMIT = 10**15  # Excel keeps 15 significant digits; beyond that they are gone
# The csv module refuses a value over 128 KiB by default; polars takes any. The head is
# parsed with the csv module, so without this a long value among the first rows would
# reject a file that loads with the same value further down.
_CSV_FIELD_LIMIT = 2**31 - 1
# Excel's last row: a sheet numbering rows beyond it was not written by Excel, and
# openpyxl yields an empty row for every number skipped, so row 2,000,000,000 would hang.
_EXCEL_MAX_ROWS = 1_048_576
# Rows x header columns held in memory (Excel's rows at 47 columns): a sparse sheet with a
# wide header costs memory for every empty cell, far beyond its size on disk.
_XLSX_MAX_CELLS = 50_000_000
# A workbook part expanding more than this (and to more than the size below) is a zip
# bomb: Excel's sheets compress 10-20 times; deflate's limit is about 1,000.
_ZIP_BOMB_RATIO = 200
_ZIP_BOMB_MIN_BYTES = 64 << 20
_XLSX_MAX_BYTES = 4 << 30  # all parts expanded; a full Excel sheet is about 1 GB of XML


class ReadError(Exception):
    """A file cannot be read as an export; the message names the file (and line when known)."""


@dataclass(frozen=True)
class RawTable:
    """One export file as text: the header, the rows, and how the file was read."""

    path: Path
    header: list[str]
    frame: pl.DataFrame
    encoding: str
    delimiter: str | None
    title_rows: int


HeaderHint = Callable[[list[str]], bool]


def read_export(
    path: Path,
    *,
    encoding: str | None = None,
    header_hint: HeaderHint | None = None,
    sheet: str | int | None = None,
) -> RawTable:
    """Read one export file into a :class:`RawTable` of text, refusing anything doubtful.

    Why this shape: mapping and validation must see exactly what the branch exported, so
    that every rejected value can be shown to the person who fixes the source system. So
    values are never typed, trimmed or re-decoded here, and a file that cannot be read
    faithfully fails as a whole with a message naming the file and line.

    ``encoding`` overrides detection (any ASCII-compatible codec, e.g. ``"gbk"``).
    ``header_hint`` receives each of the first 20 rows as whitespace-stripped cells and
    returns True for the header row. ``sheet`` picks an Excel sheet by name or 0-based
    index (default: the first); it is ignored for text files. Excel files report encoding
    ``"utf-8"`` and delimiter None.
    """
    path = Path(path)
    if is_workbook(path):
        return _read_xlsx(path, header_hint, sheet)
    return _read_text(path, encoding, header_hint)


def is_workbook(path: Path) -> bool:
    """Whether ``path`` is an Excel workbook (True) or a text export (False).

    Decided by the first bytes as well as the suffix, because exports are often renamed;
    both readers (this module's and :mod:`etl.direct`) ask here so they never disagree.
    A missing, empty or legacy ``.xls`` file is a :class:`ReadError`.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            magic = fh.read(len(_OLE_MAGIC))
    except OSError as exc:
        raise ReadError(f"{path}: cannot open: {exc.strerror or exc}") from exc
    if size == 0:
        raise ReadError(f"{path} is empty")
    if magic.startswith(_OLE_MAGIC):
        raise ReadError(f"{path}: legacy .xls workbook; save it as .xlsx or CSV")
    return magic.startswith(_ZIP_MAGIC) or path.suffix.lower() in _EXCEL_SUFFIXES


# --------------------------------------------------------------------------- text files


@dataclass(frozen=True)
class _DecodeFailure:
    """Where a strict decode stopped: enough to tell the user which line to fix."""

    encoding: str
    offset: int
    line: int
    bad: bytes
    multibyte_before: int  # bytes beyond one per character decoded before the failure

    def error(self, path: Path, note: str = "") -> ReadError:
        shown = " ".join(f"0x{b:02X}" for b in self.bad)
        return ReadError(
            f"{path}: line {self.line}: bytes {shown} at byte offset {self.offset} "
            f"are not valid {self.encoding}{note}"
        )


class _NotPlainUtf8(Exception):
    """The quick UTF-8 read failed; the whole file must be checked to say why."""


def _read_text(path: Path, encoding: str | None, header_hint: HeaderHint | None) -> RawTable:
    """Parse a text export, validating or transcoding it to UTF-8 first when needed.

    Most exports are UTF-8, and polars checks UTF-8 strictly itself, so those are first
    parsed in place (the title and header rows polars skips are decoded here). Only when
    that fails, or the file is in another encoding, is the whole file decoded in Python:
    that finds the bad byte's line, or detects GB18030 and transcodes it.
    """
    if encoding is None or _codec_name(encoding) in ("utf-8", "utf-8-sig"):
        with path.open("rb") as fh:
            used = "utf-8-sig" if fh.read(len(_BOM)) == _BOM else "utf-8"
        try:
            return _text_table(path, path, used, header_hint, quick=True)
        except _NotPlainUtf8:
            pass
    with tempfile.TemporaryDirectory(prefix="rccdash-read-") as tmp:
        used, utf8_path = _to_utf8(path, encoding, Path(tmp) / "utf8.csv")
        return _text_table(path, utf8_path, used, header_hint, quick=False)


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError as exc:
        raise ValueError(f"unknown encoding {encoding!r}") from exc


def _text_table(
    path: Path, utf8_path: Path, used: str, header_hint: HeaderHint | None, *, quick: bool
) -> RawTable:
    """Find delimiter and header in the UTF-8 text, then parse the records with polars.

    With ``quick`` the UTF-8 file has not been validated yet: any decoding or parsing
    failure raises :class:`_NotPlainUtf8` so the caller can validate and explain.
    """
    try:
        layout = text_layout(utf8_path, path, header_hint)
    except UnicodeDecodeError as exc:
        if quick:
            raise _NotPlainUtf8 from exc
        raise ReadError(f"{path}: not valid UTF-8 after decoding: {exc}") from exc
    skip = layout.title_rows + 1
    try:
        frame = _parse_csv(utf8_path, layout.delimiter, skip, layout.names)
    except pl.exceptions.PolarsError as exc:
        if quick:
            raise _NotPlainUtf8 from exc
        raise _explain_parse_failure(
            utf8_path, path, layout.delimiter, skip, len(layout.names), exc
        ) from exc
    frame, header = _finish(frame, layout.header, layout.names)
    return RawTable(
        path=path,
        header=header,
        frame=frame,
        encoding=used,
        delimiter=layout.delimiter,
        title_rows=layout.title_rows,
    )


@dataclass(frozen=True)
class TextLayout:
    """Where the data of a text export is: delimiter, title rows, header and column names."""

    delimiter: str
    title_rows: int
    header: list[str]
    names: list[str]


def text_layout(utf8_path: Path, path: Path, header_hint: HeaderHint | None) -> TextLayout:
    """Sniff the delimiter and find the header from the first rows of a UTF-8 text file.

    Only the head of the file is read, so the DuckDB-direct reader (:mod:`etl.direct`) can
    lay a file out exactly as this module would before deciding how to read the rest.
    Raises ``UnicodeDecodeError`` when the head is not UTF-8, :class:`ReadError` when it is
    empty, has no recognisable header or repeats a header name; ``path`` names the file
    in those messages (``utf8_path`` may be a transcoded copy).
    """
    delimiter, rows = _read_head(utf8_path, path)
    if not any(any(c.strip() for c in r) for r in rows):
        raise ReadError(f"{path} is empty")
    title_rows = _find_header(rows, header_hint, path)
    header = _clean_header(rows[title_rows])
    if any(_LONE_CR.search(name) for name in header):
        raise ReadError(
            f"{path}: line {title_rows + 1}: the header holds a carriage return without a"
            " line feed (lines ending in CR alone); save the file with LF or CRLF line ends"
        )
    return TextLayout(delimiter, title_rows, header, _frame_names(header, path))


def _to_utf8(path: Path, encoding: str | None, scratch: Path) -> tuple[str, Path]:
    """Return the encoding used and a UTF-8 file with the same text (the original if it is one)."""
    with path.open("rb") as fh:
        has_bom = fh.read(len(_BOM)) == _BOM
    if encoding is not None:
        return _given_encoding(path, encoding, has_bom, scratch)
    if has_bom:
        _raise_on(_scan(path, "utf-8"), path)
        return "utf-8-sig", path
    utf8_failure = _scan(path, "utf-8")
    if utf8_failure is None:
        return "utf-8", path
    if utf8_failure.multibyte_before >= _UTF8_EVIDENCE_BYTES:
        raise utf8_failure.error(path, " (the text before it is UTF-8)")
    gb_failure = _transcode(path, "gb18030", scratch)
    if gb_failure is None:
        return "gb18030", scratch
    further = max(utf8_failure, gb_failure, key=lambda f: f.offset)
    raise further.error(path, " (the file is neither valid UTF-8 nor valid GB18030)")


def _given_encoding(path: Path, encoding: str, has_bom: bool, scratch: Path) -> tuple[str, Path]:
    """Honour a caller's encoding; UTF-8 files are read in place, others transcoded."""
    name = _codec_name(encoding)
    if name in ("utf-8", "utf-8-sig"):
        _raise_on(_scan(path, "utf-8"), path)
        return ("utf-8-sig" if has_bom else "utf-8"), path
    probe = '\n\r\t,;|" az09'
    try:
        ascii_compatible = probe.encode(name) == probe.encode("ascii")
    except UnicodeError:
        ascii_compatible = False
    if not ascii_compatible:
        raise ValueError(f"encoding {encoding!r} is not ASCII-compatible; not supported")
    _raise_on(_transcode(path, name, scratch), path)
    return name, scratch


def _raise_on(failure: _DecodeFailure | None, path: Path) -> None:
    if failure is not None:
        raise failure.error(path)


def _transcode(path: Path, encoding: str, target: Path) -> _DecodeFailure | None:
    """Write ``path`` decoded as ``encoding`` to ``target`` as UTF-8; stop at a bad byte."""
    with target.open("wb") as sink:
        return _scan(path, encoding, sink.write)


def _scan(
    path: Path, encoding: str, sink: Callable[[bytes], object] | None = None
) -> _DecodeFailure | None:
    """Strictly decode the whole file in newline-aligned chunks; the first failure, if any.

    Memory stays at a few chunks whatever the file size. With a ``sink`` the decoded text
    is passed on as UTF-8 (that is the GB18030 transcoding).
    """
    lines = consumed = multibyte = 0
    for piece in _newline_chunks(path):
        try:
            text = piece.decode(encoding)
        except UnicodeDecodeError as exc:
            good = piece[: exc.start]
            return _DecodeFailure(
                encoding=encoding,
                offset=consumed + exc.start,
                line=lines + good.count(b"\n") + 1,
                bad=piece[exc.start : max(exc.end, exc.start + 1)][:4],
                multibyte_before=multibyte + len(good) - len(good.decode(encoding)),
            )
        multibyte += len(piece) - len(text)
        lines += piece.count(b"\n")
        consumed += len(piece)
        if sink is not None:
            sink(text.encode("utf-8"))
    return None


def _newline_chunks(path: Path) -> Iterator[bytes]:
    """Yield the file's bytes in pieces of about ``_CHUNK_BYTES``, each ending after a newline."""
    carry = b""
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK_BYTES):
            data = carry + block if carry else block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            carry = data[cut:]
            yield data[:cut] if cut < len(data) else data
    if carry:
        yield carry


def _read_head(utf8_path: Path, path: Path) -> tuple[str, list[list[str]]]:
    """Return the delimiter and the first ``_SCAN_ROWS`` records, reading more if needed."""
    with _any_field_size():
        return _read_head_records(utf8_path, path)


@contextlib.contextmanager
def _any_field_size() -> Iterator[None]:
    """Let the csv module parse values of any length inside, as polars does."""
    before = csv.field_size_limit()
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _read_head_records(utf8_path: Path, path: Path) -> tuple[str, list[list[str]]]:
    want = _HEAD_BYTES
    while True:
        text, whole = _head_text(utf8_path, want)
        delimiter = _sniff_delimiter(text, whole)
        try:
            rows = _complete_records(text, whole, delimiter)
        except csv.Error as exc:
            raise ReadError(f"{path}: malformed CSV near the top: {exc}") from exc
        if rows or whole:
            return delimiter, rows
        want *= 4


def _head_text(utf8_path: Path, want: int) -> tuple[str, bool]:
    """Return up to ``want`` bytes of the file, cut after a newline, and whether that is all."""
    with utf8_path.open("rb") as fh:
        data = fh.read(want)
        whole = not fh.read(1)
    if not whole:
        data = data[: data.rfind(b"\n") + 1]
    return data.decode("utf-8-sig"), whole


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    """The records of ``text`` as polars parses the rest of the file.

    The csv module ends a record at a carriage return without a line feed; polars only
    at a line feed (a CR before it aside), keeping a lone CR in the value. Were the head
    parsed otherwise than the data, the header could end at a lone CR where polars's
    first line runs on, and polars, skipping that line, would lose a record unseen.
    So a lone CR is handed to the csv module as a character it keeps, and put back.
    """
    if _LONE_CR.search(text) is None:
        return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    stand_in = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in text)
    rows = csv.reader(
        io.StringIO(_LONE_CR.sub(stand_in, text), newline=""), delimiter=delimiter, quotechar='"'
    )
    return ([cell.replace(stand_in, "\r") for cell in row] for row in rows)


def _complete_records(text: str, whole: bool, delimiter: str) -> list[list[str]]:
    """Return the first ``_SCAN_ROWS`` records that surely end within ``text``.

    When ``text`` is only the head of the file its last record may be cut short (a quoted
    field running past the cut), so it is left out unless more records follow it.
    """
    try:
        rows = list(islice(_records(text, delimiter), _SCAN_ROWS + 1))
    except csv.Error:
        if whole:
            raise
        return []
    if not whole and len(rows) <= _SCAN_ROWS:
        rows = rows[:-1]
    return rows[:_SCAN_ROWS]


def _sniff_delimiter(text: str, whole: bool) -> str:
    """Pick the delimiter that splits most of the first rows into one field count (> 1)."""

    def score(delimiter: str) -> tuple[int, int]:
        try:
            rows = _complete_records(text, whole, delimiter)
        except csv.Error:
            return (0, 0)
        counts = Counter(len(r) for r in rows if len(r) > 1)
        if not counts:
            return (0, 0)
        width, support = max(counts.items(), key=lambda item: (item[1], item[0]))
        return (support, width)

    scores = {d: score(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (*scores[d], -DELIMITERS.index(d)))
    return best if scores[best] > (0, 0) else DELIMITERS[0]


def _parse_csv(utf8_path: Path, delimiter: str, skip: int, names: list[str]) -> pl.DataFrame:
    """Parse the data records with polars: all String, no inference, strict UTF-8."""
    return pl.read_csv(
        utf8_path,
        has_header=False,
        separator=delimiter,
        quote_char='"',
        skip_rows=skip,
        schema=dict.fromkeys(names, pl.String),
        infer_schema=False,
        null_values=[""],
        encoding="utf8",
        raise_if_empty=False,
        truncate_ragged_lines=False,
    )


def _explain_parse_failure(
    utf8_path: Path, path: Path, delimiter: str, skip: int, width: int, exc: Exception
) -> ReadError:
    """Re-read with the csv module to find the line polars choked on (slow, error path)."""
    with _any_field_size(), utf8_path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, quotechar='"', strict=True)
        last_line = 0
        try:
            for index, record in enumerate(reader):
                first_line, last_line = last_line + 1, reader.line_num
                if index >= skip and len(record) > width:
                    return ReadError(
                        f"{path}: line {first_line}: {len(record)} fields, "
                        f"but the header has {width}"
                    )
        except csv.Error as err:
            return ReadError(
                f"{path}: line {last_line + 1}: malformed CSV in the record starting here: {err}"
            )
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ReadError(
        f"{path}: cannot parse as {_delimiter_name(delimiter)} text ({detail}); "
        "look for a '\"' inside an unquoted value"
    )


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "tab-separated", ",": "comma-separated"}.get(
        delimiter, f"{delimiter!r}-separated"
    )


# --------------------------------------------------------------------------- header


def _find_header(rows: Sequence[Sequence[str]], hint: HeaderHint | None, path: Path) -> int:
    """Index of the header among the first rows; everything above it is title."""
    cleaned = [[c.strip() for c in row] for row in rows[:_SCAN_ROWS]]
    if hint is not None:
        for index, cells in enumerate(cleaned):
            if hint(cells):
                return index
        raise ReadError(f"{path}: none of the first {len(cleaned)} rows looks like the header")
    filled = [sum(1 for c in cells if c) for cells in cleaned]
    widest = max(filled, default=0)
    if widest == 0:
        raise ReadError(f"{path} is empty")
    return next(i for i, n in enumerate(filled) if 2 * n > widest)


def _clean_header(cells: Iterable[str | None]) -> list[str]:
    """Header names without surrounding whitespace (full-width too) or a stray BOM."""
    return [(c or "").lstrip("\ufeff").strip() for c in cells]


def _frame_names(header: list[str], path: Path) -> list[str]:
    """Name the frame columns: the header's names, or ``__col<N>`` for an empty cell."""
    seen: dict[str, int] = {}
    names = []
    for position, name in enumerate(header, start=1):
        if name == ROW_COLUMN:
            raise ReadError(f"{path}: column {position} is named {ROW_COLUMN!r}, which is reserved")
        if "\x00" in name:  # no column name can hold it (Arrow's C interface, DuckDB's SQL)
            raise ReadError(f"{path}: header name {name!r} (column {position}) holds a NUL byte")
        # Names equal but for case collide too: SQL identifiers ignore case.
        if name.casefold() in seen:
            raise ReadError(
                f"{path}: header name {name!r} appears twice, ignoring case"
                f" (columns {seen[name.casefold()]} and {position})"
            )
        if name:
            seen[name.casefold()] = position
        names.append(name or f"__col{position}")
    return names


def _finish(
    frame: pl.DataFrame, header: list[str], names: list[str]
) -> tuple[pl.DataFrame, list[str]]:
    """Add ``__row``; drop empty records and trailing unnamed columns without values."""
    frame = frame.with_row_index(ROW_COLUMN, offset=1).with_columns(
        pl.col(ROW_COLUMN).cast(pl.Int64)
    )
    keep = len(names)
    while keep > 1 and not header[keep - 1] and frame[names[keep - 1]].null_count() == frame.height:
        keep -= 1
    if keep < len(names):
        frame = frame.drop(names[keep:])
        header, names = header[:keep], names[:keep]
    if frame.height and names:
        # By position: a header may be "*" or "^id$", which pl.col reads as patterns.
        has_value = pl.any_horizontal(pl.nth(*range(1, len(names) + 1)).is_not_null())
        if frame.select((~has_value).any()).item():
            frame = frame.filter(has_value)
    return frame, header


# --------------------------------------------------------------------------- Excel


def _read_xlsx(path: Path, header_hint: HeaderHint | None, sheet: str | int | None) -> RawTable:
    """Read one sheet with openpyxl (read-only, cached values), converting cells to text.

    openpyxl parses the sheet only as its rows are asked for, so a part that is broken
    (truncated XML, a bad cell reference, a corrupt deflate stream) fails in the middle of
    reading: any such failure is a :class:`ReadError`, like a workbook that does not open.
    """
    import openpyxl  # imported here so that text exports read without it

    _check_archive(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ReadError(f"{path}: not a readable .xlsx workbook: {_first_line(exc)}") from exc
    try:
        worksheet = _pick_sheet(workbook, sheet, path)
        return _read_sheet(path, worksheet, header_hint)
    except ReadError:
        raise
    except Exception as exc:  # raised by the parser while the rows are read
        raise ReadError(f"{path}: the workbook's sheet cannot be read: {_first_line(exc)}") from exc
    finally:
        workbook.close()


def _read_sheet(path: Path, worksheet: Any, header_hint: HeaderHint | None) -> RawTable:
    """The sheet's header and rows as text (see :func:`_read_xlsx`)."""
    worksheet.reset_dimensions()  # a wrong stored <dimension> would truncate rows
    rows = ([_cell_text(v) for v in values] for values in worksheet.iter_rows(values_only=True))
    head = list(islice(rows, _SCAN_ROWS))
    if not any(any(c is not None for c in r) for r in head):
        raise ReadError(f"{path}: sheet {worksheet.title!r} is empty")
    text_head = [[c or "" for c in r] for r in head]
    title_rows = _find_header(text_head, header_hint, path)
    header = _clean_header(text_head[title_rows])
    while header and not header[-1]:
        header.pop()
    names = _frame_names(header, path)
    # Streamed, not listed first: the limits in _xlsx_columns must see the rows as they come.
    data = _xlsx_columns(chain(head[title_rows + 1 :], rows), len(names), path, title_rows + 2)
    frame = pl.DataFrame(
        dict(zip(names, data, strict=True)), schema=dict.fromkeys(names, pl.String)
    )
    frame, header = _finish(frame, header, names)
    return RawTable(
        path=path,
        header=header,
        frame=frame,
        encoding="utf-8",
        delimiter=None,
        title_rows=title_rows,
    )


def _check_archive(path: Path) -> None:
    """Refuse a file that is not a zip archive, or whose parts expand like a zip bomb.

    Why before openpyxl: it inflates parts as it reads them, so a bomb would cost minutes
    and gigabytes before anything failed. The sizes checked are those the archive
    declares, which Python's zipfile enforces: a part inflating beyond its declared size
    fails its CRC check instead.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ReadError(f"{path}: not a readable .xlsx workbook: {_first_line(exc)}") from exc
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > _ZIP_BOMB_MIN_BYTES and ratio > _ZIP_BOMB_RATIO:
            raise ReadError(
                f"{path}: part {part.filename!r} would expand {ratio:,.0f}-fold to"
                f" {part.file_size / 2**20:,.0f} MB; refusing a zip bomb"
            )
    total = sum(part.file_size for part in parts)
    if total > _XLSX_MAX_BYTES:
        raise ReadError(
            f"{path}: the workbook would expand to {total / 2**30:,.1f} GB;"
            f" more than an Excel sheet can hold ({_XLSX_MAX_BYTES / 2**30:.0f} GB)"
        )


def _first_line(exc: BaseException) -> str:
    """An exception as one short line: its first line of text, or its type."""
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _pick_sheet(workbook: Any, sheet: str | int | None, path: Path) -> Any:
    sheets = workbook.worksheets
    names = [ws.title for ws in sheets]
    if isinstance(sheet, str):
        if sheet not in names:
            raise ReadError(f"{path}: no sheet named {sheet!r} (sheets: {', '.join(names)})")
        return sheets[names.index(sheet)]
    index = 0 if sheet is None else sheet
    if not 0 <= index < len(sheets):
        raise ReadError(f"{path}: no sheet number {index} (it has {len(sheets)})")
    return sheets[index]


def _xlsx_columns(
    rows: Iterable[list[str | None]], width: int, path: Path, first_row: int
) -> list[list[str | None]]:
    """Column lists of the data rows, each padded to ``width``; data beyond it is an error."""
    columns: list[list[str | None]] = [[] for _ in range(width)]
    most_rows = _XLSX_MAX_CELLS // max(width, 1)
    for excel_row, cells in enumerate(rows, start=first_row):
        if excel_row > _EXCEL_MAX_ROWS:
            raise ReadError(
                f"{path}: rows beyond row {_EXCEL_MAX_ROWS:,}, Excel's last;"
                " the workbook was not saved by Excel"
            )
        if excel_row - first_row >= most_rows:
            raise ReadError(
                f"{path}: more than {_XLSX_MAX_CELLS:,} cells ({width:,} columns);"
                " too big for the Excel reader, save the sheet as CSV"
            )
        extra = [i for i, c in enumerate(cells[width:], start=width + 1) if c is not None]
        if extra:
            raise ReadError(
                f"{path}: row {excel_row}: value in column {extra[0]}, "
                f"but the header has {width} columns"
            )
        for index in range(width):
            columns[index].append(cells[index] if index < len(cells) else None)
    return columns


def _cell_text(value: object) -> str | None:
    """Render a cell as the text Excel shows for it in General / date formats."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value) if abs(value) < _EXCEL_INT_LIMIT else _number_text(float(value))
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, datetime):
        value = _round_second(value)
        if value.time() == time(0):
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        moment = _round_second(datetime.combine(date(2000, 1, 1), value))
        return moment.strftime("%H:%M:%S")
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
        return f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return str(value)


def _number_text(value: float) -> str:
    """Excel's General display: whole numbers plain, 15 significant digits, ``6.22E+18``.

    Numbers of 10^15 and more have already lost digits in Excel, so they come out in
    scientific form and an ID among them is rejected downstream instead of stored wrong.
    """
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < _EXCEL_INT_LIMIT:
        return str(int(value))
    text = format(value, ".15g")
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}E{int(exponent):+03d}"
    return text


def _round_second(moment: datetime) -> datetime:
    """Excel stores times as fractions of a day; undo the float noise (09:59:59.9999)."""
    if moment.microsecond >= 500_000:
        moment += timedelta(seconds=1)
    return moment.replace(microsecond=0)
