"""Trim and fold raw text values, in SQL, before staging reads them.

Exports carry stray whitespace (fixed-width fields padded with spaces, hand edits) and
full-width digits and letters typed on Chinese keyboards (``０３１０１``). Staging compares
and casts values, so each raw value is trimmed of Unicode whitespace and, outside free-text
fields, full-width ASCII (U+FF01..U+FF5E and the ideographic space) is folded to ASCII.
The raw record kept for quarantine stays untouched.

Rewriting every value would cost more than the rest of staging (DuckDB's ``trim`` with a
character list and ``translate`` are slow per value), so a value is rewritten only when a
regex says it would change, and a column the reader has shown to be clean is not looked
at at all (:func:`dirty_columns` for a polars frame; :mod:`etl.direct` for a CSV read by
DuckDB).
"""

from __future__ import annotations

import polars as pl

from etl.mapping import literal, quote

# Unicode White_Space: what Python's str.strip() and Rust's (polars') trim remove. RE2's
# \s is ASCII only, so the set is spelt out.
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
FULL_WIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
HALF_WIDTH = "".join(chr(c) for c in range(0x21, 0x7F)) + " "


def char_class(chars: str) -> str:
    """A regex character class of ``chars``, in syntax both RE2 (DuckDB) and Rust accept."""
    return "[" + "".join(f"\\x{{{ord(c):X}}}" for c in chars) + "]"


_WS = char_class(WHITESPACE)
_EDGE = f"^{_WS}|{_WS}$"
_TRIM = f"^{_WS}+|{_WS}+$"
_FULL = char_class(FULL_WIDTH)


def _trim(sql: str) -> str:
    return f"regexp_replace({sql}, {literal(_TRIM)}, '', 'g')"


def normalise_sql(column: str, *, fold: bool) -> str:
    """SQL for the trimmed (and, with ``fold``, full-width-folded) text of a raw column.

    Why the CASE: only values that would change are rewritten; the others pass through
    at the cost of one regex test (non-ASCII values only for the folding test).
    """
    value = quote(column)
    trimmed = f"WHEN regexp_matches({value}, {literal(_EDGE)}) THEN {_trim(value)}"
    if not fold:
        return f"CASE {trimmed} ELSE {value} END"
    folded = f"translate({value}, {literal(FULL_WIDTH)}, {literal(HALF_WIDTH)})"
    return (
        f"CASE WHEN strlen({value}) <> length({value})"
        f" AND regexp_matches({value}, {literal(_FULL)}) THEN {_trim(folded)}"
        f" {trimmed} ELSE {value} END"
    )


def dirty_columns(frame: pl.DataFrame) -> set[str]:
    """Columns of a raw polars frame holding a value that trimming or folding would change.

    Why: polars finds them in one parallel pass, far cheaper than testing every value in
    SQL, so the reference reader's rows are normalised only where needed.
    """
    at = [i for i, c in enumerate(frame.columns) if c != "__row"]
    if not at or frame.height == 0:
        return set()
    pattern = f"{_EDGE}|{_FULL}"
    # By position: pl.col("*") would be every column, pl.col("^id$") a regex (a header
    # may say either).
    flags = frame.select(pl.nth(i).str.contains(pattern).any() for i in at).row(0)
    return {frame.columns[i] for i, dirty in zip(at, flags, strict=True) if dirty}
