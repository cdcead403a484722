"""The explorer in a real browser: pivot grid, chart builder and the SQL console."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.dashboard.browser_kit import assert_clean, open_page, shot, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
CHART = '[data-testid="stPlotlyChart"]'
PANEL = '[role="tabpanel"]:visible'


def _grid_rows(page: Page) -> list[str]:
    """The row labels of the pivot grid (the first chart's y axis)."""
    return page.locator(CHART).first.locator(".ytick text").all_text_contents()


def _run_sql(page: Page, sql: str) -> None:
    page.locator(f"{PANEL} textarea").fill(sql)
    page.locator(PANEL).get_by_role("button", name="Run").click()
    wait_idle(page, 800)
    # A query that passes the checks runs in a worker process, which may take a moment to
    # start: wait for its result table or for the message saying why there is none.
    done = (
        f'{PANEL} [data-testid="stDataFrame"], [data-testid="stAlertContentWarning"],'
        ' [data-testid="stAlertContentError"]'
    )
    page.locator(done).first.wait_for(timeout=30_000)
    wait_idle(page, 300)


def test_pivot_and_chart_follow_the_filter(server: str, browser: Browser) -> None:
    page = open_page(browser, f"{server}/explorer?month=2026-01", wait_for=CHART)
    assert_clean(page)
    assert page.get_by_role("tab").all_inner_texts() == ["Pivot", "Chart builder", "SQL console"]
    rows = _grid_rows(page)
    assert len(rows) == 10 and min(rows).startswith("03101")
    assert page.locator(f"{PANEL} {CHART}").count() == 1
    assert page.locator(f'{PANEL} [data-testid="stDataFrame"]').count() == 1
    assert "Served within target wait by Outlet and Weekday" in page.content()
    shot(page, "explorer-en")

    page.get_by_role("tab", name="Chart builder").click()
    wait_idle(page, 800)
    assert page.locator(f"{PANEL} {CHART}").count() == 1
    assert page.locator(f"{PANEL} {CHART} .trace").count() >= 2  # one panel per KPI
    shot(page, "explorer-chart-en")
    page.close()

    one = open_page(browser, f"{server}/explorer?month=2026-01&outlets=03101", wait_for=CHART)
    assert_clean(one)
    assert [r[:5] for r in _grid_rows(one)] == ["03101"]
    one.close()

    chinese = open_page(browser, f"{server}/explorer?lang=zh", wait_for=CHART)
    assert_clean(chinese)
    assert chinese.locator("h1").first.inner_text() == "数据探索"
    assert chinese.get_by_role("tab").all_inner_texts() == ["透视表", "自助图表", "SQL 查询"]
    assert "限时服务达标率" in chinese.content()
    shot(chinese, "explorer-zh")
    chinese.get_by_role("tab", name="SQL 查询").click()
    wait_idle(chinese, 500)
    assert "整个数据仓库" in chinese.locator(PANEL).inner_text()
    shot(chinese, "explorer-sql-zh")
    chinese.close()


def test_sql_console_runs_and_refuses(server: str, browser: Browser) -> None:
    page = open_page(browser, f"{server}/explorer", wait_for=CHART)
    page.get_by_role("tab", name="SQL console").click()
    wait_idle(page, 500)
    assert page.locator(f"{PANEL} textarea").input_value().startswith("--")  # an example
    assert page.locator(f'{PANEL} [data-testid="stExpander"]').count() >= 10  # schema browser

    _run_sql(page, "SELECT outlet_code, outlet_name FROM dim_outlet ORDER BY outlet_code")
    assert_clean(page)
    assert page.locator(f'{PANEL} [data-testid="stDataFrame"]').count() == 1
    panel = page.locator(PANEL).inner_text()
    assert "rows ·" in panel
    assert page.locator(f'{PANEL} [data-testid="stDownloadButton"]').count() == 3
    shot(page, "explorer-sql-en")

    _run_sql(page, "SELECT * FROM read_csv('/etc/passwd')")
    assert_clean(page)
    warning = page.locator('[data-testid="stAlertContentWarning"]')
    assert warning.count() == 1
    assert "Refused" in warning.inner_text() and "read_csv" in warning.inner_text()
    assert "root:" not in page.content()
    assert page.locator(f'{PANEL} [data-testid="stDataFrame"]').count() == 0
    page.locator(PANEL).get_by_text("fact_transaction", exact=True).click()
    page.wait_for_timeout(500)
    assert "wait_s" in page.locator(PANEL).inner_text()  # the schema browser opens a table
    shot(page, "explorer-sql-refused-en")
    page.close()
