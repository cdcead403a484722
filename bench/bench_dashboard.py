"""Benchmark: how long each dashboard page takes to build on the demo county-year.

Each page is run headless with Streamlit's AppTest on the demo warehouse (24 outlets x 12
months, ~4M service events; built with `rccdash demo --no-serve` when missing):

- cold = the first run of the page with an empty data cache (every query hits DuckDB on a
  fresh read-only connection), as after a new load;
- warm = a rerun of the same page (cached queries), as when a user clicks around.

Script time is what the server spends before the browser can draw; it excludes the
browser's own rendering. Target: every page under 3 s cold and 1 s warm on 2 cores.

Usage: ``python bench/bench_dashboard.py [--db WAREHOUSE] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
TARGET_COLD_S, TARGET_WARM_S = 3.0, 1.0


def _page_run(db: Path, file: str) -> tuple[float, float, bool]:
    """(cold s, warm s, clean) for one page: fresh app and cache, then a rerun."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard import session
    from tests.dashboard.apptest_kit import EVERYTHING

    os.environ["RCCDASH_DB"] = str(db)
    session.signed_in_account = lambda: EVERYTHING  # a page as someone who may see all of it
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=300)
    at.run()
    st.cache_data.clear()  # the entrypoint's own queries count towards the page
    started = time.perf_counter()
    at.switch_page(f"views/{file}").run()
    cold = time.perf_counter() - started
    started = time.perf_counter()
    at.run()
    warm = time.perf_counter() - started
    clean = not at.exception and not at.error and not [i for i in at.info if "access" in i.value]
    return cold, warm, clean


def main() -> dict:
    """Time every page and print a table; results also go to bench/results/."""
    from dashboard.navigation import PAGES

    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "warehouse.duckdb")
    parser.add_argument("--repeat", type=int, default=3)
    args, _ = parser.parse_known_args()
    if not args.db.exists():
        rccdash = [sys.executable, "-m", "rccdash.cli"]
        subprocess.run([*rccdash, "demo", "--no-serve", "--db", str(args.db)], check=True)
    rows = []
    for spec in PAGES:
        runs = [_page_run(args.db, spec.file) for _ in range(args.repeat)]
        rows.append(
            {
                "page": spec.url_path,
                "cold_s": round(statistics.median(r[0] for r in runs), 3),
                "warm_s": round(statistics.median(r[1] for r in runs), 3),
                "clean": all(r[2] for r in runs),
            }
        )
    result = {"warehouse": str(args.db), "repeat": args.repeat, "pages": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"dashboard-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"{'page':14} {'cold s':>8} {'warm s':>8}  (median of {args.repeat})")
    for r in rows:
        flag = "" if r["clean"] else "  ERROR shown"
        print(f"{r['page']:14} {r['cold_s']:8.2f} {r['warm_s']:8.2f}{flag}")
    print(f"target: every page under {TARGET_COLD_S:.0f} s cold and {TARGET_WARM_S:.0f} s warm")
    print(f"-> {out.relative_to(ROOT)}")
    return result


if __name__ == "__main__":
    main()
