"""Write the synthetic county's monthly exports, as a real union would send them.

``generate_county`` is deterministic for a seed: each outlet-month draws from its own
random stream keyed by (seed, outlet, month), so the bytes do not depend on how many
worker processes share the work or in which order they finish.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from etl.kinds import export_kinds
from rccdash.synthetic import calendar as cal
from rccdash.synthetic.complaints import MonthActivity, complaints_for_month
from rccdash.synthetic.demand import counter_share
from rccdash.synthetic.events import NO_AMOUNT, DayEvents, plan_shifts, simulate_day
from rccdash.synthetic.organisation import County, build_county
from warehouse.settings import load_config

EPOCH = dt.date(1970, 1, 1)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
LONG_WAIT_S = 1800


@dataclass(frozen=True)
class GenerateOptions:
    """What to generate: county size, period, seed and demand scale."""

    out_dir: Path
    outlets: int = 24
    months: int = 12
    start: str = "2025-10"
    seed: int = 7
    volume: float = 1.0
    workers: int = 0  # 0 = one per core

    def period(self) -> tuple[dt.date, dt.date]:
        """First day and the day after the last day of the generated period."""
        firsts = cal.month_starts(self.start, self.months + 1)
        return firsts[0], firsts[-1]


@dataclass(frozen=True)
class GenerateResult:
    """Files written and row counts, for the CLI summary."""

    files: dict[str, int]  # file name -> data rows
    county: County


# Worker state, set once per process so tasks do not re-pickle the county.
_STATE: dict[str, Any] = {}


def _init_worker(
    county: County, cfg: dict[str, Any], seed: int, holidays: cal.HolidayCalendar
) -> None:
    """Give a worker process the county, configuration and seed."""
    _STATE.update(county=county, cfg=cfg, seed=seed, holidays=holidays)


def _epoch(day: dt.date) -> int:
    """Seconds from 1970-01-01 to midnight of ``day`` (timestamps are naive local time)."""
    return (day - EPOCH).days * 86_400


def simulate_outlet_month(
    task: tuple[int, dt.date],
) -> tuple[pl.DataFrame, pl.DataFrame, list[dict[str, object]]]:
    """Transactions, roster segments and complaints of one outlet for one month."""
    outlet_idx, month_first = task
    county: County = _STATE["county"]
    cfg: dict[str, Any] = _STATE["cfg"]
    holidays: cal.HolidayCalendar = _STATE["holidays"]
    outlet = county.outlets[outlet_idx]
    month_key = month_first.year * 12 + month_first.month
    rng = np.random.default_rng([_STATE["seed"], 2, outlet_idx, month_key])
    tellers = county.staff_at(outlet.code, month_first, "teller")
    lobby = county.staff_at(outlet.code, month_first, "lobby_manager")
    txn_parts: list[pl.DataFrame] = []
    roster_rows: list[tuple[dt.date, str, int | None, int, int]] = []
    counter_events = 0
    long_waits: list[tuple[int, str]] = []
    worked: set[str] = set()
    for day in cal.days_of_month(month_first):
        if not (county.start <= day < county.end) or day < outlet.opened_on:
            continue
        if not cal.is_open(day, outlet.open_weekdays, holidays):
            continue
        factor = cal.day_factor(day, market_offset=outlet.market_offset, calendar=holidays, cfg=cfg)
        expected = outlet.volume * factor * float(rng.lognormal(0.0, float(cfg["day_noise_cv"])))
        n_events = int(rng.poisson(expected))
        share = counter_share(outlet.devices_on(day), cfg)
        shifts = plan_shifts(outlet, tellers, n_events * share, cfg, rng)
        festival = cal.in_spring_festival_run_up(day, cfg)
        events = simulate_day(
            outlet, day, n_events, shifts, county.tellers, cfg, festival=festival, rng=rng
        )
        midnight = _epoch(day)
        txn_parts.append(_transactions_frame(outlet.code, day, events, midnight))
        for s in shifts:
            roster_rows.append(
                (day, s.staff_id, s.window_no, midnight + s.start, midnight + s.lunch_start)
            )
            roster_rows.append(
                (day, s.staff_id, s.window_no, midnight + s.lunch_end, midnight + s.end)
            )
            worked.add(s.staff_id)
        for staff_id in lobby:
            roster_rows.append(
                (
                    day,
                    staff_id,
                    None,
                    midnight + outlet.hours[0] - 900,
                    midnight + outlet.hours[1] + 900,
                )
            )
        counter = (events.channel == "counter") & (events.status != "reversed")
        counter_events += int(counter.sum())
        waited = counter & (events.started >= 0) & (events.started - events.ticket > LONG_WAIT_S)
        long_waits += [
            (midnight + int(events.ticket[i]), str(events.staff_id[i]))
            for i in np.flatnonzero(waited)
        ]
    activity = MonthActivity(
        outlet.code,
        month_first,
        counter_events,
        long_waits,
        sorted(worked),
        sorted(s for s in worked if county.tellers[s].complaint_prone),
    )
    data_end = dt.datetime.combine(county.end, dt.time())
    c_rng = np.random.default_rng([_STATE["seed"], 3, outlet_idx, month_key])
    complaints = complaints_for_month(activity, cfg, data_end, c_rng) if counter_events else []
    transactions = pl.concat(txn_parts) if txn_parts else pl.DataFrame()
    return transactions, _roster_frame(outlet.code, roster_rows), complaints


def _transactions_frame(
    outlet_code: str, day: dt.date, ev: DayEvents, midnight: int
) -> pl.DataFrame:
    """One outlet-day's events as export rows, numbered in arrival order."""
    order = np.argsort(ev.arrival, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    prefix = f"{outlet_code}{day:%Y%m%d}"
    ids = np.array([f"{prefix}{r + 1:05d}" for r in rank], dtype=object)
    reversal_of = np.where(ev.reversal_of >= 0, ids[np.maximum(ev.reversal_of, 0)], None)
    raw = pl.DataFrame(
        {
            "txn_id": ids.tolist(),
            "outlet_code": [outlet_code] * len(ids),
            "channel": ev.channel.tolist(),
            "business_type": ev.business_type.tolist(),
            "staff_id": np.where(ev.staff_id == "", None, ev.staff_id).tolist(),
            "window_no": ev.window_no,
            "amount": ev.amount,
            "customer_segment": ev.segment.tolist(),
            "ticket_at": ev.ticket,
            "called_at": ev.called,
            "started_at": ev.started,
            "completed_at": ev.completed,
            "status": ev.status.tolist(),
            "satisfaction": ev.satisfaction,
            "reversal_of": reversal_of.tolist(),
        },
        schema_overrides={"txn_id": pl.String, "staff_id": pl.String, "reversal_of": pl.String},
        strict=False,
    )
    stamps = [
        pl.when(pl.col(c) >= 0)
        .then((pl.col(c) + midnight) * 1_000_000)
        .cast(pl.Datetime("us"))
        .alias(c)
        for c in ("ticket_at", "called_at", "started_at", "completed_at")
    ]
    return raw.with_columns(
        *stamps,
        pl.when(pl.col("window_no") > 0).then(pl.col("window_no")).alias("window_no"),
        pl.when(pl.col("amount") != NO_AMOUNT).then(pl.col("amount").round(2)).alias("amount"),
        pl.when(pl.col("satisfaction") > 0).then(pl.col("satisfaction")).alias("satisfaction"),
    ).sort(pl.Series(rank))


def _roster_frame(
    outlet_code: str, rows: list[tuple[dt.date, str, int | None, int, int]]
) -> pl.DataFrame:
    """Roster segments as export rows."""
    return pl.DataFrame(
        {
            "work_date": [r[0] for r in rows],
            "staff_id": [r[1] for r in rows],
            "outlet_code": [outlet_code] * len(rows),
            "window_no": [r[2] for r in rows],
            "shift_start": pl.Series([r[3] * 1_000_000 for r in rows], dtype=pl.Int64).cast(
                pl.Datetime("us")
            ),
            "shift_end": pl.Series([r[4] * 1_000_000 for r in rows], dtype=pl.Int64).cast(
                pl.Datetime("us")
            ),
        },
        schema={
            "work_date": pl.Date,
            "staff_id": pl.String,
            "outlet_code": pl.String,
            "window_no": pl.Int64,
            "shift_start": pl.Datetime("us"),
            "shift_end": pl.Datetime("us"),
        },
    )


def _reference_frames(
    county: County, cfg: dict[str, Any], holidays: cal.HolidayCalendar, years: list[int]
) -> dict[str, pl.DataFrame]:
    """The reference exports: outlets, staff master, business types, holidays, targets."""
    outlets = pl.DataFrame(
        [
            {
                "outlet_code": o.code,
                "outlet_name": o.name,
                "township": o.township,
                "outlet_type": o.outlet_type,
                "counter_windows": o.windows,
                "self_service_devices": o.devices,
                "opened_on": o.opened_on,
                "latitude": o.latitude,
                "longitude": o.longitude,
            }
            for o in county.outlets
        ]
    )
    staff = pl.DataFrame(
        [
            {
                "staff_id": a.staff_id,
                "name": a.name,
                "outlet_code": a.outlet_code,
                "position": a.position,
                "hire_date": a.hire_date,
                "effective_from": a.effective_from,
                "status": a.status,
            }
            for a in sorted(county.assignments, key=lambda a: (a.staff_id, a.effective_from))
        ]
    )
    business_types = pl.DataFrame(
        [
            {
                "business_type": code,
                "name_en": v[0],
                "name_zh": v[1],
                "standard_handling_s": v[2],
                "cash_flow_sign": v[3],
            }
            for code, v in cfg["business_types"].items()
        ]
    )
    targets = pl.DataFrame(
        [
            {"year": year, "kpi": kpi, "outlet_code": None, "target": float(value)}
            for year in years
            for kpi, value in cfg["kpi_targets"].items()
        ],
        schema={"year": pl.Int64, "kpi": pl.String, "outlet_code": pl.String, "target": pl.Float64},
    )
    return {
        "outlets.csv": outlets,
        "staff.csv": staff,
        "business_types.csv": business_types,
        "holidays.csv": pl.DataFrame(holidays.rows()),
        "kpi_targets.csv": targets,
    }


def _write(frame: pl.DataFrame, path: Path) -> int:
    """Write one export as UTF-8 CSV with second-precision timestamps; return its rows."""
    frame.write_csv(path, datetime_format=TIME_FORMAT, date_format="%Y-%m-%d")
    return frame.height


def generate_county(
    options: GenerateOptions,
    progress: Callable[[int, int], None] | None = None,
    config: dict[str, Any] | None = None,
) -> GenerateResult:
    """Generate every export of the synthetic county into ``options.out_dir``.

    ``progress(done, total)`` is called after each outlet-month, for a progress bar.
    ``config`` replaces ``config/synthetic_county.yaml`` (tests use it to move the story).
    """
    cfg = config if config is not None else load_config("synthetic_county")
    start, end = options.period()
    holidays = cal.HolidayCalendar.from_config(cfg)
    county = build_county(
        cfg,
        n_outlets=options.outlets,
        start=start,
        end=end,
        volume=options.volume,
        seed=options.seed,
    )
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, int] = {}
    years = sorted({start.year, (end - dt.timedelta(days=1)).year})
    for name, frame in _reference_frames(county, cfg, holidays, years).items():
        files[name] = _write(frame, out / name)

    months = cal.month_starts(options.start, options.months)
    tasks = [(o.index, m) for m in months for o in county.outlets]
    workers = options.workers or os.cpu_count() or 1
    complaints: list[dict[str, object]] = []
    columns = list(export_kinds()["transactions"].types)  # the canonical export layout
    done = 0
    # "spawn": forking a process that has used polars' thread pool can deadlock.
    context = multiprocessing.get_context("spawn")
    initargs = (county, cfg, options.seed, holidays)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=initargs
    ) as pool:
        if workers == 1:
            _init_worker(*initargs)
            results = map(simulate_outlet_month, tasks)
        else:
            results = pool.map(simulate_outlet_month, tasks, chunksize=1)
        for month in months:
            txns, rosters = [], []
            for _ in county.outlets:
                t, r, c = next(results)
                txns.append(t)
                rosters.append(r)
                complaints += c
                done += 1
                if progress:
                    progress(done, len(tasks))
            label = f"{month:%Y-%m}"
            files[f"transactions_{label}.csv"] = _write(
                pl.concat([t for t in txns if t.height]).select(columns),
                out / f"transactions_{label}.csv",
            )
            files[f"roster_{label}.csv"] = _write(pl.concat(rosters), out / f"roster_{label}.csv")
    complaint_frame = pl.DataFrame(complaints, infer_schema_length=None).sort(
        "received_at", "complaint_id"
    )
    files["complaints.csv"] = _write(complaint_frame, out / "complaints.csv")
    return GenerateResult(files, county)
