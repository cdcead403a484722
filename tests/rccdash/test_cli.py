"""The command line: every command listed, the demo path, and the warehouse location rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from access.settings import store_path
from access.store import AccessStore
from rccdash.cli import app
from tests.conftest import SmallCounty
from warehouse.settings import DB_ENV_VAR, PROJECT_ROOT, resolve_db_path

COMMANDS = ["generate", "load", "quarantine", "schema", "serve", "demo", "user", "audit"]


def test_help_lists_every_command_with_its_purpose() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    for command in COMMANDS:
        line = next(
            line
            for line in result.output.splitlines()
            if line.strip("│ ").startswith(f"{command} ")
        )
        purpose = line.split(command, 1)[1].strip(" │")
        assert len(purpose) > 10, f"{command} has no one-line purpose"


def test_warehouse_path_precedence(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv(DB_ENV_VAR, raising=False)
    assert resolve_db_path(None) == PROJECT_ROOT / "data" / "warehouse.duckdb"
    monkeypatch.setenv(DB_ENV_VAR, str(tmp_path / "env.duckdb"))
    assert resolve_db_path(None) == tmp_path / "env.duckdb"
    assert resolve_db_path(tmp_path / "flag.duckdb") == tmp_path / "flag.duckdb"


def test_demo_without_serving_loads_the_exports(small_county: SmallCounty, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    shutil.copytree(small_county.exports, exports)
    db = tmp_path / "demo.duckdb"
    result = CliRunner().invoke(
        app, ["demo", "--no-serve", "--exports", str(exports), "--db", str(db)], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db), read_only=True) as con:
        files = con.execute("SELECT count(*) FROM etl_load WHERE status = 'loaded'").fetchall()
    files = files[0][0]
    assert files == len(list(exports.glob("*.csv")))
    again = CliRunner().invoke(
        app, ["demo", "--no-serve", "--exports", str(exports), "--db", str(db)], terminal_width=200
    )
    assert again.exit_code == 0 and "skipped" in again.output
    store = AccessStore(store_path(db))
    demo = store.demo_accounts()
    assert demo == ["chairman", "group", "analyst", "head", "operator", "teller", "admin"]
    assert "rccdash-demo" in result.output and "teller" in result.output
    teller = store.account("teller")
    with duckdb.connect(str(db), read_only=True) as con:
        post = con.execute(
            "SELECT outlet_code, position FROM dim_staff WHERE staff_id = ? AND is_current",
            [teller.staff_id],
        ).fetchall()
    assert post == [(next(iter(store.account("head").outlets)), "teller")]


def test_generate_rejects_a_bad_start_month(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path), "--start", "March"])
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output


def test_schema_creates_a_warehouse(tmp_path: Path) -> None:
    db = tmp_path / "new.duckdb"
    result = CliRunner().invoke(app, ["schema", "--db", str(db)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db), read_only=True) as con:
        versions = con.execute("SELECT count(*) FROM schema_migrations").fetchall()[0][0]
    assert versions >= 2


def _cli(*args: str, db: Path, stdin: str | None = None):
    return CliRunner().invoke(app, [*args, "--db", str(db)], input=stdin, terminal_width=200)


def test_user_commands_manage_accounts_and_the_audit_exports_them(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    added = _cli("user", "add", "li", "--role", "outlet_head", "--outlet", "03101", db=db)
    assert added.exit_code == 0, added.output
    password = added.output.split("initial password: ")[1].split()[0]
    store = AccessStore(store_path(db))
    assert store.sign_in("li", password).account.must_change_password
    again = _cli("user", "add", "li", "--role", "analyst", db=db)
    assert again.exit_code == 1 and "already exists" in again.output
    headless = _cli("user", "add", "wu", "--role", "outlet_head", db=db)
    assert headless.exit_code == 1 and "needs --outlet" in headless.output
    unknown = _cli("user", "add", "wu", "--role", "boss", db=db)
    assert unknown.exit_code == 1 and "roles: chairman" in unknown.output
    chosen = _cli(
        "user",
        "add",
        "zhou",
        "--role",
        "analyst",
        "--grant",
        "pay",
        "--password-stdin",
        db=db,
        stdin="zhou-own-password\n",
    )
    assert chosen.exit_code == 0 and "initial password" not in chosen.output
    assert store.sign_in("zhou", "zhou-own-password").status.value == "ok"
    assert _cli("user", "change", "zhou", "--no-grants", db=db).exit_code == 0
    assert store.account("zhou").grants == frozenset()
    reset = _cli("user", "passwd", "li", db=db)
    assert reset.exit_code == 0
    assert store.sign_in("li", reset.output.split("new password: ")[1].split()[0]).token
    assert _cli("user", "disable", "li", db=db).exit_code == 0
    assert store.account("li").disabled
    listed = _cli("user", "list", db=db)
    assert "li" in listed.output and "disabled" in listed.output and "03101" in listed.output

    out = tmp_path / "audit.csv"
    exported = _cli("audit", "--since", "2000-01-01", "--out", str(out), db=db)
    assert exported.exit_code == 0, exported.output
    events = out.read_text(encoding="utf-8").splitlines()
    assert events[0] == "id,at,username,event,detail"
    kinds = [line.split(",")[3] for line in events[1:]]
    assert kinds.count("user_added") == 2 and "password_reset" in kinds
    assert "user_disabled" in kinds and kinds.count("sign_in") == 3
    assert password not in out.read_text(encoding="utf-8")
    none = _cli("audit", "--since", "2999-01-01", "--out", str(out), db=db)
    assert none.exit_code == 0 and out.read_text(encoding="utf-8").count("\n") == 1
    assert _cli("audit", "--since", "yesterday", db=db).exit_code == 2
