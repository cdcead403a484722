"""The dashboard in a real browser: `rccdash serve` on the small county, driven by Chromium.

Screenshots go to ``screenshots/`` at the project root (git-ignored) for a person to look at.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from warehouse.settings import PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = PROJECT_ROOT / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(small_warehouse: Path) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rccdash.cli",
            "serve",
            "--db",
            str(small_warehouse),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        raise AssertionError("rccdash serve did not start")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _open(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 2200})
    page.goto(url)
    page.wait_for_selector('[data-testid="stMetric"]', timeout=90_000)
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=90_000)
    page.wait_for_timeout(1500)
    return page


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_overview_in_the_browser(server: str, browser: Browser) -> None:
    page = _open(browser, f"{server}/")
    assert page.url.split("?")[0].endswith("/overview")  # the bare address forwards
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlert"]').count() == 0
    assert page.locator('[data-testid="stMetric"]').count() == 8
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 5  # 4 trends + ranking
    assert "month=2026-02" in page.url  # the view is in the URL, so it can be bookmarked
    first = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    _shot(page, "overview-en")

    december = _open(browser, f"{server}/overview?month=2025-12")
    # Streamlit shows "Page not found" on the very first session after a start when it
    # opens a page other than the default (streamlit/streamlit#9992); later ones are fine.
    assert december.get_by_text("Page not found").count() == 0
    assert december.locator('[data-testid="stMetricValue"]').first.inner_text() != first
    assert "2025-12-01" in december.content()
    december.close()

    chinese = _open(browser, f"{server}/overview?lang=zh")
    assert chinese.locator("h1").first.inner_text() == "全县服务质量"
    assert "等候" in "".join(chinese.locator('[data-testid="stMetric"]').all_inner_texts())
    _shot(chinese, "overview-zh")
    chinese.close()
    page.close()
