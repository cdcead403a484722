"""The account store: passwords, lockout, sessions, and the append-only audit log."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from access.roles import Account, AccountError, Grant, Role, scope_of
from access.settings import AccessSettings, ConfigError, parse
from access.store import (
    AccessStore,
    AuditEvent,
    PasswordRejected,
    SignInStatus,
    UnknownUser,
)
from warehouse.scope import Permission
from warehouse.settings import load_config

FAST = AccessSettings(hash_time_cost=1, hash_memory_kib=8192, hash_parallelism=1)
PW = "correct horse"


@pytest.fixture
def store(tmp_path: Path) -> AccessStore:
    s = AccessStore(tmp_path / "access.sqlite", FAST)
    s.add_user(
        Account("head", "Head", frozenset({Role.OUTLET_HEAD}), outlets=frozenset({"03101"})),
        PW,
        by="admin",
        must_change=False,
    )
    return s


def test_passwords_are_stored_only_as_argon2_hashes(store: AccessStore) -> None:
    with sqlite3.connect(store.path) as con:
        stored = con.execute("SELECT password_hash FROM users").fetchall()[0][0]
        everything = "".join(
            str(v)
            for t in ("users", "audit", "meta")
            for r in con.execute(f"SELECT * FROM {t}")
            for v in r
        )
    assert stored.startswith("$argon2id$")
    assert PW not in everything
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"


def test_sign_in_opens_a_session_the_token_of_which_is_not_stored(store: AccessStore) -> None:
    outcome = store.sign_in("head", PW)
    assert outcome.status is SignInStatus.OK and outcome.token
    assert store.session(outcome.token).username == "head"
    with sqlite3.connect(store.path) as con:
        keys = [k for (k,) in con.execute("SELECT token_hash FROM sessions")]
    assert keys and outcome.token not in keys
    store.sign_out(outcome.token)
    assert store.session(outcome.token) is None


def test_unknown_user_and_wrong_password_get_the_same_answer(store: AccessStore) -> None:
    assert store.sign_in("nobody", PW).status is SignInStatus.WRONG
    assert store.sign_in("head", "wrong password").status is SignInStatus.WRONG


def test_five_wrong_passwords_in_the_window_lock_the_account(store: AccessStore) -> None:
    for _ in range(4):
        assert store.sign_in("head", "wrong password").status is SignInStatus.WRONG
    fifth = store.sign_in("head", "wrong password")
    assert fifth.status is SignInStatus.LOCKED
    assert 14 * 60 < fifth.locked_for_s <= 15 * 60
    assert store.sign_in("head", PW).status is SignInStatus.LOCKED  # even the right one
    events = store.audit_log(username="head")["event"].to_list()
    assert events.count("lockout") == 1 and events[0] == "sign_in_locked"
    store.unlock("head", by="admin")
    assert store.sign_in("head", PW).status is SignInStatus.OK


def test_failures_spread_over_more_than_the_window_do_not_lock(store: AccessStore) -> None:
    now = time.time()
    with sqlite3.connect(store.path) as con:  # four failures 20 minutes ago
        con.executemany(
            "INSERT INTO attempts (username, at, ok) VALUES ('head', ?, 0)",
            [(now - 20 * 60 + i,) for i in range(4)],
        )
    assert store.sign_in("head", "wrong password").status is SignInStatus.WRONG
    assert store.locked_for("head") == 0
    assert store.sign_in("head", PW).status is SignInStatus.OK


def test_the_lock_opens_after_its_time(store: AccessStore) -> None:
    for _ in range(5):
        store.sign_in("head", "wrong password")
    last = time.time()
    assert store.locked_for("head", last) > 0
    assert store.locked_for("head", last + 15 * 60 + 1) == 0


def test_a_session_idle_longer_than_the_timeout_ends(store: AccessStore) -> None:
    token = store.sign_in("head", PW).token
    now = time.time()
    assert store.session(token, now=now + 8 * 3600 - 60) is not None  # touched: alive again
    assert store.session(token, now=now + 2 * 8 * 3600) is None
    assert store.session(token) is None  # and it is gone for good


def test_disabling_ends_sessions_and_refuses_sign_in(store: AccessStore) -> None:
    token = store.sign_in("head", PW).token
    store.set_disabled("head", True, by="admin")
    assert store.session(token) is None
    assert store.sign_in("head", PW).status is SignInStatus.DISABLED
    store.set_disabled("head", False, by="admin")
    assert store.sign_in("head", PW).status is SignInStatus.OK


def test_a_reset_password_must_be_changed_and_the_policy_holds(store: AccessStore) -> None:
    store.set_password("head", "temporary-123", by="admin", must_change=True)
    outcome = store.sign_in("head", "temporary-123")
    assert outcome.account.must_change_password
    with pytest.raises(PasswordRejected, match="current"):
        store.change_password("head", "not it at all", "a brand new one")
    with pytest.raises(PasswordRejected, match="at least 10"):
        store.change_password("head", "temporary-123", "short")
    with pytest.raises(PasswordRejected, match="user name"):
        store.add_user(
            Account("operator-zhang", "Z", frozenset({Role.OPERATOR})), "Operator-Zhang", by="a"
        )
    with pytest.raises(PasswordRejected, match="differ"):
        store.change_password("head", "temporary-123", "temporary-123")
    store.change_password("head", "temporary-123", "a brand new one")
    assert not store.account("head").must_change_password
    assert store.sign_in("head", "a brand new one").status is SignInStatus.OK
    with pytest.raises(UnknownUser):
        store.set_password("ghost", "whatever-long", by="admin", must_change=True)


def test_accounts_that_cannot_work_are_refused() -> None:
    with pytest.raises(AccountError, match="outlet"):
        Account("h", "H", frozenset({Role.OUTLET_HEAD}))
    with pytest.raises(AccountError, match="staff"):
        Account("t", "T", frozenset({Role.TELLER}))
    with pytest.raises(AccountError, match="at least one role"):
        Account("x", "X", frozenset())


def test_roles_combine_into_one_scope() -> None:
    head_and_teller = scope_of(
        Account(
            "x",
            "X",
            frozenset({Role.OUTLET_HEAD, Role.TELLER}),
            outlets=frozenset({"03101"}),
            staff_id="000001",
        )
    )
    assert head_and_teller.outlets == frozenset({"03101"})
    assert head_and_teller.can(Permission.OWN_PAY) and not head_and_teller.can(Permission.PAY)
    analyst = scope_of(Account("a", "A", frozenset({Role.ANALYST}), grants=frozenset({Grant.PAY})))
    assert analyst.county and analyst.can(Permission.PAY) and not analyst.can(Permission.PII)
    group = scope_of(Account("g", "G", frozenset({Role.LEADING_GROUP})))
    assert group.can(Permission.PUBLISH) and not group.can(Permission.CONSOLE)
    admin = scope_of(Account("z", "Z", frozenset({Role.ADMIN})))
    assert admin.outlets == frozenset() and admin.permissions == {Permission.ADMIN}


def test_the_audit_log_is_append_only_and_hash_chained(store: AccessStore) -> None:
    store.audit(AuditEvent.DOWNLOAD, "head", table="payout", rows=12)
    store.audit(AuditEvent.CONSOLE_QUERY, "analyst", sql="SELECT 1", rows=1, seconds=0.01)
    assert store.verify_audit() is None
    with sqlite3.connect(store.path) as con:
        for statement in ("UPDATE audit SET username = 'x'", "DELETE FROM audit"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                con.execute(statement)
    with sqlite3.connect(store.path) as con:  # edited behind the triggers' back
        con.execute("DROP TRIGGER audit_no_update")
        con.execute("UPDATE audit SET detail = '{}' WHERE event = 'download'")
    broken = store.verify_audit()
    row = store.audit_log(event="download")
    assert broken == row["id"][0]


def test_the_audit_log_filters_by_day_user_and_event(store: AccessStore) -> None:
    store.audit(AuditEvent.DOWNLOAD, "head", table="t", rows=3)
    log = store.audit_log(username="head", event="download")
    assert log.height == 1 and '"rows": 3' in log["detail"][0]
    assert store.audit_log(since=log["at"][0].replace(year=2099)).is_empty()
    assert set(store.audit_log()["event"]) == {"user_added", "download"}


def test_the_shipped_settings_parse_and_bad_ones_name_file_and_key() -> None:
    shipped = parse(load_config("access"))
    assert shipped.max_failures == 5 and shipped.idle_timeout_s == 8 * 3600
    raw = load_config("access")
    with pytest.raises(ConfigError, match=r"access.yaml: lockout.max_failures must be positive"):
        parse({**raw, "lockout": {**raw["lockout"], "max_failures": 0}})
    with pytest.raises(ConfigError, match=r"sign_in.method must be one of local, oidc"):
        parse({**raw, "sign_in": {"method": "ldap"}})
    with pytest.raises(ConfigError, match=r"missing session.cookie_name"):
        parse({**raw, "session": {"idle_timeout_minutes": 5, "cookie_secure": False}})
