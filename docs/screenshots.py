"""Take the user guide's screenshots: every page of the demo county in Chromium.

Usage: ``make screenshots`` (or ``python docs/screenshots.py [--db WAREHOUSE]``). Needs the
demo warehouse and its demo accounts (``rccdash demo --no-serve``) and Debian's chromium.
Writes docs/img/<page>.jpg (JPEG keeps the repository small), docs/img/overview-zh.jpg,
the sign-in page, and the views of an outlet head and a teller.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from access.demo import DEMO_PASSWORD  # noqa: E402
from dashboard.navigation import PAGES  # noqa: E402
from dashboard.warmup import wait_for_port  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]
OUT = ROOT / "docs" / "img"
# Page-specific query parameters that show each page at its most telling.
EXTRA = {"outlet": "&outlet=03117", "staff": ""}


# Who each picture is taken as: the page's usual reader (demo accounts of `make demo`).
AS = {"data-quality": "operator", "admin": "admin", "head-overview": "head", "my-card": "teller"}
PATHS = {"head-overview": "overview", "my-card": "staff", "overview-zh": "overview"}


def _signed_in(browser: Browser, base: str, user: str) -> BrowserContext:
    """A browser profile signed in as ``user`` through the sign-in page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{base}/signin")
    page.fill("#username", user)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.close()
    return context


def _photograph(page: Page, name: str) -> None:
    """Wait until the app is idle, make the window as tall as the page, save it."""
    page.wait_for_selector("h1", timeout=120_000)
    page.wait_for_timeout(500)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)
    page.wait_for_timeout(2500)
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"]')]"
        ".map(e => e.scrollHeight), 1000)"
    )
    page.set_viewport_size({"width": 1400, "height": int(height) + 40})
    page.wait_for_timeout(1500)
    page.screenshot(path=str(OUT / f"{name}.jpg"), full_page=True, type="jpeg", quality=70)
    print(f"docs/img/{name}.jpg")


def _shoot(base: str, query: str) -> None:
    """Visit every page as its usual reader and save a screenshot of each."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        anonymous = browser.new_page(viewport={"width": 1400, "height": 800})
        anonymous.goto(f"{base}/overview")
        anonymous.wait_for_selector("#username")
        anonymous.screenshot(path=str(OUT / "signin.jpg"), type="jpeg", quality=80)
        print("docs/img/signin.jpg")
        anonymous.close()
        shots = [
            (spec.url_path, f"{query}&lang=en{EXTRA.get(spec.url_path, '')}") for spec in PAGES
        ]
        shots += [
            ("overview-zh", f"{query}&lang=zh"),
            ("head-overview", f"{query}&lang=en"),
            ("my-card", f"{query}&lang=en"),
        ]
        contexts: dict[str, BrowserContext] = {}
        for name, params in shots:
            user = AS.get(name, "chairman")
            if user not in contexts:
                contexts[user] = _signed_in(browser, base, user)
            page = contexts[user].new_page()
            page.goto(f"{base}/{PATHS.get(name, name)}?{params}")
            _photograph(page, name)
            page.close()
        browser.close()


def main() -> None:
    """Serve the demo warehouse on a spare port and photograph every page."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "warehouse.duckdb")
    parser.add_argument("--port", type=int, default=8599)
    parser.add_argument("--query", default="period=month&month=2026-03")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rccdash.cli",
            "serve",
            "--db",
            str(args.db),
            "--port",
            str(args.port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    ready = threading.Event()

    def drain() -> None:
        for line in server.stdout:
            if line.startswith("Ready:"):
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not (wait_for_port(args.port, 90) and ready.wait(90)):
            raise SystemExit("rccdash serve did not become ready")
        _shoot(f"http://127.0.0.1:{args.port}", args.query)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
