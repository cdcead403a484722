"""Benchmark: does a load cost more as the warehouse grows? And the whole command's cost.

Issue 13's targets, each a ratio measured in one run:

* **Growth.** One month (its transactions and roster) loaded into warehouses holding 0,
  1, 3 and 5 years of the synthetic county, timed as the whole ``rccdash load`` command
  a user runs. Target: 5 years at most 1.3x the empty warehouse. Measured on the folder
  the warehouse lives in (``BENCH_GROWTH_DIRS``, ``:``-separated; default: this machine's
  temporary folder and, when present, a reflink-capable XFS mount at ``/mnt/xfs``). On
  ext4 each change must copy the whole file; on XFS/btrfs it clones it
  (``etl.filecopy``), so both are reported, labelled.
* **The county quarter.** ``rccdash load`` of three monthly transaction files into a
  warehouse holding the reference data, against a bare DuckDB ``CREATE TABLE AS SELECT *
  FROM read_csv`` of the same files into a fresh file (both whole commands, so both pay
  Python's start). Target: at most 2.0x (aim 1.5x), peak memory under 2 GB.

The 61-month county and its warehouses are built once under ``WORK`` and reused.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("BENCH_GROWTH_WORK", "/tmp/rccdash-bench-growth"))
RESULTS = ROOT / "bench" / "results"
RCCDASH = [str(Path(sys.executable).parent / "rccdash")]
YEARS = (0, 1, 3, 5)
START = "2021-01"  # 60 months of history, then the month every trial loads
MONTH = "2026-01"
QUARTER = ("2026-01", "2026-02", "2026-03")
REPEAT = 3


def _run(args: list[str]) -> tuple[float, float]:
    """Run a command; its wall seconds and its own peak RSS in MB."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        child = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=_env())
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            out.seek(0)
            raise RuntimeError(f"{' '.join(args)} failed:\n{out.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def _env() -> dict[str, str]:
    return {**os.environ, "GX_ANALYTICS_ENABLED": "false", "COLUMNS": "100"}


def exports() -> Path:
    """The synthetic county, 61 months from ``START``, generated once."""
    folder = WORK / "exports"
    if not (folder / f"transactions_{QUARTER[-1]}.csv").exists():
        months = 60 + len(QUARTER)
        _run(
            [*RCCDASH, "generate", "--out", str(folder), "--months", str(months), "--start", START]
        )
    return folder


def _months(first: str, count: int) -> list[str]:
    year, month = map(int, first.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def bases(where: Path) -> dict[int, Path]:
    """Warehouses holding the references, complaints and 0/1/3/5 years, copied to ``where``."""
    built = {years: where / f"base-{years}y.duckdb" for years in YEARS}
    for years, path in _built().items():
        if not built[years].exists() or built[years].stat().st_mtime < path.stat().st_mtime:
            shutil.copyfile(path, built[years])
    return built


def _current(db: Path) -> None:
    """Bring a base up to this checkout's schema and mart definitions, as its last load would.

    A base kept from an older checkout would otherwise migrate and rebuild its marts inside
    the timed load: a one-time cost of upgrading, not of loading a month. A stamp beside
    the base says for which definitions it was last brought up to date.
    """
    import duckdb

    from warehouse import marts
    from warehouse.schema import migrate, migrations

    stamp = db.with_suffix(".current")
    with duckdb.connect(str(db)) as con:
        wanted = json.dumps([marts._definition(con), len(migrations())])
        if stamp.exists() and stamp.read_text() == wanted:
            return
        migrate(con)
        marts.refresh(con)
        wanted = json.dumps([marts._definition(con), len(migrations())])
    stamp.write_text(wanted)


def _built() -> dict[int, Path]:
    """The base warehouses, built once under ``WORK``."""
    source = exports()
    where = WORK / "bases"
    where.mkdir(parents=True, exist_ok=True)
    built = {years: where / f"base-{years}y.duckdb" for years in YEARS}
    if all(path.exists() for path in built.values()):
        for path in built.values():
            # In a child: a process's peak memory is inherited by the children it starts
            # (Linux keeps the high-water mark across fork), which would then report it.
            code = (
                "from pathlib import Path; from bench.bench_growth import _current;"
                f" _current(Path({str(path)!r}))"
            )
            _run([sys.executable, "-c", code])
        return built
    work = where / "building.duckdb"
    work.unlink(missing_ok=True)
    refs = [p for p in source.iterdir() if not p.name.startswith(("transactions_", "roster_"))]
    _run([*RCCDASH, "load", *map(str, refs), "--db", str(work), "--no-report"])
    done = 0
    for years in YEARS:
        for year_start in range(done, years):
            months = _months(_months(START, 12 * year_start + 1)[-1], 12)
            files = [
                source / f"{kind}_{m}.csv" for m in months for kind in ("roster", "transactions")
            ]
            _run([*RCCDASH, "load", *map(str, files), "--db", str(work), "--no-report"])
        done = years
        shutil.copyfile(work, built[years])
    work.unlink()
    return built


def growth(where: Path) -> dict[str, object]:
    """One month into each base warehouse in ``where``, interleaved ``REPEAT`` times."""
    source = exports()
    files = [str(source / f"{kind}_{MONTH}.csv") for kind in ("roster", "transactions")]
    built = bases(where)
    trial = where / "trial.duckdb"
    seconds: dict[int, list[float]] = {years: [] for years in YEARS}
    peak = 0.0
    for _ in range(REPEAT):
        for years in YEARS:
            shutil.rmtree(where / "trial.duckdb-versions", ignore_errors=True)
            trial.unlink(missing_ok=True)
            shutil.copyfile(built[years], trial)
            os.sync()  # the setup's copy is not the load's to write out
            took, rss = _run([*RCCDASH, "load", *files, "--db", str(trial), "--no-report"])
            seconds[years].append(took)
            peak = max(peak, rss)
    median = {years: statistics.median(runs) for years, runs in seconds.items()}
    from etl.filecopy import can_clone

    return {
        "folder": str(where),
        "clones": can_clone(where),
        "sizes_mb": {y: round(built[y].stat().st_size / 2**20) for y in YEARS},
        "median_s": {y: round(s, 2) for y, s in median.items()},
        "runs_s": {y: [round(s, 2) for s in runs] for y, runs in seconds.items()},
        "ratio_5y_to_empty": round(median[5] / median[0], 2),
        "peak_rss_mb": round(peak),
    }


def quarter(where: Path) -> dict[str, object]:
    """The whole ``rccdash load`` of three months' transactions against a bare read."""
    source = exports()
    files = [str(source / f"transactions_{m}.csv") for m in QUARTER]
    built = bases(where)
    trial, bare = where / "trial.duckdb", where / "bare.duckdb"
    bare_code = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1]);"
        " c.execute('CREATE TABLE t AS SELECT * FROM read_csv(?)', [sys.argv[2:]]); c.close()"
    )
    ours, theirs, peak = [], [], 0.0
    for _ in range(REPEAT):
        bare.unlink(missing_ok=True)
        theirs.append(_run([sys.executable, "-c", bare_code, str(bare), *files])[0])
        shutil.rmtree(where / "trial.duckdb-versions", ignore_errors=True)
        trial.unlink(missing_ok=True)
        shutil.copyfile(built[0], trial)
        os.sync()
        took, rss = _run([*RCCDASH, "load", *files, "--db", str(trial), "--no-report"])
        ours.append(took)
        peak = max(peak, rss)
    import duckdb

    with duckdb.connect(str(bare), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    return {
        "rows": rows,
        "bare_s": round(statistics.median(theirs), 2),
        "load_s": round(statistics.median(ours), 2),
        "ratio": round(statistics.median(ours) / statistics.median(theirs), 2),
        "bare_runs_s": [round(s, 2) for s in theirs],
        "load_runs_s": [round(s, 2) for s in ours],
        "peak_rss_mb": round(peak),
    }


def folders() -> list[Path]:
    """Where to measure: ``BENCH_GROWTH_DIRS``, else WORK and /mnt/xfs when it clones."""
    from etl.filecopy import can_clone

    if os.environ.get("BENCH_GROWTH_DIRS"):
        return [Path(p) for p in os.environ["BENCH_GROWTH_DIRS"].split(":")]
    found = [WORK / "local"]
    xfs = Path("/mnt/xfs")
    if xfs.is_dir() and can_clone(xfs):
        found.append(xfs / "rccdash-bench-growth")
    return found


def main() -> dict:
    """Measure growth on each folder and the quarter ratio on the first; print and save."""
    result: dict[str, object] = {"growth": [], "machine_cores": os.cpu_count()}
    for where in folders():
        where.mkdir(parents=True, exist_ok=True)
        curve = growth(where)
        result["growth"].append(curve)  # type: ignore[union-attr]
        kind = "clones files" if curve["clones"] else "copies files"
        print(f"a month into a warehouse of N years, {where} ({kind}):")
        for years in YEARS:
            print(
                f"  {years} years ({curve['sizes_mb'][years]:>5,} MB): "  # type: ignore[index]
                f"{curve['median_s'][years]:6.2f} s"  # type: ignore[index]
            )
        print(f"  5 years / empty: {curve['ratio_5y_to_empty']}x (target <= 1.3x)")
    q = quarter(folders()[0])
    result["quarter"] = q
    print(
        f"county quarter ({q['rows']:,} rows): rccdash load {q['load_s']} s, bare read_csv"
        f" {q['bare_s']} s: {q['ratio']}x (target <= 2.0x, aim 1.5x); peak {q['peak_rss_mb']} MB"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"growth-{stamp}.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
