"""What the pages let each role do, with AppTest: publish, administer, query, and the audit.

Each test signs in an account directly (``open_view(account=...)``); the browser tests
cover the sign-in itself. Tests that write (publish, accounts) work on a copy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from access.roles import Account, Role
from access.settings import store_path
from access.store import AccessStore, AuditEvent
from dashboard import widgets
from tests.dashboard.apptest_kit import assert_clean, open_view
from tests.dashboard.browser_kit import CHEAP_HASH

CHAIRMAN = Account("wang", "Chairman Wang", frozenset({Role.CHAIRMAN}))
ANALYST = Account("zhao", "Analyst Zhao", frozenset({Role.ANALYST}))
ADMIN = Account("root", "Admin", frozenset({Role.ADMIN}))


@pytest.fixture
def copy(small_warehouse: Path, tmp_path: Path) -> Path:
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(small_warehouse, db)
    return db


def _store(db: Path) -> AccessStore:
    return AccessStore(store_path(db), CHEAP_HASH)


def test_the_chairman_publishes_a_month_from_the_stars_page(monkeypatch, copy: Path) -> None:
    at = open_view(monkeypatch, copy, "stars", account=CHAIRMAN, month="2026-01")
    assert_clean(at)
    form_button = at.button(key="FormSubmitter:publish-2026-01-Publish 2026-01")
    form_button.click().run()  # not confirmed: nothing happens
    assert any("Tick the box" in w.value for w in at.warning)
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM star_assessment").fetchall()[0][0] == 0
    next(c for c in at.checkbox if "reviewed" in c.label).check()
    at.button(key="FormSubmitter:publish-2026-01-Publish 2026-01").click().run()
    assert any("published as version 1" in s.value for s in at.success)
    with duckdb.connect(str(copy), read_only=True) as con:
        rows = con.execute("SELECT month, version, published_by FROM star_assessment").fetchall()
    assert rows == [("2026-01", 1, "wang")]  # the signed-in person, not the OS user
    published = _store(copy).audit_log(event="publish")
    assert published.height == 1 and published["username"][0] == "wang"
    assert json.loads(published["detail"][0]) == {"month": "2026-01", "reason": None, "version": 1}


def test_an_analyst_sees_no_publish_form_and_no_payout(monkeypatch, small_warehouse: Path) -> None:
    at = open_view(monkeypatch, small_warehouse, "stars", account=ANALYST, month="2026-01")
    assert_clean(at)
    assert not [e for e in at.expander if "Publish" in e.label]
    assert not [s for s in at.subheader if s.value.startswith("Quarterly payout")]


def test_console_queries_are_audited_with_text_rows_and_time(
    monkeypatch, small_warehouse: Path
) -> None:
    at = open_view(monkeypatch, small_warehouse, "explorer", account=ANALYST)
    sql = "SELECT outlet_code FROM dim_outlet ORDER BY 1"
    at.text_area(key="explorer_sql").input(sql).run()
    at.button(key="explorer_run").click().run()
    assert_clean(at)
    logged = _store(small_warehouse).audit_log(username="zhao", event="console_query")
    detail = json.loads(logged["detail"][0])
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        outlets = con.execute("SELECT count(*) FROM dim_outlet").fetchall()[0][0]
    assert detail["sql"] == sql and detail["rows"] == outlets and detail["seconds"] >= 0


def test_a_download_is_audited_when_it_is_made(tmp_path: Path) -> None:
    store = AccessStore(tmp_path / "access.sqlite", CHEAP_HASH)
    frame = pl.DataFrame({"outlet_code": ["03101", "03102"], "served": [10, 20]})
    what = {"table": "lagging", "rows": 2, "outlets": "all", "period": "2026-01"}
    data = widgets._audited(store, "wang", frame, "csv", what)
    assert data.decode("utf-8-sig").splitlines()[0] == "outlet_code,served"
    row = store.audit_log(event=AuditEvent.DOWNLOAD.value)
    assert row["username"].to_list() == ["wang"]
    assert json.loads(row["detail"][0]) == {**what, "format": "csv"}


def test_the_admin_adds_and_disables_an_account(monkeypatch, copy: Path) -> None:
    at = open_view(monkeypatch, copy, "admin", account=ADMIN)
    assert_clean(at)
    assert at.title[0].value == "Accounts and audit"
    at.text_input[0].input("head03101")
    at.text_input[1].input("Head of 03101")
    at.multiselect[0].select("outlet_head")
    at.text_input[2].input("03101")
    at.button(key="FormSubmitter:admin-add-Add account").click().run()
    assert_clean(at)
    added = next(s.value for s in at.success if "head03101" in s.value)
    password = added.split("`")[1]
    store = _store(copy)
    account = store.account("head03101")
    assert account.outlets == frozenset({"03101"}) and account.must_change_password
    assert store.sign_in("head03101", password).status.value == "ok"
    at.selectbox(key="admin_user").select("head03101").run()
    at.button(key="admin-disable").click().run()
    assert store.account("head03101").disabled
    events = store.audit_log(username="root")["event"].to_list()
    assert events[:2] == ["user_disabled", "user_added"]


@pytest.mark.parametrize(
    ("account", "pages"),
    [
        (CHAIRMAN, "overview throughput quality stars outlet staff explorer data-quality"),
        (ANALYST, "overview throughput quality stars outlet staff explorer data-quality"),
        (
            Account("h", "H", frozenset({Role.OUTLET_HEAD}), outlets=frozenset({"03101"})),
            "overview throughput quality stars outlet staff explorer",
        ),
        (Account("o", "O", frozenset({Role.OPERATOR})), "data-quality"),
        (Account("t", "T", frozenset({Role.TELLER}), staff_id="000001"), "staff"),
        (ADMIN, "admin"),
    ],
    ids=["chairman", "analyst", "outlet_head", "operator", "teller", "admin"],
)
def test_each_role_opens_the_pages_of_its_row_in_the_table(account: Account, pages: str) -> None:
    from access.roles import scope_of
    from dashboard.navigation import PAGES

    scope = scope_of(account)
    assert [p.url_path for p in PAGES if p.open_to(scope)] == pages.split()
