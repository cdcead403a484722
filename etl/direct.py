"""Let DuckDB read a plain UTF-8 CSV export itself, when that gives etl.read's rows exactly.

The reference reader (:mod:`etl.read`) parses into a polars frame that staging then copies
into DuckDB: for a month of transactions the frame alone is a gigabyte, and parsing plus
copying take longer than DuckDB reading the file into a table itself. But DuckDB's dialect
differs from the reference in corners: it skips blank lines (renumbering the rows
after them), quietly drops one delimiter too many at the end of a line, pads short lines
only when asked, trims spaces around quotes and accepts a stray quote inside a value. So
this path is taken only for files whose bytes rule all of that out (:func:`plain_head`,
then :func:`scan_bytes`):

* the file is text, no encoding but UTF-8 was asked for, its head is UTF-8 (with or
  without BOM), the header is the first row, has at least two cells and a last one with a
  name; the path has no glob characters DuckDB would expand;
* the bytes hold no ``"`` at all, the lines end all in LF or all in CRLF, and every line
  holds exactly one delimiter less than the header has cells, so every line is one record
  with the header's number of fields, and none is blank.

* the bytes are UTF-8 (checked only where a piece holds a byte above ASCII), so DuckDB
  cannot refuse one: a file with a bad byte goes to :mod:`etl.read`, whose error names
  the file and line.

Records are numbered by their place in the file, which a plain scan keeps (see
:mod:`etl.stage`); records without any value are listed by the scan, because etl.read
drops them but keeps the numbers of the others. Because every line is one record split at
every delimiter, :func:`read_records` can give the text of a few numbered records back
(for quarantine) without DuckDB keeping the whole file's text.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from etl.mapping import literal
from etl.read import ReadError, is_workbook, text_layout

# The checks pass over each piece about ten times: a piece that stays in a core's cache
# (L2, about 1-2 MB) makes them a third cheaper than 16 MB pieces (0.40 vs 0.59 s of CPU
# for a 303 MB file).
_BLOCK_BYTES = 1 << 20
# A file this big is checked in two halves at once (see scan_bytes).
_SPLIT_BYTES = 64 << 20
# DuckDB reads the file in buffers of this size; its default left it using about 15%
# more CPU on a 303 MB export (3.1-3.2 s vs 2.6-2.9 s to stage it, 16-64 MB alike).
_DUCKDB_BUFFER_BYTES = 32 << 20
_GLOB_CHARACTERS = set("*?[]{}")
_NEWLINE, _RETURN, _QUOTE = 0x0A, 0x0D, 0x22
# ASCII whitespace that can start or end a value (a value holds no line break here).
_VALUE_WHITESPACE = (0x20, 0x09, 0x0B, 0x0C)


@dataclass(frozen=True)
class PlainHead:
    """The layout of a CSV that may be read directly: header, column names, delimiter."""

    header: list[str]
    names: list[str]
    delimiter: str
    encoding: str  # utf-8 or utf-8-sig


@dataclass(frozen=True)
class FileBytes:
    """What one pass over a file's bytes tells: its digest and, for a plain CSV, its shape."""

    sha256: str
    plain: bool = False  # DuckDB reads it exactly (see the module docstring)
    clean: bool = False  # ASCII only, and no whitespace next to a delimiter or a line end
    records: int = 0  # lines after the header
    empty: tuple[int, ...] = ()  # numbers of the records without any value (1 = first)


def plain_head(path: Path, encoding: str | None) -> PlainHead | None:
    """The layout of a file that may take the direct path, from its head alone; else None.

    Why None rather than an error: a file this path cannot take is read by
    :mod:`etl.read`, which raises the reference error where there is one.
    """
    if encoding is not None and _codec(encoding) not in ("utf-8", "utf-8-sig"):
        return None
    if _GLOB_CHARACTERS & set(str(path.resolve())):
        return None
    try:
        if is_workbook(path):
            return None
        layout = text_layout(path, path, None)
    except (ReadError, UnicodeDecodeError):
        return None
    if layout.title_rows or len(layout.header) < 2 or not layout.header[-1]:
        return None
    with path.open("rb") as fh:
        bom = fh.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
    return PlainHead(layout.header, layout.names, layout.delimiter, "utf-8-sig" if bom else "utf-8")


def _codec(encoding: str) -> str | None:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return None


def scan_bytes(path: Path, head: PlainHead | None = None) -> FileBytes:
    """Hash the file and, given the layout of its head, check its bytes for the direct path.

    Why several passes at once: the digest (which says whether the file was loaded
    before) must read every byte anyway, and hashing and the numpy checks both release
    the GIL, so a thread hashes while others check; a big file is checked in two halves,
    split at a line end (the bytes are in the page cache by then).
    """
    if head is None:
        return FileBytes(_sha256(path))
    parts = _halves(path)
    with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="rccdash-scan") as pool:
        hashing = pool.submit(_sha256, path)
        later = [pool.submit(_check, path, head, start, stop) for start, stop in parts[1:]]
        lines = _check(path, head, *parts[0])
        for part in later:
            lines.absorb(part.result())
        return lines.result(hashing.result())


def _halves(path: Path) -> list[tuple[int, int | None]]:
    """Byte ranges to check apart: two halves split after a line end, or the whole file."""
    size = path.stat().st_size
    if size < _SPLIT_BYTES:
        return [(0, None)]
    with path.open("rb") as handle:
        handle.seek(size // 2)
        tail = handle.read(_BLOCK_BYTES)
    newline = tail.find(b"\n")
    if newline < 0 or size // 2 + newline + 1 >= size:
        return [(0, None)]
    middle = size // 2 + newline + 1
    return [(0, middle), (middle, None)]


def _check(path: Path, head: PlainHead, start: int, stop: int | None) -> _Lines:
    """The checks over the bytes from ``start`` (a line start) to ``stop`` (after a line end)."""
    lines = _Lines(head)
    for piece in _line_pieces(path, start, stop):
        lines.add(piece)
    return lines


def _sha256(path: Path) -> str:
    """The file's SHA-256, as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _line_pieces(path: Path, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
    """The bytes from ``start`` to ``stop`` in pieces of whole lines (the last may lack its end).

    Each piece is about ``_BLOCK_BYTES``, cut after a line end, so no line is split
    between two pieces. The pieces are views of one reused buffer (copying hundreds of
    megabytes costs as much as checking them), so each is only valid until the next is
    asked for.
    """
    buffer = bytearray(_BLOCK_BYTES)
    kept = 0  # bytes of a line not yet ended, at the start of the buffer
    left = None if stop is None else stop - start  # bytes still to read
    with path.open("rb") as handle:
        handle.seek(start)
        while True:
            if kept == len(buffer):  # a line longer than the buffer
                buffer = buffer + bytearray(len(buffer))
            with memoryview(buffer) as view:
                room = view[kept:] if left is None else view[kept : kept + left]
                read = handle.readinto(room)
            if left is not None:
                left -= read
            size = kept + read
            cut = buffer.rfind(b"\n", 0, size) + 1 if read else size
            if cut:
                yield np.frombuffer(buffer, dtype=np.uint8, count=cut)
            buffer[: size - cut] = buffer[cut:size]
            kept = size - cut
            if not read:
                return


def _is_utf8(data: np.ndarray) -> bool:
    """Whether a piece of whole lines is valid UTF-8 (a character never spans a line end)."""
    try:
        codecs.utf_8_decode(data, "strict", True)
    except UnicodeDecodeError:
        return False
    return True


def _line_spans(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each line of a piece starts and ends (at its LF, or at the end of the file)."""
    ends = np.flatnonzero(data == _NEWLINE)
    if ends.size == 0 or ends[-1] != data.size - 1:
        ends = np.append(ends, data.size)  # the file's last line, without a line end
    return np.concatenate(([0], ends[:-1] + 1)), ends


class _Lines:
    """The running checks of :func:`scan_bytes` over pieces made of whole lines."""

    def __init__(self, head: PlainHead) -> None:
        self.delimiter = ord(head.delimiter)
        self.is_whitespace = np.zeros(256, dtype=bool)
        self.is_whitespace[[w for w in _VALUE_WHITESPACE if w != self.delimiter]] = True
        self.is_separator = np.zeros(256, dtype=bool)
        self.is_separator[[self.delimiter, _NEWLINE, _RETURN]] = True
        self.fields = len(head.names)
        self.lines = self.returns = self.newlines = 0
        self.quoted = self.non_ascii = self.undecodable = self.edge = self.misshapen = False
        self.empty: list[int] = []

    def absorb(self, later: _Lines) -> None:
        """Add the checks of the lines that follow these ones in the file."""
        self.empty += [line + self.lines for line in later.empty]
        self.lines += later.lines
        self.returns += later.returns
        self.newlines += later.newlines
        self.quoted = self.quoted or later.quoted
        self.non_ascii = self.non_ascii or later.non_ascii
        self.undecodable = self.undecodable or later.undecodable
        self.edge = self.edge or later.edge
        self.misshapen = self.misshapen or later.misshapen

    def add(self, data: np.ndarray) -> None:
        """Check a piece of the file that starts a line and ends one (or the file)."""
        starts, ends = _line_spans(data)
        self.quoted = self.quoted or bool(np.any(data == _QUOTE))
        if int(data.max()) >= 0x80:
            self.non_ascii = True
            self.undecodable = self.undecodable or not _is_utf8(data)
        returns = int(np.count_nonzero(data == _RETURN))
        newlines = ends.size - int(data[-1] != _NEWLINE)
        self.returns += returns
        self.newlines += newlines
        self.edge = self.edge or self._whitespace_at_edge(data, returns + newlines)
        # Delimiters per line: the delimiter flags summed over each line's bytes.
        is_delimiter = (data == self.delimiter).view(np.uint8)
        per_line = np.add.reduceat(is_delimiter, starts, dtype=np.int64)
        self.misshapen = self.misshapen or bool(np.any(per_line != self.fields - 1))
        # A record without any value is its delimiters alone (and a carriage return).
        stop = ends - ((ends > starts) & (data[np.maximum(ends - 1, 0)] == _RETURN))
        blank = np.flatnonzero(stop - starts == self.fields - 1)
        self.empty += [int(i) + self.lines for i in blank]  # index of the line in the file
        self.lines += ends.size

    def _whitespace_at_edge(self, data: np.ndarray, line_breaks: int) -> bool:
        """Whether whitespace touches a delimiter or line end (the piece starts a line).

        ``line_breaks`` counts the piece's CR and LF bytes. When they are its only bytes
        below 0x20, spaces are the only whitespace (unless the delimiter is one), and
        each byte is compared with its neighbours directly. Otherwise only the bytes up
        to 0x20 are looked at: the cost follows how many of them the file holds.
        """
        if self.is_whitespace[data[0]] or self.is_whitespace[data[-1]]:
            return True
        if self.delimiter != 0x20 and np.count_nonzero(data < 0x20) == line_breaks:
            space = data == 0x20
            separator = (data == self.delimiter) | (data == _NEWLINE) | (data == _RETURN)
            return bool(np.any(space[1:] & separator[:-1]) or np.any(space[:-1] & separator[1:]))
        low = np.flatnonzero(data <= 0x20)
        at = low[self.is_whitespace[data[low]]]
        before = data[at - 1]  # never at 0: the piece does not start with whitespace
        after = data[at[at < data.size - 1] + 1]
        return bool(self.is_separator[before].any() or self.is_separator[after].any())

    def result(self, sha256: str) -> FileBytes:
        """The digest with the verdicts on the whole file."""
        plain = not (self.quoted or self.misshapen or self.undecodable) and self.returns in (
            0,
            self.newlines,
        )
        return FileBytes(
            sha256,
            plain=plain,
            clean=not (self.non_ascii or self.edge),
            records=self.lines - 1,
            empty=tuple(line for line in self.empty if line > 0),  # line i is record i
        )


def csv_relation(path: Path, head: PlainHead) -> str:
    """SQL reading the file's records with DuckDB: the text columns, NULL for empty values.

    Only for a file :func:`scan_bytes` found plain: then these options read each line as
    one record of the header's fields, exactly as etl.read would. Read it into a table
    with nothing but this scan in between, so the table keeps the file's order.
    """
    columns = ", ".join(f"{literal(n)}: 'VARCHAR'" for n in head.names)
    return (
        f"SELECT * FROM read_csv({literal(str(path.resolve()))}, header = true,"
        f" auto_detect = false, columns = {{{columns}}}, delim = {literal(head.delimiter)},"
        " quote = '\"', escape = '\"', strict_mode = true, encoding = 'utf-8',"
        f" compression = 'none', buffer_size = {_DUCKDB_BUFFER_BYTES})"
    )


def read_records(path: Path, head: PlainHead, numbers: Iterable[int]) -> list[list[str | None]]:
    """The numbered records (1 = the first line after the header): number, then text values.

    Only for a file :func:`scan_bytes` found plain: each line is one record and its values
    are the text between delimiters, an empty one NULL, exactly as :func:`csv_relation`
    reads them. One pass over the file, keeping only the lines asked for, so quarantine
    needs neither DuckDB nor memory for the text of the rows that load.
    """
    wanted = np.unique(np.fromiter(numbers, dtype=np.int64))
    records: list[list[str | None]] = []
    first = 0  # number of the piece's first line in the file (0 = the header)
    for piece in _line_pieces(path):
        starts, ends = _line_spans(piece)
        low, high = np.searchsorted(wanted, [first, first + ends.size])
        for number in wanted[low:high].tolist():
            line = piece[starts[number - first] : ends[number - first]].tobytes()
            text = line.removesuffix(b"\r").decode("utf-8")
            records.append([number, *(v or None for v in text.split(head.delimiter))])
        first += ends.size
    return records
