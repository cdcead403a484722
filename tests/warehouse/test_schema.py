"""The schema the code creates, its migrations, and docs/schema.md agree."""

from __future__ import annotations

import duckdb

from warehouse.schema import describe, migrate, migrations, render_markdown
from warehouse.settings import PROJECT_ROOT

REQUIRED_TABLES = {
    "dim_outlet",
    "dim_staff",
    "dim_business_type",
    "dim_date",
    "fact_transaction",
    "fact_roster",
    "fact_complaint",
    "etl_load",
    "etl_quarantine",
}


def _fresh() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    migrate(con)
    return con


def test_docs_schema_md_matches_the_schema_the_code_creates() -> None:
    documented = (PROJECT_ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert documented == render_markdown(describe(_fresh())), (
        "docs/schema.md is stale: run `rccdash schema --doc docs/schema.md`"
    )


def test_docs_list_every_column_with_its_type() -> None:
    documented = (PROJECT_ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    con = _fresh()
    columns = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_name <> 'schema_migrations'"
    ).fetchall()
    sections = {s.split("\n", 1)[0]: s for s in documented.split("\n## ")[1:]}
    for table, column, data_type in columns:
        assert f"| {column} | {data_type} |" in sections[table], (table, column)


def test_required_tables_exist_and_every_column_is_explained() -> None:
    docs = {t.name: t for t in describe(_fresh())}
    assert set(docs) >= REQUIRED_TABLES
    for table in docs.values():
        assert table.comment, table.name
        for column in table.columns:
            assert column.meaning, f"{table.name}.{column.name} has no comment"


def test_derived_columns_and_history_columns_exist() -> None:
    docs = {t.name: {c.name: c for c in t.columns} for t in describe(_fresh())}
    assert {"wait_s", "service_s", "arrival_at", "is_reversed"} <= set(docs["fact_transaction"])
    assert docs["fact_transaction"]["wait_s"].unit == "s"
    assert {"valid_from", "valid_to"} <= set(docs["dim_staff"])
    assert {"is_holiday", "is_business_day", "weekday", "quarter"} <= set(docs["dim_date"])
    assert "standard_handling_s" in docs["dim_business_type"]
    assert {"rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate", "file_sha256"} <= set(
        docs["etl_load"]
    )
    assert {"rules", "raw_record", "source_row"} <= set(docs["etl_quarantine"])


def test_migrate_is_idempotent_and_recorded() -> None:
    con = duckdb.connect()
    assert migrate(con) == [m.version for m in migrations()]
    assert migrate(con) == []
    recorded = [
        r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
    ]
    assert recorded == [m.version for m in migrations()]


def test_failed_migration_leaves_no_half_schema(monkeypatch) -> None:
    from warehouse import schema

    broken = [
        *migrations(),
        schema.Migration(999, "broken", "CREATE TABLE half (a INT); SELECT nope;"),
    ]
    monkeypatch.setattr(schema, "migrations", lambda: broken)
    con = duckdb.connect()
    try:
        migrate(con)
    except duckdb.Error:
        pass
    else:
        raise AssertionError("a broken migration must raise")
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "half" not in tables
    assert "fact_transaction" in tables
