"""The comparison periods: the previous equal period and the same period last year.

"Better than last month?" and "better than a year ago?" are the two questions every
headline answers; defining the periods once keeps the arrows on every screen consistent.
"""

from __future__ import annotations

import calendar
import datetime as dt

from warehouse.kpi.filters import to_date


def _add_months(day: dt.date, months: int) -> dt.date:
    """Move a day by ``months`` (negative: back), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _whole_months(start: dt.date, end: dt.date) -> int | None:
    """Count the months of [start, end) if it is whole calendar months, else None."""
    if start.day != 1 or end.day != 1:
        return None
    return (end.year - start.year) * 12 + end.month - start.month


def previous_period(start: dt.date | str, end: dt.date | str) -> tuple[dt.date, dt.date]:
    """Return the period of equal length just before [start, end).

    Whole calendar months compare with the same number of months before (November with
    October, a quarter with the quarter before), although their day counts differ; any
    other period compares with the same number of days before it.

    Example:
        >>> previous_period("2025-11-01", "2025-12-01")
        (datetime.date(2025, 10, 1), datetime.date(2025, 11, 1))

    """
    first, last = to_date(start, "start"), to_date(end, "end")
    months = _whole_months(first, last)
    if months:
        return _add_months(first, -months), first
    return first - (last - first), first


def same_period_last_year(start: dt.date | str, end: dt.date | str) -> tuple[dt.date, dt.date]:
    """[start, end) moved back one calendar year (29 February becomes 28 February).

    Example:
        >>> same_period_last_year("2026-03-01", "2026-04-01")
        (datetime.date(2025, 3, 1), datetime.date(2025, 4, 1))

    """
    first, last = to_date(start, "start"), to_date(end, "end")
    return _add_months(first, -12), _add_months(last, -12)
