"""The overview in a real browser: `rccdash serve` on the small county, driven by Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.dashboard.browser_kit import assert_clean, open_page, shot, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
CARDS = '[data-testid="stMetric"]'


def test_overview_in_the_browser(server: str, browser: Browser) -> None:
    page = open_page(browser, f"{server}/", wait_for='[data-testid="stPlotlyChart"]')
    assert page.url.split("?")[0].endswith("/overview")  # the bare address forwards
    assert_clean(page)
    assert page.locator(CARDS).count() == 8
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 6  # 4 trends + 2 rankings
    assert "month=2026-02" in page.url  # the view is in the URL, so it can be bookmarked
    first = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    shot(page, "overview-en")

    december = open_page(browser, f"{server}/overview?month=2025-12", wait_for=CARDS)
    assert_clean(december)
    assert december.locator('[data-testid="stMetricValue"]').first.inner_text() != first
    assert "2025-12-01" in december.content()
    december.close()

    chinese = open_page(browser, f"{server}/overview?lang=zh", wait_for=CARDS)
    assert chinese.locator("h1").first.inner_text() == "全县服务质量"
    assert "等候" in "".join(chinese.locator(CARDS).all_inner_texts())
    shot(chinese, "overview-zh")
    chinese.close()
    page.close()


def test_filter_persists_across_pages_and_in_the_url(server: str, browser: Browser) -> None:
    page = open_page(browser, f"{server}/overview?period=quarter&quarter=2026Q1", wait_for=CARDS)
    assert_clean(page)
    assert "quarter=2026Q1" in page.url
    assert "2026-01-01" in page.content()
    page.get_by_role("link", name="Throughput").click()
    wait_idle(page)
    assert "/throughput" in page.url
    assert "quarter=2026Q1" in page.url  # the filter travels with the user
    assert "2026-01-01" in page.content()
    page.close()


def test_clicking_an_outlet_bar_opens_its_page(server: str, browser: Browser) -> None:
    page = open_page(browser, f"{server}/overview?month=2026-02", wait_for=CARDS)
    lagging = page.locator('[data-testid="stPlotlyChart"]').nth(4)
    lagging.scroll_into_view_if_needed()
    ticks = lagging.locator("g.ytick text").all()
    top = min(ticks, key=lambda tick: tick.bounding_box()["y"])  # worst first, at the top
    code = top.text_content().split()[0]
    lagging.locator("g.point path").first.click(force=True)
    page.wait_for_url("**/outlet?**", timeout=30_000)
    wait_idle(page)
    assert f"outlet={code}" in page.url  # the worst outlet, the first bar
    assert "month=2026-02" in page.url  # the filter comes along
    assert_clean(page)
    page.close()
