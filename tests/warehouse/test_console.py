"""The read-only SQL console: every protection is tested on its own layer.

Layer 1 (``refusal`` through ``run_query``) must refuse before DuckDB runs anything, so
those tests assert the refusal kind, not just "no rows". Layer 2 and 3 tests run raw SQL
on ``sealed_connection``, bypassing layer 1, so they fail if a setting is dropped.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.warehouse.conftest import build_warehouse
from warehouse.console import (
    QueryResult,
    refusal,
    run_query,
    schema_tree,
    sealed_connection,
)
from warehouse.settings import load_config

CAP, LIMIT = 1000, 5.0


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-sized warehouse (real schema with comments) written to a file."""
    path = tmp_path_factory.mktemp("console") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        build_warehouse(con)
        con.execute("CHECKPOINT")
    return path


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A real file the console must never read."""
    path = tmp_path / "secret.csv"
    path.write_text("password\nhunter2\n", encoding="utf-8")
    return path


@pytest.fixture
def sealed(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = sealed_connection(db)
    yield con
    con.close()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(db: Path, sql: str, **kw: float) -> QueryResult:
    return run_query(
        db, sql, row_cap=int(kw.get("row_cap", CAP)), time_limit_s=kw.get("limit", LIMIT)
    )


def _events(db: Path, where: str = "TRUE") -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM fact_transaction WHERE {where}").fetchall()[0][0]


# ---------------------------------------------------------------- what may run


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT outlet_code, count(*) AS n FROM fact_transaction GROUP BY ALL ORDER BY 1",
        "WITH t AS (FROM fact_transaction) SELECT outlet_code, count(*) AS n FROM t "
        "GROUP BY ALL ORDER BY 1",
        "FROM fact_transaction SELECT outlet_code, count(*) AS n GROUP BY ALL ORDER BY 1;",
        "SELECT outlet_code, count(*) AS n FROM fact_transaction GROUP BY ALL ORDER BY 1 -- hi",
        "PIVOT (SELECT 'x' AS k, outlet_code FROM fact_transaction) ON k IN ('x') "
        "USING count(*) AS n GROUP BY outlet_code ORDER BY 1",
    ],
)
def test_reading_queries_return_the_warehouse_rows(db: Path, sql: str) -> None:
    result = _run(db, sql)
    assert result.problem is None, result.message
    assert result.frame is not None
    assert not result.truncated
    counts = dict(
        result.frame.select(pl.col("outlet_code"), pl.col(result.frame.columns[-1])).iter_rows()
    )
    assert counts == {"A": _events(db, "outlet_code = 'A'"), "B": _events(db, "outlet_code = 'B'")}
    assert result.elapsed_s > 0


@pytest.mark.parametrize(
    ("sql", "column"),
    [
        ("DESCRIBE dim_outlet", "column_name"),
        ("SHOW TABLES", "name"),
        ("SUMMARIZE dim_outlet", "column_name"),
        ("EXPLAIN SELECT count(*) FROM fact_transaction", "explain_value"),
        ("EXPLAIN ANALYZE SELECT count(*) FROM fact_transaction", "explain_value"),
        ("VALUES (1), (2)", "col0"),
        ("SELECT table_name FROM duckdb_tables() ORDER BY 1", "table_name"),
    ],
)
def test_describe_show_summarize_explain_run(db: Path, sql: str, column: str) -> None:
    result = _run(db, sql)
    assert result.problem is None, result.message
    assert result.frame is not None and result.frame.height > 0
    assert column in result.frame.columns


@pytest.mark.parametrize("name", list(load_config("explorer")["console"]["examples"]))
def test_every_example_query_runs(db: Path, name: str) -> None:
    result = _run(db, load_config("explorer")["console"]["examples"][name])
    assert result.problem is None, result.message
    assert result.frame is not None and result.frame.height > 0


# ---------------------------------------------------------------- files (layer 1 and 2)


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * FROM read_csv('{p}')",
        "SELECT * FROM read_csv_auto('{p}')",
        "SELECT * FROM read_text('{p}')",
        "SELECT * FROM read_blob('{p}')",
        "SELECT * FROM read_parquet('{p}')",
        "SELECT * FROM read_json('{p}')",
        "SELECT * FROM sniff_csv('{p}')",
        "SELECT * FROM glob('{d}/*')",
        "SELECT * FROM '{p}'",
        'SELECT * FROM "{p}"',
        "DESCRIBE '{p}'",
        "SUMMARIZE SELECT * FROM read_csv('{p}')",
        "SELECT (SELECT count(*) FROM read_text('{p}'))",
        "WITH f AS (SELECT * FROM read_csv('{p}')) SELECT * FROM f",
        "SELECT * FROM query('SELECT * FROM read_csv(''{p}'')')",
        "EXPLAIN ANALYZE SELECT * FROM read_csv('{p}')",
    ],
)
def test_reading_a_file_is_refused_before_it_runs(
    db: Path, secret_file: Path, template: str
) -> None:
    sql = template.format(p=secret_file, d=secret_file.parent)
    result = _run(db, sql)
    assert result.frame is None
    assert result.problem in ("function", "file"), result.message
    assert "hunter2" not in result.message


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * FROM read_csv('{p}')",
        "SELECT * FROM read_text('{p}')",
        "SELECT * FROM glob('{d}/*')",
        "SELECT * FROM '{p}'",
    ],
)
def test_sealed_connection_cannot_read_files(
    sealed: duckdb.DuckDBPyConnection, secret_file: Path, template: str
) -> None:
    with pytest.raises(duckdb.PermissionException):
        sealed.execute(template.format(p=secret_file, d=secret_file.parent)).fetchall()


def test_copy_to_a_file_is_refused_and_writes_nothing(
    db: Path, sealed: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    target = tmp_path / "out.csv"
    for sql in (
        f"COPY fact_transaction TO '{target}'",
        f"COPY (SELECT * FROM dim_outlet) TO '{target}' (FORMAT csv)",
        f"EXPORT DATABASE '{tmp_path / 'dump'}'",
    ):
        result = _run(db, sql)
        assert result.problem == "statement", result.message
    with pytest.raises(duckdb.Error):
        sealed.execute(f"COPY (SELECT * FROM dim_outlet) TO '{target}' (FORMAT csv)")
    assert not target.exists()
    assert not (tmp_path / "dump").exists()


def test_attach_is_refused(db: Path, sealed: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    assert _run(db, f"ATTACH '{other}' AS other").problem == "statement"
    assert _run(db, "DETACH warehouse").problem == "statement"
    with pytest.raises(duckdb.Error):
        sealed.execute(f"ATTACH '{other}' AS other")
    assert not other.exists()


@pytest.mark.parametrize("sql", ["INSTALL httpfs", "LOAD httpfs", "LOAD '/tmp/x.duckdb_extension'"])
def test_install_and_load_are_refused(
    db: Path, sealed: duckdb.DuckDBPyConnection, sql: str
) -> None:
    assert _run(db, sql).problem == "statement"
    with pytest.raises(duckdb.Error):
        sealed.execute(sql)


def test_unknown_statement_types_are_refused(db: Path) -> None:
    # The Python binding does not even know this statement type; it must not slip through.
    assert _run(db, "UPDATE EXTENSIONS").problem == "statement"


# ---------------------------------------------------------------- settings (layer 1 and 2)


@pytest.mark.parametrize(
    "sql",
    [
        "SET lock_configuration = false",
        "SET enable_external_access = true",
        "RESET enable_external_access",
        "SET threads = 64",
        "PRAGMA enable_profiling",
        "SET VARIABLE x = 1",
        "USE memory",
        "CALL pragma_version()",
        "CHECKPOINT",
        "BEGIN TRANSACTION",
    ],
)
def test_settings_and_other_statements_are_refused(db: Path, sql: str) -> None:
    result = _run(db, sql)
    assert result.problem == "statement", result.message
    assert result.frame is None


def test_sealed_configuration_cannot_be_unlocked(sealed: duckdb.DuckDBPyConnection) -> None:
    for sql in (
        "SET lock_configuration = false",
        "SET enable_external_access = true",
        "RESET enable_external_access",
        "RESET lock_configuration",
        "SET autoload_known_extensions = true",
        "SET temp_directory = '/tmp'",
        "PRAGMA enable_profiling",
    ):
        with pytest.raises(duckdb.Error):
            sealed.execute(sql)
    settings = sealed.execute(
        "SELECT current_setting('enable_external_access'), current_setting('lock_configuration'),"
        " current_setting('autoload_known_extensions'), current_setting('temp_directory'),"
        " current_setting('python_enable_replacements')"
    ).fetchall()[0]
    assert settings == (False, True, False, "", False)


def test_sealed_connection_does_not_see_python_variables(
    sealed: duckdb.DuckDBPyConnection,
) -> None:
    payroll = pl.DataFrame({"salary": [1]})  # a replacement scan would find this name
    assert payroll.height == 1
    with pytest.raises(duckdb.CatalogException):
        sealed.sql("SELECT * FROM payroll").fetchall()


# ---------------------------------------------------------------- writes (layer 1 and 3)


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE stolen AS SELECT * FROM dim_outlet",
        "CREATE VIEW v AS SELECT 1",
        "CREATE MACRO m() AS 1",
        "INSERT INTO dim_outlet (outlet_code) VALUES ('Z')",
        "UPDATE dim_outlet SET outlet_name = 'x'",
        "DELETE FROM fact_transaction",
        "DROP TABLE fact_transaction",
        "ALTER TABLE dim_outlet ADD COLUMN x INTEGER",
        "TRUNCATE fact_transaction",
        "VACUUM",
    ],
)
def test_writes_are_refused_and_the_warehouse_is_unchanged(db: Path, sql: str) -> None:
    before = _sha256(db)
    result = _run(db, sql)
    assert result.problem == "statement", result.message
    assert _sha256(db) == before


def test_sealed_warehouse_is_read_only(db: Path, sealed: duckdb.DuckDBPyConnection) -> None:
    before = _sha256(db)
    for sql in (
        "CREATE TABLE stolen AS SELECT 1",
        "INSERT INTO dim_outlet (outlet_code) VALUES ('Z')",
        "DELETE FROM fact_transaction",
        "DROP TABLE fact_transaction",
    ):
        with pytest.raises(duckdb.Error, match="read-only"):
            sealed.execute(sql)
    sealed.close()
    assert _sha256(db) == before
    assert _events(db) > 0


def test_more_than_one_statement_is_refused(db: Path) -> None:
    for sql in ("SELECT 1; SELECT 2", "SELECT 1; DROP TABLE fact_transaction"):
        result = _run(db, sql)
        assert result.problem == "multiple"
        assert result.detail == "2"
    assert _events(db) > 0


# ---------------------------------------------------------------- environment and settings


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("SELECT getenv('HOME')", "getenv"),
        ("SELECT current_setting('secret_directory')", "current_setting"),
        ("SELECT upper(current_setting('temp_directory'))", "current_setting"),
        ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
        ("SELECT * FROM duckdb_databases()", "duckdb_databases"),
        ("SELECT * FROM duckdb_extensions()", "duckdb_extensions"),
        ("SELECT * FROM duckdb_secrets()", "duckdb_secrets"),
        ("SELECT * FROM query_table('dim_outlet')", "query_table"),
    ],
)
def test_functions_that_reveal_the_server_are_refused(db: Path, sql: str, name: str) -> None:
    result = _run(db, sql)
    assert result.problem == "function"
    assert result.detail == name


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM pg_settings",
        'SELECT name, setting FROM "PG_SETTINGS"',
        "SUMMARIZE pg_catalog.pg_settings",
        "SELECT path FROM duckdb_databases",
        "SELECT * FROM pragma_database_list",
        "WITH x AS (SELECT * FROM duckdb_databases) SELECT count(*) FROM x",
    ],
)
def test_builtin_views_that_show_the_server_are_refused(
    db: Path, sealed: duckdb.DuckDBPyConnection, sql: str
) -> None:
    result = _run(db, sql)
    assert result.problem == "system", result.message
    # Without layer 1 they would answer: settings and the warehouse path.
    assert sealed.execute(sql).fetchall()


def test_catalogue_views_stay_available(db: Path) -> None:
    result = _run(db, "SELECT table_name FROM information_schema.tables ORDER BY 1")
    assert result.frame is not None
    assert "fact_transaction" in result.frame["table_name"].to_list()
    columns = _run(db, "FROM duckdb_columns SELECT column_name WHERE table_name = 'dim_outlet'")
    assert columns.frame is not None and "outlet_code" in columns.frame["column_name"].to_list()


def test_the_warehouse_file_itself_cannot_be_read_as_bytes(db: Path) -> None:
    # DuckDB lets an instance read the files it attached: layer 1 must stop this.
    result = _run(db, f"SELECT size FROM read_blob('{db}')")
    assert (result.problem, result.detail) == ("function", "read_blob")


def test_what_duckdb_itself_exposes_with_external_access_off(
    sealed: duckdb.DuckDBPyConnection, db: Path
) -> None:
    """Findings behind layer 1's lists (DuckDB 2.0.1)."""
    with pytest.raises(duckdb.CatalogException):  # getenv exists in the CLI only
        sealed.execute("SELECT getenv('HOME')")
    with pytest.raises(duckdb.PermissionException):
        sealed.execute("SELECT * FROM duckdb_secrets()").fetchall()
    # Still visible without layer 1: server paths and the attached file's bytes.
    assert sealed.execute("SELECT current_setting('secret_directory')").fetchall()[0][0]
    size = sealed.execute(f"SELECT size FROM read_blob('{db}')").fetchall()[0][0]
    assert size == db.stat().st_size


# ---------------------------------------------------------------- row cap and time limit


def test_row_cap_truncates_and_says_so(db: Path) -> None:
    # Ten billion rows: only a cap applied inside DuckDB answers this within the time limit.
    result = _run(db, "SELECT * FROM range(10000000000)", row_cap=CAP)
    assert result.problem is None, result.message
    assert result.frame is not None
    assert result.frame.height == CAP
    assert result.truncated
    assert result.frame["range"].to_list() == list(range(CAP))


def test_a_result_of_exactly_the_cap_is_not_truncated(db: Path) -> None:
    result = _run(db, f"SELECT * FROM range({CAP})", row_cap=CAP)
    assert result.frame is not None
    assert result.frame.height == CAP
    assert not result.truncated


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM range(1000000000000)",
        "SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE a.range + b.range = -1",
    ],
)
def test_a_slow_query_is_stopped_at_the_time_limit(db: Path, sql: str) -> None:
    limit = 1.0
    box: list[QueryResult] = []
    started = time.perf_counter()
    worker = threading.Thread(target=lambda: box.append(_run(db, sql, limit=limit)), daemon=True)
    worker.start()
    worker.join(limit + 2.0)
    assert not worker.is_alive(), "the query was not stopped"
    assert time.perf_counter() - started < limit + 2.0
    result = box[0]
    assert result.problem == "stopped"
    assert result.frame is None
    assert "1 s" in result.message
    assert limit <= result.elapsed_s < limit + 2.0


def test_a_result_too_large_is_refused_before_the_row_cap(db: Path) -> None:
    # 100 rows of 100 kB: 10 MB, although far below the row cap.
    sql = "SELECT repeat('x', 100000) AS s FROM range(100)"
    result = run_query(db, sql, row_cap=CAP, time_limit_s=LIMIT, max_mb=5)
    assert (result.problem, result.detail) == ("large", "5")
    assert result.frame is None
    fits = run_query(db, sql, row_cap=CAP, time_limit_s=LIMIT, max_mb=50)
    assert fits.frame is not None and fits.frame.height == 100


def test_intervals_and_repeated_names_still_give_a_table(db: Path) -> None:
    result = _run(
        db,
        "SELECT outlet_code, max(completed_at) - min(ticket_at) AS span, 1 AS n, 2 AS n"
        " FROM fact_transaction WHERE outlet_code = 'A' GROUP BY ALL",
    )
    assert result.problem is None, result.message
    assert result.frame is not None
    assert result.frame.columns == ["outlet_code", "span", "n", "n_1"]
    with duckdb.connect(str(db), read_only=True) as con:
        span = con.execute(
            "SELECT (max(completed_at) - min(ticket_at))::VARCHAR FROM fact_transaction"
            " WHERE outlet_code = 'A'"
        ).fetchall()[0][0]
    assert result.frame.row(0) == ("A", span, 1, 2)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 AS x;",
        "SELECT 1 AS x;\n-- done",
        "/* first */ SELECT 1 AS x; /* last */",
        "SELECT 1 AS x -- no semicolon",
    ],
)
def test_a_closing_semicolon_and_comments_are_fine(db: Path, sql: str) -> None:
    result = _run(db, sql)
    assert result.problem is None, result.message
    assert result.frame is not None and result.frame.rows() == [(1,)]
    quoted = _run(db, "SELECT ';' AS x;")  # a semicolon inside a string stays
    assert quoted.frame is not None and quoted.frame.rows() == [(";",)]


# ---------------------------------------------------------------- errors are messages


@pytest.mark.parametrize(
    ("sql", "problem", "needle"),
    [
        ("SELECT * FROM no_such_table", "failed", "no_such_table"),
        ("SELECT 1/0::INTEGER + 'a'", "failed", "Conversion"),
        ("SELEC 1", "syntax", "SELEC"),
        ("", "empty", ""),
        ("-- nothing but a comment", "empty", ""),
        ("PIVOT dim_outlet ON outlet_type USING count(*)", "pivot", ""),
    ],
)
def test_errors_come_back_as_messages(db: Path, sql: str, problem: str, needle: str) -> None:
    result = _run(db, sql)
    assert result.problem == problem
    assert result.frame is None
    assert needle in result.message
    assert result.message


def test_missing_warehouse_is_a_message(tmp_path: Path) -> None:
    result = _run(tmp_path / "none.duckdb", "SELECT 1")
    assert result.problem == "missing"
    assert "none.duckdb" in result.message


def test_refusal_explains_explain_of_a_write() -> None:
    refused = refusal("EXPLAIN ANALYZE CREATE TABLE x AS SELECT 1")
    assert refused is not None and refused.problem == "statement"
    assert refusal("/* plan */ EXPLAIN SELECT 1") is None


# ---------------------------------------------------------------- schema browser


def test_schema_tree_lists_every_table_column_type_and_comment(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        tree = schema_tree(con)
        expected = con.execute(
            "SELECT table_name, column_name, data_type, coalesce(comment, '') FROM duckdb_columns()"
            " WHERE schema_name = 'main' AND NOT internal AND table_name <> 'schema_migrations'"
        ).fetchall()
        table_comment = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = 'fact_transaction'"
        ).fetchall()[0][0]
    got = {
        (t, c, d, m + (f" [{u}]" if u else ""))
        for t, c, d, m, u in tree.select(
            "table_name", "column_name", "data_type", "meaning", "unit"
        ).iter_rows()
    }
    assert got == set(expected)
    assert set(tree["kind"]) == {"table"}
    fact = tree.filter(pl.col("table_name") == "fact_transaction")
    assert fact["table_comment"][0] == table_comment
    assert fact.filter(pl.col("column_name") == "wait_s")["unit"].to_list() == ["s"]


def test_schema_tree_includes_views(tmp_path: Path) -> None:
    path = tmp_path / "views.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        con.execute("CREATE VIEW v AS SELECT a, a * 2 AS b FROM t")
        con.execute("COMMENT ON VIEW v IS 'doubled'")
    with duckdb.connect(str(path), read_only=True) as con:
        tree = schema_tree(con)
    view = tree.filter(pl.col("kind") == "view")
    assert view["column_name"].to_list() == ["a", "b"]
    assert view["table_comment"].to_list() == ["doubled", "doubled"]
