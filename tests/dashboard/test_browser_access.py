"""Sign-in and scope in a real browser: nothing before signing in, each role its own view.

Runs on the shared `rccdash serve` of the small county (tests/dashboard/conftest.py),
whose account store holds one test account per role (browser_kit.seed_accounts).
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Browser, Page
from websockets.sync.client import connect

from access.roles import Account, Role
from access.settings import store_path
from access.store import AccessStore
from dashboard.i18n import format_kpi
from dashboard.navigation import PAGES
from tests.dashboard.browser_kit import (
    CHEAP_HASH,
    PASSWORD,
    assert_clean,
    open_page,
    role_accounts,
    shot,
    sign_in,
    wait_idle,
)
from warehouse.kpi import service_summary

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
CARDS = '[data-testid="stMetric"]'
MONTH_START, MONTH_END = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
PANEL = '[role="tabpanel"]:visible'
PAID = "SELECT complaint_id FROM fact_complaint WHERE penalty_amount IS NOT NULL"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url: str) -> tuple[int, dict[str, str], str]:
    """GET without following redirects and without any cookie."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode(errors="replace")


@pytest.fixture(scope="module")
def names(small_warehouse: Path) -> dict[str, dict[str, str]]:
    """Outlet and staff names of the county, to look for where they must not be."""
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        outlets = dict(con.execute("SELECT outlet_code, outlet_name FROM dim_outlet").fetchall())
        staff = dict(con.execute("SELECT staff_id, staff_name FROM dim_staff").fetchall())
    return {"outlets": outlets, "staff": staff}


@pytest.fixture(scope="module")
def accounts(small_warehouse: Path) -> dict[str, Account]:
    return role_accounts(small_warehouse)


def _store(db: Path) -> AccessStore:
    return AccessStore(store_path(db), CHEAP_HASH)


def _fresh_page(browser: Browser) -> Page:
    """A page in a new browser profile: no cookie, nobody signed in."""
    return browser.new_context(viewport={"width": 1400, "height": 1800}).new_page()


def test_nothing_is_served_before_signing_in(
    server: str, browser: Browser, names: dict[str, dict[str, str]]
) -> None:
    for path in ["/", *(f"/{p.url_path}" for p in PAGES), "/stars?month=2026-01"]:
        status, headers, _ = _get(f"{server}{path}")
        assert status == 303, path
        assert headers["location"].startswith("/signin?"), path
    status, _, body = _get(f"{server}/signin?next=/stars")
    assert status == 200
    for name in [*names["outlets"].values(), *names["staff"].values()]:
        assert name not in body
    with pytest.raises(Exception, match=r"403|rejected|refused"):  # the websocket with the data
        connect(f"{server.replace('http', 'ws')}/_stcore/stream", subprotocols=["streamlit"])
    page = _fresh_page(browser)
    page.goto(f"{server}/staff?month=2026-01")
    assert "/signin" in page.url
    content = page.content()
    assert not any(n in content for n in names["staff"].values())
    shot(page, "access-signin")
    page.context.close()


def test_an_outlet_head_sees_their_outlet_and_only_ranks_of_others(
    server: str,
    browser: Browser,
    small_warehouse: Path,
    names: dict[str, dict[str, str]],
    accounts: dict[str, Account],
) -> None:
    (mine,) = accounts["head"].outlets
    other = next(o for o in sorted(names["outlets"]) if o != mine)
    page = open_page(browser, f"{server}/overview?month=2026-01", wait_for=CARDS, user="head")
    assert_clean(page)
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        expected = service_summary(con, start=MONTH_START, end=MONTH_END, outlets=(mine,))
    card = page.locator(CARDS).filter(has_text="Served within target wait")
    assert format_kpi("service_level", expected["service_level"][0], "en") in card.inner_text()
    assert page.get_by_text("Against the county").count() == 1
    assert page.get_by_text(" of 10").count() > 0  # ranks among the county's outlets
    content = page.content()
    foreign = [n for code, n in names["outlets"].items() if code != mine]
    assert not [n for n in foreign if n in content]
    page.get_by_label("Outlets").click()  # the outlet picker offers their outlet only
    options = page.locator('[role="option"]').all_inner_texts()
    assert options == [f"{mine} {names['outlets'][mine]}"]
    shot(page, "access-head-overview")
    page.close()

    asked = open_page(browser, f"{server}/outlet?outlet={other}", wait_for=CARDS, user="head")
    content = asked.content()
    assert names["outlets"][other] not in content
    assert asked.get_by_role("heading", name=mine).count() == 1  # their own instead
    asked.close()
    listed = open_page(
        browser, f"{server}/overview?month=2026-01&outlets={other}", wait_for=CARDS, user="head"
    )
    assert listed.get_by_text("outside your access").count() == 1
    assert names["outlets"][other] not in listed.content()
    listed.close()


def test_a_teller_sees_only_their_own_card(
    server: str,
    browser: Browser,
    names: dict[str, dict[str, str]],
    accounts: dict[str, Account],
) -> None:
    me = accounts["teller"].staff_id
    someone = next(s for s in sorted(names["staff"]) if names["staff"][s] != names["staff"][me])
    page = open_page(
        browser, f"{server}/staff?staff={someone}&month=2026-01", wait_for="h3", user="teller"
    )
    assert_clean(page)
    assert page.get_by_role("heading", name="My card").count() == 1
    assert page.get_by_role("heading", name=f"{me} {names['staff'][me]}").count() == 1
    assert names["staff"][someone] not in page.content()
    menu = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    assert [m.split("\n")[-1] for m in menu] in ([], ["My card"])
    assert page.get_by_text("Star bonus").count() == 1  # their own payout line
    shot(page, "access-teller-card")
    page.close()
    overview = open_page(browser, f"{server}/overview", wait_for="h1", user="teller")
    assert overview.get_by_text("not part of your access").count() == 1
    assert overview.locator(CARDS).count() == 0
    overview.close()


def _console(page: Page, sql: str) -> str:
    """Run ``sql`` in the open explorer's console; the tab's text afterwards."""
    page.get_by_role("tab", name="SQL console").click()
    page.locator(f"{PANEL} textarea").fill(sql)
    page.locator(PANEL).get_by_role("button", name="Run").click()
    # The query runs in a worker process (a cold one takes a moment to start).
    caption = re.compile(r"^\d[\d,]* rows · ")
    page.locator(PANEL).get_by_text(caption).last.wait_for(timeout=30_000)
    wait_idle(page, 300)
    return page.locator(PANEL).inner_text()


def test_an_analyst_has_the_console_but_no_pay(server: str, browser: Browser) -> None:
    page = open_page(browser, f"{server}/explorer?month=2026-01", wait_for="h1", user="analyst")
    assert "0 rows ·" in _console(page, PAID)  # the fines are there, but empty to them
    page.close()
    paid = open_page(browser, f"{server}/explorer?month=2026-01", wait_for="h1", user="tester")
    assert "0 rows ·" not in _console(paid, PAID) and " rows ·" in _console(paid, PAID)
    paid.close()
    stars = open_page(browser, f"{server}/stars?month=2026-01", wait_for="h1", user="analyst")
    assert stars.get_by_text("Quarterly payout").count() == 0
    assert stars.get_by_text("Publish 2026-01").count() == 0
    stars.close()
    chairman = open_page(browser, f"{server}/stars?month=2026-01", wait_for="h1", user="chairman")
    assert chairman.get_by_text("Quarterly payout").count() == 1
    assert chairman.get_by_text("Publish 2026-01").count() >= 1
    chairman.close()
    head = open_page(browser, f"{server}/explorer", wait_for="h1", user="head")
    assert head.get_by_role("tab", name="SQL console").count() == 0
    head.close()


def test_five_wrong_passwords_lock_the_account(
    server: str, browser: Browser, small_warehouse: Path
) -> None:
    store = _store(small_warehouse)
    if store.account("locksmith") is None:
        store.add_user(
            Account("locksmith", "L", frozenset({Role.ANALYST})),
            PASSWORD,
            by="t",
            must_change=False,
        )
    page = _fresh_page(browser)
    page.goto(f"{server}/signin")
    for _ in range(4):
        sign_in(page, "locksmith", "not the password")
        assert page.get_by_text("is not right").count() == 1
    sign_in(page, "locksmith", "not the password")
    assert page.get_by_role("alert").filter(has_text="locked for 15 more minutes").count() == 1
    sign_in(page, "locksmith", PASSWORD)  # the right password does not open it now
    assert "/signin" in page.url
    assert page.get_by_role("alert").filter(has_text="more minutes").count() == 1
    shot(page, "access-locked")
    page.context.close()
    events = store.audit_log(username="locksmith")["event"].to_list()
    assert events.count("sign_in_failed") == 5 and "lockout" in events


def test_an_expired_session_returns_to_sign_in(
    server: str, browser: Browser, small_warehouse: Path
) -> None:
    store = _store(small_warehouse)
    if store.account("sleeper") is None:
        store.add_user(
            Account("sleeper", "S", frozenset({Role.ANALYST})), PASSWORD, by="t", must_change=False
        )
    page = _fresh_page(browser)
    page.goto(f"{server}/overview?month=2026-01")
    sign_in(page, "sleeper")
    page.wait_for_selector(CARDS, timeout=90_000)
    wait_idle(page)
    assert store.expire_sessions("sleeper", idle_for_s=9 * 3600) == 1
    page.get_by_label("Month").first.click()  # the open tab's next action
    page.get_by_role("option", name="2025-12").click()
    page.wait_for_selector("text=Sign in again", timeout=30_000)
    assert page.locator(CARDS).count() == 0
    page.reload()  # and a reload lands on the sign-in page, saying why
    assert "/signin" in page.url
    assert page.get_by_text("Your session has ended").count() == 1
    page.context.close()


def test_a_first_sign_in_asks_for_a_new_password(
    server: str, browser: Browser, small_warehouse: Path
) -> None:
    store = _store(small_warehouse)
    if store.account("newcomer") is None:
        store.add_user(
            Account("newcomer", "N", frozenset({Role.OPERATOR})), "initial-pass-1", by="t"
        )
    page = _fresh_page(browser)
    page.goto(f"{server}/data-quality")
    sign_in(page, "newcomer", "initial-pass-1")
    assert "/password" in page.url
    page.fill("#current", "initial-pass-1")
    page.fill("#new", "my-own-password")
    page.fill("#repeat", "my-own-password")
    page.click("button[type=submit]")
    page.wait_for_selector("h1", timeout=90_000)
    wait_idle(page)
    assert "/data-quality" in page.url
    assert page.get_by_role("heading", name="Data quality").count() == 1
    page.context.close()
