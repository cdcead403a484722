"""The outlet page's logic, with Streamlit's AppTest on the small county's warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.apptest_kit import assert_clean, open_view


def _run(monkeypatch: pytest.MonkeyPatch, db: Path, **params: str) -> AppTest:
    return open_view(monkeypatch, db, "outlet", **params)


def _table(at: AppTest, column: str):
    """The first table on the page with this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _sql(db: Path, query: str, *params: object) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query, list(params)).fetchall()


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


COMPLAINTS = """SELECT count(*) FROM fact_complaint WHERE outlet_code = ?
                AND received_at >= DATE '2026-02-01' AND received_at < DATE '2026-03-01'"""
PEOPLE = """SELECT count(DISTINCT staff_id) FROM (
              SELECT staff_id FROM dim_staff WHERE outlet_code = ?
                AND valid_from < DATE '2026-03-01'
                AND (valid_to IS NULL OR valid_to > DATE '2026-02-01')
              UNION SELECT staff_id FROM fact_transaction WHERE outlet_code = ?
                AND staff_id IS NOT NULL AND business_date >= DATE '2026-02-01'
                AND business_date < DATE '2026-03-01')"""


def test_first_outlet_in_view_with_kpis_people_complaints_stars(
    monkeypatch, small_warehouse: Path
) -> None:
    at = _run(monkeypatch, small_warehouse)
    assert_clean(at)
    first = _sql(small_warehouse, "SELECT min(outlet_code) FROM dim_outlet")[0][0]
    assert at.selectbox(key="outlet_pick").value == first
    name = _sql(small_warehouse, "SELECT outlet_name FROM dim_outlet WHERE outlet_code = ?", first)
    assert at.subheader[0].value == f"{first} {name[0][0]}"
    assert len(at.metric) == 12  # 8 headline cards + 4 complaint cards
    complaints = _sql(small_warehouse, COMPLAINTS, first)[0][0]
    assert _metric(at, "Complaints") == str(complaints)
    assert len(_table(at, "What the customer said")) == complaints
    people = _table(at, "Served per counter staff-hour")
    assert len(people) == _sql(small_warehouse, PEOPLE, first, first)[0][0]
    assert people["Staff id"].str.fullmatch(r"\./staff\?.*&staff=\d+").all()
    assert len(at.get("plotly_chart")) == 6  # star history, breakdown, 4 trends
    assert any("more points reach" in m.value or "Top band" in m.value for m in at.markdown)


def test_outlet_from_the_url_and_the_picker(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse, outlet="03105")
    assert_clean(at)
    assert at.selectbox(key="outlet_pick").value == "03105"
    assert at.subheader[0].value.startswith("03105 ")
    before = _metric(at, "Complaints")
    at.selectbox(key="outlet_pick").select("03101").run()
    assert_clean(at)
    assert at.subheader[0].value.startswith("03101 ")
    assert at.query_params["outlet"] == "03101"
    assert _metric(at, "Complaints") == str(_sql(small_warehouse, COMPLAINTS, "03101")[0][0])
    assert before == str(_sql(small_warehouse, COMPLAINTS, "03105")[0][0])


def test_filters_month_and_language(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse, outlet="03105")
    at.multiselect(key="f_outlets").set_value(["03102", "03103"]).run()
    assert_clean(at)
    assert any("not in the current selection" in i.value for i in at.info)
    names = _sql(
        small_warehouse,
        "SELECT outlet_code || ' ' || outlet_name FROM dim_outlet"
        " WHERE outlet_code IN ('03102', '03103') ORDER BY 1",
    )
    assert at.selectbox(key="outlet_pick").options == [n[0] for n in names]
    february = [m.value for m in at.metric]
    at.selectbox(key="month").select("2025-12").run()
    assert_clean(at)
    assert [m.value for m in at.metric] != february
    assert "Stars, 2025-12" in [s.value for s in at.subheader]
    at.selectbox(key="lang").select("zh").run()
    assert_clean(at)
    assert at.title[0].value == "网点"
    assert "本网点人员" in [s.value for s in at.subheader]


def test_missing_warehouse_explains_how_to_load(monkeypatch, tmp_path: Path) -> None:
    at = _run(monkeypatch, tmp_path / "none.duckdb")
    assert_clean(at)
    assert "rccdash load" in at.info[0].value
    assert not at.metric
