"""Benchmark: full validated load of a >= 2M-row transactions file vs a bare DuckDB read.

Both run in child processes in the same run, so their peak RSS is measured separately:
the bare read is ``CREATE TABLE AS SELECT * FROM read_csv(...)`` into a fresh DuckDB file;
ours is ``load_paths`` (read, map, validate every row, quarantine, dedupe, GX report on a
sample, marts refresh, atomic swap) into a warehouse that already holds the county's
reference data at the current schema. The GX report runs in a process of its own; its
peak RSS is reported beside the load's. Target (issue 3): ours within 3x of the bare read
(aim 1.5x), peak RSS under 2 GB.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path("/tmp/rccdash-bench-load")
RESULTS = ROOT / "bench" / "results"
REPEAT = 3


def _child(code: str) -> tuple[float, float, float]:
    """Run Python ``code`` in a child that prints its seconds.

    Returns them, the child's peak RSS and the largest peak RSS of its own children (the
    GX report process), in MB.
    """
    wrapped = (
        f"{code}\nimport resource\n"
        "for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):\n"
        "    print(resource.getrusage(who).ru_maxrss / 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapped], check=True, capture_output=True, text=True, cwd=ROOT
    )
    *_, seconds, peak_mb, children_mb = out.stdout.split()
    return float(seconds), float(peak_mb), float(children_mb)


def prepare(rows_wanted: int) -> tuple[Path, Path, int]:
    """Generate a county, concatenate its months into one transactions file, load references."""
    exports = WORK / "exports"
    if not (exports / "outlets.csv").exists():
        from rccdash.synthetic.generate import GenerateOptions, generate_county

        generate_county(GenerateOptions(exports, outlets=24, months=7, start="2025-10", seed=7))
    big = WORK / "transactions_all.csv"
    months = sorted(exports.glob("transactions_*.csv"))
    with big.open("w", encoding="utf-8") as out:
        rows = 0
        for i, month in enumerate(months):
            with month.open(encoding="utf-8") as handle:
                header = handle.readline()
                if i == 0:
                    out.write(header)
                for line in handle:
                    out.write(line)
                    rows += 1
            if rows >= rows_wanted:
                break
    base = WORK / "base.duckdb"
    if base.exists() and not _current_schema(base):
        base.unlink()  # migrating a copy would make the marts rebuild, and time that
    if not base.exists():
        from etl.pipeline import LoadOptions, load_paths

        refs = [p for p in exports.iterdir() if not p.name.startswith("transactions_")]
        load_paths(base, refs, LoadOptions(report=False))
    _current_marts(base)
    return big, base, rows


def _current_schema(db: Path) -> bool:
    """Whether the warehouse ``db`` has every migration of this checkout applied."""
    import duckdb

    from warehouse.schema import applied_versions, migrations

    with duckdb.connect(str(db)) as con:
        return applied_versions(con) >= {m.version for m in migrations()}


def _current_marts(db: Path) -> None:
    """Bring the marts of ``db`` up to this checkout's definitions, as its last load would.

    A base warehouse kept from an older checkout would otherwise rebuild its marts, and
    compile their statements, inside the timed load.
    """
    import duckdb

    from warehouse import marts

    with duckdb.connect(str(db)) as con:
        marts.refresh(con)


def main() -> dict:
    """Run both loads and report the ratio and memory."""
    WORK.mkdir(parents=True, exist_ok=True)
    big, base, rows = prepare(2_000_000)
    bare_db, ours_db = WORK / "bare.duckdb", WORK / "ours.duckdb"
    bare_code = (
        "import duckdb, time; t = time.perf_counter();"
        f" c = duckdb.connect({str(bare_db)!r});"
        f' c.execute("CREATE TABLE t AS SELECT * FROM read_csv({str(big)!r})"); c.close();'
        " print(time.perf_counter() - t)"
    )
    ours_code = (
        "import time; from pathlib import Path; from etl.pipeline import load_paths, LoadOptions;"
        " t = time.perf_counter();"
        f" [o] = load_paths(Path({str(ours_db)!r}), [Path({str(big)!r})], LoadOptions());"
        " assert o.status == 'loaded'"
        " and o.read == o.loaded + o.duplicate + o.quarantined + o.dropped, o;"
        " print(time.perf_counter() - t)"
    )
    bare, ours = [], []
    for _ in range(REPEAT):  # interleaved, so both see the same machine noise
        bare_db.unlink(missing_ok=True)
        bare.append(_child(bare_code))
        shutil.copyfile(base, ours_db)
        ours.append(_child(ours_code))
    bare_s, bare_mb = statistics.median(b[0] for b in bare), max(b[1] for b in bare)
    ours_s, ours_mb = statistics.median(o[0] for o in ours), max(o[1] for o in ours)
    report_mb = max(o[2] for o in ours)
    result = {
        "rows": rows,
        "file_mb": round(big.stat().st_size / 1e6, 1),
        "bare_read_csv_s": round(bare_s, 2),
        "bare_peak_rss_mb": round(bare_mb),
        "validated_load_s": round(ours_s, 2),
        "validated_peak_rss_mb": round(ours_mb),
        "report_process_peak_rss_mb": round(report_mb),
        "ratio": round(ours_s / bare_s, 2),
        "runs": REPEAT,
        "bare_runs_s": [round(b[0], 2) for b in bare],
        "validated_runs_s": [round(o[0], 2) for o in ours],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(result, indent=2)
    )
    print(f"rows {rows:,} ({result['file_mb']} MB); median of {REPEAT} interleaved runs")
    print(f"bare DuckDB read_csv -> table : {bare_s:6.2f} s   peak RSS {bare_mb:,.0f} MB")
    print(
        f"validated rccdash load        : {ours_s:6.2f} s   peak RSS {ours_mb:,.0f} MB"
        f" (+ report process {report_mb:,.0f} MB)"
    )
    print(f"ratio                          : {ours_s / bare_s:6.2f}x  (target <= 3x, aim 1.5x)")
    return result


if __name__ == "__main__":
    main()
