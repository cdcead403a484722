"""Benchmark: KPI queries on a county-year (~15M events) against the bare DuckDB SQL.

Two dashboard queries, each timed three ways next to the hand-written SQL an analyst would
run on the base tables, in the same run:

- ``service_summary`` by outlet over the whole year (every column: counts, exact
  percentiles, service level, productivity from the roster);
- ``demand_profile`` of one outlet (counter arrivals per weekday-hour and mean handling).

cold = a fresh Python process (imports not timed) opening a new connection; new-conn = a
new connection in a warm process; warm = the median of repeated runs on one connection.
The bare SQL's result is checked against ours, so the comparison is like for like.
Target (issue 4): ours within 1.5x of the bare query, under 1 s cold, on 2 cores.

Usage: ``python bench/bench_kpi.py [--db WAREHOUSE] [--outlets 30 --months 12
--volume 3.1] [--refresh]``. Without --db a county is generated and loaded once into
/tmp/rccdash-bench-kpi (minutes; reused afterwards). --refresh rebuilds the marts of
--db first (writes to it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path("/tmp/rccdash-bench-kpi")
RESULTS = ROOT / "bench" / "results"

# The served-event rows both bare queries start from.
EVENTS_CTE = """
WITH t AS (
    SELECT t.outlet_code, t.channel = 'counter' AS counter, t.status <> 'reversed' AS arrival,
           t.status IN ('completed', 'error') AND NOT t.is_reversed AS served,
           t.status, t.is_reversed, t.wait_s, t.service_s, t.satisfaction,
           b.standard_handling_s AS standard
    FROM fact_transaction t LEFT JOIN dim_business_type b USING (business_type)
    WHERE t.business_date >= DATE '{start}' AND t.business_date < DATE '{end}'
)"""

BARE_SERVICE = (
    EVENTS_CTE
    + """, ev AS (
    SELECT outlet_code,
        count(*) FILTER (WHERE arrival) AS arrivals,
        count(*) FILTER (WHERE arrival AND counter) AS counter_arrivals,
        count(*) FILTER (WHERE served) AS served,
        count(*) FILTER (WHERE served AND counter) AS counter_served,
        count(*) FILTER (WHERE status = 'abandoned') AS abandoned,
        count(*) FILTER (WHERE arrival AND (status = 'error' OR is_reversed)) AS errors,
        count(*) FILTER (WHERE arrival AND NOT counter) AS self_service,
        avg(wait_s) FILTER (WHERE served AND counter) AS wait_mean_s,
        quantile_cont(wait_s, 0.5) FILTER (WHERE served AND counter) AS wait_p50_s,
        quantile_cont(wait_s, 0.9) FILTER (WHERE served AND counter) AS wait_p90_s,
        count(*) FILTER (WHERE served AND counter AND wait_s <= {target}) AS within,
        count(wait_s) FILTER (WHERE served AND counter) AS waits,
        avg(service_s) FILTER (WHERE served AND counter) AS service_mean_s,
        quantile_cont(service_s, 0.9) FILTER (WHERE served AND counter) AS service_p90_s,
        sum(service_s) FILTER (WHERE served AND counter AND standard IS NOT NULL) AS svc_std,
        sum(standard) FILTER (WHERE served AND counter AND service_s IS NOT NULL) AS std,
        count(satisfaction) FILTER (WHERE served AND counter) AS rated,
        count(*) FILTER (WHERE served AND counter AND satisfaction >= 4) AS satisfied,
        sum(service_s) FILTER (WHERE counter AND status <> 'abandoned') AS busy
    FROM t GROUP BY outlet_code
), ro AS (
    SELECT outlet_code, sum(staffed_s) AS staffed FROM fact_roster
    WHERE window_no IS NOT NULL
      AND work_date >= DATE '{start}' AND work_date < DATE '{end}'
    GROUP BY outlet_code
)
SELECT ev.outlet_code, arrivals, counter_arrivals, served, counter_served, abandoned,
    abandoned / nullif(counter_arrivals, 0) AS abandonment_rate,
    wait_mean_s, wait_p50_s, wait_p90_s, within / nullif(waits, 0) AS service_level,
    service_mean_s, service_p90_s, svc_std / nullif(std, 0) AS service_vs_standard, errors,
    errors * 1000 / nullif(served, 0) AS errors_per_1000,
    satisfied / nullif(rated, 0) AS satisfaction_rate,
    rated / nullif(counter_served, 0) AS rating_coverage,
    self_service / nullif(arrivals, 0) AS self_service_share,
    coalesce(staffed, 0) / 3600 AS counter_staff_hours,
    counter_served * 3600 / nullif(staffed, 0) AS served_per_staff_hour,
    busy / nullif(staffed, 0) AS utilisation
FROM ev LEFT JOIN ro USING (outlet_code) ORDER BY ev.outlet_code
"""
)

# The same numbers written the way a DuckDB expert would: CASE sums instead of FILTER
# (FILTER next to a quantile is slow in DuckDB), percentiles in their own pre-filtered pass.
BARE_SERVICE_TUNED = (
    EVENTS_CTE
    + """, a AS (
    SELECT outlet_code, sum(arrival::INT) AS arrivals,
        sum((arrival AND counter)::INT) AS counter_arrivals, sum(served::INT) AS served,
        sum((served AND counter)::INT) AS counter_served,
        sum((status = 'abandoned')::INT) AS abandoned,
        sum((arrival AND (status = 'error' OR is_reversed))::INT) AS errors,
        sum((arrival AND NOT counter)::INT) AS self_service,
        sum(CASE WHEN served AND counter THEN wait_s END) AS wait_sum,
        sum(CASE WHEN served AND counter AND wait_s IS NOT NULL THEN 1 ELSE 0 END) AS waits,
        sum(CASE WHEN served AND counter AND wait_s <= {target} THEN 1 ELSE 0 END) AS within_t,
        sum(CASE WHEN served AND counter THEN service_s END) AS service_sum,
        sum(CASE WHEN served AND counter AND service_s IS NOT NULL THEN 1 ELSE 0 END) AS services,
        sum(CASE WHEN served AND counter AND standard IS NOT NULL THEN service_s END) AS svc_std,
        sum(CASE WHEN served AND counter AND service_s IS NOT NULL THEN standard END) AS std,
        sum(CASE WHEN served AND counter AND satisfaction IS NOT NULL THEN 1 ELSE 0 END) AS rated,
        sum(CASE WHEN served AND counter AND satisfaction >= 4 THEN 1 ELSE 0 END) AS satisfied,
        sum(CASE WHEN counter AND status <> 'abandoned' THEN service_s END) AS busy
    FROM t GROUP BY outlet_code
), q AS (
    SELECT outlet_code, quantile_cont(wait_s, [0.5, 0.9]) AS wq,
        quantile_cont(service_s, 0.9) AS service_p90_s
    FROM t WHERE served AND counter GROUP BY outlet_code
), ro AS (
    SELECT outlet_code, sum(staffed_s) AS staffed FROM fact_roster
    WHERE window_no IS NOT NULL
      AND work_date >= DATE '{start}' AND work_date < DATE '{end}'
    GROUP BY outlet_code
)
SELECT a.outlet_code, arrivals, counter_arrivals, served, counter_served, abandoned,
    abandoned / nullif(counter_arrivals, 0) AS abandonment_rate,
    wait_sum / nullif(waits, 0) AS wait_mean_s, wq[1] AS wait_p50_s, wq[2] AS wait_p90_s,
    within_t / nullif(waits, 0) AS service_level, service_sum / nullif(services, 0)
    AS service_mean_s, service_p90_s, svc_std / nullif(std, 0) AS service_vs_standard, errors,
    errors * 1000 / nullif(served, 0) AS errors_per_1000,
    satisfied / nullif(rated, 0) AS satisfaction_rate,
    rated / nullif(counter_served, 0) AS rating_coverage,
    self_service / nullif(arrivals, 0) AS self_service_share,
    coalesce(staffed, 0) / 3600 AS counter_staff_hours,
    counter_served * 3600 / nullif(staffed, 0) AS served_per_staff_hour,
    busy / nullif(staffed, 0) AS utilisation
FROM a LEFT JOIN q USING (outlet_code) LEFT JOIN ro USING (outlet_code) ORDER BY a.outlet_code
"""
)

BARE_DEMAND = """
WITH d AS (
    SELECT isodow(business_date) - 1 AS weekday, hour(arrival_at) AS hour,
        count(*) FILTER (WHERE status <> 'reversed') AS arrivals,
        avg(service_s) FILTER (WHERE status IN ('completed', 'error') AND NOT is_reversed)
            AS mean_service_s
    FROM fact_transaction
    WHERE outlet_code = '{outlet}' AND channel = 'counter'
      AND business_date >= DATE '{start}' AND business_date < DATE '{end}'
    GROUP BY ALL
), days AS (
    SELECT isodow(d::DATE) - 1 AS weekday, count(*) AS n
    FROM range(DATE '{start}', DATE '{end}', INTERVAL 1 DAY) r(d) GROUP BY ALL
), grid AS (
    SELECT weekday, n, h AS hour FROM days, range(24) t(h)
)
SELECT grid.weekday, grid.hour, coalesce(arrivals, 0) / n AS arrivals_per_hour, mean_service_s
FROM grid LEFT JOIN d USING (weekday, hour) ORDER BY 1, 2
"""

# Timed in a fresh process: imports first (not timed), then connection + query.
CHILD = """
import sys, time, duckdb
sys.path.insert(0, {root!r})
from warehouse.kpi import service_summary, demand_profile
db, which, start, end, outlet = {args!r}
t = time.perf_counter()
con = duckdb.connect(db, read_only=True)
if which == "service":
    service_summary(con, start=start, end=end, by="outlet")
elif which == "demand":
    demand_profile(con, start=start, end=end, outlets=outlet, channel="counter")
else:
    con.sql(which).fetchall()
print(time.perf_counter() - t)
"""


def _cold(db: Path, which: str, start: str, end: str, outlet: str) -> float:
    """Seconds for connection + query in a fresh process (imports excluded)."""
    code = CHILD.format(root=str(ROOT), args=(str(db), which, start, end, outlet))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def _timed(fn: Any, repeat: int) -> tuple[float, float]:
    """(first run on a new connection, median of ``repeat`` warm runs) in seconds."""
    import duckdb

    con_holder: dict[str, Any] = {}

    def run(new: bool) -> float:
        t = time.perf_counter()
        if new:
            con_holder["con"] = duckdb.connect(str(fn.db), read_only=True)
        fn(con_holder["con"])
        return time.perf_counter() - t

    first = run(True)
    warm = statistics.median(run(False) for _ in range(repeat))
    con_holder["con"].close()
    return first, warm


class _Query:
    """A named query bound to a warehouse path."""

    def __init__(self, db: Path, call: Any) -> None:
        self.db = db
        self.call = call

    def __call__(self, con: Any) -> Any:
        return self.call(con)


def build(outlets: int, months: int, volume: float) -> Path:
    """Generate and load the county once (the ETL's finish step refreshes the marts)."""
    db = WORK / f"county-{outlets}x{months}-{volume}.duckdb"
    if db.exists():
        return db
    from etl.pipeline import LoadOptions, load_paths
    from rccdash.synthetic.generate import GenerateOptions, generate_county

    exports = WORK / f"exports-{outlets}x{months}-{volume}"
    if not (exports / "outlets.csv").exists():
        generate_county(
            GenerateOptions(exports, outlets=outlets, months=months, volume=volume, workers=2)
        )
    load_paths(db, [exports], LoadOptions(report=False))
    return db


def _check_same(ours: Any, bare: Any) -> None:
    """Fail loudly if the bare SQL and the KPI layer disagree (then the race is unfair)."""
    import polars as pl

    for col in ("arrivals", "served", "abandoned", "wait_p90_s", "served_per_staff_hour"):
        if col not in bare.columns:
            continue
        a = ours.filter(pl.col("arrivals") > 0)[col].cast(pl.Float64).to_list()
        b = bare[col].cast(pl.Float64).to_list()
        if not all(abs(x - y) <= 1e-9 * max(1.0, abs(y)) for x, y in zip(a, b, strict=True)):
            raise AssertionError(f"bare SQL and service_summary differ on {col}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print a table and write bench/results/kpi-*.json."""
    import duckdb

    from warehouse import marts
    from warehouse.kpi import demand_profile, service_summary, target_wait_s

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--outlets", type=int, default=30)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--volume", type=float, default=3.1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--refresh", action="store_true")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])

    WORK.mkdir(parents=True, exist_ok=True)
    db = args.db or build(args.outlets, args.months, args.volume)
    if args.refresh:
        with duckdb.connect(str(db)) as con:
            marts.refresh(con, full=True)
    with duckdb.connect(str(db), read_only=True) as con:
        first, last, events = con.sql(
            "SELECT min(business_date), max(business_date), count(*) FROM fact_transaction"
        ).fetchall()[0]
        outlet = con.sql(
            "SELECT outlet_code FROM fact_transaction GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchall()[0][0]
        fresh = marts.fresh_marts(con)
    start, end = first.isoformat(), (last + dt.timedelta(days=1)).isoformat()
    bare_service = BARE_SERVICE.format(start=start, end=end, target=target_wait_s())
    tuned_service = BARE_SERVICE_TUNED.format(start=start, end=end, target=target_wait_s())
    bare_demand = BARE_DEMAND.format(start=start, end=end, outlet=outlet)

    with duckdb.connect(str(db), read_only=True) as con:
        ours = service_summary(con, start=start, end=end, by="outlet")
        _check_same(ours, con.sql(bare_service).pl())
        _check_same(ours, con.sql(tuned_service).pl())

    cases = {
        "service_summary by outlet, whole period": (
            lambda c: service_summary(c, start=start, end=end, by="outlet"),
            lambda c: service_summary(c, start=start, end=end, by="outlet", use_marts=False),
            {"bare SQL": bare_service, "bare tuned": tuned_service},
            "service",
        ),
        f"demand_profile outlet {outlet}, whole period": (
            lambda c: demand_profile(c, start=start, end=end, outlets=outlet, channel="counter"),
            lambda c: demand_profile(
                c, start=start, end=end, outlets=outlet, channel="counter", use_marts=False
            ),
            {"bare SQL": bare_demand},
            "demand",
        ),
    }
    rows = []
    for name, (ours, no_marts, bares, which) in cases.items():
        ours_new, ours_warm = _timed(_Query(db, ours), args.repeat)
        base_new, base_warm = _timed(_Query(db, no_marts), max(1, args.repeat // 2))
        row: dict[str, Any] = {
            "query": name,
            "ours_cold_s": round(_cold(db, which, start, end, outlet), 3),
            "ours_new_conn_s": round(ours_new, 3),
            "ours_warm_s": round(ours_warm, 3),
            "no_marts_new_conn_s": round(base_new, 3),
            "no_marts_warm_s": round(base_warm, 3),
            "bare": {},
        }
        for label, sql in bares.items():
            new, warm = _timed(_Query(db, lambda c, q=sql: c.sql(q).fetchall()), args.repeat)
            cold = _cold(db, sql, start, end, outlet)
            row["bare"][label] = {
                "cold_s": round(cold, 3),
                "new_conn_s": round(new, 3),
                "warm_s": round(warm, 3),
                "ratio_cold": round(row["ours_cold_s"] / cold, 2),
                "ratio_warm": round(ours_warm / warm, 2),
            }
        rows.append(row)
    result = {
        "warehouse": str(db),
        "events": events,
        "period": [start, end],
        "marts_fresh": sorted(fresh),
        "threads": duckdb.connect().sql("SELECT current_setting('threads')").fetchall()[0][0],
        "queries": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"kpi-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))

    print(f"{events:,} events, {start} .. {end}, marts fresh: {sorted(fresh) or 'none'}")
    print(f"{'query':42} {'':>10} {'cold':>7} {'new-con':>8} {'warm':>7}")
    for r in rows:
        print(
            f"{r['query']:42} {'ours':>10} {r['ours_cold_s']:7.3f} {r['ours_new_conn_s']:8.3f}"
            f" {r['ours_warm_s']:7.3f}"
        )
        print(f"{'':42} {'no marts':>10} {'':7} {r['no_marts_new_conn_s']:8.3f}"
              f" {r['no_marts_warm_s']:7.3f}")  # fmt: skip
        for label, b in r["bare"].items():
            print(
                f"{'':42} {label:>10} {b['cold_s']:7.3f} {b['new_conn_s']:8.3f}"
                f" {b['warm_s']:7.3f}   ours/bare: cold {b['ratio_cold']:.2f}x,"
                f" warm {b['ratio_warm']:.2f}x"
            )
    print("target: ours <= 1.5x the bare query and under 1 s cold")
    print(f"-> {out.relative_to(ROOT)}")
    return result


if __name__ == "__main__":
    main()
