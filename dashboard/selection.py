"""The global filter: a period and an outlet scope, read from and written to the URL.

Pure functions, no Streamlit: the filter bar renders them, every page reads the resulting
:class:`Selection`, and a bookmark is just the query string :func:`to_query` writes.

Query parameters: ``period`` = month | quarter | ytd | custom; ``month`` = YYYY-MM;
``quarter`` = YYYYQn; ``year`` = YYYY (year to date); ``from``/``to`` = inclusive ISO
days (custom); ``township``, ``type``, ``outlets`` = comma-separated lists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from warehouse.periods import month_bounds, months_between, quarter_bounds, quarters_between
from warehouse.settings import load_config

PRESETS = ("month", "quarter", "ytd", "custom")
_LISTS = {"township": "townships", "type": "outlet_types", "outlets": "outlets"}


@dataclass(frozen=True)
class Scope:
    """Which outlets are in view: empty tuples mean "all"."""

    townships: tuple[str, ...] = ()
    outlet_types: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Selection:
    """A period [start, end) named by a preset, and the outlets in view.

    ``end`` is exclusive, as every KPI function expects; ``last_day`` is for display.
    """

    preset: str
    key: str  # the month / quarter / year / "from..to" that names the period
    start: dt.date
    end: dt.date
    scope: Scope = field(default_factory=Scope)

    @property
    def last_day(self) -> dt.date:
        """The last day included, for captions."""
        return self.end - dt.timedelta(days=1)

    def grain(self) -> str:
        """The time step of over-time charts: day, week or month, by the period's length.

        One point per day reads well up to about two months, one per ISO week up to about
        half a year (``over_time`` in config/dashboard.yaml); longer periods go by month.
        """
        cfg = load_config("dashboard")["over_time"]
        days = (self.end - self.start).days
        if days <= int(cfg["day_max_days"]):
            return "day"
        return "week" if days <= int(cfg["week_max_days"]) else "month"

    def kpi_filters(self) -> dict[str, tuple[str, ...]]:
        """The KPI layer's keyword filters for this scope (only those that restrict)."""
        out = {}
        if self.scope.townships:
            out["township"] = self.scope.townships
        if self.scope.outlet_types:
            out["outlet_type"] = self.scope.outlet_types
        if self.scope.outlets:
            out["outlets"] = self.scope.outlets
        return out


def default_month(first: dt.date, last: dt.date) -> str:
    """The latest complete month with data (the latest month if none is complete).

    A chairman opening the dashboard on the 3rd wants last month, not three days.
    """
    months = months_between(first, last)
    complete = last + dt.timedelta(days=1) == month_bounds(months[-1])[1]
    return months[-1 if complete or len(months) == 1 else -2]


def _parse_day(text: str | None) -> dt.date | None:
    """An ISO day, or None when absent or malformed (a bad bookmark falls back to defaults)."""
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _split(text: str | None) -> tuple[str, ...]:
    """A comma-separated list from the URL, without blanks or repeats."""
    return tuple(dict.fromkeys(v.strip() for v in (text or "").split(",") if v.strip()))


def from_query(
    params: Mapping[str, str],
    first: dt.date,
    last: dt.date,
    known: Mapping[str, Sequence[str]] | None = None,
) -> Selection:
    """The selection a URL asks for, clamped to the data held ([first, last]).

    Anything unknown or malformed falls back to the default (the latest complete month,
    all outlets) instead of failing: bookmarks outlive the data they were made on.
    ``known`` lists the valid townships / types / outlets (keys as in the URL).
    """
    preset = params.get("period", "month")
    preset = preset if preset in PRESETS else "month"
    months = months_between(first, last)
    selection: Selection | None = None
    if preset == "quarter" and params.get("quarter") in quarters_between(first, last):
        key = params["quarter"]
        selection = Selection("quarter", key, *quarter_bounds(key))
    elif preset == "ytd":
        years = sorted({m[:4] for m in months})
        year = params.get("year") if params.get("year") in years else years[-1]
        ytd_end = min(last + dt.timedelta(days=1), dt.date(int(year) + 1, 1, 1))
        selection = Selection("ytd", year, dt.date(int(year), 1, 1), ytd_end)
    elif preset == "custom":
        start, stop = _parse_day(params.get("from")), _parse_day(params.get("to"))
        if start and stop and start <= stop:
            start, stop = max(start, first), min(stop, last)
            if start <= stop:
                selection = Selection(
                    "custom", f"{start}..{stop}", start, stop + dt.timedelta(days=1)
                )
    if selection is None:
        wanted = params.get("month")
        label = wanted if wanted in months else default_month(first, last)
        selection = Selection("month", label, *month_bounds(label))
    scope = {}
    for param, name in _LISTS.items():
        values = _split(params.get(param))
        allowed = None if known is None else set(known.get(param, ()))
        scope[name] = tuple(v for v in values if allowed is None or v in allowed)
    return Selection(
        selection.preset, selection.key, selection.start, selection.end, Scope(**scope)
    )


def to_query(selection: Selection) -> dict[str, str]:
    """The URL query parameters that reopen ``selection`` (see :func:`from_query`)."""
    out = {"period": selection.preset}
    if selection.preset == "month":
        out["month"] = selection.key
    elif selection.preset == "quarter":
        out["quarter"] = selection.key
    elif selection.preset == "ytd":
        out["year"] = selection.key
    else:
        out["from"], out["to"] = selection.start.isoformat(), selection.last_day.isoformat()
    for param, name in _LISTS.items():
        values = getattr(selection.scope, name)
        if values:
            out[param] = ",".join(values)
    return out
