"""The data-quality page in a real browser, on a county with quarantined rows and a report.

The shared server's county loads clean, so this module serves its own copy with planted
defects, an HTML validation report and one missing outlet-day (see build_dq_county).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.dashboard.browser_kit import assert_clean, open_page, shot, wait_idle
from tests.dashboard.conftest import serving
from tests.dashboard.test_data_quality_page import DqCounty, build_dq_county

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
CHART = '[data-testid="stPlotlyChart"]'
TABLE = '[data-testid="stDataFrame"]'


@pytest.fixture(scope="module")
def dq_server(
    small_warehouse: Path, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, DqCounty]]:
    """Streamlit on the defective county; yields its base URL and what was planted."""
    county = build_dq_county(small_warehouse, tmp_path_factory.mktemp("dq-browser"))
    with serving(county.db) as base:
        yield base, county


def _whole_page(page: Page) -> None:
    """Make the window as tall as the page so a screenshot shows every section."""
    page.set_viewport_size({"width": 1400, "height": 4200})
    wait_idle(page, 1000)


def test_data_quality_in_the_browser(dq_server: tuple[str, DqCounty], browser: Browser) -> None:
    base, county = dq_server
    # Whoever can write the reports folder could plant a script: it must not run.
    planted = "<script>parent.document.title='pwned';document.body.insertAdjacentHTML("
    planted += "'beforeend','<p id=ran>ran</p>')</script>"
    county.report.write_text(county.report.read_text(encoding="utf-8") + planted, "utf-8")
    page = open_page(browser, f"{base}/data-quality", wait_for=CHART)
    assert_clean(page)
    page.wait_for_function(f"document.querySelectorAll('{CHART}').length >= 3", timeout=60_000)
    assert page.locator(TABLE).count() >= 4  # loads, rule counts, quarantined rows, days
    text = page.inner_text("body")
    assert "Rows quarantined per failed rule" in text
    assert "channel not an allowed value" in text
    page.get_by_text("Show the report here").click()
    report = page.frame_locator("iframe").first
    assert "Validation report" in report.locator("h1").inner_text(timeout=30_000)
    assert report.locator("#ran").count() == 0  # the planted script did not run ...
    assert page.title() != "pwned"  # ... and could not reach the page
    _whole_page(page)
    shot(page, "data-quality-en")

    outlet, _ = county.gap
    other = "03101" if outlet != "03101" else "03102"
    scoped = open_page(browser, f"{base}/data-quality?outlets={other}", wait_for=CHART)
    assert_clean(scoped)
    assert "Every outlet has service events on every business day" in scoped.inner_text("body")
    assert scoped.locator(CHART).count() == page.locator(CHART).count() - 1  # no gaps chart
    scoped.close()

    chinese = open_page(browser, f"{base}/data-quality?lang=zh", wait_for=CHART)
    assert_clean(chinese)
    assert chinese.locator("h1").first.inner_text() != "Data quality"
    body = chinese.inner_text("body")
    assert "加载记录" in body and "数据完整性" in body
    _whole_page(chinese)
    shot(chinese, "data-quality-zh")
    chinese.close()
    page.close()
