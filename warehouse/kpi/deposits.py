"""Net deposits per group and their growth against the same period last year.

Deposit growth is part of the outlet's monthly score; the figure must net out reversed
transactions exactly like the service counts do, which is why it is summed from the same
event relation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import ibis
import ibis.expr.types as ir
import polars as pl

from warehouse.kpi.filters import (
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
from warehouse.kpi.periods import same_period_last_year
from warehouse.kpi.service import join_on_keys, needs_staff
from warehouse.kpi.source import Connection, Source

DEPOSIT_GROUPINGS = GROUPINGS


def _net(src: Source, f: Filters, keys: Sequence[str], *, shift_years: int) -> ir.Table:
    """Deposits and withdrawals per group; calendar keys moved on by ``shift_years``."""
    rel = apply(src.measures(per_staff=needs_staff(keys, f)), f)
    day = rel.business_date + ibis.interval(years=shift_years) if shift_years else None
    return aggregate(
        rel,
        key_exprs(rel, keys, date=day),
        deposits=rel.deposits.sum(),
        withdrawals=rel.withdrawals.sum(),
    )


def deposit_expr(src: Source, f: Filters, keys: Sequence[str]) -> ir.Table:
    """Build the deposit_summary query as one ibis expression."""
    ly_start, ly_end = same_period_last_year(f.start, f.end)
    cur = _net(src, f, keys, shift_years=0)
    ly = _net(src, f.with_period(ly_start, ly_end), keys, shift_years=1)
    ly = ly.select(
        *[KEY_COLUMNS[k] for k in keys],
        _ly_net=ly.deposits.fill_null(0) - ly.withdrawals.fill_null(0),
    )
    names = [KEY_COLUMNS[k] for k in keys]
    j = join_on_keys(cur, ly, names, "left")
    deposits = j.deposits.fill_null(0)
    withdrawals = j.withdrawals.fill_null(0)
    net = deposits - withdrawals
    return j.select(
        *names,
        deposits=deposits.cast("float64"),
        withdrawals=withdrawals.cast("float64"),
        net_deposits=net.cast("float64"),
        net_deposits_last_year=j._ly_net.cast("float64"),
        net_deposit_growth=ratio(net - j._ly_net, j._ly_net.abs()),
    )


def deposit_summary(
    con: Connection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    by: str | Sequence[str] = ("outlet", "month"),
    use_marts: bool | None = None,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """Net deposits (deposits - withdrawals) per group, and growth vs last year.

    Deposits and withdrawals are the amounts of served transactions whose business type
    has cash_flow_sign +1 / -1 (dim_business_type), on every channel; a reversed
    transaction and its reversal row are both left out, so a reversal nets the amount to
    zero. ``net_deposits_last_year`` is the same figure over [start, end) moved back one
    year, with each calendar key (day, week, month, quarter) matched to this year's by
    moving last year's dates on by one year (29 February lands on 28 February).
    ``net_deposit_growth`` = (net - last year) / |last year|, null when last year had no
    flow or netted to 0.

    Returns the key columns, then deposits, withdrawals, net_deposits,
    net_deposits_last_year, net_deposit_growth (CNY as float64, growth as a fraction).

    Example:
        >>> deposit_summary(con, start="2026-01-01", end="2026-04-01", by=("outlet", "month"))

    """
    src = Source.of(con, use_marts)
    f = make_filters(start, end, **filters)
    keys = check_by(by, DEPOSIT_GROUPINGS)
    df = src.run(deposit_expr(src, f, keys))
    df = complete_outlets(df, src, f, keys, ("deposits", "withdrawals", "net_deposits"))
    return sort_by_keys(df, keys)
