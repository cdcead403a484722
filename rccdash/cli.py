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
import unicodedata
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.markup import escape
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
ByOption = Annotated[
    str | None,
    typer.Option(help="Who this is done for (recorded beside the operating-system account)."),
]


def _run_by(by: str | None) -> str:
    """Who did it: ``--by`` with the operating-system account, or the account alone."""
    from warehouse.settings import os_user

    return f"{by.strip()} (os: {os_user()})" if by and by.strip() else os_user()


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


def _one_line(text: str, limit: int = 500) -> str:
    """A message from a file as one printable line: control characters escaped, cut at ``limit``.

    Why: a rejection names what is wrong with the file, and what it quotes (a header,
    a value) may hold newlines, NUL bytes or terminal escapes, or run to 10,000 names.
    """
    shown = "".join(
        ascii(ch)[1:-1] if unicodedata.category(ch) in _UNPRINTED else ch for ch in text
    )
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


# Control, format, surrogate, private-use and unassigned characters, line/paragraph breaks.
_UNPRINTED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


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
    by: ByOption = None,
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
    from etl.atomic import WarehouseBusy

    db_path = resolve_db_path(db)
    options = LoadOptions(
        profile=profile, kind=kind, encoding=encoding, report=report, run_by=_run_by(by)
    )
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
                on_note=lambda note: console.print(f"[yellow]note:[/yellow] {note}"),
            )
    except FileNotFoundError as exc:
        raise typer.BadParameter(_one_line(str(exc)), param_hint="PATHS") from None
    except WarehouseBusy as busy:
        console.print(f"[red]Not loaded:[/red] {escape(_one_line(str(busy)))}", soft_wrap=True)
        raise typer.Exit(1) from None
    except OSError as error:  # a full disk, a file-size limit: nothing was changed
        shown = escape(_one_line(str(error)))
        console.print(f"[red]Not loaded, the warehouse is unchanged:[/red] {shown}", soft_wrap=True)
        raise typer.Exit(1) from None
    except Exception as error:  # a bug: one line, not a traceback; nothing was changed
        names = ", ".join(str(p) for p in paths)
        shown = escape(_one_line(f"{names}: internal error {type(error).__name__}: {error}"))
        console.print(f"[red]Not loaded, the warehouse is unchanged:[/red] {shown}", soft_wrap=True)
        raise typer.Exit(1) from None
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
            escape(_one_line(o.path.name)),
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
        name = escape(_one_line(o.path.name))
        if o.message and o.status != "loaded":
            # Messages from the reader already start with the file; others do not. Either
            # way one line, its text shown as it is (a header may hold "[" or a newline).
            named = o.message.startswith((str(o.path), o.path.name))
            message = escape(_one_line(o.message))
            console.print(message if named else f"[bold]{name}[/bold]: {message}", soft_wrap=True)
        elif o.rule_counts:
            counts = ", ".join(f"{r} {n:,}" for r, n in o.rule_counts.items())
            console.print(f"{name}: {escape(_one_line(counts))}", soft_wrap=True)
        if o.advice:
            console.print(f"[yellow]next:[/yellow] {escape(_one_line(o.advice))}", soft_wrap=True)
    if any(o.status == "rejected" for o in outcomes):
        raise typer.Exit(1)


def _retry(
    db_path: Path, load_id: int | None, rule: str | None, profile: str | None, by: str | None
) -> None:
    """``rccdash quarantine --retry``: run it and print what each earlier load's rows became."""
    from etl.atomic import WarehouseBusy
    from etl.retry import retry_quarantine

    try:
        outcomes = retry_quarantine(
            db_path,
            load_id=load_id,
            rule=rule,
            profile=profile,
            run_by=by,
            on_note=lambda note: console.print(f"[yellow]note:[/yellow] {note}"),
        )
    except WarehouseBusy as busy:
        console.print(f"[red]Not retried:[/red] {busy}")
        raise typer.Exit(1) from None
    if not outcomes:
        console.print("No quarantined rows to retry.")
        return
    table = Table(
        "load",
        "file",
        "re-checked",
        "loaded",
        "duplicate",
        "dropped",
        "still quarantined",
        "retry load",
        title=f"Quarantine retry in {db_path}",
    )
    for o in outcomes:
        table.add_row(
            str(o.retry_of),
            o.file_name,
            f"{o.checked:,}",
            f"{o.loaded:,}",
            f"{o.duplicate:,}",
            f"{o.dropped:,}",
            f"{o.quarantined:,}",
            str(o.load_id) if o.load_id is not None else "-",
        )
    console.print(table)
    for o in outcomes:
        if o.message:
            console.print(f"[red]{o.file_name}[/red]: {o.message}")
        elif o.quarantined and o.rule_counts:
            still = ", ".join(f"{r} {n:,}" for r, n in o.rule_counts.items())
            console.print(f"{o.file_name}: still failing: {still}")
    if not any(o.changed for o in outcomes):
        console.print(
            "Nothing changed: every row still fails as before; the warehouse is untouched."
        )


@app.command()
def quarantine(
    db: DbOption = None,
    load_id: Annotated[int | None, typer.Option("--load", help="Only this load id.")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only rows failing this rule.")] = None,
    retry: Annotated[
        bool,
        typer.Option(
            "--retry",
            help="Re-validate the rows against today's reference data and load those that pass.",
        ),
    ] = False,
    profile: Annotated[
        str | None,
        typer.Option(help="With --retry: import profile, instead of the one each load used."),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who this is done for (with --retry).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
) -> None:
    """List quarantined rows with the rules they failed; --retry re-validates and loads them."""
    from etl.atomic import open_read_only
    from warehouse.data_quality import quarantined_rows

    db_path = resolve_db_path(db)
    if not db_path.exists():
        console.print(f"No warehouse at {db_path}: load some exports first.")
        raise typer.Exit(1)
    if retry:
        _retry(db_path, load_id, rule, profile, by)
        return
    with open_read_only(db_path) as con:
        rows = quarantined_rows(con, load_id=load_id, limit=limit, rule=rule)
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
    by: ByOption = None,
) -> None:
    """Score every counter employee and outlet for a month; --publish stores it for good."""
    import time as _time

    from etl.atomic import WarehouseBusy, next_version, open_read_only
    from warehouse.periods import month_bounds
    from warehouse.settings import os_user
    from warehouse.stars.assess import assess_month
    from warehouse.stars.honours import awards
    from warehouse.stars.model import load_model
    from warehouse.stars.publish import AlreadyPublished, publish_month, restatement_changes

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
            with next_version(
                db_path, on_note=lambda n: console.print(f"note: {n}"), why=f"publish {month}"
            ) as con:
                version, result = publish_month(
                    con,
                    month,
                    by=(by or "").strip() or os_user(),
                    run_by=os_user(),
                    restate=restate,
                    reason=reason,
                    model=model,
                )
                changes = (
                    restatement_changes(con, month, "staff", version - 1, version)
                    if version > 1
                    else None
                )
        except (AlreadyPublished, ValueError, WarehouseBusy) as exc:
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
    provisional: Annotated[
        bool,
        typer.Option(
            "--provisional", help="Use months not published yet (a preview; the file says so)."
        ),
    ] = False,
) -> None:
    """Compute the quarterly star bonus per person (for payroll) from published months."""
    from etl.atomic import open_read_only
    from warehouse.periods import quarter_months
    from warehouse.stars.model import load_model
    from warehouse.stars.payout import NotPublished, write_payout
    from warehouse.stars.payout import payout as compute
    from warehouse.stars.publish import BrokenSeal

    try:
        quarter_months(quarter)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="QUARTER") from None
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise typer.BadParameter("the payout file must end in .csv or .xlsx", param_hint="--out")
    db_path = resolve_db_path(db)
    model = load_model()
    try:
        with open_read_only(db_path) as con:
            table, sources = compute(con, quarter, model, provisional=provisional)
    except (NotPublished, BrokenSeal) as refused:
        console.print(f"[red]No payout:[/red] {refused}")
        raise typer.Exit(1) from None
    write_payout(table, str(out), sources)
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
    host: Annotated[
        str,
        typer.Option(help="Address to listen on: 127.0.0.1 (this machine), 0.0.0.0 (intranet)."),
    ] = "127.0.0.1",
) -> None:
    """Serve the dashboard (Streamlit behind sign-in) on the warehouse."""
    import secrets as _secrets

    from access.settings import store_path
    from access.store import AccessStore
    from dashboard.server import WARMUP_ENV_VAR
    from dashboard.warmup import wait_for_port, warm_up

    db_path = resolve_db_path(db)
    store = AccessStore(store_path(db_path))
    if not store.accounts():
        console.print(
            f"[yellow]No accounts in {store.path} yet: nobody can sign in.[/yellow] "
            f"Add one with `rccdash user add NAME --role admin --db {db_path}`."
        )
    demo_users = store.demo_accounts()
    if demo_users and host not in ("127.0.0.1", "localhost", "::1"):
        console.print(
            f"[red]Demo accounts ({', '.join(demo_users)}) with a published password are"
            " enabled, and the dashboard listens beyond this machine.[/red] Disable them:"
            " `rccdash user disable NAME`."
        )
    secret = _secrets.token_urlsafe(32)
    env = {**os.environ, "RCCDASH_DB": str(db_path.resolve()), WARMUP_ENV_VAR: secret}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "dashboard" / "server.py"),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--server.enableAgentApi",
        "false",  # no second way in beside the browser, which signs in
        "--server.fileWatcherType",
        "none",  # a served dashboard does not edit itself; watching cost ~0.08 s per session
        "--runner.postScriptGC",
        "false",  # a full collection after every run was a third of a session's CPU
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",  # no "Deploy" button for county staff
        "--client.showErrorDetails",
        "false",  # never show a traceback to a user
    ]
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    console.print(f"Dashboard on http://{shown}:{port} (warehouse {db_path}); Ctrl+C to stop")
    server = subprocess.Popen(command, env=env)
    # Stopping `rccdash serve` (Ctrl+C, a service manager's SIGTERM) stops Streamlit too.
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        alive = lambda: server.poll() is None  # noqa: E731
        if wait_for_port(port, timeout_s=60, alive=alive) and warm_up(port, secret):
            console.print(f"Ready: http://{shown}:{port}")
        raise typer.Exit(server.wait())
    except KeyboardInterrupt:
        server.terminate()
        raise typer.Exit(server.wait()) from None


@app.command()
def versions(db: DbOption = None) -> None:
    """List the earlier versions of the warehouse kept beside it (newest first)."""
    from etl.history import versions as kept

    db_path = resolve_db_path(db)
    found = kept(db_path)
    table = Table("version", "size", "replaced at (UTC)", "by", "replaced for", title=str(db_path))
    for v in found:
        table.add_row(v.name, f"{v.size / 2**20:,.1f} MB", v.replaced_at, v.replaced_by, v.why)
    console.print(table)
    if not found:
        console.print("No earlier versions yet: each load, publication or restore keeps one.")


@app.command()
def restore(
    version: Annotated[
        str, typer.Argument(help="A version name from `rccdash versions`, or a backup folder.")
    ],
    db: DbOption = None,
) -> None:
    """Swap an earlier version (or a backup's warehouse) back in, atomically; undoable."""
    from etl.atomic import WarehouseBusy, replace_with
    from etl.history import MANIFEST, WAREHOUSE_FILE, verify_backup, versions_dir

    db_path = resolve_db_path(db)
    folder = Path(version)
    if (folder / MANIFEST).exists():
        check = verify_backup(folder)
        if not check.ok:
            raise _fail(f"Not restored: the backup fails its checks: {'; '.join(check.failed)}")
        source, why = folder / WAREHOUSE_FILE, f"restore of backup {folder}"
    else:
        source, why = versions_dir(db_path) / f"{version}.duckdb", f"restore of {version}"
        if not source.exists():
            raise _fail(f"No version {version}; `rccdash versions` lists them.")
    try:
        replace_with(db_path, source, why=why, on_note=lambda n: console.print(f"note: {n}"))
    except (WarehouseBusy, OSError) as error:
        raise _fail(f"Not restored: {error}") from None
    console.print(f"restored {version}; the version it replaced is kept (`rccdash versions`)")


@app.command()
def backup(
    to: Annotated[Path, typer.Option("--to", help="Folder to create for the backup.")],
    db: DbOption = None,
) -> None:
    """Back up the warehouse, the configuration and the account store, with a manifest."""
    from access.settings import store_path
    from etl.atomic import WarehouseBusy, settle, writer_lock
    from etl.history import backup as write_backup

    db_path = resolve_db_path(db)
    if not db_path.exists():
        raise _fail(f"No warehouse at {db_path}.")
    if to.exists():
        raise _fail(f"{to} exists: a backup goes into a new folder.")
    try:
        with writer_lock(db_path, on_wait=lambda n: console.print(f"note: {n}")):
            for note in settle(db_path):
                console.print(f"note: {note}")
            manifest = write_backup(db_path, to, store_path(db_path))
    except WarehouseBusy as busy:
        raise _fail(f"No backup: {busy}") from None
    rows = sum(t["rows"] for t in manifest["tables"].values())
    console.print(
        f"backed up {len(manifest['files'])} files, {len(manifest['tables'])} tables"
        f" ({rows:,} rows) to {to}"
    )


@app.command()
def verify(
    backup_dir: Annotated[
        Path | None, typer.Argument(help="A backup folder; without it, the live warehouse.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Check a backup against its manifest, or the live warehouse against itself."""
    from etl.history import verify_backup, verify_live

    if backup_dir is not None:
        check, what = verify_backup(backup_dir), str(backup_dir)
    else:
        db_path = resolve_db_path(db)
        if not db_path.exists():
            raise _fail(f"No warehouse at {db_path}.")
        check, what = verify_live(db_path), str(db_path)
    for line in check.passed:
        console.print(f"[green]ok[/green]  {line}")
    for line in check.failed:
        console.print(f"[red]FAIL[/red] {line}")
    if not check.ok:
        raise typer.Exit(1)
    console.print(f"{what}: {len(check.passed)} checks passed")


user_app = typer.Typer(help="Dashboard accounts: add, change, disable, list.", no_args_is_help=True)
app.add_typer(user_app, name="user")
RoleOption = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        help="chairman, leading_group, analyst, outlet_head, operator, teller or admin (repeat).",
    ),
]
OutletOption = Annotated[
    list[str] | None, typer.Option("--outlet", help="An outlet head's outlet code (repeat).")
]
GrantOption = Annotated[
    list[str] | None, typer.Option("--grant", help="pay (see pay amounts), pii (identifiers).")
]


def _store(db: Path | None):  # -> AccessStore, imported lazily
    """The account store of the warehouse at ``db``."""
    from access.settings import store_path
    from access.store import AccessStore

    return AccessStore(store_path(resolve_db_path(db)))


def _operator() -> str:
    """Who runs an account command: the operating-system user, recorded in the audit log."""
    from warehouse.settings import os_user

    return f"os:{os_user()}"


def _fail(message: str) -> typer.Exit:
    """Print a refusal in red and return the exit to raise (code 1)."""
    console.print(f"[red]{message}[/red]")
    return typer.Exit(1)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="User name to sign in with.")],
    role: RoleOption = None,
    name: Annotated[str | None, typer.Option(help="Display name (default: user name).")] = None,
    outlet: OutletOption = None,
    staff: Annotated[str | None, typer.Option(help="A teller's own staff id.")] = None,
    grant: GrantOption = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the initial password from stdin.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Add an account; prints its initial password, to be changed at first sign-in."""
    from access.roles import Account, AccountError, parse_grants, parse_roles
    from access.store import PasswordRejected, new_password

    try:
        account = Account(
            username=username.strip(),
            display_name=name or username,
            roles=parse_roles(role or []),
            outlets=frozenset(outlet or []),
            staff_id=staff,
            grants=parse_grants(grant or []),
        )
        password = sys.stdin.readline().rstrip("\n") if password_stdin else new_password()
        _store(db).add_user(account, password, by=_operator())
    except (AccountError, PasswordRejected, ValueError) as refused:
        raise _fail(f"Not added: {refused}") from None
    console.print(f"added {username} ({', '.join(sorted(account.roles))})")
    if not password_stdin:
        console.print(f"initial password: {password}  (to be changed at first sign-in)")


@user_app.command("change")
def user_change(
    username: Annotated[str, typer.Argument(help="User name.")],
    role: RoleOption = None,
    name: Annotated[str | None, typer.Option(help="New display name.")] = None,
    outlet: OutletOption = None,
    staff: Annotated[str | None, typer.Option(help="New staff id.")] = None,
    grant: GrantOption = None,
    no_grants: Annotated[bool, typer.Option("--no-grants", help="Remove every grant.")] = False,
    db: DbOption = None,
) -> None:
    """Change an account's roles, outlets, staff id, grants or name (others stay)."""
    import dataclasses

    from access.roles import AccountError, parse_grants, parse_roles

    store = _store(db)
    current = store.account(username)
    if current is None:
        raise _fail(f"No user {username}.")
    try:
        changed = dataclasses.replace(
            current,
            display_name=name or current.display_name,
            roles=parse_roles(role) if role else current.roles,
            outlets=frozenset(outlet) if outlet else current.outlets,
            staff_id=staff or current.staff_id,
            grants=frozenset() if no_grants else (parse_grants(grant) if grant else current.grants),
        )
        store.update_user(changed, by=_operator())
    except AccountError as refused:
        raise _fail(f"Not changed: {refused}") from None
    console.print(f"changed {username}")


@user_app.command("passwd")
def user_passwd(
    username: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new password from stdin.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Reset a password (prints a new one, to be changed at next sign-in); unlocks too."""
    from access.store import PasswordRejected, UnknownUser, new_password

    password = sys.stdin.readline().rstrip("\n") if password_stdin else new_password()
    try:
        _store(db).set_password(username, password, by=_operator(), must_change=True)
    except (UnknownUser, PasswordRejected) as refused:
        raise _fail(f"Not reset: {refused}") from None
    console.print(f"password of {username} reset; sessions ended")
    if not password_stdin:
        console.print(f"new password: {password}  (to be changed at next sign-in)")


@user_app.command("disable")
def user_disable(
    username: Annotated[str, typer.Argument(help="User name.")], db: DbOption = None
) -> None:
    """Disable an account (its sessions end at once)."""
    from access.store import UnknownUser

    try:
        _store(db).set_disabled(username, True, by=_operator())
    except UnknownUser:
        raise _fail(f"No user {username}.") from None
    console.print(f"disabled {username}")


@user_app.command("enable")
def user_enable(
    username: Annotated[str, typer.Argument(help="User name.")], db: DbOption = None
) -> None:
    """Enable a disabled account again."""
    from access.store import UnknownUser

    try:
        _store(db).set_disabled(username, False, by=_operator())
    except UnknownUser:
        raise _fail(f"No user {username}.") from None
    console.print(f"enabled {username}")


@user_app.command("unlock")
def user_unlock(
    username: Annotated[str, typer.Argument(help="User name.")], db: DbOption = None
) -> None:
    """Lift a lockout after too many wrong passwords."""
    _store(db).unlock(username, by=_operator())
    console.print(f"unlocked {username}")


@user_app.command("list")
def user_list(db: DbOption = None) -> None:
    """List the accounts: roles, outlets, staff id, grants, status, last sign-in."""
    frame = _store(db).user_table()
    table = Table(*frame.columns)
    for row in frame.iter_rows():
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


@app.command()
def audit(
    since: Annotated[
        str | None, typer.Option(help="First day to export, YYYY-MM-DD (UTC).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="CSV file (default: standard output).")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Only this user's events.")] = None,
    event: Annotated[str | None, typer.Option(help="Only this kind of event.")] = None,
    db: DbOption = None,
) -> None:
    """Export the audit log (sign-ins, downloads, console queries, publications, user changes)."""
    import datetime as dt

    from access.store import AuditEvent

    try:
        start = dt.datetime.fromisoformat(since) if since else None
    except ValueError:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--since") from None
    store = _store(db)
    broken = store.verify_audit()
    log = store.audit_log(since=start, username=user, event=event).sort("id")
    text = log.write_csv()
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {log.height} audit events to {out}")
    store.audit(AuditEvent.AUDIT_EXPORT, _operator(), since=since, rows=log.height)
    if broken is not None:
        console.print(f"[red]The audit log's hash chain breaks at event {broken}:[/red] edited.")
        raise typer.Exit(1)


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
    from access.demo import DEMO_PASSWORD, ensure_demo_accounts

    users = ensure_demo_accounts(_store(db), resolve_db_path(db))
    console.print(
        f"Demo accounts, one per role: {', '.join(users)}; password for all: {DEMO_PASSWORD}"
    )
    if not no_serve:
        serve(db=db, port=port)


if __name__ == "__main__":
    app()
