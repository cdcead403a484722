"""The overview page's logic, with Streamlit's AppTest on the small county's warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.apptest_kit import assert_clean, open_view


def _run(monkeypatch: pytest.MonkeyPatch, db: Path, **params: str) -> AppTest:
    return open_view(monkeypatch, db, "overview", **params)


def test_headline_cards_trends_and_language_switch(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    assert_clean(at)
    assert len(at.metric) == 8
    assert at.title[0].value == "County service quality"
    assert at.selectbox(key="month").value == "2026-02"  # the latest complete month
    assert at.query_params["month"] == "2026-02"  # bookmarkable
    labels = " ".join(m.label for m in at.metric)
    assert "Wait, 90th percentile" in labels
    assert at.expander[0].label.startswith("Alerts")
    at.selectbox(key="lang").select("zh").run()
    assert_clean(at)
    assert at.title[0].value == "全县服务质量"
    assert "等候" in " ".join(m.label for m in at.metric)
    assert at.expander[0].label.startswith("预警")


def test_filters_change_the_numbers(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    february = [m.value for m in at.metric]
    at.selectbox(key="month").select("2025-12").run()
    assert_clean(at)
    assert [m.value for m in at.metric] != february
    at.segmented_control(key="f_period").set_value("quarter").run()
    assert_clean(at)
    assert at.query_params["period"] == "quarter"
    assert "month" not in at.query_params  # parameters of other presets are dropped
    assert at.selectbox(key="quarter").value == "2026Q1"
    at.multiselect(key="f_outlets").select("03101").run()
    assert_clean(at)
    assert at.query_params["outlets"] == "03101"
    assert "03101" in at.caption[0].value


def test_a_bookmark_reopens_its_view(monkeypatch, small_warehouse: Path) -> None:
    at = _run(
        monkeypatch, small_warehouse, period="custom", **{"from": "2026-01-05"}, to="2026-01-18"
    )
    assert_clean(at)
    assert at.caption[0].value.startswith("2026-01-05 – 2026-01-18")
    assert len(at.metric) == 8


def test_missing_warehouse_explains_how_to_load(monkeypatch, tmp_path: Path) -> None:
    at = _run(monkeypatch, tmp_path / "none.duckdb")
    assert_clean(at)
    assert "rccdash load" in at.info[0].value
    assert len(at.metric) == 0


def test_a_scope_without_events_says_so(monkeypatch, small_warehouse: Path) -> None:
    # Spring Festival 2026 (17 February) is a holiday: no outlet is open.
    at = _run(
        monkeypatch, small_warehouse, period="custom", **{"from": "2026-02-17"}, to="2026-02-17"
    )
    assert_clean(at)
    assert at.info[0].value.startswith("No service events")
    assert len(at.metric) == 0


def test_an_unreadable_warehouse_is_a_polite_message(monkeypatch, tmp_path: Path) -> None:
    broken = tmp_path / "warehouse.duckdb"
    broken.write_bytes(b"this is not a database")
    at = _run(monkeypatch, broken)
    assert not at.exception  # no traceback
    assert "Something went wrong" in at.error[0].value
