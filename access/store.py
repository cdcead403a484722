"""The account store: users, roles, sessions, sign-in attempts and the audit log, in SQLite.

Why SQLite beside the warehouse and not a table in it: every load replaces the warehouse
file, and the dashboard only ever opens it read-only. What the dashboard itself writes
(who may sign in, who is signed in, what they did) needs a store of its own that many
threads may write at once; SQLite in WAL mode with a busy timeout does that.

Passwords are hashed with Argon2id (argon2-cffi) and never stored or logged in clear.
A session is a random token held by the browser in an HttpOnly cookie; the store keeps
only its SHA-256, so a copy of the store cannot be used to sign in. The audit log is
append-only (triggers refuse UPDATE and DELETE) and hash-chained, so an edit made behind
the triggers' back shows in :meth:`AccessStore.verify_audit`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import polars as pl
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from access.roles import Account, Grant, Role, parse_grants, parse_roles
from access.settings import AccessSettings, access_settings

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change INTEGER NOT NULL DEFAULT 1,
    disabled INTEGER NOT NULL DEFAULT 0,
    staff_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS user_roles (
    username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (username, role)
);
CREATE TABLE IF NOT EXISTS user_outlets (
    username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    outlet_code TEXT NOT NULL,
    PRIMARY KEY (username, outlet_code)
);
CREATE TABLE IF NOT EXISTS user_grants (
    username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    grant_name TEXT NOT NULL,
    PRIMARY KEY (username, grant_name)
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    at REAL NOT NULL,
    ok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_by_user ON attempts (username, at);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    username TEXT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
_GENESIS = "0" * 64
# Touch a session's last use at most this often: one write per minute, not per request.
_TOUCH_EVERY_S = 60.0


class AuditEvent(StrEnum):
    """What the audit log records."""

    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKOUT = "lockout"
    SIGN_IN_LOCKED = "sign_in_locked"
    SIGN_OUT = "sign_out"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    USER_ADDED = "user_added"
    USER_CHANGED = "user_changed"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    USER_UNLOCKED = "user_unlocked"
    DOWNLOAD = "download"
    CONSOLE_QUERY = "console_query"
    PUBLISH = "publish"
    RESTATE = "restate"
    AUDIT_EXPORT = "audit_export"


class SignInStatus(StrEnum):
    """How a sign-in attempt ended."""

    OK = "ok"
    WRONG = "wrong"  # unknown user or wrong password: the same answer for both
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass(frozen=True)
class SignIn:
    """A sign-in's outcome; ``token`` (for the cookie) only when it succeeded."""

    status: SignInStatus
    token: str | None = None
    account: Account | None = None
    locked_for_s: float = 0.0


class PasswordRejected(ValueError):
    """A new password that does not meet the policy, or a wrong current password."""


class UnknownUser(LookupError):
    """No account of that name."""


def _now_iso() -> str:
    """The current UTC time as ISO text (what the audit log stores)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")


def _token_hash(token: str) -> str:
    """What the store keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _chain(prev: str, at: str, username: str, event: str, detail: str) -> str:
    """The hash of one audit row, chained to the row before it."""
    text = "\x1f".join((prev, at, username, event, detail))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_password() -> str:
    """A random initial password (12 characters, about 72 bits)."""
    return secrets.token_urlsafe(9)


class AccessStore:
    """Accounts, sessions and the audit log of one dashboard, in one SQLite file."""

    def __init__(self, path: Path, settings: AccessSettings | None = None) -> None:
        self.path = Path(path)
        self.settings = settings or access_settings()
        self._hasher = PasswordHasher(
            time_cost=self.settings.hash_time_cost,
            memory_cost=self.settings.hash_memory_kib,
            parallelism=self.settings.hash_parallelism,
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")  # kept by the file: readers never wait
            con.executescript(_SCHEMA)
            con.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        # Accounts and the audit log are nobody else's business on the server either.
        self.path.chmod(0o600)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A short connection; commits on success. One per call: threads share nothing."""
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            con.execute("PRAGMA foreign_keys=ON")
            yield con
        finally:
            con.close()

    # -- accounts ------------------------------------------------------------------------

    def _check_password(self, password: str, username: str) -> None:
        """Refuse a password the policy does not allow."""
        least = self.settings.min_password_length
        if len(password) < least:
            raise PasswordRejected(f"a password needs at least {least} characters")
        if password.strip().lower() == username.strip().lower():
            raise PasswordRejected("the password must not be the user name")

    def add_user(
        self, account: Account, password: str, *, by: str, must_change: bool = True
    ) -> None:
        """Create an account; its password must be changed at first sign-in by default."""
        self._check_password(password, account.username)
        now = _now_iso()
        with self._connect() as con:
            exists = con.execute(
                "SELECT 1 FROM users WHERE username = ?", (account.username,)
            ).fetchone()
            if exists:
                raise ValueError(f"user {account.username} already exists")
            con.execute("BEGIN IMMEDIATE")
            con.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    account.username,
                    account.display_name,
                    self._hasher.hash(password),
                    int(must_change),
                    int(account.disabled),
                    account.staff_id,
                    now,
                    now,
                ),
            )
            self._write_links(con, account)
            con.execute("COMMIT")
        self.audit(AuditEvent.USER_ADDED, by, **_describe(account))

    def _write_links(self, con: sqlite3.Connection, account: Account) -> None:
        """Roles, outlets and grants of an account (replacing what was there)."""
        for table in ("user_roles", "user_outlets", "user_grants"):
            con.execute(f"DELETE FROM {table} WHERE username = ?", (account.username,))
        con.executemany(
            "INSERT INTO user_roles VALUES (?, ?)",
            [(account.username, r.value) for r in sorted(account.roles)],
        )
        con.executemany(
            "INSERT INTO user_outlets VALUES (?, ?)",
            [(account.username, o) for o in sorted(account.outlets)],
        )
        con.executemany(
            "INSERT INTO user_grants VALUES (?, ?)",
            [(account.username, g.value) for g in sorted(account.grants)],
        )

    def update_user(self, account: Account, *, by: str) -> None:
        """Change an account's name, roles, outlets, staff id and grants."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            changed = con.execute(
                "UPDATE users SET display_name = ?, staff_id = ?, updated_at = ?"
                " WHERE username = ?",
                (account.display_name, account.staff_id, _now_iso(), account.username),
            ).rowcount
            if not changed:
                con.execute("ROLLBACK")
                raise UnknownUser(account.username)
            self._write_links(con, account)
            con.execute("COMMIT")
        self.audit(AuditEvent.USER_CHANGED, by, **_describe(account))

    def account(self, username: str) -> Account | None:
        """The account of ``username``, or None."""
        with self._connect() as con:
            return self._account(con, username)

    def _account(self, con: sqlite3.Connection, username: str) -> Account | None:
        """Read one account on an open connection (one query: it runs on every page)."""
        row = con.execute(_ACCOUNT_SQL + " WHERE u.username = ?", (username,)).fetchone()
        return None if row is None else _account_of(row)

    def accounts(self) -> list[Account]:
        """Every account, by user name."""
        with self._connect() as con:
            names = [n for (n,) in con.execute("SELECT username FROM users ORDER BY username")]
            found = [self._account(con, n) for n in names]
        return [a for a in found if a is not None]

    def user_table(self) -> pl.DataFrame:
        """The accounts as a table for the admin page and ``rccdash user list``."""
        now = time.time()
        with self._connect() as con:
            last = dict(
                con.execute(
                    "SELECT username, max(at) FROM attempts WHERE ok = 1 GROUP BY username"
                ).fetchall()
            )
        rows = []
        for a in self.accounts():
            seen = last.get(a.username)
            rows.append(
                {
                    "username": a.username,
                    "display_name": a.display_name,
                    "roles": ", ".join(sorted(a.roles)),
                    "outlets": ", ".join(sorted(a.outlets)),
                    "staff_id": a.staff_id or "",
                    "grants": ", ".join(sorted(a.grants)),
                    "status": "disabled" if a.disabled else "active",
                    "locked": self.locked_for(a.username, now) > 0,
                    "must_change_password": a.must_change_password,
                    "last_sign_in": None
                    if seen is None
                    else dt.datetime.fromtimestamp(seen, dt.UTC).replace(tzinfo=None),
                }
            )
        return pl.DataFrame(
            rows,
            schema={
                "username": pl.String,
                "display_name": pl.String,
                "roles": pl.String,
                "outlets": pl.String,
                "staff_id": pl.String,
                "grants": pl.String,
                "status": pl.String,
                "locked": pl.Boolean,
                "must_change_password": pl.Boolean,
                "last_sign_in": pl.Datetime,
            },
        )

    def set_password(self, username: str, password: str, *, by: str, must_change: bool) -> None:
        """Reset a password (an admin's act); ends the user's sessions and any lockout."""
        self._check_password(password, username)
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            changed = con.execute(
                "UPDATE users SET password_hash = ?, must_change = ?, updated_at = ?"
                " WHERE username = ?",
                (self._hasher.hash(password), int(must_change), _now_iso(), username),
            ).rowcount
            if not changed:
                con.execute("ROLLBACK")
                raise UnknownUser(username)
            con.execute("DELETE FROM sessions WHERE username = ?", (username,))
            con.execute("DELETE FROM attempts WHERE username = ?", (username,))
            con.execute("COMMIT")
        self.audit(AuditEvent.PASSWORD_RESET, by, user=username, must_change=must_change)

    def change_password(self, username: str, current: str, new: str) -> None:
        """The user's own change: the current password first, then the policy."""
        with self._connect() as con:
            row = con.execute(
                "SELECT password_hash FROM users WHERE username = ?", (username,)
            ).fetchone()
        if row is None or not self._verify(row[0], current):
            raise PasswordRejected("the current password is not right")
        if new == current:
            raise PasswordRejected("the new password must differ from the current one")
        self._check_password(new, username)
        with self._connect() as con:
            con.execute(
                "UPDATE users SET password_hash = ?, must_change = 0, updated_at = ?"
                " WHERE username = ?",
                (self._hasher.hash(new), _now_iso(), username),
            )
        self.audit(AuditEvent.PASSWORD_CHANGED, username)

    def set_disabled(self, username: str, disabled: bool, *, by: str) -> None:
        """Disable (ending every session) or enable an account."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            changed = con.execute(
                "UPDATE users SET disabled = ?, updated_at = ? WHERE username = ?",
                (int(disabled), _now_iso(), username),
            ).rowcount
            if not changed:
                con.execute("ROLLBACK")
                raise UnknownUser(username)
            if disabled:
                con.execute("DELETE FROM sessions WHERE username = ?", (username,))
            con.execute("COMMIT")
        event = AuditEvent.USER_DISABLED if disabled else AuditEvent.USER_ENABLED
        self.audit(event, by, user=username)

    def unlock(self, username: str, *, by: str) -> None:
        """Forget the failed attempts that locked an account."""
        with self._connect() as con:
            con.execute("DELETE FROM attempts WHERE username = ? AND ok = 0", (username,))
        self.audit(AuditEvent.USER_UNLOCKED, by, user=username)

    # -- signing in ----------------------------------------------------------------------

    def _verify(self, stored: str, password: str) -> bool:
        """Whether ``password`` matches the stored hash."""
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def locked_for(self, username: str, now: float | None = None) -> float:
        """Seconds the account stays locked (0 when it is not).

        Locked when ``max_failures`` wrong passwords fell within ``failure_window_s``
        with no success since; it opens ``lock_s`` after the last of them.
        """
        now = time.time() if now is None else now
        s = self.settings
        with self._connect() as con:
            last_ok = con.execute(
                "SELECT coalesce(max(at), 0) FROM attempts WHERE username = ? AND ok = 1",
                (username,),
            ).fetchone()[0]
            failures = [
                at
                for (at,) in con.execute(
                    "SELECT at FROM attempts WHERE username = ? AND ok = 0 AND at > ?"
                    " ORDER BY at DESC LIMIT ?",
                    (username, last_ok, s.max_failures),
                )
            ]
        if len(failures) < s.max_failures or failures[0] - failures[-1] > s.failure_window_s:
            return 0.0
        return max(0.0, failures[0] + s.lock_s - now)

    def sign_in(self, username: str, password: str, *, client: str = "") -> SignIn:
        """Check a password; on success open a session and return its token.

        An unknown user and a wrong password get the same answer and take the same time
        (a hash is verified either way), so the form does not reveal who has an account.
        """
        username = username.strip()
        now = time.time()
        waiting = self.locked_for(username, now)
        if waiting > 0:
            self.audit(AuditEvent.SIGN_IN_LOCKED, username, client=client)
            return SignIn(SignInStatus.LOCKED, locked_for_s=waiting)
        with self._connect() as con:
            row = con.execute(
                "SELECT password_hash, disabled FROM users WHERE username = ?", (username,)
            ).fetchone()
        stored = row[0] if row else self._hasher.hash(secrets.token_hex(8))
        good = self._verify(stored, password) and row is not None
        if good and row is not None and row[1]:
            self.audit(AuditEvent.SIGN_IN_FAILED, username, client=client, why="disabled")
            return SignIn(SignInStatus.DISABLED)
        with self._connect() as con:
            con.execute(
                "INSERT INTO attempts (username, at, ok) VALUES (?, ?, ?)",
                (username, now, int(good)),
            )
        if not good:
            self.audit(AuditEvent.SIGN_IN_FAILED, username, client=client)
            waiting = self.locked_for(username, now)
            if waiting > 0:
                self.audit(AuditEvent.LOCKOUT, username, minutes=round(waiting / 60, 1))
                return SignIn(SignInStatus.LOCKED, locked_for_s=waiting)
            return SignIn(SignInStatus.WRONG)
        if self._hasher.check_needs_rehash(stored):
            with self._connect() as con:
                con.execute(
                    "UPDATE users SET password_hash = ? WHERE username = ?",
                    (self._hasher.hash(password), username),
                )
        token = secrets.token_urlsafe(32)
        with self._connect() as con:
            con.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?)", (_token_hash(token), username, now, now)
            )
        self.audit(AuditEvent.SIGN_IN, username, client=client)
        return SignIn(SignInStatus.OK, token, self.account(username))

    def session(self, token: str | None, *, now: float | None = None) -> Account | None:
        """The account signed in with ``token``, or None (unknown, idle too long, disabled).

        Using a session keeps it alive: its last use is written at most once a minute.
        """
        if not token:
            return None
        now = time.time() if now is None else now
        key = _token_hash(token)
        with self._connect() as con:
            row = con.execute(
                "SELECT s.last_seen, " + _ACCOUNT_COLUMNS + " FROM sessions s"
                " JOIN users u USING (username) WHERE s.token_hash = ?",
                (key,),
            ).fetchone()
            if row is None:
                return None
            last_seen, account = row[0], _account_of(row[1:])
            if account.disabled or now - last_seen > self.settings.idle_timeout_s:
                con.execute("DELETE FROM sessions WHERE token_hash = ?", (key,))
                return None
            if now - last_seen > _TOUCH_EVERY_S:
                con.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (now, key))
            return account

    def sign_out(self, token: str | None) -> None:
        """End a session (the cookie is cleared by the caller)."""
        if not token:
            return
        key = _token_hash(token)
        with self._connect() as con:
            row = con.execute("SELECT username FROM sessions WHERE token_hash = ?", (key,))
            found = row.fetchone()
            con.execute("DELETE FROM sessions WHERE token_hash = ?", (key,))
        if found:
            self.audit(AuditEvent.SIGN_OUT, found[0])

    def expire_sessions(self, username: str, idle_for_s: float) -> int:
        """Make a user's sessions look idle for ``idle_for_s`` (operations and tests)."""
        with self._connect() as con:
            return con.execute(
                "UPDATE sessions SET last_seen = ? WHERE username = ?",
                (time.time() - idle_for_s, username),
            ).rowcount

    # -- the audit log -------------------------------------------------------------------

    def audit(self, event: AuditEvent, username: str, **detail: Any) -> None:
        """Append one event (who, what, details as JSON) to the hash-chained log."""
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
        at = _now_iso()
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            prev = con.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            previous = prev[0] if prev else _GENESIS
            con.execute(
                "INSERT INTO audit (at, username, event, detail, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    at,
                    username,
                    event.value,
                    text,
                    previous,
                    _chain(previous, at, username, event.value, text),
                ),
            )
            con.execute("COMMIT")

    def audit_log(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        username: str | None = None,
        event: str | None = None,
        limit: int | None = None,
    ) -> pl.DataFrame:
        """Audit rows, newest first: id, at (UTC), username, event, detail (JSON text)."""
        where, params = ["1 = 1"], []
        if since is not None:
            where.append("at >= ?")
            params.append(since.isoformat())
        if until is not None:
            where.append("at < ?")
            params.append(until.isoformat())
        if username:
            where.append("username = ?")
            params.append(username)
        if event:
            where.append("event = ?")
            params.append(event)
        tail = f" LIMIT {int(limit)}" if limit else ""
        with self._connect() as con:
            rows = con.execute(
                "SELECT id, at, username, event, detail FROM audit WHERE "
                + " AND ".join(where)
                + " ORDER BY id DESC"
                + tail,
                params,
            ).fetchall()
        return pl.DataFrame(
            rows,
            schema={
                "id": pl.Int64,
                "at": pl.String,
                "username": pl.String,
                "event": pl.String,
                "detail": pl.String,
            },
            orient="row",
        ).with_columns(pl.col("at").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f"))

    def verify_audit(self) -> int | None:
        """The id of the first audit row whose chain is broken, or None when all hold."""
        previous = _GENESIS
        with self._connect() as con:
            for row_id, at, username, event, detail, prev, digest in con.execute(
                "SELECT id, at, username, event, detail, prev_hash, hash FROM audit ORDER BY id"
            ):
                if prev != previous or digest != _chain(prev, at, username, event, detail):
                    return int(row_id)
                previous = digest
        return None

    # -- demo ----------------------------------------------------------------------------

    def mark_demo(self, usernames: list[str]) -> None:
        """Record that this store holds the demo's accounts, for the sign-in page's banner."""
        with self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('demo_accounts', ?)", (json.dumps(usernames),)
            )

    def demo_accounts(self) -> list[str]:
        """The demo's accounts still enabled (empty outside the demo)."""
        with self._connect() as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'demo_accounts'").fetchone()
        if row is None:
            return []
        enabled = {a.username for a in self.accounts() if not a.disabled}
        return [u for u in json.loads(row[0]) if u in enabled]


# An account in one row: the roles, outlets and grants joined with the unit separator.
_ACCOUNT_COLUMNS = """u.username, u.display_name, u.must_change, u.disabled, u.staff_id,
    (SELECT group_concat(role, char(31)) FROM user_roles WHERE username = u.username),
    (SELECT group_concat(outlet_code, char(31)) FROM user_outlets WHERE username = u.username),
    (SELECT group_concat(grant_name, char(31)) FROM user_grants WHERE username = u.username)"""
_ACCOUNT_SQL = "SELECT " + _ACCOUNT_COLUMNS + " FROM users u"


def _account_of(row: tuple[Any, ...]) -> Account:
    """An :class:`Account` from a row of :data:`_ACCOUNT_COLUMNS`."""
    username, name, must_change, disabled, staff_id, roles, outlets, grants = row
    split = lambda text: [v for v in (text or "").split("\x1f") if v]  # noqa: E731
    return Account(
        username=username,
        display_name=name,
        roles=parse_roles(split(roles)),
        outlets=frozenset(split(outlets)),
        staff_id=staff_id,
        grants=parse_grants(split(grants)),
        disabled=bool(disabled),
        must_change_password=bool(must_change),
    )


def _describe(account: Account) -> dict[str, Any]:
    """An account as audit details (never a password)."""
    return {
        "user": account.username,
        "name": account.display_name,
        "roles": sorted(r.value for r in account.roles),
        "outlets": sorted(account.outlets),
        "staff_id": account.staff_id,
        "grants": sorted(g.value for g in account.grants),
        "disabled": account.disabled,
    }


__all__ = [
    "AccessStore",
    "Account",
    "AuditEvent",
    "Grant",
    "PasswordRejected",
    "Role",
    "SignIn",
    "SignInStatus",
    "UnknownUser",
    "new_password",
]
