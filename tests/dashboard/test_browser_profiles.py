"""The outlet and staff pages in a real browser: `rccdash serve` on the small county."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Browser

from tests.dashboard.browser_kit import assert_clean, open_page, shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
CHART = '[data-testid="stPlotlyChart"]'
TABLE = '[data-testid="stDataFrame"]'


@pytest.fixture(scope="module")
def busiest_teller(small_warehouse: Path) -> str:
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        return con.execute(
            """SELECT staff_id FROM fact_transaction WHERE staff_id IS NOT NULL
                 AND business_date >= DATE '2026-02-01' GROUP BY 1
               ORDER BY count(*) DESC, 1 LIMIT 1"""
        ).fetchall()[0][0]


@pytest.fixture(scope="module")
def complained_outlet(small_warehouse: Path) -> str:
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        return con.execute(
            """SELECT outlet_code FROM fact_complaint WHERE received_at >= DATE '2026-02-01'
               GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"""
        ).fetchall()[0][0]


def test_outlet_page_in_the_browser(server: str, browser: Browser, complained_outlet: str) -> None:
    code = complained_outlet
    page = open_page(browser, f"{server}/outlet?outlet={code}", wait_for=TABLE)
    assert_clean(page)
    assert page.get_by_role("heading", name=code).count() == 1
    assert page.locator(CHART).count() == 6  # star history, breakdown, four trends
    assert page.locator(TABLE).count() == 4  # standing in the county, breakdown, people, complaints
    assert f"outlet={code}" in page.url  # the outlet stays in the URL, so it can be shared
    shot(page, "outlet-en")
    page.close()

    other = "03101" if code != "03101" else "03102"
    elsewhere = open_page(browser, f"{server}/outlet?outlet={code}&outlets={other}", wait_for=CHART)
    assert_clean(elsewhere)
    assert "not in the current selection" in elsewhere.content()
    assert elsewhere.get_by_role("heading", name=other).count() == 1
    elsewhere.close()

    chinese = open_page(browser, f"{server}/outlet?outlet={code}&lang=zh", wait_for=TABLE)
    assert_clean(chinese)
    assert chinese.locator("h1").first.inner_text() == "网点"
    assert chinese.get_by_role("heading", name="本网点人员").count() == 1
    shot(chinese, "outlet-zh")
    chinese.close()


def test_staff_page_in_the_browser(server: str, browser: Browser, busiest_teller: str) -> None:
    page = open_page(browser, f"{server}/staff?staff={busiest_teller}", wait_for=TABLE)
    assert_clean(page)
    assert page.get_by_role("heading", name=busiest_teller).count() == 1
    assert page.locator(CHART).count() == 7  # history, breakdown, peers, four trends
    assert page.locator(TABLE).count() >= 3  # breakdown, peers, posts (+ complaints)
    assert page.get_by_role("heading", name="Stars, 2026-02").count() == 1
    shot(page, "staff-en")
    page.close()

    december = open_page(
        browser, f"{server}/staff?staff={busiest_teller}&period=month&month=2025-12", wait_for=TABLE
    )
    assert_clean(december)
    assert december.get_by_role("heading", name="Stars, 2025-12").count() == 1
    december.close()

    chinese = open_page(browser, f"{server}/staff?staff={busiest_teller}&lang=zh", wait_for=TABLE)
    assert_clean(chinese)
    assert chinese.locator("h1").first.inner_text() == "员工"
    assert chinese.get_by_role("heading", name="与同岗位人员比较").count() == 1
    shot(chinese, "staff-zh")
    chinese.close()
