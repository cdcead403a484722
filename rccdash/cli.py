"""The ``rccdash`` command: generate, load, inspect and serve the warehouse.

Every command that touches the warehouse takes ``--db PATH``; without it the path comes
from ``$RCCDASH_DB`` or ``config/settings.yaml`` (see :func:`warehouse.settings.resolve_db_path`).
"""

from __future__ import annotations

import codecs
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import polars as pl
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
console = Console(width=None if sys.stdout.isatty() else 140)
DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Warehouse file (default: $RCCDASH_DB or data/warehouse.duckdb)."),
]


def _progress() -> Progress:
    """A progress bar in the house style."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the exports to.")],
    outlets: Annotated[int, typer.Option(help="Number of outlets.", min=2)] = 24,
    months: Annotated[int, typer.Option(help="Number of months.", min=1)] = 12,
    start: Annotated[str, typer.Option(help="First month, YYYY-MM.")] = "2025-10",
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")] = 7,
    volume: Annotated[
        float, typer.Option(help="Scale demand and staff (1.0 = brief's volumes).", min=0.01)
    ] = 1.0,
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
    paths: Annotated[list[Path], typer.Argument(help="Export files, or folders of exports.")],
    db: DbOption = None,
    profile: Annotated[
        str, typer.Option(help="Import profile: a name in config/profiles or a YAML path.")
    ] = "default",
    kind: Annotated[
        str | None, typer.Option(help="Export kind, when the header does not tell.")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding (default: detect UTF-8 / GB18030).")
    ] = None,
    report: Annotated[bool, typer.Option(help="Write the HTML validation report per file.")] = True,
) -> None:
    """Validate and load exports atomically; bad rows go to quarantine with their reasons."""
    from etl.kinds import export_kinds
    from etl.pipeline import LoadOptions, load_paths
    from etl.profiles import ProfileError, load_profile

    try:
        load_profile(profile)
    except ProfileError as exc:
        raise typer.BadParameter(str(exc), param_hint="--profile") from None
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise typer.BadParameter(
                f"unknown encoding {encoding!r}", param_hint="--encoding"
            ) from None
    if kind is not None and kind not in export_kinds():
        known = ", ".join(export_kinds())
        raise typer.BadParameter(f"unknown kind {kind!r}; kinds: {known}", param_hint="--kind")
    db_path = resolve_db_path(db)
    options = LoadOptions(profile=profile, kind=kind, encoding=encoding, report=report)
    try:
        with _progress() as bar:
            task = bar.add_task("reading", total=None)
            outcomes = load_paths(
                db_path,
                paths,
                options,
                lambda label, done, total: bar.update(
                    task, completed=done, total=total, description=label
                ),
            )
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc), param_hint="PATHS") from None
    table = Table(
        "file",
        "kind",
        "status",
        "read",
        "loaded",
        "duplicate",
        "quarantined",
        "dropped",
        "seconds",
        title=f"Load into {db_path}",
    )
    for o in outcomes:
        style = {"rejected": "red", "skipped": "dim"}.get(o.status, "")
        table.add_row(
            o.path.name,
            o.kind,
            f"[{style}]{o.status}[/{style}]" if style else o.status,
            f"{o.read:,}",
            f"{o.loaded:,}",
            f"{o.duplicate:,}",
            f"{o.quarantined:,}",
            f"{o.dropped:,}",
            f"{o.seconds:.1f}",
        )
    console.print(table)
    for o in outcomes:
        if o.message and o.status != "loaded":
            # Messages from the reader already start with the file; others do not.
            named = o.message.startswith((str(o.path), o.path.name))
            console.print(o.message if named else f"[bold]{o.path.name}[/bold]: {o.message}")
        elif o.rule_counts:
            console.print(
                f"{o.path.name}: " + ", ".join(f"{r} {n:,}" for r, n in o.rule_counts.items())
            )
    if any(o.status == "rejected" for o in outcomes):
        raise typer.Exit(1)


@app.command()
def quarantine(
    db: DbOption = None,
    load_id: Annotated[int | None, typer.Option("--load", help="Only this load id.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
) -> None:
    """List quarantined rows with the rules they failed (all loads, or one)."""
    from etl.atomic import open_read_only
    from warehouse.data_quality import quarantined_rows

    db_path = resolve_db_path(db)
    if not db_path.exists():
        console.print(f"No warehouse at {db_path}: load some exports first.")
        raise typer.Exit(1)
    with open_read_only(db_path) as con:
        rows = quarantined_rows(con, load_id=load_id, limit=limit)
    table = Table("load", "file", "row", "rules", "record", title="Quarantined rows")
    for r in rows.iter_rows(named=True):
        table.add_row(
            str(r["load_id"]),
            r["file_name"],
            str(r["source_row"]),
            r["rules"],
            r["raw_record"][:120],
        )
    console.print(table if rows.height else "No quarantined rows.")


@app.command()
def assess(
    month: Annotated[str, typer.Argument(help="Month to assess, YYYY-MM.")],
    db: DbOption = None,
    top: Annotated[int, typer.Option(help="Rows of each ranking to show.")] = 10,
    publish: Annotated[
        bool, typer.Option("--publish", help="Store it as the month's immutable assessment.")
    ] = False,
    restate: Annotated[
        bool, typer.Option("--restate", help="Publish a new version of a published month.")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why the month is restated.")] = None,
) -> None:
    """Score every counter employee and outlet for a month; --publish stores it for good."""
    import getpass
    import time as _time

    from etl.atomic import next_version, open_read_only
    from warehouse.stars.assess import assess_month, month_bounds
    from warehouse.stars.honours import awards
    from warehouse.stars.model import load_model
    from warehouse.stars.publish import AlreadyPublished, restatement_changes
    from warehouse.stars.publish import publish as store

    try:
        month_bounds(month)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="MONTH") from None
    db_path = resolve_db_path(db)
    if not db_path.exists():
        console.print(f"No warehouse at {db_path}: load some exports first.")
        raise typer.Exit(1)
    if restate and not publish:
        raise typer.BadParameter("--restate goes with --publish", param_hint="--restate")
    model = load_model()
    began = _time.perf_counter()
    if publish:
        try:
            with next_version(db_path) as con:
                result = assess_month(con, month, model)
                version = store(
                    con, month, result, model, by=getpass.getuser(), restate=restate, reason=reason
                )
                changes = (
                    restatement_changes(con, month, "staff", version - 1, version)
                    if version > 1
                    else None
                )
        except (AlreadyPublished, ValueError) as exc:
            console.print(f"[red]Not published:[/red] {exc}")
            raise typer.Exit(1) from None
        console.print(f"published {month} as version {version} (model {model.version})")
        if changes is not None:
            console.print(f"{changes.height} staff scores differ from version {version - 1}")
    else:
        with open_read_only(db_path) as con:
            result = assess_month(con, month, model)
    seconds = _time.perf_counter() - began
    for subject, frame in result.items():
        rated = frame.filter(pl.col("status") == "rated")
        table = Table(
            "rank", "id", "score", "stars", "movement", "note", title=f"{subject}, {month}"
        )
        for r in rated.head(top).iter_rows(named=True):
            move = r["movement"]
            arrow = (
                ""
                if move is None
                else ("▲" * move if move > 0 else "▼" * -move if move < 0 else "=")
            )
            table.add_row(
                str(r["rank"]),
                r["subject_id"],
                f"{r['score']:.1f}",
                "★" * r["stars"],
                arrow,
                r["capped_by"] or "",
            )
        console.print(table)
        counts = ", ".join(
            f"{k}★ {v}" for k, v in sorted(rated["stars"].value_counts().iter_rows())
        )
        console.print(
            f"{subject}: {rated.height} rated ({counts}), {frame.height - rated.height} not rated"
        )
    honours = awards(result, model)
    for name, group in honours.group_by("award", maintain_order=True):
        console.print(f"{name[0]}: " + ", ".join(group["subject_id"].to_list()))
    kind = "published" if publish else "provisional"
    console.print(f"{kind} assessment computed in {seconds:.1f} s")


@app.command()
def payout(
    quarter: Annotated[str, typer.Argument(help="Quarter, e.g. 2026Q1.")],
    out: Annotated[Path, typer.Option("--out", help="Payout file: .csv or .xlsx.")],
    db: DbOption = None,
) -> None:
    """Compute the quarterly star bonus per person (for payroll) from the months' stars."""
    from etl.atomic import open_read_only
    from warehouse.stars.model import load_model
    from warehouse.stars.payout import payout as compute
    from warehouse.stars.payout import quarter_months, write_payout

    try:
        quarter_months(quarter)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="QUARTER") from None
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise typer.BadParameter("the payout file must end in .csv or .xlsx", param_hint="--out")
    db_path = resolve_db_path(db)
    model = load_model()
    with open_read_only(db_path) as con:
        table, sources = compute(con, quarter, model)
    write_payout(table, str(out))
    console.print("; ".join(sources))
    fines, paid = table["penalties"].sum(), table["net"].sum()
    console.print(
        f"{table.height} people, pool ¥{model.pool_per_quarter:,.0f}, fines ¥{fines:,.2f},"
        f" paid ¥{paid:,.2f} -> {out}"
    )


@app.command()
def schema(
    db: DbOption = None,
    doc: Annotated[
        Path | None, typer.Option(help="Write the schema reference (Markdown) here.")
    ] = None,
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
    port: Annotated[int, typer.Option(help="Port to serve on.")] = load_config("settings")[
        "dashboard"
    ]["port"],
) -> None:
    """Serve the dashboard (Streamlit) on the warehouse."""
    from dashboard.warmup import wait_for_port, warm_up

    db_path = resolve_db_path(db)
    env = {**os.environ, "RCCDASH_DB": str(db_path.resolve())}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "dashboard" / "app.py"),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",  # no "Deploy" button for county staff
        "--client.showErrorDetails",
        "false",  # never show a traceback to a user
    ]
    console.print(f"Dashboard on http://localhost:{port} (warehouse {db_path}); Ctrl+C to stop")
    server = subprocess.Popen(command, env=env)
    # Stopping `rccdash serve` (Ctrl+C, a service manager's SIGTERM) stops Streamlit too.
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        if wait_for_port(port, timeout_s=60, alive=lambda: server.poll() is None) and warm_up(port):
            console.print(f"Ready: http://localhost:{port}")
        raise typer.Exit(server.wait())
    except KeyboardInterrupt:
        server.terminate()
        raise typer.Exit(server.wait()) from None


@app.command()
def demo(
    db: DbOption = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after loading.")] = False,
    exports: Annotated[
        Path | None, typer.Option(help="Folder of the demo exports (default: data/demo-exports).")
    ] = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = load_config("settings")[
        "dashboard"
    ]["port"],
) -> None:
    """Generate the demo county (if not there yet), load it and serve the dashboard."""
    exports = exports or PROJECT_ROOT / load_config("settings")["demo"]["exports_dir"]
    if not (exports / "outlets.csv").exists():
        generate(out=exports)
    load(paths=[exports], db=db)
    if not no_serve:
        serve(db=db, port=port)


if __name__ == "__main__":
    app()
