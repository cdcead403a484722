"""`rccdash serve` itself: a bookmarked page opens cleanly even as the first visit."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.dashboard.browser_kit import assert_clean, open_page
from tests.dashboard.conftest import serving

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_first_visit_after_a_start_may_open_any_page(small_warehouse: Path, browser: Browser):
    with serving(small_warehouse) as base:
        page = open_page(browser, f"{base}/throughput?period=quarter&quarter=2025Q4", wait_for="h1")
        assert_clean(page)  # includes: no "Page not found" popup (streamlit#9992)
        assert "/throughput" in page.url
        assert "quarter=2025Q4" in page.url
        page.close()
