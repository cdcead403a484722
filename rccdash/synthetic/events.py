"""Service events of one outlet-day: arrivals, the counter queue, self-service, reversals.

Counter customers queue first come, first served for the tellers on the roster; a
customer whose wait would exceed their patience walks out (abandoned). Machines take a
share of simple business where the outlet has them. Times are integer seconds after
midnight of the day; :mod:`rccdash.synthetic.export` turns them into timestamps.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from rccdash.synthetic.demand import tellers_for_peak
from rccdash.synthetic.organisation import Outlet, Teller
from warehouse.periods import clock_seconds

SELF_SERVICE_TYPES_ATM = ("withdrawal", "enquiry")
NO_AMOUNT = -1.0


@dataclass(frozen=True)
class Shift:
    """One teller's day at a window: working from ``start`` with a lunch break."""

    staff_id: str
    window_no: int
    start: int
    lunch_start: int
    lunch_end: int
    end: int


@dataclass
class DayEvents:
    """Column arrays of one outlet-day's events (one element per event)."""

    arrival: np.ndarray  # seconds after midnight
    ticket: np.ndarray  # -1 when not queued
    called: np.ndarray
    started: np.ndarray
    completed: np.ndarray
    channel: np.ndarray  # str
    business_type: np.ndarray  # str
    staff_id: np.ndarray  # str, "" when none
    window_no: np.ndarray  # int, 0 when none
    amount: np.ndarray  # float, NO_AMOUNT when none
    segment: np.ndarray  # str
    status: np.ndarray  # str
    satisfaction: np.ndarray  # int, 0 when not rated
    reversal_of: np.ndarray  # int index into the day's events, -1 when not a reversal


def plan_shifts(
    outlet: Outlet,
    tellers_available: list[str],
    counter_volume: float,
    cfg: dict[str, Any],
    rng: np.random.Generator,
) -> list[Shift]:
    """Decide which tellers work today and at which window.

    Enough tellers for the expected peak load at the target utilisation, capped by the
    windows and by who is on the books; the understaffed outlets roster only a share.
    """
    needed = max(tellers_for_peak(counter_volume, cfg), int(cfg["staffing"]["min_on_duty"]))
    if outlet.understaffed:
        needed = max(1, math.ceil(needed * outlet.staffing_share))
    n = min(needed, outlet.windows, len(tellers_available))
    chosen = sorted(rng.choice(tellers_available, size=n, replace=False).tolist()) if n else []
    lunches = [(clock_seconds(a), clock_seconds(b)) for a, b in cfg["staffing"]["lunch"]]
    open_s, close_s = outlet.hours
    shifts = []
    for window, staff_id in enumerate(chosen, start=1):
        lunch = lunches[(window - 1) % len(lunches)]
        shifts.append(Shift(staff_id, window, open_s - 900, lunch[0], lunch[1], close_s + 900))
    return shifts


def _arrival_times(
    n: int, start: int, weights: dict[str, float], close: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` sorted arrival times following the half-hourly profile between open and close."""
    slots = [
        (clock_seconds(k), float(w))
        for k, w in weights.items()
        if start <= clock_seconds(k) < close
    ]
    starts = np.array([s for s, _ in slots])
    probs = np.array([w for _, w in slots])
    slot = rng.choice(len(slots), size=n, p=probs / probs.sum())
    times = starts[slot] + rng.integers(0, 1800, size=n)
    return np.sort(np.minimum(times, close - 1))


def _business_types(
    n: int, cfg: dict[str, Any], festival: bool, rng: np.random.Generator
) -> np.ndarray:
    """Draw business types from the counter mix, shifted towards cash before the festival."""
    codes = list(cfg["business_types"])
    probs = np.array([cfg["business_types"][c][4] for c in codes], dtype=float)
    if festival:
        for code, lift in cfg["spring_festival_mix"].items():
            probs[codes.index(code)] *= float(lift)
    return np.array(codes, dtype=object)[rng.choice(len(codes), size=n, p=probs / probs.sum())]


def _amounts(types: np.ndarray, cfg: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    """Amounts in CNY by business type (log-normal around the configured median)."""
    out = np.full(len(types), NO_AMOUNT)
    for code, median in cfg["amount_median"].items():
        mask = types == code
        if mask.any():
            raw = rng.lognormal(math.log(float(median)), 0.9, size=int(mask.sum()))
            out[mask] = np.round(np.maximum(raw, 1.0), 2)
    return out


def simulate_day(
    outlet: Outlet,
    day: dt.date,
    n_events: int,
    shifts: list[Shift],
    tellers: dict[str, Teller],
    cfg: dict[str, Any],
    *,
    festival: bool,
    rng: np.random.Generator,
) -> DayEvents:
    """All events of ``outlet`` on ``day`` given the day's demand and roster."""
    open_s, close_s = outlet.hours
    types = _business_types(n_events, cfg, festival, rng)
    channel = np.full(n_events, "counter", dtype=object)
    devices = outlet.devices_on(day)
    if devices:
        for code, share in cfg["channels"]["self_service_share"].items():
            mask = (types == code) & (rng.random(n_events) < float(share))
            machine = "atm" if code in SELF_SERVICE_TYPES_ATM else "cash_recycler"
            channel[mask] = machine
    if outlet.outlet_type == "service_point":
        pos = (types == "withdrawal") & (
            rng.random(n_events) < float(cfg["channels"]["pos_share_at_service_points"])
        )
        channel[pos] = "pos"
    counter = channel == "counter"
    segments = np.array(list(cfg["customers"]["segments"]), dtype=object)
    seg_p = np.array(list(cfg["customers"]["segments"].values()), dtype=float)
    segment = segments[rng.choice(len(segments), size=n_events, p=seg_p / seg_p.sum())]
    segment[types == "account_opening"] = "new"

    n_counter = int(counter.sum())
    arrival = np.empty(n_events, dtype=np.int64)
    arrival[counter] = _arrival_times(n_counter, open_s, cfg["hourly_weights"], close_s, rng)
    ss_open, ss_close = (clock_seconds(t) for t in cfg["channels"]["self_service_hours"])
    n_machine = n_events - n_counter
    in_hours = _arrival_times(n_machine, open_s, cfg["hourly_weights"], close_s, rng)
    anytime = np.sort(rng.integers(ss_open, ss_close, size=n_machine))
    arrival[~counter] = np.where(rng.random(n_machine) < 0.6, in_hours, anytime)

    ticket = np.full(n_events, -1, dtype=np.int64)
    called = np.full(n_events, -1, dtype=np.int64)
    started = np.full(n_events, -1, dtype=np.int64)
    completed = np.full(n_events, -1, dtype=np.int64)
    staff = np.full(n_events, "", dtype=object)
    window = np.zeros(n_events, dtype=np.int64)
    status = np.full(n_events, "completed", dtype=object)

    # Machines: no queue, about a minute and a quarter each.
    machine_idx = np.flatnonzero(~counter)
    started[machine_idx] = arrival[machine_idx]
    dur = np.maximum(20, rng.normal(float(cfg["self_service_seconds"]), 20, size=len(machine_idx)))
    completed[machine_idx] = arrival[machine_idx] + dur.astype(np.int64)

    # Counter: first come, first served across the tellers on shift.
    standard = {k: float(v[2]) for k, v in cfg["business_types"].items()}
    counter_idx = np.flatnonzero(counter)
    counter_idx = counter_idx[np.argsort(arrival[counter_idx], kind="stable")]
    base = np.array([standard[t] for t in types[counter_idx]]) * rng.lognormal(
        -0.1, 0.45, size=len(counter_idx)
    )
    base[segment[counter_idx] == "new"] *= 1.3
    patience = float(cfg["customers"]["patience_min_s"]) + rng.exponential(
        float(cfg["customers"]["patience_mean_s"]), size=len(counter_idx)
    )
    walk = rng.integers(10, 45, size=len(counter_idx))
    _serve_queue(
        counter_idx,
        arrival,
        base,
        patience,
        walk,
        shifts,
        tellers,
        ticket,
        called,
        started,
        completed,
        staff,
        window,
        status,
    )

    served = counter & (status == "completed")
    error_p = np.array([tellers[s].error_rate if s else 0.0 for s in staff])
    status[served & (rng.random(n_events) < error_p)] = "error"
    status[~counter & (rng.random(n_events) < 0.002)] = "error"

    satisfaction = _ratings(counter, status, ticket, started, staff, tellers, cfg, rng)
    amounts = _amounts(types, cfg, rng)
    machine_cash = (~counter) & (amounts > 0)
    amounts[machine_cash] = np.minimum(np.round(amounts[machine_cash], -2), 20000.0).clip(100.0)
    events = DayEvents(
        arrival,
        ticket,
        called,
        started,
        completed,
        channel,
        types,
        staff,
        window,
        amounts,
        segment,
        status,
        satisfaction,
        np.full(n_events, -1, dtype=np.int64),
    )
    return _with_reversals(events, counter, cfg, rng)


def _serve_queue(
    order: np.ndarray,
    arrival: np.ndarray,
    base: np.ndarray,
    patience: np.ndarray,
    walk: np.ndarray,
    shifts: list[Shift],
    tellers: dict[str, Teller],
    ticket: np.ndarray,
    called: np.ndarray,
    started: np.ndarray,
    completed: np.ndarray,
    staff: np.ndarray,
    window: np.ndarray,
    status: np.ndarray,
) -> None:
    """Run the first-come-first-served multi-window queue, filling the event arrays in place.

    A teller is free for the next customer when the previous one is done, is not at lunch,
    and has started the shift. Customers who took a ticket before closing are still served.
    """
    free = [s.start for s in shifts]
    speed = [tellers[s.staff_id].speed for s in shifts]
    lunch = [(s.lunch_start, s.lunch_end) for s in shifts]
    arrivals = arrival[order].tolist()
    for k, (i, arr) in enumerate(zip(order.tolist(), arrivals, strict=True)):
        ticket[i] = arr
        if not shifts:
            status[i] = "abandoned"
            continue
        best_j, best_t = 0, math.inf
        for j, f in enumerate(free):
            t = arr if arr > f else f
            l0, l1 = lunch[j]
            if l0 <= t < l1:
                t = l1
            if t < best_t:
                best_j, best_t = j, t
        if best_t - arr > patience[k]:
            status[i] = "abandoned"
            continue
        duration = int(base[k] * speed[best_j]) + 20
        called[i] = int(best_t)
        started[i] = int(best_t) + int(walk[k])
        completed[i] = started[i] + duration
        free[best_j] = completed[i] + 5
        staff[i] = shifts[best_j].staff_id
        window[i] = shifts[best_j].window_no


def _ratings(
    counter: np.ndarray,
    status: np.ndarray,
    ticket: np.ndarray,
    started: np.ndarray,
    staff: np.ndarray,
    tellers: dict[str, Teller],
    cfg: dict[str, Any],
    rng: np.random.Generator,
) -> np.ndarray:
    """Evaluator presses (1-5) for about half of served counter customers; 0 = not rated.

    Long waits, errors and a discourteous teller pull the rating down.
    """
    n = len(status)
    served = counter & (status != "abandoned")
    rated = served & (rng.random(n) < float(cfg["customers"]["rating_coverage"]))
    wait_min = np.where(served, (started - ticket) / 60.0, 0.0)
    courtesy = np.array([tellers[s].courtesy if s else 0.0 for s in staff])
    latent = (
        4.55
        + courtesy
        - 0.05 * np.maximum(wait_min - 10.0, 0.0)
        - 1.5 * (status == "error")
        + rng.normal(0.0, 0.55, size=n)
    )
    scores = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    return np.where(rated, scores, 0)


def _with_reversals(
    events: DayEvents, counter: np.ndarray, cfg: dict[str, Any], rng: np.random.Generator
) -> DayEvents:
    """Append reversal (冲正) rows for a few completed counter transactions with an amount."""
    eligible = np.flatnonzero(counter & (events.status == "completed") & (events.amount > 0))
    chosen = eligible[rng.random(len(eligible)) < float(cfg["staffing"]["reversal_rate"])]
    if len(chosen) == 0:
        return events
    n = len(chosen)
    start = events.completed[chosen] + rng.integers(30, 600, size=n)
    extra = {
        "arrival": start,
        "ticket": np.full(n, -1, dtype=np.int64),
        "called": np.full(n, -1, dtype=np.int64),
        "started": start,
        "completed": start + rng.integers(40, 120, size=n),
        "channel": events.channel[chosen],
        "business_type": events.business_type[chosen],
        "staff_id": events.staff_id[chosen],
        "window_no": events.window_no[chosen],
        "amount": events.amount[chosen],
        "segment": events.segment[chosen],
        "status": np.full(n, "reversed", dtype=object),
        "satisfaction": np.zeros(n, dtype=np.int64),
        "reversal_of": chosen.astype(np.int64),
    }
    return DayEvents(
        **{
            name: np.concatenate([getattr(events, name), extra[name]])
            for name in DayEvents.__dataclass_fields__
        }
    )
