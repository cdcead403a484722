"""Fault injection: kill loads and publications anywhere; the warehouse must stay whole.

``make faults`` (or ``python bench/faults.py [--kills 50]``). On a small generated county:

1. SIGKILL at a random moment of a load (a month of transactions) or a publication (a
   month's stars), ``--kills`` times in all. After each kill the warehouse must open and
   equal, table by table, either the version before the operation or the one after it
   (computed once by an uninterrupted run); then the same operation, run again, must
   succeed and give the "after" version.
2. A disk that fills during the copy (a file-size limit): the warehouse is unchanged, no
   staging file is left, the next load succeeds.
3. Another program holding the warehouse read-write during a load: the load is refused
   and changes nothing; once that program is gone (killed, its log left behind), the
   next load succeeds and keeps what the program had committed.
4. A write-ahead log of an older version beside the file: the next load sets it aside and
   succeeds; the warehouse opens.

Tables are compared by rows and an order-free checksum, leaving out the columns that
record when something ran (two runs of the same load differ only there).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
RCCDASH = [sys.executable, "-m", "rccdash.cli"]
# Columns that say when something ran: two runs of the same operation differ only there.
VOLATILE = {
    "etl_load": ("started_at", "finished_at", "run_by", "report_path"),
    "mart_meta": ("refreshed_at",),
    "star_assessment": ("published_at",),
    "schema_migrations": ("applied_at",),
}


def state(db: Path) -> dict[str, tuple[int, int]]:
    """Per table: rows and checksum of the stable columns (raises if it does not open)."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1"
            ).fetchall()
        ]
        out = {}
        for table in tables:
            skip = VOLATILE.get(table, ())
            present = {
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [table]
                ).fetchall()
            }
            drop = [c for c in skip if c in present]
            inner = f"SELECT * EXCLUDE ({', '.join(drop)}) FROM {table}" if drop else table
            rows, digest = con.execute(
                f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM ({inner}) t"
                if drop
                else f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM {table} t"
            ).fetchall()[0]
            out[table] = (int(rows), int(digest))
    return out


def run(args: list[str], db: Path) -> subprocess.CompletedProcess[str]:
    """One rccdash command on ``db``, to its end."""
    return subprocess.run([*RCCDASH, *args, "--db", str(db)], capture_output=True, text=True)


def leftovers(db: Path) -> list[str]:
    """Staging files a killed run may leave (the next writer removes them)."""
    return [p.name for p in db.parent.glob(f".{db.name}.next-*")]


def prepare(work: Path) -> tuple[Path, dict[str, list[str]]]:
    """A county of 8 outlets over two months; the base warehouse holds all but the last."""
    exports = work / "exports"
    subprocess.run(
        [
            *RCCDASH,
            "generate",
            "--out",
            str(exports),
            "--outlets",
            "8",
            "--months",
            "2",
            "--start",
            "2026-01",
            "--volume",
            "1.0",
            "--seed",
            "5",
        ],
        check=True,
        capture_output=True,
    )
    base = work / "base.duckdb"
    first = [str(p) for p in sorted(exports.iterdir()) if "2026-02" not in p.name]
    done = run(["load", *first, "--no-report"], base)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    operations = {
        "load": ["load", str(exports / "transactions_2026-02.csv"), "--no-report"],
        "publish": ["assess", "2026-01", "--publish"],
    }
    return base, operations


def trial_copy(base: Path, work: Path, name: str) -> Path:
    """A fresh copy of the base warehouse for one trial."""
    folder = work / name
    folder.mkdir()
    db = folder / "w.duckdb"
    shutil.copy(base, db)
    return db


def kills(base: Path, ops: dict[str, list[str]], work: Path, count: int) -> dict:
    """SIGKILL each operation at random moments; check before-or-after each time."""
    before = state(base)
    after, duration = {}, {}
    for op, args in ops.items():
        db = trial_copy(base, work, f"reference-{op}")
        started = time.monotonic()
        done = run(args, db)
        duration[op] = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit(f"{op} failed without a fault: {done.stdout}{done.stderr}")
        after[op] = state(db)
    tally = {"kills": 0, "equal_before": 0, "equal_after": 0, "finished_first": 0, "bad": []}
    rng = random.Random(13)
    for i in range(count):
        op = list(ops)[i % len(ops)]
        db = trial_copy(base, work, f"kill-{i:03d}")
        # Half the kills anywhere, half in the last stretch, where the swap happens.
        share = rng.uniform(0.02, 1.0) if i % 4 < 2 else rng.uniform(0.85, 1.02)
        at = share * duration[op]
        process = subprocess.Popen(
            [*RCCDASH, *ops[op], "--db", str(db)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(at)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            tally["kills"] += 1
        else:
            tally["finished_first"] += 1
        process.wait()
        try:
            now = state(db)
        except duckdb.Error as error:
            tally["bad"].append(f"{op} killed at {at:.2f} s: does not open ({error})")
            continue
        if now == before:
            tally["equal_before"] += 1
        elif now == after[op]:
            tally["equal_after"] += 1
        else:
            diff = sorted(t for t in now if now.get(t) != before.get(t))
            tally["bad"].append(f"{op} killed at {at:.2f} s: neither version ({diff})")
            continue
        # Run it again: from "before" it must succeed; from "after" a load is skipped as
        # loaded and a publication refused as published. Either way: the "after" version.
        again = run(ops[op], db)
        expected_exit = 1 if now == after[op] and op == "publish" else 0
        ok = again.returncode == expected_exit and state(db) == after[op] and not leftovers(db)
        if not ok:
            tally["bad"].append(f"{op} killed at {at:.2f} s: the run after it did not succeed")
    tally["durations_s"] = {op: round(s, 2) for op, s in duration.items()}
    return tally


def disk_full(base: Path, ops: dict[str, list[str]], work: Path) -> dict:
    """The copy fails for lack of space (a file-size limit): nothing changes, nothing left."""
    db = trial_copy(base, work, "disk-full")
    before = state(db)
    limit = db.stat().st_size // 2
    code = textwrap.dedent(
        f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        from rccdash.cli import app
        sys.argv = ["rccdash", *{ops["load"]!r}, "--db", {str(db)!r}]
        app()
        """
    )
    failed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    unchanged = state(db) == before and not leftovers(db)
    recovered = run(ops["load"], db).returncode == 0
    return {"failed": failed.returncode != 0, "unchanged": unchanged, "next_load_ok": recovered}


def read_write_holder(base: Path, ops: dict[str, list[str]], work: Path) -> dict:
    """Another program holds the file read-write during a load, commits, and is killed."""
    db = trial_copy(base, work, "holder")
    before = state(db)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, time
            con = duckdb.connect({str(db)!r})
            con.execute("SET checkpoint_threshold = '1TB'")
            con.execute("UPDATE dim_outlet SET outlet_name = outlet_name || ' (renamed)'")
            print("holding", flush=True)
            time.sleep(120)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    holder.stdout.readline()
    refused = run(ops["load"], db)
    # DuckDB may have flushed part of the log; the file itself is what readers see.
    refused_ok = refused.returncode == 1 and "open for writing" in refused.stdout
    holder.kill()
    holder.wait()
    after_kill = state(db)  # the holder's committed rename, replayed from its log
    recovered = run(ops["load"], db)
    with duckdb.connect(str(db), read_only=True) as con:
        renamed = con.execute(
            "SELECT count(*) FROM dim_outlet WHERE outlet_name LIKE '% (renamed)'"
        ).fetchall()[0][0]
    return {
        "refused": refused_ok,
        "unchanged_while_refused": after_kill["fact_transaction"] == before["fact_transaction"],
        "next_load_ok": recovered.returncode == 0,
        "holders_change_kept": renamed == before["dim_outlet"][0],
    }


def stale_log(base: Path, ops: dict[str, list[str]], work: Path) -> dict:
    """A log of an older version beside the file: set aside, the next load succeeds."""
    db = trial_copy(base, work, "stale")
    subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, os, signal
            con = duckdb.connect({str(db)!r})
            con.execute("SET checkpoint_threshold = '1TB'")
            con.execute("UPDATE dim_outlet SET township = 'lost'")
            os.kill(os.getpid(), signal.SIGKILL)
        """),
        ],
        check=False,
    )
    wal = db.with_name(db.name + ".wal")
    stale = wal.read_bytes()
    assert run(["schema"], db).returncode == 0  # folds it in, a new version
    wal.write_bytes(stale)  # now a log of an older version
    try:
        state(db)
        unopenable = False
    except duckdb.Error:
        unopenable = True
    loaded = run(ops["load"], db)
    opens = True
    try:
        state(db)
    except duckdb.Error:
        opens = False
    aside = list(db.parent.glob("w.duckdb.wal.stale-*"))
    return {
        "unopenable_before": unopenable,
        "next_load_ok": loaded.returncode == 0,
        "opens_after": opens,
        "log_set_aside": len(aside) == 1,
    }


def main() -> dict:
    """Run every fault and print the counts; results also go to bench/results/."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=50)
    args, _ = parser.parse_known_args()
    with tempfile.TemporaryDirectory(prefix="rccdash-faults-") as tmp:
        work = Path(tmp)
        base, ops = prepare(work)
        started = time.monotonic()
        result = {
            "sigkill": kills(base, ops, work, args.kills),
            "disk_full": disk_full(base, ops, work),
            "read_write_holder": read_write_holder(base, ops, work),
            "stale_log": stale_log(base, ops, work),
        }
        result["seconds"] = round(time.monotonic() - started, 1)
    k = result["sigkill"]
    print(
        f"SIGKILL: {k['kills']} kills (+{k['finished_first']} runs that finished first):"
        f" {k['equal_before']} left the version before, {k['equal_after']} the version after,"
        f" {len(k['bad'])} anything else; every next run succeeded: {not k['bad']}"
    )
    for problem in k["bad"]:
        print(f"  FAIL {problem}")
    for name in ("disk_full", "read_write_holder", "stale_log"):
        print(f"{name}: {result[name]}")
    ok = not k["bad"] and all(
        all(v for v in result[n].values()) for n in ("disk_full", "read_write_holder", "stale_log")
    )
    print(f"{'PASS' if ok else 'FAIL'} in {result['seconds']} s")
    result["pass"] = ok
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"faults-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"-> {out.relative_to(ROOT)}")
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["pass"] else 1)
