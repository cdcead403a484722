"""Table downloads: every format reads back to the same rows, Chinese intact."""

from __future__ import annotations

import io

import openpyxl
import polars as pl
import pytest

from dashboard.exports import FORMATS, export_bytes

FRAME = pl.DataFrame(
    {"outlet_code": ["03101", "03102"], "name": ["县联社营业部", "城关"], "n": [1, 2]}
)


def test_csv_has_a_bom_and_keeps_leading_zeros() -> None:
    data = export_bytes(FRAME, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    back = pl.read_csv(io.BytesIO(data[3:]), schema_overrides={"outlet_code": pl.String})
    assert back.equals(FRAME)


def test_xlsx_and_parquet_read_back() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(export_bytes(FRAME, "xlsx"))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows == [
        ("outlet_code", "name", "n"),
        ("03101", "县联社营业部", 1),
        ("03102", "城关", 2),
    ]
    assert pl.read_parquet(io.BytesIO(export_bytes(FRAME, "parquet"))).equals(FRAME)
    assert set(FORMATS) == {"csv", "xlsx", "parquet"}


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export_bytes(FRAME, "pdf")
