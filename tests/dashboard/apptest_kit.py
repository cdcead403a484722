"""What page tests share: open the app on a warehouse at a page, and check it is clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from warehouse.settings import PROJECT_ROOT

APP = str(PROJECT_ROOT / "dashboard" / "app.py")


def open_view(monkeypatch: pytest.MonkeyPatch, db: Path, view: str, **params: str) -> AppTest:
    """The app on ``db``, switched to ``views/<view>.py`` with ``params`` in the URL.

    The parameters are there from the first run, as when a bookmark is opened: the
    filter bar seeds itself from them and a page reads its own (``outlet=``).
    """
    monkeypatch.setenv("RCCDASH_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(params)
    at.run()  # the bare address forwards to /overview, as a browser would follow
    at.query_params.update(params)
    at.switch_page(f"views/{view}.py").run()
    return at


def assert_clean(at: AppTest) -> None:
    """No exception and no error message on the page."""
    assert not at.exception
    assert not at.error
