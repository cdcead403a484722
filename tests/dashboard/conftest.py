"""Browser fixtures: one `rccdash serve` on the small county and one Chromium per worker.

Every browser test module is marked ``xdist_group("browser")`` so they share them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.dashboard.browser_kit import ARGS, CHROMIUM, seed_accounts

RCCDASH = (sys.executable, "-m", "rccdash.cli")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """Put back the ``__main__`` module an AppTest run replaces with the app script.

    Streamlit's script runner installs the script as ``sys.modules["__main__"]`` and
    leaves it there; a process pool started later in the same worker (the generator's,
    with spawn) would then run the dashboard script in each child, which signs nobody in
    and stops it.
    """
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@contextmanager
def serving(db: Path) -> Iterator[str]:
    """Run `rccdash serve` on ``db``; yield the base URL once it says it is ready.

    Ready means the app has run once (see dashboard/warmup.py), so even the very first
    visit may open a bookmarked page other than the default. The test accounts of
    :func:`tests.dashboard.browser_kit.seed_accounts` exist before it starts.
    """
    seed_accounts(db)
    port = _free_port()
    process = subprocess.Popen(
        [*RCCDASH, "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    ready = threading.Event()

    def drain() -> None:  # keep reading so the server never blocks on a full pipe
        for line in process.stdout:
            if line.startswith("Ready:"):
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not ready.wait(90):
            raise AssertionError("rccdash serve did not become ready")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="session")
def server(small_warehouse: Path) -> Iterator[str]:
    """The dashboard on the small county, shared by every browser test of a worker."""
    with serving(small_warehouse) as base:
        yield base
