"""Tables written for a spreadsheet: text that would run as a formula stays text.

Every file people take away (the dashboard's downloads, payroll's payout file) goes
through :func:`neutralised`, because the warehouse holds text from outside: a complaint
narrative or a name beginning with ``=`` would otherwise run when the file is opened.
"""

from __future__ import annotations

import re

import polars as pl

# A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection:
# = + - @, tab, carriage return; ASVS 1.2.10 adds NUL, which is replaced, see below).
FORMULA_START = r"^[=+\-@\t\r]"
_FORMULA_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")
# Control characters an XLSX file cannot hold (XML 1.0); openpyxl refuses to write them.
UNWRITABLE = r"[\x00-\x08\x0B\x0C\x0E-\x1F]"
REPLACEMENT = "\ufffd"


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would run as a formula, prefixed with ``'`` to stay text.

    Only text is touched: a complaint narrative or a name that starts with ``=`` is
    shown, not evaluated, when payroll opens the file; numbers stay numbers. Text is
    String, Categorical or Enum (the latter two come out as String: the Excel writer
    would store their values as formulas too), and the column names, which a pivot takes
    from the data. Control characters other than tab, line feed and carriage return
    (a NUL pasted into a narrative) become U+FFFD, in CSV and Excel alike: an Excel file
    cannot hold them, and the download would fail.
    """
    text = [
        c
        for c, kind in frame.schema.items()
        if kind == pl.String or isinstance(kind, pl.Categorical | pl.Enum)
    ]
    out = frame.with_columns(
        pl.col(c).cast(pl.String).str.replace_all(UNWRITABLE, REPLACEMENT).alias(c) for c in text
    ).with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )
    return out.rename(_safe_names(out.columns))


def _safe_names(columns: list[str]) -> dict[str, str]:
    """New names for the columns a spreadsheet would run, unique among all the names."""
    taken = set(columns)
    renamed = {}
    for name in columns:
        safe = re.sub(UNWRITABLE, REPLACEMENT, name)
        if safe.startswith(_FORMULA_CHARACTERS):
            safe = "'" + safe
        if safe == name:
            continue
        while safe in taken:
            safe = "'" + safe
        taken.add(safe)
        renamed[name] = safe
    return renamed
