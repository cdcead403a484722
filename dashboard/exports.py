"""Tables as files people take away: CSV (UTF-8 with BOM so Excel reads Chinese), Excel, Parquet.

Pure functions so the bytes can be tested without a browser.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import polars as pl

from warehouse.spreadsheet import neutralised

FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


def export_bytes(frame: pl.DataFrame, fmt: str) -> bytes:
    """``frame`` encoded as ``fmt`` (csv, xlsx or parquet), formulas neutralised."""
    buffer = io.BytesIO()
    if fmt == "csv":
        buffer.write(b"\xef\xbb\xbf")  # Excel on Windows opens BOM-marked UTF-8 as UTF-8
        neutralised(frame).write_csv(buffer)
    elif fmt == "xlsx":
        neutralised(frame).to_pandas().to_excel(buffer, index=False, engine="openpyxl")
    elif fmt == "parquet":
        frame.write_parquet(buffer)
    else:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {sorted(FORMATS)}")
    return buffer.getvalue()


def export_frame(frame: pl.DataFrame, column_config: Mapping[str, Any]) -> pl.DataFrame:
    """The table as it should leave the dashboard: ids, not the links shown on screen.

    A link column whose ``display_text`` is a pattern (``[?&]staff=([^&]*)``) is exported
    as the value the pattern shows (the staff id); a link column with a fixed text
    ("open outlet") only navigates, so it is left out. Payroll gets ids, not URLs.
    """
    out = frame
    for name, config in column_config.items():
        if not isinstance(config, Mapping):  # a plain label, or None to hide the column
            continue
        type_config = config.get("type_config") or {}
        if name not in out.columns or type_config.get("type") != "link":
            continue
        shown = type_config.get("display_text")
        if shown and re.compile(shown).groups:
            pattern = re.compile(shown)
            out = out.with_columns(
                pl.col(name).map_elements(
                    lambda url, p=pattern: _shown(p, url), return_dtype=pl.String
                )
            )
        else:
            out = out.drop(name)
    return out


def _shown(pattern: re.Pattern[str], url: str | None) -> str | None:
    """What a link column displays for ``url``: the pattern's first group, unquoted."""
    if not url:
        return url
    found = pattern.search(url)
    return unquote(found.group(1)) if found else url
