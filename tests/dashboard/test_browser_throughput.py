"""The throughput page in a real browser: `rccdash serve` on the small county, in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.dashboard.browser_kit import assert_clean, open_page, shot, wait_idle
from tests.dashboard.conftest import serving
from tests.dashboard.test_throughput_page import with_phone_calls

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
CHART = '[data-testid="stPlotlyChart"]'
TABLE = '[data-testid="stDataFrame"]'
CARD_VALUE = '[data-testid="stMetricValue"]'


def _whole_page(page: Page) -> None:
    """Make the window as tall as the page so a screenshot shows every chart."""
    page.set_viewport_size({"width": 1400, "height": 5400})
    wait_idle(page, 1000)


def test_throughput_in_the_browser(server: str, browser: Browser) -> None:
    page = open_page(browser, f"{server}/throughput", wait_for=CHART)
    assert_clean(page)
    page.wait_for_function(f"document.querySelectorAll('{CHART}').length >= 10", timeout=60_000)
    assert page.locator(TABLE).count() >= 2  # flow by outlet, staffing plan
    assert "Windows needed and windows staffed" in page.content()
    first = page.locator(CARD_VALUE).first.inner_text()
    _whole_page(page)
    shot(page, "throughput-en")

    december = open_page(
        browser, f"{server}/throughput?period=month&month=2025-12&outlets=03101", wait_for=CHART
    )
    assert_clean(december)
    assert december.locator(CARD_VALUE).first.inner_text() != first
    assert "2025-12-01" in december.content()
    picker = december.get_by_label("Outlet for the staffing plan", exact=False)
    assert "03101" in picker.first.inner_text() or "03101" in december.content()
    december.close()

    chinese = open_page(browser, f"{server}/throughput?lang=zh", wait_for=CHART)
    assert_clean(chinese)
    assert chinese.locator("h1").first.inner_text() != "Throughput"
    assert "客户流量" in chinese.content() and "所需窗口" in chinese.content()
    _whole_page(chinese)
    shot(chinese, "throughput-zh")
    chinese.close()
    page.close()


def test_a_click_on_an_outlet_bar_opens_the_outlet_page(server: str, browser: Browser) -> None:
    page = open_page(browser, f"{server}/throughput", wait_for=CHART)
    outlets = page.locator(CHART).nth(5)  # flow, share, channels, hours, types, outlets
    assert "Arrivals by outlet" in outlets.inner_text()
    outlets.scroll_into_view_if_needed()
    box = outlets.locator("g.point path").first.bounding_box()
    assert box is not None
    # Plotly's drag layer sits above the bars and turns a click there into a selection.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url("**/outlet?**", timeout=30_000)
    assert "outlet=03101" in page.url  # the busiest outlet is the first bar
    assert "month=2026-02" in page.url  # the filter travels along
    page.close()


@pytest.fixture(scope="module")
def phone_server(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on the small county with a phone queue at outlet 03101."""
    with serving(with_phone_calls(small_warehouse, tmp_path_factory.mktemp("phone"))) as base:
        yield base


def test_the_phone_queue_in_the_browser(phone_server: str, browser: Browser) -> None:
    page = open_page(browser, f"{phone_server}/throughput", wait_for=CHART)
    assert_clean(page)
    page.wait_for_function(f"document.querySelectorAll('{CHART}').length >= 10", timeout=60_000)
    assert "Windows needed and windows staffed" in page.content()  # the counter first
    page.get_by_role("radio", name="Phone banking").click()
    page.get_by_text("Agents needed by weekday and hour").first.wait_for(timeout=60_000)
    wait_idle(page)
    assert_clean(page)
    text = page.content()
    assert "Most agents needed" in text and "Under-staffed hours" not in text
    _whole_page(page)
    shot(page, "throughput-phone-en")
    page.close()
