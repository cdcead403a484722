"""The service-quality page in a real browser: `rccdash serve` on the small county."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.dashboard.browser_kit import assert_clean, open_page, shot, wait_idle
from warehouse.settings import load_config

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
CHART = '[data-testid="stPlotlyChart"]'
TABLE = '[data-testid="stDataFrame"]'
CARDS = '[data-testid="stMetric"]'
N_CARDS = sum(len(v) for v in load_config("quality")["cards"].values())


def _full_shot(page: Page, name: str) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its own container, so grow the
    window to the page's height first."""
    page.set_viewport_size({"width": 1400, "height": 4800})
    wait_idle(page, 1000)
    shot(page, name)


def _list_caption(page: Page) -> str:
    return page.get_by_text("newest first").first.inner_text()


def test_quality_in_the_browser(server: str, browser: Browser) -> None:
    page = open_page(browser, f"{server}/quality", wait_for=CHART)
    assert_clean(page)
    assert page.locator(CHART).count() == 10  # 2 histograms, 4 over time, 4 complaints
    assert page.locator(TABLE).count() == 2  # percentiles and the complaint list
    assert page.locator(CARDS).count() == N_CARDS
    assert "month=2026-02" in page.url
    assert "Over time, by day" in page.content()
    first = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    everything = _list_caption(page)
    _full_shot(page, "quality-en")

    search = page.get_by_placeholder("id, category, description, customer, staff, outlet")
    search.fill("态度")
    search.press("Enter")
    wait_idle(page)
    assert_clean(page)
    assert _list_caption(page) != everything  # fewer complaints listed
    page.close()

    # One outlet without complaints that month: other numbers, service charts only.
    quiet = open_page(browser, f"{server}/quality?month=2026-02&outlets=03105", wait_for=CHART)
    assert_clean(quiet)
    assert quiet.locator('[data-testid="stMetricValue"]').first.inner_text() != first
    assert "03105" in quiet.locator('[data-testid="stCaptionContainer"]').first.inner_text()
    assert quiet.get_by_text("No complaints were received").count() == 1
    assert quiet.locator(CHART).count() == 6  # the service charts are still there
    assert quiet.locator(TABLE).count() == 1
    quiet.close()

    chinese = open_page(browser, f"{server}/quality?lang=zh", wait_for=CHART)
    assert_clean(chinese)
    assert chinese.locator("h1").first.inner_text() == "服务质量"
    assert "等候" in "".join(chinese.locator(CARDS).all_inner_texts())
    assert "投诉清单" in chinese.content()
    _full_shot(chinese, "quality-zh")
    chinese.close()
