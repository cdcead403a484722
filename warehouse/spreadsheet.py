"""Tables written for a spreadsheet: text that would run as a formula stays text.

Every file people take away (the dashboard's downloads, payroll's payout file) goes
through :func:`neutralised`, because the warehouse holds text from outside: a complaint
narrative or a name beginning with ``=`` would otherwise run when the file is opened.
"""

from __future__ import annotations

import polars as pl

# A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_START = r"^[=+\-@\t\r]"


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would run as a formula, prefixed with ``'`` to stay text.

    Only text columns are touched: a complaint narrative or a name that starts with ``=``
    is shown, not evaluated, when payroll opens the file; numbers stay numbers.
    """
    text = [c for c, kind in frame.schema.items() if kind == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )
