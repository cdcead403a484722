"""The star page in a real browser: `rccdash serve` on the small county, driven by Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.dashboard.browser_kit import assert_clean, open_page, shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
CHART = '[data-testid="stPlotlyChart"]'
TABLE = '[data-testid="stDataFrame"]'
METRIC = '[data-testid="stMetricValue"]'


def _metrics(page) -> list[str]:
    return page.locator(METRIC).all_inner_texts()


def test_star_page_in_the_browser(server: str, browser: Browser) -> None:
    page = open_page(browser, f"{server}/stars", wait_for=TABLE)
    assert_clean(page)
    assert page.locator(CHART).count() == 4
    assert page.locator(TABLE).count() == 5  # outlets, staff, penalties, payout, breakdown
    assert "Provisional — not yet published" in page.content()
    assert page.get_by_role("heading", name="Outlets, 2026-02").count() == 1
    county = _metrics(page)
    shot(page, "stars-en")

    # An honour links to the person's page, which opens on that person.
    award = page.locator('a[href*="staff="]').first
    href = award.get_attribute("href")
    person = href.rsplit("staff=", 1)[1]
    page.close()
    staff = open_page(browser, f"{server}/{href.lstrip('./')}", wait_for=CHART)
    assert_clean(staff)
    assert staff.get_by_role("heading", name=person).count() >= 1
    staff.close()

    december = open_page(browser, f"{server}/stars?period=month&month=2025-12", wait_for=TABLE)
    assert_clean(december)
    assert december.get_by_role("heading", name="Outlets, 2025-12").count() == 1
    assert "Quarterly payout, 2025Q4" in december.content()
    assert _metrics(december) != county  # another quarter's money
    december.close()

    chinese = open_page(browser, f"{server}/stars?lang=zh", wait_for=TABLE)
    assert_clean(chinese)
    assert chinese.locator("h1").first.inner_text() == "星级评定"
    assert "临时结果" in chinese.content()
    shot(chinese, "stars-zh")
    chinese.close()
