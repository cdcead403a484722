"""Erlang C (M/M/N) queueing model for sizing an assisted-service queue.

Customers are assumed to arrive as a Poisson stream at ``arrivals_per_hour`` and to be
served in an exponentially distributed time with mean ``mean_service_s`` seconds by
``servers`` identical servers, waiting in a single first-come-first-served queue with
no abandonment. A server is a counter window at an outlet, or an agent answering the
telephone queue: the model is the same, only the word differs. All quantities are
computed from the Erlang B recurrence, which stays numerically stable for hundreds of
servers (no factorials, no large powers).
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Iterable
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from warehouse.kpi.source import Connection

__all__ = [
    "erlang_b",
    "erlang_c_servers",
    "expected_wait_s",
    "offered_load",
    "prob_wait",
    "service_level",
    "staffing_plan",
]

_SECONDS_PER_HOUR = 3600.0


# --------------------------------------------------------------------------- validation


def _check_arrivals(arrivals_per_hour: float) -> float:
    value = float(arrivals_per_hour)
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(
            f"arrivals_per_hour must be a finite number >= 0, got {arrivals_per_hour!r}"
        )
    return value


def _check_service(mean_service_s: float) -> float:
    value = float(mean_service_s)
    if math.isnan(value) or math.isinf(value) or value <= 0:
        raise ValueError(f"mean_service_s must be a finite number > 0, got {mean_service_s!r}")
    return value


def _check_servers(servers: int, name: str = "servers") -> int:
    if isinstance(servers, bool):
        raise TypeError(f"{name} must be an integer, got {servers!r}")
    try:
        value = operator.index(servers)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {servers!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {servers!r}")
    return value


def _check_load(load: float) -> float:
    value = float(load)
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(f"load must be a finite number of erlangs >= 0, got {load!r}")
    return value


def _check_target_wait(target_wait_s: float) -> float:
    value = float(target_wait_s)
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(f"target_wait_s must be a finite number >= 0, got {target_wait_s!r}")
    return value


def _check_probability(value: float, name: str) -> float:
    prob = float(value)
    if math.isnan(prob) or not 0.0 < prob <= 1.0:
        raise ValueError(f"{name} must lie in (0, 1], got {value!r}")
    return prob


# --------------------------------------------------------------------------- core maths


def _erlang_c_from_b(servers: int, load: float, blocking: float) -> float:
    """Convert Erlang B to Erlang C for a stable system (servers > load > 0)."""
    denominator = servers - load * (1.0 - blocking)
    prob = servers * blocking / denominator
    return min(1.0, max(0.0, prob))


def _erlang_c(servers: int, load: float) -> float:
    """Erlang C for an already validated ``servers``/``load`` pair (load > 0)."""
    if servers <= load:
        return 1.0
    return _erlang_c_from_b(servers, load, erlang_b(servers, load))


def offered_load(arrivals_per_hour: float, mean_service_s: float) -> float:
    """Convert an hourly arrival rate and mean service time into offered load in erlangs.

    Every Erlang formula works in erlangs (the average number of windows that would be busy
    if nobody ever waited), so this is the single place where hours and seconds are reconciled.

    Args:
        arrivals_per_hour: Mean customer arrival rate λ (customers per hour), >= 0.
        mean_service_s: Mean service time E[S] in seconds, > 0.

    Returns:
        The offered load A = λ·E[S] in erlangs.
    """
    arrivals = _check_arrivals(arrivals_per_hour)
    service = _check_service(mean_service_s)
    return arrivals * service / _SECONDS_PER_HOUR


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of an M/M/N/N loss system (Erlang B).

    Erlang B is the numerically safe building block from which the Erlang C waiting
    probability is derived; the recurrence avoids the factorial overflow of the closed form.

    Args:
        servers: Number of servers N (>= 0).
        load: Offered load A in erlangs (>= 0).

    Returns:
        B(N, A), computed with B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)).
    """
    n_servers = _check_servers(servers)
    a = _check_load(load)
    blocking = 1.0
    for n in range(1, n_servers + 1):
        ab = a * blocking
        blocking = ab / (n + ab)
    return blocking


def prob_wait(servers: int, arrivals_per_hour: float, mean_service_s: float) -> float:
    """Probability that an arriving customer has to queue (Erlang C, P(W > 0)).

    This is the headline "how often does a customer find every window busy" figure used to
    judge whether an hour is adequately staffed.

    Args:
        servers: Number of open windows N (>= 0).
        arrivals_per_hour: Mean arrival rate λ (customers per hour, >= 0).
        mean_service_s: Mean service time E[S] in seconds (> 0).

    Returns:
        C(N, A) = N·B / (N − A·(1 − B)); 0.0 when there are no arrivals and 1.0 when the
        queue is unstable (N <= A).
    """
    n_servers = _check_servers(servers)
    load = offered_load(arrivals_per_hour, mean_service_s)
    if load == 0.0:
        return 0.0
    return _erlang_c(n_servers, load)


def expected_wait_s(servers: int, arrivals_per_hour: float, mean_service_s: float) -> float:
    """Mean time a customer spends queueing before reaching a window (average speed of answer).

    Average wait is the customer-facing number managers quote, and it grows without bound as
    the windows approach full utilisation, which this makes explicit.

    Args:
        servers: Number of open windows N (>= 0).
        arrivals_per_hour: Mean arrival rate λ (customers per hour, >= 0).
        mean_service_s: Mean service time E[S] in seconds (> 0).

    Returns:
        Wq = C·E[S] / (N − A) in seconds; ``math.inf`` when N <= A, 0.0 with no arrivals.
    """
    n_servers = _check_servers(servers)
    service = _check_service(mean_service_s)
    load = offered_load(arrivals_per_hour, service)
    if load == 0.0:
        return 0.0
    if n_servers <= load:
        return math.inf
    return _erlang_c(n_servers, load) * service / (n_servers - load)


def service_level(
    servers: int,
    arrivals_per_hour: float,
    mean_service_s: float,
    target_wait_s: float,
) -> float:
    """Fraction of customers who start service within ``target_wait_s`` seconds.

    Service-level targets such as "80 % served within 20 s" are how outlet staffing is
    specified, so this is the quantity the staffing search compares against.

    Args:
        servers: Number of open windows N (>= 0).
        arrivals_per_hour: Mean arrival rate λ (customers per hour, >= 0).
        mean_service_s: Mean service time E[S] in seconds (> 0).
        target_wait_s: Acceptable wait t in seconds (>= 0).

    Returns:
        P(W <= t) = 1 − C·exp(−(N − A)·t / E[S]); 0.0 when unstable, 1.0 with no arrivals.
    """
    n_servers = _check_servers(servers)
    service = _check_service(mean_service_s)
    wait = _check_target_wait(target_wait_s)
    load = offered_load(arrivals_per_hour, service)
    if load == 0.0:
        return 1.0
    if n_servers <= load:
        return 0.0
    prob = _erlang_c(n_servers, load)
    return _service_level_from_c(prob, n_servers, load, service, wait)


def _service_level_from_c(
    prob: float, servers: int, load: float, service: float, wait: float
) -> float:
    level = 1.0 - prob * math.exp(-(servers - load) * wait / service)
    return min(1.0, max(0.0, level))


def erlang_c_servers(
    arrivals_per_hour: float,
    mean_service_s: float,
    *,
    target_wait_s: float | None = None,
    service_level: float | None = None,
    max_wait_probability: float | None = None,
    max_servers: int = 1000,
) -> int:
    """Smallest number of windows that meets a waiting-time target for one hour's demand.

    This turns a forecast of hourly arrivals into the number of counter windows to open,
    which is the decision the staffing dashboard exists to support.

    Exactly one target must be given: either ``target_wait_s`` together with
    ``service_level`` ("at least ``service_level`` of customers wait at most
    ``target_wait_s`` seconds") or ``max_wait_probability`` ("P(wait > 0) is at most
    ``max_wait_probability``").

    Args:
        arrivals_per_hour: Mean arrival rate λ (customers per hour, >= 0).
        mean_service_s: Mean service time E[S] in seconds (> 0).
        target_wait_s: Acceptable wait t in seconds (>= 0); requires ``service_level``.
        service_level: Required fraction served within ``target_wait_s``, in (0, 1].
        max_wait_probability: Largest acceptable probability of waiting, in (0, 1].
        max_servers: Upper bound of the search (>= 1).

    Returns:
        The minimal N >= floor(A) + 1 meeting the target, or 0 when there are no arrivals.

    Raises:
        ValueError: On invalid inputs, an invalid combination of targets, or when no N up
            to ``max_servers`` meets the target.
    """
    arrivals = _check_arrivals(arrivals_per_hour)
    service = _check_service(mean_service_s)
    limit = _check_servers(max_servers, "max_servers")
    if limit < 1:
        raise ValueError(f"max_servers must be an integer >= 1, got {max_servers!r}")

    sl_mode = target_wait_s is not None or service_level is not None
    if sl_mode and max_wait_probability is not None:
        raise ValueError(
            "give either target_wait_s + service_level or max_wait_probability, not both"
        )
    if not sl_mode and max_wait_probability is None:
        raise ValueError(
            "a staffing target is required: target_wait_s + service_level, or max_wait_probability"
        )
    if sl_mode:
        if target_wait_s is None or service_level is None:
            raise ValueError("target_wait_s and service_level must be given together")
        wait = _check_target_wait(target_wait_s)
        level_target = _check_probability(service_level, "service_level")
    else:
        assert max_wait_probability is not None
        wait_target = _check_probability(max_wait_probability, "max_wait_probability")

    load = arrivals * service / _SECONDS_PER_HOUR
    if load == 0.0:
        return 0

    start = math.floor(load) + 1
    if start > limit:
        raise ValueError(
            f"offered load {load:.3f} erlangs needs at least {start} servers, "
            f"above max_servers={limit}"
        )

    # Carry the Erlang B recurrence forward instead of restarting it for every candidate N.
    blocking = erlang_b(start - 1, load)
    for n in range(start, limit + 1):
        ab = load * blocking
        blocking = ab / (n + ab)
        prob = _erlang_c_from_b(n, load, blocking)
        if sl_mode:
            met = _service_level_from_c(prob, n, load, service, wait) >= level_target
        else:
            met = prob <= wait_target
        if met:
            return n
    raise ValueError(
        f"no staffing up to max_servers={limit} meets the target (offered load {load:.3f} erlangs)"
    )


# --------------------------------------------------------------------------- staffing plan


def staffing_plan(
    con: Connection,
    outlet: str,
    *,
    start: dt.date | str,
    end: dt.date | str,
    channel: str = "counter",
    target_wait_s: float | None = None,
    service_level: float | None = None,
    use_marts: bool | None = None,
) -> pl.DataFrame:
    """Servers needed versus servers staffed, per weekday and hour, for one outlet's queue.

    Brief section 5, for any assisted channel (config/kpi.yaml ``channels.assisted``): the
    demand curve (the channel's arrivals per hour, averaged over the weeks of the period,
    abandoned customers included since they needed a server too) and the channel's mean
    handling time give, through Erlang C, the servers needed to serve ``service_level``
    of customers within ``target_wait_s``. On the counter a server is a window and the
    roster gives the windows actually open; an hour is "under" staffed when the windows
    open fall short of the need by more than ``staffing.under_tolerance``, "over" when
    they exceed it by more than ``staffing.over_tolerance`` (config/kpi.yaml), else "ok".
    On the telephone queue a server is an agent; the roster does not record agents (no
    window, no channel), so there is nothing staffed to compare with: windows_staffed,
    gap and status are null rather than a made-up zero. Erlang C ignores callers who hang
    up, so for a queue with abandonment the need errs on the side of more servers.

    Args:
        con: DuckDB connection or ibis backend.
        outlet: Outlet code.
        start: First day (inclusive).
        end: Day after the last day (exclusive).
        channel: The assisted channel whose queue is planned: ``counter`` (windows, the
            default) or ``phone`` (agents); a self-service channel is refused.
        target_wait_s: Acceptable wait; default ``service.target_wait_s`` (settings.yaml).
        service_level: Share to serve within it; default ``staffing.service_level``.
        use_marts: As for the KPI functions.

    Returns:
        168 rows (weekday 0 = Monday, hour 0-23) with arrivals_per_hour, mean_service_s
        (the slot's mean handling time on the channel, or the period's mean where the
        slot has none), offered_load (erlangs), windows_needed, windows_staffed (average
        open), gap (staffed - needed) and status (under / over / ok). The columns keep
        the counter's word: for the phone, windows_needed is agents needed, and
        windows_staffed, gap and status are null.

    Example:
        >>> staffing_plan(con, "03104", start="2025-10-01", end="2026-01-01")
        >>> staffing_plan(con, "CALLCTR", start="1999-02-01", end="1999-03-01",
        ...               channel="phone")

    """
    plan = staffing_plans(
        con,
        start=start,
        end=end,
        channel=channel,
        target_wait_s=target_wait_s,
        service_level=service_level,
        use_marts=use_marts,
        outlets=[outlet],
    )
    return plan.drop("outlet_code")


def staffing_plans(
    con: Connection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    channel: str = "counter",
    target_wait_s: float | None = None,
    service_level: float | None = None,
    use_marts: bool | None = None,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """:func:`staffing_plan` for every outlet the filters keep, in three queries in all.

    A county page compares staffing across outlets; planning them one by one costs three
    queries per outlet. Same columns as :func:`staffing_plan` after a leading
    outlet_code, 168 rows per outlet. ``channel`` as there; ``filters``: outlets,
    township, outlet_type.
    """
    # Imported here so the Erlang C functions above stay free of warehouse dependencies.
    from warehouse.kpi.channels import check_assisted
    from warehouse.kpi.demand import demand_profile, windows_staffed
    from warehouse.kpi.relations import COUNTER_CHANNEL
    from warehouse.kpi.service import service_summary
    from warehouse.kpi.service import target_wait_s as default_wait
    from warehouse.settings import load_config

    check_assisted(channel)
    cfg = load_config("kpi")["staffing"]
    wait = float(default_wait() if target_wait_s is None else target_wait_s)
    level = float(cfg["service_level"] if service_level is None else service_level)
    under, over = float(cfg["under_tolerance"]), float(cfg["over_tolerance"])
    scope = {"start": start, "end": end, "use_marts": use_marts, **filters}
    demand = demand_profile(con, channel=channel, by_outlet=True, **scope)
    means = service_summary(con, channel=channel, by="outlet", **scope)
    overall = dict(zip(means["outlet_code"], means["service_mean_s"], strict=True))

    rows = []
    for code, weekday, hour, arrivals, mean_s in demand.select(
        "outlet_code", "weekday", "hour", "arrivals_per_hour", "mean_service_s"
    ).iter_rows():
        lam = arrivals or 0.0
        service = mean_s if mean_s else (overall.get(code) if lam > 0 else None)
        if lam > 0 and service:
            load = offered_load(lam, service)
            needed = erlang_c_servers(lam, service, target_wait_s=wait, service_level=level)
        else:
            load, needed = 0.0, 0
        rows.append((code, weekday, hour, arrivals, service, load, needed))
    plan = pl.DataFrame(
        rows,
        schema={
            "outlet_code": pl.String,
            "weekday": pl.Int8,
            "hour": pl.Int8,
            "arrivals_per_hour": pl.Float64,
            "mean_service_s": pl.Float64,
            "offered_load": pl.Float64,
            "windows_needed": pl.Int64,
        },
        orient="row",
    )
    if channel != COUNTER_CHANNEL:  # the roster records windows only, not agents
        unknown = pl.lit(None, dtype=pl.Float64)
        return plan.with_columns(
            windows_staffed=unknown, gap=unknown, status=pl.lit(None, dtype=pl.String)
        ).sort("outlet_code", "weekday", "hour")
    staffed = windows_staffed(con, by_outlet=True, **scope).select(
        "outlet_code", "weekday", "hour", "windows_staffed"
    )
    plan = plan.join(staffed, on=["outlet_code", "weekday", "hour"], how="left")
    gap = pl.col("windows_staffed").fill_null(0.0) - pl.col("windows_needed")
    return plan.with_columns(
        windows_staffed=pl.col("windows_staffed").fill_null(0.0),
        gap=gap,
        status=pl.when(gap < -under)
        .then(pl.lit("under"))
        .when(gap > over)
        .then(pl.lit("over"))
        .otherwise(pl.lit("ok")),
    ).sort("outlet_code", "weekday", "hour")
