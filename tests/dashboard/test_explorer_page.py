"""The explorer page's logic, with Streamlit's AppTest on the small county's warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.i18n import kpi_label, translate
from tests.dashboard.apptest_kit import assert_clean, open_view
from warehouse.console import PROBLEMS
from warehouse.kpi import service_summary
from warehouse.settings import load_config

CAP = int(load_config("explorer")["console"]["row_cap"])


def _run(monkeypatch: pytest.MonkeyPatch, db: Path, **params: str) -> AppTest:
    return open_view(monkeypatch, db, "explorer", **params)


def _sql(at: AppTest, sql: str) -> AppTest:
    at.text_area(key="explorer_sql").input(sql).run()
    at.button(key="explorer_run").click().run()
    assert_clean(at)
    return at


def _pivot_table(at: AppTest):
    return at.tabs[0].dataframe[0].value


def _chart_data(at: AppTest):
    return at.tabs[1].dataframe[0].value


def _sql_result(at: AppTest):
    """The console's result table, or None when the console shows none."""
    tables = at.tabs[2].dataframe
    return tables[0].value if len(tables) else None


def test_tabs_pivot_chart_and_language(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    assert_clean(at)
    assert at.title[0].value == "Explorer"
    assert [t.label for t in at.tabs] == ["Pivot", "Chart builder", "SQL console"]
    config = load_config("explorer")["pivot"]
    assert at.selectbox(key="explorer_measure").value == config["default_measure"]
    assert at.selectbox(key="explorer_rows").value == config["default_rows"]
    assert at.selectbox(key="explorer_cols").value == config["default_columns"]
    table = _pivot_table(at)
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        outlets = con.execute("SELECT count(*) FROM dim_outlet").fetchall()[0][0]
        feb = service_summary(con, start="2026-02-01", end="2026-03-01", by="outlet")
    assert len(table) == outlets
    assert list(table.columns)[:2] == ["Outlet", "Monday"]
    # The row-only pivot is the KPI layer's number, outlet by outlet.
    at.selectbox(key="explorer_cols").select("").run()
    assert_clean(at)
    single = _pivot_table(at)
    got = dict(zip(single["Outlet"].str[:5], single["Served within target wait"], strict=True))
    expected = dict(feb.select("outlet_code", "service_level").iter_rows())
    assert got == pytest.approx(expected, nan_ok=True)
    assert len(at.get("plotly_chart")) == 2  # the pivot grid and the built chart

    at.selectbox(key="lang").select("zh").run()
    assert_clean(at)
    assert [t.label for t in at.tabs] == ["透视表", "自助图表", "SQL 查询"]
    assert at.title[0].value == "数据探索"


def test_changing_the_filter_changes_the_pivot(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    february = _pivot_table(at)
    at.selectbox(key="month").select("2025-12").run()
    assert_clean(at)
    assert not _pivot_table(at).equals(february)
    at.multiselect(key="f_outlets").select("03101").run()
    assert_clean(at)
    only = _pivot_table(at)
    assert len(only) == 1
    assert only["Outlet"][0].startswith("03101")


def test_pickers_offer_only_valid_groupings(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    at.selectbox(key="explorer_rows").select("channel").run()
    assert_clean(at)
    assert at.selectbox(key="explorer_rows").value == "channel"
    assert "channel" not in at.selectbox(key="explorer_cols").options
    at.selectbox(key="explorer_measure").select("complaints").run()
    assert_clean(at)
    rows = at.selectbox(key="explorer_rows")
    assert "Channel" not in rows.options  # complaints carry no channel
    assert rows.value == "outlet"  # the choice fell back to the default
    assert len(_pivot_table(at)) > 0


def test_chart_builder_follows_its_pickers(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    chart_data = _chart_data(at)
    defaults = load_config("explorer")["chart"]["default_kpis"]
    assert list(chart_data.columns) == ["Day", *(kpi_label(n, "en") for n in defaults)]
    at.multiselect(key="explorer_chart_kpis").set_value(["complaints"]).run()
    assert_clean(at)
    assert "channel" not in at.selectbox(key="explorer_chart_x").options
    at.selectbox(key="explorer_chart_x").select("weekday").run()
    at.selectbox(key="explorer_chart_colour").select("outlet").run()
    assert_clean(at)
    data = _chart_data(at)
    assert list(data.columns) == ["Weekday", "Outlet", "Complaints"]
    assert set(data["Weekday"]) <= set(range(7))
    at.multiselect(key="explorer_chart_kpis").set_value([]).run()
    assert_clean(at)
    assert "Pick at least one KPI to draw." in [i.value for i in at.info]


def test_sql_console_runs_a_query_and_refuses_a_file(
    monkeypatch, small_warehouse: Path, tmp_path: Path
) -> None:
    at = _run(monkeypatch, small_warehouse)
    examples = load_config("explorer")["console"]["examples"]
    assert at.text_area(key="explorer_sql").value == next(iter(examples.values()))
    at.selectbox(key="explorer_example").select("tables").run()
    assert at.text_area(key="explorer_sql").value == examples["tables"]

    _sql(at, "SELECT outlet_code, outlet_name FROM dim_outlet ORDER BY outlet_code")
    result = _sql_result(at)
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        codes = [
            r[0] for r in con.execute("SELECT outlet_code FROM dim_outlet ORDER BY 1").fetchall()
        ]
    assert result["outlet_code"].tolist() == codes
    assert any(f"{len(codes)} rows" in c.value for c in at.caption)
    assert not at.warning

    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n", encoding="utf-8")
    _sql(at, f"SELECT * FROM read_csv('{secret}')")
    assert len(at.warning) == 1
    assert "Refused" in at.warning[0].value and "read" in at.warning[0].value
    assert "hunter2" not in at.warning[0].value
    assert _sql_result(at) is None

    _sql(at, "SELECT * FROM no_such_table")
    assert "no" in at.warning[0].value and "DuckDB" in at.warning[0].value


def test_sql_console_caps_the_rows(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    _sql(at, f"SELECT * FROM range({CAP * 3})")
    assert len(_sql_result(at)) == CAP
    assert any(f"{CAP:,}" in i.value and "LIMIT" in i.value for i in at.info)


def test_schema_browser_lists_the_tables(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    labels = [e.label for e in at.expander]
    assert "fact_transaction" in labels and "dim_outlet" in labels
    assert any("wait_s" in m.value for m in at.markdown)


def test_missing_warehouse_explains_how_to_load(monkeypatch, tmp_path: Path) -> None:
    at = _run(monkeypatch, tmp_path / "none.duckdb")
    assert_clean(at)
    assert "rccdash load" in at.info[0].value
    assert not at.tabs


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_console_problem_has_a_label(lang: str) -> None:
    for problem in PROBLEMS:
        text = translate(f"explorer_problem_{problem}", lang, detail="X")
        assert text and text != f"explorer_problem_{problem}"
        if lang == "zh":  # translate() falls back to English: insist on Chinese
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), problem
        if problem not in ("empty", "pivot", "nested"):  # these have nothing to quote
            assert "X" in text
