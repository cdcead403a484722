"""The overview page's logic, with Streamlit's AppTest on the small county's warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from warehouse.settings import PROJECT_ROOT

APP = str(PROJECT_ROOT / "dashboard" / "app.py")


def _run(monkeypatch: pytest.MonkeyPatch, db: Path) -> AppTest:
    monkeypatch.setenv("RCCDASH_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()  # the bare address forwards to /overview, as a browser would follow
    at.switch_page("views/overview.py").run()
    return at


def test_headline_cards_trends_and_language_switch(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    assert not at.exception
    assert not at.error
    assert len(at.metric) == 8
    assert at.title[0].value == "County service quality"
    assert at.selectbox(key="month").value == "2026-02"  # the latest complete month
    labels = " ".join(m.label for m in at.metric)
    assert "Wait, 90th percentile" in labels
    at.selectbox(key="lang").select("zh").run()
    assert not at.exception
    assert not at.error
    assert at.title[0].value == "全县服务质量"
    assert "等候" in " ".join(m.label for m in at.metric)


def test_changing_the_month_changes_the_numbers(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    february = [m.value for m in at.metric]
    at.selectbox(key="month").select("2025-12").run()
    assert not at.exception
    assert not at.error
    assert [m.value for m in at.metric] != february


def test_missing_warehouse_explains_how_to_load(monkeypatch, tmp_path: Path) -> None:
    at = _run(monkeypatch, tmp_path / "none.duckdb")
    assert not at.exception
    assert not at.error
    assert "rccdash load" in at.info[0].value
    assert len(at.metric) == 0
