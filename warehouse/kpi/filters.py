"""The filters and groupings every KPI function accepts, applied the same way everywhere.

A dashboard passes one set of filters to every panel; applying them in one place keeps a
"township = 城关, position = teller" selection meaning the same thing for waits, staffed
hours and complaints alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import ibis.expr.types as ir

from warehouse.periods import to_date

if TYPE_CHECKING:
    from warehouse.kpi.source import Source

# by-name -> output column name
KEY_COLUMNS: dict[str, str] = {
    "outlet": "outlet_code",
    "staff": "staff_id",
    "day": "day",
    "week": "week",
    "month": "month",
    "quarter": "quarter",
    "hour": "hour",
    "weekday": "weekday",
    "channel": "channel",
    "business_type": "business_type",
}
GROUPINGS: tuple[str, ...] = tuple(KEY_COLUMNS)
# Groupings that name a stretch of the calendar (their values move with the period).
CALENDAR_KEYS: frozenset[str] = frozenset({"day", "week", "month", "quarter"})
# Groupings that only exist on service events (the roster and complaints have no channel
# or business type).
EVENT_ONLY_KEYS: frozenset[str] = frozenset({"channel", "business_type"})

# filter name -> relation column it restricts
FILTER_COLUMNS: dict[str, str] = {
    "outlets": "outlet_code",
    "township": "township",
    "outlet_type": "outlet_type",
    "channel": "channel",
    "business_type": "business_type",
    "position": "position",
}


def codes(value: str | Iterable[str] | None, name: str) -> tuple[str, ...] | None:
    """Normalise a filter value: one code or a list of codes; None means no filter.

    The one normaliser of filter values, for the KPI layer and every reader beside it.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    values = tuple(value)
    if not all(isinstance(v, str) for v in values):
        raise TypeError(f"{name} must be a string or a list of strings, got {value!r}")
    return values


@dataclass(frozen=True)
class Filters:
    """A period [start, end) and optional restrictions on outlet, channel, staff position.

    Each restriction is a tuple of accepted values; None means "all". ``position`` is the
    position in the staff assignment valid on the day of the event (or shift, or
    complaint), so a teller promoted mid-month counts as a teller only before the change.
    """

    start: dt.date
    end: dt.date
    outlets: tuple[str, ...] | None = None
    township: tuple[str, ...] | None = None
    outlet_type: tuple[str, ...] | None = None
    channel: tuple[str, ...] | None = None
    business_type: tuple[str, ...] | None = None
    position: tuple[str, ...] | None = None

    def restrictions(self) -> dict[str, tuple[str, ...]]:
        """Return the restrictions in force, by filter name."""
        out = {}
        for f in fields(self):
            if f.name in FILTER_COLUMNS and getattr(self, f.name) is not None:
                out[f.name] = getattr(self, f.name)
        return out

    def outlet_scope(self) -> dict[str, tuple[str, ...] | None]:
        """The outlet-scope filters alone (outlets, township, outlet type)."""
        return {name: getattr(self, name) for name in OUTLET_FILTERS}

    def with_period(self, start: dt.date, end: dt.date) -> Filters:
        """Apply the same restrictions to another period (previous period, last year)."""
        return Filters(start, end, **self.restrictions())


# The filters that restrict which outlets are in view (the rest restrict rows).
OUTLET_FILTERS = ("outlets", "township", "outlet_type")


def make_filters(
    start: dt.date | str, end: dt.date | str, **filters: str | Iterable[str] | None
) -> Filters:
    """Validate and normalise the keyword filters every KPI function accepts.

    Unknown names are an error rather than silently ignored: a misspelt ``townsip=`` would
    otherwise return county-wide numbers labelled as one township's.
    """
    unknown = set(filters) - set(FILTER_COLUMNS)
    if unknown:
        raise TypeError(f"unknown filter(s) {sorted(unknown)}; accepted: {sorted(FILTER_COLUMNS)}")
    first, last = to_date(start, "start"), to_date(end, "end")
    if first >= last:
        raise ValueError(f"start ({first}) must be before end ({last}); end is exclusive")
    return Filters(first, last, **{k: codes(v, k) for k, v in filters.items()})


def check_by(by: str | Sequence[str], allowed: Iterable[str] = GROUPINGS) -> tuple[str, ...]:
    """Validate a grouping: known names, no repeats, and supported by the KPI family."""
    keys = (by,) if isinstance(by, str) else tuple(by)
    allowed_set = set(allowed)
    bad = [k for k in keys if k not in allowed_set]
    if bad:
        raise ValueError(f"cannot group by {bad}; this KPI accepts {sorted(allowed_set)}")
    if len(set(keys)) != len(keys):
        raise ValueError(f"grouping {keys} names a key twice")
    return keys


def apply(
    rel: ir.Table, f: Filters, *, ignore: Iterable[str] = (), reject: Iterable[str] = ()
) -> ir.Table:
    """Restrict a KPI relation to the period and the filters.

    ``ignore`` lists filters that do not apply to this relation (staffed time has no
    channel); ``reject`` lists filters that make no sense for it and raise instead.
    """
    skipped = set(ignore)
    refused = set(reject)
    preds = [rel.business_date >= f.start, rel.business_date < f.end]
    for name, values in f.restrictions().items():
        if name in refused:
            raise ValueError(f"filter {name!r} does not apply to this KPI")
        if name in skipped:
            continue
        column = rel[FILTER_COLUMNS[name]]
        preds.append(column == values[0] if len(values) == 1 else column.isin(values))
    return rel.filter(preds)


def key_exprs(
    rel: ir.Table, keys: Sequence[str], *, date: ir.DateValue | None = None
) -> list[ir.Value]:
    """Build the grouping expressions of ``keys`` on a KPI relation (KEY_COLUMNS names).

    ``date`` replaces business_date for the calendar keys (day, week, month, quarter):
    last year's rows are grouped by their date moved one year on, so they line up with this
    year's groups. Weeks start on Monday; week, month and quarter are labelled by the date
    of their first day.
    """
    day = rel.business_date if date is None else date
    out = []
    for key in keys:
        if key == "day":
            expr = day.cast("date")
        elif key == "week":
            expr = day.truncate("W").cast("date")
        elif key == "month":
            expr = day.truncate("M").cast("date")
        elif key == "quarter":
            expr = day.truncate("Q").cast("date")
        else:
            expr = rel[_RELATION_COLUMN.get(key, key)]
        out.append(expr.name(KEY_COLUMNS[key]))
    return out


# grouping key -> relation column, where they differ
_RELATION_COLUMN = {"outlet": "outlet_code", "staff": "staff_id"}


def aggregate(rel: ir.Table, keys: Sequence[ir.Value], **metrics: ir.Value) -> ir.Table:
    """Group by ``keys`` (or aggregate everything to one row when there are none)."""
    if keys:
        return rel.group_by(list(keys)).aggregate(**metrics)
    return rel.aggregate(**metrics)


def ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """Numerator / denominator as a float, NULL when the denominator is zero or NULL."""
    return numerator.cast("float64") / denominator.cast("float64").nullif(0.0)


def outlets_in_scope(
    src: Source,
    *,
    outlets: str | Iterable[str] | None = None,
    township: str | Iterable[str] | None = None,
    outlet_type: str | Iterable[str] | None = None,
) -> list[str]:
    """The outlet codes the outlet-scope filters keep, sorted: the one definition of it.

    The KPI relations carry each outlet's township and type and are filtered by
    :func:`apply`; readers of other tables (row lists, completeness, the stars) ask here
    which outlets are in view, so both always agree.
    """
    o = src.outlets()
    preds = []
    for name, values in (
        ("outlets", outlets),
        ("township", township),
        ("outlet_type", outlet_type),
    ):
        wanted = codes(values, name)
        if wanted is not None:
            preds.append(o[FILTER_COLUMNS[name]].isin(wanted))
    if preds:
        o = o.filter(preds)
    return sorted(src.run(o.select("outlet_code"))["outlet_code"].to_list())


def outlets_in_view(con: object, f: Filters) -> list[str] | None:
    """:func:`outlets_in_scope` of the filters' outlet scope; None when nothing restricts it.

    For SQL readers: ``($outlets IS NULL OR list_contains($outlets, outlet_code))``.
    """
    from warehouse.kpi.source import Source

    scope = f.outlet_scope()
    if all(values is None for values in scope.values()):
        return None
    return outlets_in_scope(Source.of(con, use_marts=False), **scope)
