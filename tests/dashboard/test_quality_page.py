"""The service-quality page's logic, with Streamlit's AppTest on the small county's warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.apptest_kit import assert_clean, open_view
from warehouse.complaint_views import complaint_list
from warehouse.settings import load_config

CARDS = load_config("quality")["cards"]
SERVICE_CHARTS = 6  # two histograms, four over-time charts
COMPLAINT_CHARTS = 4  # Pareto, channels, days to resolve, rate per outlet
FEBRUARY = {"start": dt.date(2026, 2, 1), "end": dt.date(2026, 3, 1)}


def _run(monkeypatch: pytest.MonkeyPatch, db: Path, **params: str) -> AppTest:
    return open_view(monkeypatch, db, "quality", **params)


def _charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def _complaint_table(at: AppTest):
    return at.dataframe[-1].value


def _list_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if "newest first" in c.value or "最新" in c.value)


def _expected(db: Path, **kwargs) -> list[str]:
    """Complaint ids the warehouse function lists for February (what the page must show)."""
    with duckdb.connect(str(db), read_only=True) as con:
        return complaint_list(con, **FEBRUARY, **kwargs)["complaint_id"].to_list()


def test_cards_charts_tables_and_language(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    assert_clean(at)
    assert at.title[0].value == "Service quality"
    assert at.selectbox(key="month").value == "2026-02"
    assert len(at.metric) == len(CARDS["service"]) + len(CARDS["complaints"])
    labels = " ".join(m.label for m in at.metric)
    assert "Served within target wait" in labels
    assert "Closed within the deadline" in labels
    assert _charts(at) == SERVICE_CHARTS + COMPLAINT_CHARTS
    assert len(at.dataframe) == 2  # percentiles and the complaint list
    percentiles = at.dataframe[0].value
    assert percentiles["measure"].tolist() == ["Waiting time", "Handling time"]
    assert "Over time, by day" in [s.value for s in at.subheader]
    table = _complaint_table(at)
    assert table["complaint_id"].tolist() == _expected(small_warehouse)
    assert table["outlet"].str.contains("outlet=").all()
    assert table["outlet"].str.startswith("./outlet?").all()

    at.selectbox(key="lang").select("zh").run()
    assert_clean(at)
    assert at.title[0].value == "服务质量"
    assert "限时服务达标率" in " ".join(m.label for m in at.metric)
    assert "投诉清单" in [s.value for s in at.subheader]
    assert at.dataframe[0].value["measure"].tolist() == ["等候时长", "办理时长"]


def test_filters_change_what_is_shown(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    february = [m.value for m in at.metric]
    february_ids = _complaint_table(at)["complaint_id"].tolist()

    at.selectbox(key="month").select("2025-12").run()
    assert_clean(at)
    assert [m.value for m in at.metric] != february
    assert _complaint_table(at)["complaint_id"].tolist() != february_ids
    assert all(i[7:13] == "202512" for i in _complaint_table(at)["complaint_id"])

    at.segmented_control(key="f_period").set_value("quarter").run()
    assert_clean(at)
    assert "Over time, by week" in [s.value for s in at.subheader]


def test_search_status_and_outlet_scope(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    everything = _complaint_table(at).shape[0]

    at.text_input(key="quality_search").input("态度").run()
    assert_clean(at)
    found = _complaint_table(at)
    assert found["complaint_id"].tolist() == _expected(small_warehouse, search="态度")
    assert 0 < found.shape[0] < everything
    assert _list_caption(at) == f"{found.shape[0]} complaints, newest first."

    at.text_input(key="quality_search").input("").run()
    at.multiselect(key="quality_status").select("closed").run()
    assert_clean(at)
    closed = _complaint_table(at)
    assert set(closed["status"]) == {"Closed"}
    assert closed["complaint_id"].tolist() == _expected(small_warehouse, status=("closed",))

    at.multiselect(key="quality_status").unselect("closed").run()
    at.multiselect(key="f_outlets").select("03104").run()
    assert_clean(at)
    scoped = _complaint_table(at)
    assert set(scoped["outlet_code"]) == {"03104"}
    assert scoped["complaint_id"].tolist() == _expected(small_warehouse, outlets=("03104",))


def test_no_complaints_still_shows_the_service(monkeypatch, small_warehouse: Path) -> None:
    assert not _expected(small_warehouse, outlets=("03105",))  # the premise of this test
    at = _run(monkeypatch, small_warehouse)
    at.multiselect(key="f_outlets").select("03105").run()
    assert_clean(at)
    assert any("No complaints were received" in i.value for i in at.info)
    assert _charts(at) == SERVICE_CHARTS
    assert len(at.metric) == len(CARDS["service"])
    assert len(at.dataframe) == 1  # percentiles only: no complaint list


def test_missing_warehouse_explains_how_to_load(monkeypatch, tmp_path: Path) -> None:
    at = _run(monkeypatch, tmp_path / "none.duckdb")
    assert_clean(at)
    assert "rccdash load" in at.info[0].value
    assert len(at.metric) == 0
    assert _charts(at) == 0
