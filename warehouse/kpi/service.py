"""Service KPIs: customer flow, waiting, handling, accuracy, satisfaction and productivity.

All of brief section 4 that comes from service events and the roster is computed here in
one grouped query, so the numbers on one dashboard row always describe the same customers.

Waiting, handling, abandonment and satisfaction are KPIs of assisted service: customers on
a channel where a person serves a queue (the counter, the telephone queue answered by
agents; config/kpi.yaml ``channels``). Grouped by channel, each assisted channel gets its
own; ungrouped, they cover every assisted channel together. Productivity stays the
counter's: the roster records counter windows, not telephone agents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import ibis
import ibis.expr.types as ir
import polars as pl

from warehouse.kpi.channels import is_assisted, is_self_service
from warehouse.kpi.filters import (
    EVENT_ONLY_KEYS,
    GROUPINGS,
    KEY_COLUMNS,
    Filters,
    aggregate,
    apply,
    check_by,
    key_exprs,
    make_filters,
    ratio,
)
from warehouse.kpi.grid import complete_outlets, sort_by_keys
from warehouse.kpi.source import Connection, Source
from warehouse.settings import load_config

SERVICE_GROUPINGS = GROUPINGS
# Additive measures this summary reads (see warehouse.kpi.relations), summed over every
# channel ...
SUMMED_ALL = (
    "arrivals",
    "counter_arrivals",
    "served",
    "counter_served",
    "abandoned",
    "errors",
    "busy_s",
)
# ... and over the assisted channels only (their sums are named assisted_<measure>).
SUMMED_ASSISTED = (
    "arrivals",
    "served",
    "abandoned",
    "waits",
    "wait_s",
    "services",
    "service_s",
    "service_std_s",
    "standard_s",
    "rated",
    "satisfied",
)
SUMMED = (
    *SUMMED_ALL,
    *(f"assisted_{m}" for m in SUMMED_ASSISTED),
    "self_service_arrivals",
)
SERVICE_COUNTS = (
    "arrivals",
    "counter_arrivals",
    "assisted_arrivals",
    "self_service_arrivals",
    "served",
    "counter_served",
    "assisted_served",
    "abandoned",
    "errors",
)


def target_wait_s() -> int:
    """Return the service-level wait target [s] (settings.yaml service.target_wait_s)."""
    return int(load_config("settings")["service"]["target_wait_s"])


def needs_staff(keys: Sequence[str], f: Filters) -> bool:
    """Tell whether a query must read events (cells have no staff or position)."""
    return "staff" in keys or f.position is not None


def _sums(rel: ir.Table, keys: Sequence[ir.Value]) -> ir.Table:
    """Additive measures per group, summed from events or cells (same totals).

    The assisted and self-service sums pick rows by channel as they sum, so the channel
    sets of config/kpi.yaml apply to events and to cells (whose key includes the channel)
    alike.
    """
    assisted, self_service = is_assisted(rel.channel), is_self_service(rel.channel)
    sums = {m: rel[m].sum() for m in SUMMED_ALL}
    for m in SUMMED_ASSISTED:
        sums[f"assisted_{m}"] = ibis.ifelse(assisted, rel[m], ibis.null(rel[m].type())).sum()
    sums["self_service_arrivals"] = ibis.ifelse(self_service, rel.arrivals, 0).sum()
    return aggregate(rel, keys, **sums)


def _percentiles(ev: ir.Table, keys: Sequence[ir.Value]) -> ir.Table:
    """Exact percentiles and the service level per group, from the events themselves.

    Over assisted channels only: a group with no assisted event is missing here and gets
    nulls from the left join, as it would from percentiles of no values.
    """
    ev = ev.filter(is_assisted(ev.channel))
    return aggregate(
        ev,
        keys,
        # One multi-quantile call sorts the waits once for both percentiles. Exact
        # (QUANTILE_CONT, linear interpolation between order statistics).
        _wait_q=ev.wait_s.quantile([0.5, 0.9]),
        service_p90_s=ev.service_s.quantile(0.9),
        # A cast sum, not COUNT(*) FILTER: DuckDB runs FILTER next to a quantile far slower.
        _within=(ev.wait_s <= target_wait_s()).cast("int64").sum(),
    )


def _staffed_time(src: Source, f: Filters, keys: Sequence[str]) -> ir.Table:
    """Counter staffed seconds per group (channel and business type do not split it)."""
    ro = apply(src.roster(), f, ignore=EVENT_ONLY_KEYS)
    ro = ro.filter(ro.is_counter)
    rkeys = [k for k in keys if k not in EVENT_ONLY_KEYS]
    return aggregate(ro, key_exprs(ro, rkeys), _staffed_s=ro.staffed_s.sum())


def join_on_keys(left: ir.Table, right: ir.Table, names: Sequence[str], how: str) -> ir.Table:
    """Join two grouped tables on their key columns (NULL keys match), keeping one copy.

    A staff_id NULL group (self-service) must meet its counterpart, hence
    IS NOT DISTINCT FROM rather than equality.
    """
    if not names:
        return left.cross_join(right)
    r = right.rename({f"_r_{n}": n for n in names})
    j = left.join(r, [left[n].identical_to(r[f"_r_{n}"]) for n in names], how=how)
    if how == "outer":
        j = j.mutate(**{n: ibis.coalesce(j[n], j[f"_r_{n}"]) for n in names})
    return j.drop(*[f"_r_{n}" for n in names])


def service_expr(src: Source, f: Filters, keys: Sequence[str]) -> ir.Table:
    """Build the service_summary query as one ibis expression (for reuse and inspection).

    Three grouped parts joined on the keys: additive sums (from cells when staff is not
    involved), exact percentiles (always from events) and counter staffed time (roster).
    Staffed time joins with a full outer join on roster-compatible keys, so groups that
    were staffed but had no customers stay; with channel or business type in the grouping
    each such group gets its cell's whole staffed time, so the productivity of the
    business types of an outlet adds up to the outlet's.
    """
    names = [KEY_COLUMNS[k] for k in keys]
    rel = apply(src.measures(per_staff=needs_staff(keys, f)), f)
    ev = apply(src.events(), f)
    m = join_on_keys(
        _sums(rel, key_exprs(rel, keys)), _percentiles(ev, key_exprs(ev, keys)), names, "left"
    )
    rnames = [KEY_COLUMNS[k] for k in keys if k not in EVENT_ONLY_KEYS]
    how = "outer" if len(rnames) == len(names) else "left"
    j = join_on_keys(m, _staffed_time(src, f, keys), rnames, how)
    c = {name: j[name].fill_null(0) for name in SUMMED}
    staffed = j._staffed_s.fill_null(0)
    return j.select(
        *names,
        arrivals=c["arrivals"],
        counter_arrivals=c["counter_arrivals"],
        assisted_arrivals=c["assisted_arrivals"],
        self_service_arrivals=c["self_service_arrivals"],
        served=c["served"],
        counter_served=c["counter_served"],
        assisted_served=c["assisted_served"],
        abandoned=c["abandoned"],
        abandonment_rate=ratio(c["assisted_abandoned"], c["assisted_arrivals"]),
        wait_mean_s=ratio(c["assisted_wait_s"], c["assisted_waits"]),
        wait_p50_s=j._wait_q[0].cast("float64"),
        wait_p90_s=j._wait_q[1].cast("float64"),
        service_level=ratio(j._within, c["assisted_waits"]),
        service_mean_s=ratio(c["assisted_service_s"], c["assisted_services"]),
        service_p90_s=j.service_p90_s.cast("float64"),
        service_vs_standard=ratio(c["assisted_service_std_s"], c["assisted_standard_s"]),
        errors=c["errors"],
        errors_per_1000=ratio(c["errors"] * 1000, c["served"]),
        satisfaction_rate=ratio(c["assisted_satisfied"], c["assisted_rated"]),
        rating_coverage=ratio(c["assisted_rated"], c["assisted_served"]),
        self_service_share=ratio(c["self_service_arrivals"], c["arrivals"]),
        counter_staff_hours=(staffed / 3600.0).cast("float64"),
        served_per_staff_hour=ratio(c["counter_served"] * 3600, staffed),
        utilisation=ratio(c["busy_s"], staffed),
    )


def service_summary(
    con: Connection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    by: str | Sequence[str] = (),
    use_marts: bool | None = None,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """Service KPIs per group: flow, wait, handling, accuracy, satisfaction, productivity.

    The one place these KPIs are computed, so the headline, the outlet ranking and the
    drill-down agree to the customer. Definitions (docs/kpi.md): an arrival is any row but
    a reversal row; served = completed or error and not later reversed; abandoned = left
    the queue. Wait, handling, satisfaction and abandonment are about assisted service
    (config/kpi.yaml ``channels.assisted``: counter and phone by default): the statistics
    are over served customers of the assisted channels, exact percentiles from the
    events, and the abandonment rate is abandoned / arrivals on them, because only they
    queue. Grouped by channel, each assisted channel gets its own figures (self-service
    channels get nulls); ungrouped, all assisted channels together. Errors = error rows
    plus reversed originals, per 1,000 served; the self-service share counts arrivals on
    the self-service channels; productivity divides counter service by counter
    staff-hours from the roster (it records windows, not telephone agents).

    Args:
        con: DuckDB connection (read-only is fine) or ibis backend.
        start: First day (inclusive).
        end: Day after the last day (exclusive).
        by: Grouping keys among outlet, staff, day, week, month, quarter, hour, weekday,
            channel, business_type ("outlet" alone is accepted too).
        use_marts: None = marts when fresh, False = base tables, True = marts or raise.
        **filters: outlets, township, outlet_type, channel, business_type, position
            (one value or a list).

    Returns:
        One row per group (one row when ``by`` is empty) with the key columns
        (outlet_code, staff_id, day, week, month, quarter, hour, weekday, channel,
        business_type) followed by: arrivals, counter_arrivals, assisted_arrivals,
        self_service_arrivals, served, counter_served, assisted_served, abandoned,
        abandonment_rate, wait_mean_s, wait_p50_s, wait_p90_s, service_level,
        service_mean_s, service_p90_s, service_vs_standard, errors, errors_per_1000,
        satisfaction_rate, rating_coverage, self_service_share, counter_staff_hours,
        served_per_staff_hour, utilisation. Rates are null when their denominator is 0.

    Example:
        >>> service_summary(con, start="2025-10-01", end="2025-11-01", by="outlet",
        ...                 township="城关")

    """
    src = Source.of(con, use_marts)
    f = make_filters(start, end, **filters)
    keys = check_by(by, SERVICE_GROUPINGS)
    df = src.run(service_expr(src, f, keys))
    df = complete_outlets(df, src, f, keys, (*SERVICE_COUNTS, "counter_staff_hours"))
    return sort_by_keys(df, keys)
