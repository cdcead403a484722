"""What browser tests share: how to launch Chromium, open a page, check it, screenshot it."""

from __future__ import annotations

from playwright.sync_api import Browser, Page

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


def open_page(browser: Browser, url: str, *, wait_for: str, settle_ms: int = 1500) -> Page:
    """Open ``url`` in a tall window and wait until ``wait_for`` shows and the app is idle."""
    page = browser.new_page(viewport={"width": 1400, "height": 2200})
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
