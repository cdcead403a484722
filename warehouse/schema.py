"""Create and migrate the warehouse schema, and describe it.

The schema lives in numbered SQL files under ``warehouse/migrations``. Each file is
applied once, in order, inside a transaction, and recorded in ``schema_migrations``,
so an old warehouse file is brought up to date by the same code that creates a new one.
Column comments in those files are the single source of ``docs/schema.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import duckdb

MIGRATIONS_PACKAGE = "warehouse.migrations"


@dataclass(frozen=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """All migrations shipped with the code, in the order they must be applied."""
    found = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(
                Migration(int(number), rest.removesuffix(".sql"), entry.read_text("utf-8"))
            )
    return sorted(found, key=lambda m: m.version)


def applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    """Versions already recorded in the warehouse (empty for a new file)."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    return {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Bring the warehouse on ``con`` to the latest schema; return the versions applied now.

    Each migration runs in its own transaction, so a failure leaves the warehouse at the
    last complete version rather than half-migrated.
    """
    done = applied_versions(con)
    applied = []
    for migration in migrations():
        if migration.version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)",
                [migration.version, migration.name],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied


@dataclass(frozen=True)
class ColumnDoc:
    """A column as the catalogue describes it."""

    name: str
    data_type: str
    meaning: str
    unit: str


@dataclass(frozen=True)
class TableDoc:
    """A table with its comment and columns, in creation order."""

    name: str
    comment: str
    columns: list[ColumnDoc]


def _split_unit(comment: str) -> tuple[str, str]:
    """Split a comment "meaning [unit]" into its meaning and unit."""
    text = comment.strip()
    if text.endswith("]") and "[" in text:
        meaning, _, unit = text[:-1].rpartition("[")
        return meaning.strip(), unit.strip()
    return text, ""


def describe(con: duckdb.DuckDBPyConnection) -> list[TableDoc]:
    """Read tables, column types and comments back from the warehouse catalogue."""
    tables = con.sql(
        "SELECT table_name, coalesce(comment, '') FROM duckdb_tables()"
        " WHERE schema_name = 'main' AND table_name <> 'schema_migrations' ORDER BY table_name"
    ).fetchall()
    docs = []
    for table, comment in tables:
        columns = con.execute(
            "SELECT column_name, data_type, coalesce(comment, '') FROM duckdb_columns()"
            " WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [table],
        ).fetchall()
        docs.append(
            TableDoc(
                table,
                comment,
                [ColumnDoc(name, dtype, *_split_unit(text)) for name, dtype, text in columns],
            )
        )
    return docs


def render_markdown(tables: list[TableDoc]) -> str:
    """Render the schema as the Markdown of ``docs/schema.md``."""
    lines = [
        "# Warehouse schema",
        "",
        "Generated from the column comments in `warehouse/migrations/*.sql` by",
        "`rccdash schema --doc docs/schema.md`; a test fails when this file and the schema",
        "the code creates disagree. Timestamps are local time of the county (no time zone);",
        "ids are text so that leading zeros survive.",
        "",
    ]
    for table in tables:
        lines += [f"## {table.name}", "", table.comment, ""]
        lines += ["| column | type | meaning | unit |", "|---|---|---|---|"]
        for col in table.columns:
            meaning = col.meaning.replace("|", "\\|")
            lines.append(f"| {col.name} | {col.data_type} | {meaning} | {col.unit} |")
        lines.append("")
    return "\n".join(lines)
