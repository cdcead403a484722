"""The ``rccdash`` command: generate, load, inspect and serve the warehouse.

Every command that touches the warehouse takes ``--db PATH``; without it the path comes
from ``$RCCDASH_DB`` or ``config/settings.yaml`` (see :func:`warehouse.settings.resolve_db_path`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from warehouse.settings import PROJECT_ROOT, load_config, resolve_db_path

app = typer.Typer(
    help="Service-quality dashboard for a county rural credit cooperative union.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Warehouse file (default: $RCCDASH_DB or data/warehouse.duckdb)."),
]


def _progress() -> Progress:
    """A progress bar in the house style."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    )


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the exports to.")],
    outlets: Annotated[int, typer.Option(help="Number of outlets.", min=2)] = 24,
    months: Annotated[int, typer.Option(help="Number of months.", min=1)] = 12,
    start: Annotated[str, typer.Option(help="First month, YYYY-MM.")] = "2025-10",
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")] = 7,
    volume: Annotated[float, typer.Option(help="Scale demand and staff (1.0 = brief's volumes).", min=0.01)] = 1.0,
    workers: Annotated[int, typer.Option(help="Worker processes (0 = one per core).", min=0)] = 0,
) -> None:
    """Write a synthetic county's monthly exports (CSV), deterministic for a seed."""
    from rccdash.synthetic.generate import GenerateOptions, generate_county

    try:
        GenerateOptions(out, outlets, months, start, seed, volume, workers).period()
    except ValueError:
        raise typer.BadParameter(f"--start must be YYYY-MM, got {start!r}") from None
    began = time.perf_counter()
    with _progress() as bar:
        task = bar.add_task("simulating outlet-months", total=None)
        result = generate_county(
            GenerateOptions(out, outlets, months, start, seed, volume, workers),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    table = Table("file", "rows", title=f"Synthetic county written to {out}")
    for name, rows in result.files.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"done in {time.perf_counter() - began:.1f} s")


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="Export files or folders of *.csv.")],
    db: DbOption = None,
) -> None:
    """Load exports into the warehouse atomically; files loaded before are skipped."""
    from etl.canonical_load import LoadError, load_files

    db_path = resolve_db_path(db)
    try:
        with _progress() as bar:
            task = bar.add_task("loading files", total=None)
            results = load_files(
                db_path, paths, lambda path, done, total: bar.update(task, completed=done, total=total, description=path.name)
            )
    except LoadError as exc:
        console.print(f"[red]Load failed, warehouse unchanged:[/red] {exc}")
        raise typer.Exit(1) from None
    table = Table("file", "kind", "status", "rows read", "loaded", "seconds", title=f"Loaded into {db_path}")
    for r in results:
        table.add_row(r.path.name, r.kind, r.status, f"{r.rows_read:,}", f"{r.rows_loaded:,}", f"{r.seconds:.2f}")
    console.print(table)


@app.command()
def schema(
    db: DbOption = None,
    doc: Annotated[Path | None, typer.Option(help="Write the schema reference (Markdown) here.")] = None,
) -> None:
    """Create or migrate the warehouse schema; optionally write docs/schema.md."""
    import duckdb

    from etl.atomic import next_version
    from warehouse.schema import describe, render_markdown

    if doc is not None:
        con = duckdb.connect()
        from warehouse.schema import migrate

        migrate(con)
        doc.write_text(render_markdown(describe(con)), encoding="utf-8")
        console.print(f"wrote {doc}")
        return
    db_path = resolve_db_path(db)
    with next_version(db_path) as con:
        tables = len(describe(con))
    console.print(f"{db_path}: schema up to date ({tables} tables)")


@app.command()
def serve(
    db: DbOption = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = load_config("settings")["dashboard"]["port"],
) -> None:
    """Serve the dashboard (Streamlit) on the warehouse."""
    db_path = resolve_db_path(db)
    env = {**os.environ, "RCCDASH_DB": str(db_path.resolve())}
    command = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "dashboard" / "app.py"),
        "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]
    console.print(f"Dashboard on http://localhost:{port} (warehouse {db_path}); Ctrl+C to stop")
    raise typer.Exit(subprocess.call(command, env=env))


@app.command()
def demo(
    db: DbOption = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after loading.")] = False,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = load_config("settings")["dashboard"]["port"],
) -> None:
    """Generate the demo county (if not there yet), load it and serve the dashboard."""
    exports = PROJECT_ROOT / load_config("settings")["demo"]["exports_dir"]
    if not (exports / "outlets.csv").exists():
        generate(out=exports)
    load(paths=[exports], db=db)
    if not no_serve:
        serve(db=db, port=port)


if __name__ == "__main__":
    app()
