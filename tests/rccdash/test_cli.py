"""The command line: every command listed, the demo path, and the warehouse location rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from rccdash.cli import app
from tests.conftest import SmallCounty
from warehouse.settings import DB_ENV_VAR, PROJECT_ROOT, resolve_db_path

COMMANDS = ["generate", "load", "quarantine", "schema", "serve", "demo"]


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
