"""What page tests share: open the app on a warehouse at a page, and check it is clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from access.roles import Account, Grant, Role
from dashboard import session
from warehouse.settings import PROJECT_ROOT

APP = str(PROJECT_ROOT / "dashboard" / "app.py")
# Who the page tests sign in as unless told otherwise: every role that reads the
# warehouse, with pay and identifiers, so a page shows all it can.
EVERYTHING = Account(
    "tester",
    "Tester",
    frozenset({Role.CHAIRMAN, Role.ANALYST, Role.OPERATOR}),
    grants=frozenset({Grant.PAY, Grant.PII}),
)


def open_view(
    monkeypatch: pytest.MonkeyPatch,
    db: Path,
    view: str,
    *,
    account: Account = EVERYTHING,
    **params: str,
) -> AppTest:
    """The app on ``db`` signed in as ``account``, switched to ``views/<view>.py``.

    ``params`` are in the URL from the first run, as when a bookmark is opened: the
    filter bar seeds itself from them and a page reads its own (``outlet=``). The
    session cookie is the browser tests' business; here the account is given directly.
    """
    monkeypatch.setenv("RCCDASH_DB", str(db))
    monkeypatch.setenv("RCCDASH_ACCESS", str(db.with_name("access.sqlite")))
    monkeypatch.setattr(session, "signed_in_account", lambda: account)
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
