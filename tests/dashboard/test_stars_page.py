"""The star page's logic, with Streamlit's AppTest on the small county's warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.apptest_kit import assert_clean, open_view
from warehouse.stars.assess import assess_month
from warehouse.stars.board import month_boards
from warehouse.stars.model import load_model
from warehouse.stars.publish import publish


def _run(monkeypatch: pytest.MonkeyPatch, db: Path, **params: str) -> AppTest:
    return open_view(monkeypatch, db, "stars", **params)


def _table(at: AppTest, column: str):
    """The first table on the page with this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.fixture(scope="module")
def february(small_warehouse: Path):
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        return month_boards(con, month="2026-02")


def test_provisional_month_with_leaderboards_honours_payout(
    monkeypatch, small_warehouse: Path, february
) -> None:
    at = _run(monkeypatch, small_warehouse)
    assert_clean(at)
    assert at.title[0].value == "Star ratings"
    assert "Provisional — not yet published" in at.warning[0].value
    headers = [s.value for s in at.subheader]
    assert "Outlets, 2026-02" in headers and "Quarterly payout, 2026Q1" in headers
    outlets = _table(at, "Type")
    assert len(outlets) == february.outlets.height
    assert list(outlets["Score"]) == [round(s, 1) for s in february.outlets["score"]]
    assert outlets["Stars"].iloc[0] == "★" * february.outlets["stars"][0] + "☆" * (
        5 - february.outlets["stars"][0]
    )
    assert outlets["Outlet"].iloc[0].endswith(f"outlet={february.outlets['subject_id'][0]}")
    staff = _table(at, "Position")
    rated = february.staff.filter(february.staff["status"] == "rated")
    assert len(staff) == rated.height
    absent = february.staff.filter(february.staff["status"] != "rated")["subject_id"]
    assert absent.len() and all(
        a in next(c.value for c in at.caption if c.value.startswith("Not rated")) for a in absent
    )
    assert len(at.get("plotly_chart")) == 4  # distribution, staff spread, outlet bars, breakdown
    pool = next(m for m in at.metric if m.label == "Bonus pool (county)")
    assert pool.value == "¥300,000"
    honoured = february.awards["subject_id"].to_list()
    text = " ".join(m.value for m in at.markdown)
    assert all(h in text for h in honoured)


def test_month_and_outlet_filters_change_what_is_shown(
    monkeypatch, small_warehouse: Path, february
) -> None:
    at = _run(monkeypatch, small_warehouse)
    at.multiselect(key="f_outlets").set_value(["03101"]).run()
    assert_clean(at)
    outlets = _table(at, "Type")
    assert (
        list(outlets["Name"])
        == february.outlets.filter(february.outlets["subject_id"] == "03101")["name"].to_list()
    )
    staff = _table(at, "Position")
    assert set(staff["Outlet"]) == {
        february.outlets.filter(february.outlets["subject_id"] == "03101")["name"][0]
    }
    at.multiselect(key="f_outlets").set_value([]).run()
    at.selectbox(key="month").select("2025-12").run()
    assert_clean(at)
    headers = [s.value for s in at.subheader]
    assert "Outlets, 2025-12" in headers and "Quarterly payout, 2025Q4" in headers
    assert list(_table(at, "Type")["Score"]) != [round(s, 1) for s in february.outlets["score"]]


def test_quarter_shows_its_last_complete_month_and_chinese(
    monkeypatch, small_warehouse: Path
) -> None:
    at = _run(monkeypatch, small_warehouse)
    at.segmented_control(key="f_period").set_value("quarter").run()
    assert_clean(at)
    assert any("shows 2026-02, the last complete month" in c.value for c in at.caption)
    at.selectbox(key="lang").select("zh").run()
    assert_clean(at)
    assert at.title[0].value == "星级评定"
    assert "临时结果" in at.warning[0].value
    assert "网点，2026-02" in [s.value for s in at.subheader]


def test_breakdown_of_a_person(monkeypatch, small_warehouse: Path, february) -> None:
    at = _run(monkeypatch, small_warehouse)
    at.segmented_control(key="stars_kind").set_value("staff").run()
    assert_clean(at)
    picker = at.selectbox(key="stars_subject")
    assert picker.value == february.staff["subject_id"][0]
    last_rated = february.staff.filter(february.staff["status"] == "rated")["subject_id"][-1]
    picker.select(last_rated).run()
    assert_clean(at)
    advice = next(m.value for m in at.markdown if "more points reach" in m.value)
    assert advice.startswith("**★")
    table = _table(at, "Points open")
    assert list(table["Weight"]) == [i.weight for i in load_model().subjects["staff"].indicators]


def test_published_and_restated_month(monkeypatch, small_warehouse: Path, tmp_path: Path) -> None:
    db = tmp_path / "published.duckdb"
    shutil.copyfile(small_warehouse, db)
    model = load_model()
    with duckdb.connect(str(db)) as con:
        assessed = assess_month(con, "2026-02", model)
        publish(con, "2026-02", assessed, model, by="chair")
        lower = {k: v.clone() for k, v in assessed.items()}
        lower["outlets"] = lower["outlets"].with_columns(score=lower["outlets"]["score"] - 0.5)
        publish(con, "2026-02", lower, model, by="chair", restate=True, reason="late roster")
    at = _run(monkeypatch, db)
    assert_clean(at)
    assert not at.warning
    banner = at.success[0].value
    assert "Published v2" in banner and "chair" in banner and "late roster" in banner
    assert list(_table(at, "Type")["Score"]) == [
        round(s, 1) for s in lower["outlets"].sort("score", descending=True)["score"]
    ]
    assert any("10 outlets" in e.label for e in at.expander)


def test_missing_warehouse_explains_how_to_load(monkeypatch, tmp_path: Path) -> None:
    at = _run(monkeypatch, tmp_path / "none.duckdb")
    assert_clean(at)
    assert "rccdash load" in at.info[0].value
    assert not at.dataframe
