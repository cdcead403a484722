"""Table downloads: every format reads back to the same rows, Chinese intact."""

from __future__ import annotations

import io

import openpyxl
import polars as pl
import pytest
import streamlit as st

from dashboard.exports import FORMATS, export_bytes, export_frame

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


def test_downloads_carry_ids_not_the_links_on_screen() -> None:
    shown = pl.DataFrame(
        {
            "staff": ["./staff?lang=zh&month=2026-02&staff=000107", None],
            "page": ["./outlet?outlet=03101", "./outlet?outlet=03102"],
            "net": [1600.0, 0.0],
        }
    )
    config = {
        "staff": st.column_config.LinkColumn("Staff", display_text=r"[?&]staff=([^&]*)"),
        "page": st.column_config.LinkColumn("Page", display_text="open outlet"),
        "net": st.column_config.NumberColumn("Net"),
        "other": "A plain label",
    }
    out = export_frame(shown, config)
    assert out.columns == ["staff", "net"]  # a fixed-text link only navigates: left out
    assert out["staff"].to_list() == ["000107", None]
    assert export_frame(shown, {}).equals(shown)


def test_text_that_a_spreadsheet_would_run_stays_text_and_numbers_stay_numbers() -> None:
    frame = pl.DataFrame(
        {
            "name": ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "王芳", None],
            "amount": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    lines = export_bytes(frame, "csv").decode("utf-8-sig").splitlines()
    assert lines[1].startswith("\"'=HYPERLINK(") and lines[1].endswith(",-5.0")
    assert [line.split(",")[0] for line in lines[2:5]] == ["'+1", "'-2", "'@SUM(A1)"]
    assert lines[6] == "王芳,5.0" and lines[7] == ",6.0"
    book = openpyxl.load_workbook(io.BytesIO(export_bytes(frame, "xlsx"))).active
    assert [book.cell(r, 1).value for r in range(2, 6)] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
    ]
    assert book.cell(2, 2).value == -5.0  # a negative number is still a number
