"""`make bench`: every benchmark, one after another, printing their figures."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCHMARKS = [
    "bench.bench_load",
    "bench.bench_kpi",
    "bench.bench_dashboard",
    "bench.bench_sessions",
    "bench.bench_growth",
]

if __name__ == "__main__":
    for name in BENCHMARKS:
        print(f"== {name}")
        importlib.import_module(name).main()
