"""Tables as files people take away: CSV (UTF-8 with BOM so Excel reads Chinese), Excel, Parquet.

Pure functions so the bytes can be tested without a browser.
"""

from __future__ import annotations

import io

import polars as pl

FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


def export_bytes(frame: pl.DataFrame, fmt: str) -> bytes:
    """``frame`` encoded as ``fmt`` (csv, xlsx or parquet)."""
    buffer = io.BytesIO()
    if fmt == "csv":
        buffer.write(b"\xef\xbb\xbf")  # Excel on Windows opens BOM-marked UTF-8 as UTF-8
        frame.write_csv(buffer)
    elif fmt == "xlsx":
        frame.to_pandas().to_excel(buffer, index=False, engine="openpyxl")
    elif fmt == "parquet":
        frame.write_parquet(buffer)
    else:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {sorted(FORMATS)}")
    return buffer.getvalue()
