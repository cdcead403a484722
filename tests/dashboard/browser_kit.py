"""What browser tests share: how to launch Chromium, open a page, check it, screenshot it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page

from access.demo import demo_subjects
from access.roles import Account, Grant, Role
from access.settings import AccessSettings, store_path
from access.store import AccessStore
from warehouse.settings import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = PROJECT_ROOT / "screenshots"  # git-ignored; for a person to look at


def open_page(
    browser: Browser, url: str, *, wait_for: str, user: str = "tester", settle_ms: int = 1500
) -> Page:
    """Open ``url`` signed in as ``user`` in a tall window; wait for ``wait_for`` and idle."""
    parts = urlsplit(url)
    page = _context(browser, f"{parts.scheme}://{parts.netloc}", user).new_page()
    page.goto(url)
    page.wait_for_selector(wait_for, timeout=90_000)
    wait_idle(page, settle_ms)
    return page


def wait_idle(page: Page, settle_ms: int = 1500) -> None:
    """Wait until Streamlit has finished running the script (no 'running' indicator)."""
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=90_000)
    page.wait_for_timeout(settle_ms)


def assert_clean(page: Page) -> None:
    """No exception box, no error alert and no 'Page not found' on the page."""
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    assert page.get_by_text("Page not found").count() == 0


def shot(page: Page, name: str) -> None:
    """Save the whole page as ``screenshots/<name>.png``, however long it is.

    Streamlit scrolls inside its own main block, so a full-page screenshot alone stops
    at the window's height: the window is first made as tall as the content.
    """
    SHOTS.mkdir(exist_ok=True)
    height = page.evaluate(
        '() => Math.max(...[...document.querySelectorAll(\'[data-testid="stMain"], '
        '[data-testid="stAppViewContainer"]\')].map(e => e.scrollHeight), 800)'
    )
    width = page.viewport_size["width"] if page.viewport_size else 1400
    page.set_viewport_size({"width": width, "height": int(height) + 40})
    page.wait_for_timeout(800)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


# Every browser test signs in through the sign-in page, as a person would. The accounts
# are made before the server starts (``seed_accounts``); their hashes are cheap to check
# so that signing in costs the tests little (the server re-hashes them at its own cost).
PASSWORD = "browser-test-password"
CHEAP_HASH = AccessSettings(hash_time_cost=1, hash_memory_kib=8192, hash_parallelism=1)
_CONTEXTS: dict[tuple[int, str, str], BrowserContext] = {}


def role_accounts(db: Path) -> dict[str, Account]:
    """One account per role on ``db``'s county (the head's outlet and teller as the demo's)."""
    outlet, teller, _ = demo_subjects(db)
    return {
        a.username: a
        for a in (
            Account(
                "tester",
                "Tester",
                frozenset({Role.CHAIRMAN, Role.ANALYST, Role.OPERATOR}),
                grants=frozenset({Grant.PAY, Grant.PII}),
            ),
            Account("chairman", "Chairman", frozenset({Role.CHAIRMAN})),
            Account("analyst", "Analyst", frozenset({Role.ANALYST})),
            Account("head", "Head", frozenset({Role.OUTLET_HEAD}), outlets=frozenset({outlet})),
            Account("teller", "Teller", frozenset({Role.TELLER}), staff_id=teller),
            Account("operator", "Operator", frozenset({Role.OPERATOR})),
            Account("admin", "Admin", frozenset({Role.ADMIN})),
        )
    }


def seed_accounts(db: Path) -> dict[str, Account]:
    """Create the test accounts in the store beside ``db`` (once); return them."""
    store = AccessStore(store_path(db), CHEAP_HASH)
    accounts = role_accounts(db)
    for account in accounts.values():
        if store.account(account.username) is None:
            store.add_user(account, PASSWORD, by="tests", must_change=False)
    return accounts


def sign_in(page: Page, user: str, password: str = PASSWORD) -> None:
    """Fill in the sign-in form the page shows and submit it."""
    page.wait_for_selector("#username", timeout=30_000)
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _context(browser: Browser, base: str, user: str) -> BrowserContext:
    """One browser profile per user and server, signed in once (tabs share the cookie)."""
    key = (id(browser), base, user)
    if key not in _CONTEXTS:
        context = browser.new_context(viewport={"width": 1400, "height": 2200})
        page = context.new_page()
        page.goto(f"{base}/signin")
        sign_in(page, user)
        page.close()
        _CONTEXTS[key] = context
    return _CONTEXTS[key]
