"""The throughput page's logic, with Streamlit's AppTest on the small county's warehouse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.apptest_kit import assert_clean, open_view
from tests.warehouse.test_assisted_channels import load_call_centre
from warehouse import marts
from warehouse.staffing import staffing_plan


def _run(monkeypatch: pytest.MonkeyPatch, db: Path, **params: str) -> AppTest:
    return open_view(monkeypatch, db, "throughput", **params)


def _titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _under_hours(db: Path, start: str, end: str) -> dict[str, int]:
    """Under-staffed weekday-hours per outlet, from the staffing model directly."""
    with duckdb.connect(str(db), read_only=True) as con:
        codes = [r[0] for r in con.execute("SELECT outlet_code FROM dim_outlet").fetchall()]
        return {
            code: staffing_plan(con, code, start=start, end=end)["status"].eq("under").sum()
            for code in codes
        }


def test_flow_cards_charts_and_staffing_default(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    assert_clean(at)
    assert at.title[0].value == "Throughput"
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        arrivals = con.execute(
            "SELECT count(*) FROM fact_transaction WHERE status <> 'reversed'"
            " AND business_date >= DATE '2026-02-01' AND business_date < DATE '2026-03-01'"
        ).fetchall()[0][0]
    assert _metric(at, "Arrivals") == f"{arrivals:,}"
    titles = _titles(at)
    assert titles[0] == "Customers per day"  # a month is drawn day by day
    assert "Average arrivals per hour, weekday by hour" in titles
    assert "Hours under- and over-staffed, by outlet" in titles
    assert len(at.dataframe) == 3  # flow by period, by outlet, staffing plan
    links = at.dataframe[1].value["page"].tolist()  # each outlet's row links to its page
    assert links and all("period=month" in u and "month=2026-02" in u for u in links)
    under = _under_hours(small_warehouse, "2026-02-01", "2026-03-01")
    worst = max(under, key=lambda code: (under[code], -int(code)))
    assert at.selectbox(key="throughput_outlet").value == worst
    assert _metric(at, "Under-staffed hours") == str(under[worst])

    other = min(under, key=lambda code: (under[code], code))
    at.selectbox(key="throughput_outlet").select(other).run()
    assert_clean(at)
    assert _metric(at, "Under-staffed hours") == str(under[other])
    at.segmented_control(key="throughput_weekday").set_value(3).run()
    assert_clean(at)
    assert _titles(at)[-1].startswith("Thursday")


def test_filters_change_what_is_shown(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    february = _metric(at, "Arrivals")
    at.selectbox(key="month").select("2025-12").run()
    assert_clean(at)
    assert _metric(at, "Arrivals") != february
    at.segmented_control(key="f_period").set_value("quarter").run()
    assert_clean(at)
    assert _titles(at)[0].startswith("Customers per week")
    at.multiselect(key="f_outlets").select("03101").run()
    assert_clean(at)
    assert at.selectbox(key="throughput_outlet").options == ["03101 县联社营业部"]
    assert "Hours under- and over-staffed, by outlet" not in _titles(at)  # one outlet only
    outlet_table = at.dataframe[1].value
    assert outlet_table["outlet_code"].tolist() == ["03101"]


def test_outlet_from_the_url_and_chinese_labels(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse, outlet="03102")
    assert_clean(at)
    assert at.selectbox(key="throughput_outlet").value == "03102"
    at.selectbox(key="lang").select("zh").run()
    assert_clean(at)
    assert "客户流量" in [s.value for s in at.subheader]
    assert "到达客户数" in [m.label for m in at.metric]
    assert _titles(at)[0] == "每日客户数"


def test_missing_warehouse_explains_how_to_load(monkeypatch, tmp_path: Path) -> None:
    at = _run(monkeypatch, tmp_path / "none.duckdb")
    assert_clean(at)
    assert "rccdash load" in at.info[0].value
    assert not at.get("plotly_chart")


@pytest.fixture(scope="module")
def call_centre(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real call-centre month (shared/datasets) alone in a warehouse."""
    return load_call_centre(tmp_path_factory.mktemp("call_centre"))


def with_phone_calls(small_warehouse: Path, folder: Path) -> Path:
    """A copy of the small county where outlet 03101 also answers calls in February 2026.

    About one in ten of its counter customers that month is copied as a phone call
    (no window, no teller: agents are not on the roster), marts refreshed as a load would.
    """
    db = folder / "warehouse.duckdb"
    shutil.copy(small_warehouse, db)
    with duckdb.connect(str(db)) as con:
        con.execute(
            """INSERT INTO fact_transaction BY NAME
               SELECT * REPLACE (txn_id || '-phone' AS txn_id, 'phone' AS channel,
                                 NULL AS staff_id, NULL AS window_no, NULL AS satisfaction)
               FROM fact_transaction
               WHERE outlet_code = '03101' AND channel = 'counter'
                 AND status IN ('completed', 'abandoned') AND txn_id LIKE '%3'
                 AND business_date >= DATE '2026-02-01' AND business_date < DATE '2026-03-01'"""
        )
        marts.refresh(con)
    return db


@pytest.fixture(scope="module")
def county_with_phone(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_phone_calls(small_warehouse, tmp_path_factory.mktemp("phone"))


def test_the_call_centre_month_plans_agents(monkeypatch, call_centre: Path) -> None:
    at = _run(monkeypatch, call_centre, period="month", month="1999-02")
    assert_clean(at)
    assert _metric(at, "Arrivals") == "33,043"
    assert _metric(at, "Self-service share") == "0.0%"  # phone banking is assisted service
    assert "Agents needed" in [s.value for s in at.subheader]
    assert not at.get("segmented_control") or all(
        c.key != "throughput_channel" for c in at.get("segmented_control")
    )  # one assisted channel only: nothing to choose
    with duckdb.connect(str(call_centre), read_only=True) as con:
        plan = staffing_plan(con, "CALLCTR", channel="phone", start="1999-02-01", end="1999-03-01")
    assert _metric(at, "Most agents needed") == str(plan["windows_needed"].max())
    assert _metric(at, "Agent-hours needed per week") == f"{plan['windows_needed'].sum():,}"
    assert not [m for m in at.metric if m.label == "Under-staffed hours"]  # no roster of agents
    titles = _titles(at)
    assert "Agents needed by weekday and hour" in titles
    assert "Hours under- and over-staffed, by outlet" not in titles
    table = at.dataframe[-1].value
    assert "status" not in table.columns and "windows_staffed" not in table.columns
    assert table["windows_needed"].sum() == plan["windows_needed"].sum()
    at.selectbox(key="lang").select("zh").run()
    assert_clean(at)
    assert "所需坐席" in [s.value for s in at.subheader]


def test_a_county_with_a_phone_queue_chooses_the_channel(
    monkeypatch, county_with_phone: Path
) -> None:
    at = _run(monkeypatch, county_with_phone)
    assert_clean(at)
    picker = at.segmented_control(key="throughput_channel")
    assert picker.value == "counter"  # the counter first: the page opens as it always did
    assert "Windows needed and windows staffed" in [s.value for s in at.subheader]
    assert "Hours under- and over-staffed, by outlet" in _titles(at)
    picker.set_value("phone").run()
    assert_clean(at)
    assert "Agents needed" in [s.value for s in at.subheader]
    outlet = at.selectbox(key="throughput_outlet")
    assert outlet.options == ["03101 县联社营业部"]  # the only outlet answering calls
    with duckdb.connect(str(county_with_phone), read_only=True) as con:
        plan = staffing_plan(con, "03101", channel="phone", start="2026-02-01", end="2026-03-01")
    assert _metric(at, "Most agents needed") == str(plan["windows_needed"].max())
    assert "Hours under- and over-staffed, by outlet" not in _titles(at)
