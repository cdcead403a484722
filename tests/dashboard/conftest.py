"""Browser fixtures: one `rccdash serve` on the small county and one Chromium per worker.

Every browser test module is marked ``xdist_group("browser")`` so they share them.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.dashboard.browser_kit import ARGS, CHROMIUM, open_page

RCCDASH = (sys.executable, "-m", "rccdash.cli")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def server(small_warehouse: Path, browser: Browser) -> Iterator[str]:
    """`rccdash serve` on the small county; yields the base URL once the app answers."""
    port = _free_port()
    process = subprocess.Popen(
        [*RCCDASH, "serve", "--db", str(small_warehouse), "--port", str(port)],
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
    base = f"http://127.0.0.1:{port}"
    # The first session after a start cannot open a page other than the default
    # (streamlit/streamlit#9992); open the default once so the tests see what users see.
    open_page(browser, f"{base}/", wait_for='[data-testid="stMetric"]').close()
    yield base
    process.terminate()
    process.wait(10)
