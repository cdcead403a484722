"""Months, quarters and clock times: the one place they are parsed, formatted and bounded.

The star system assesses by month and pays by quarter, the dashboard picks a month or a
quarter, the trends look back a number of months, and the exports give times of day.
Every period is half-open, [first day, first day of the next period), as every KPI query
takes it.

>>> Month.parse("2026-03").bounds()
(datetime.date(2026, 3, 1), datetime.date(2026, 4, 1))
>>> str(Month.parse("2026-01").previous())
'2025-12'
>>> str(Month.parse("2026-03").quarter())
'2026Q1'
>>> [str(m) for m in Quarter.parse("2026q2").months()]
['2026-04', '2026-05', '2026-06']
>>> str(Quarter.parse("2026Q1").previous()), str(Quarter.parse("2026Q1").same_last_year())
('2025Q4', '2025Q1')
>>> trend_start(dt.date(2026, 3, 31), 12)
datetime.date(2025, 4, 1)
>>> clock_seconds("08:30")
30600
>>> previous_period("2025-11-01", "2025-12-01")
(datetime.date(2025, 10, 1), datetime.date(2025, 11, 1))
>>> same_period_last_year("2026-03-01", "2026-04-01")
(datetime.date(2025, 3, 1), datetime.date(2025, 4, 1))
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})[Qq]([1-4])")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, ``YYYY-MM``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``YYYY-MM``; ValueError naming the text for anything else."""
        match = _MONTH.fullmatch(text.strip()) if isinstance(text, str) else None
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"month must be YYYY-MM, got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Month:
        """The month holding ``day``."""
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> dt.date:
        """Its first day."""
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        """The first day of the next month (the period is half-open)."""
        return self.shift(1).first

    def bounds(self) -> tuple[dt.date, dt.date]:
        """(first day, first day of the next month)."""
        return self.first, self.end

    def shift(self, months: int) -> Month:
        """The month ``months`` later (earlier when negative)."""
        year, index = divmod(self.year * 12 + self.month - 1 + months, 12)
        return Month(year, index + 1)

    def previous(self) -> Month:
        """The month before."""
        return self.shift(-1)

    def same_last_year(self) -> Month:
        """The same month a year earlier."""
        return self.shift(-12)

    def quarter(self) -> Quarter:
        """The quarter holding it."""
        return Quarter(self.year, (self.month - 1) // 3 + 1)


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, ``YYYYQn``."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """``YYYYQn`` (``q`` too); ValueError naming the text for anything else."""
        match = _QUARTER.fullmatch(text.strip()) if isinstance(text, str) else None
        if not match:
            raise ValueError(f"quarter must look like 2026Q1, got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        """The quarter holding ``day``."""
        return Month.of(day).quarter()

    def __str__(self) -> str:
        return f"{self.year:04d}Q{self.number}"

    def months(self) -> list[Month]:
        """Its three months, in order."""
        first = Month(self.year, 3 * self.number - 2)
        return [first.shift(i) for i in range(3)]

    @property
    def first(self) -> dt.date:
        """Its first day."""
        return self.months()[0].first

    @property
    def end(self) -> dt.date:
        """The first day of the next quarter (the period is half-open)."""
        return self.months()[-1].end

    def bounds(self) -> tuple[dt.date, dt.date]:
        """(first day, first day of the next quarter)."""
        return self.first, self.end

    def previous(self) -> Quarter:
        """The quarter before."""
        return self.months()[0].previous().quarter()

    def same_last_year(self) -> Quarter:
        """The same quarter a year earlier."""
        return Quarter(self.year - 1, self.number)


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First day of ``YYYY-MM`` and of the month after; ValueError for anything else."""
    return Month.parse(month).bounds()


def previous_month(month: str) -> str:
    """``YYYY-MM`` of the month before."""
    return str(Month.parse(month).previous())


def quarter_of(month: str) -> str:
    """``YYYYQn`` of a ``YYYY-MM`` month."""
    return str(Month.parse(month).quarter())


def quarter_months(quarter: str) -> list[str]:
    """The three ``YYYY-MM`` months of ``YYYYQn``; ValueError for anything else."""
    return [str(m) for m in Quarter.parse(quarter).months()]


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """First day of ``YYYYQn`` and of the quarter after; ValueError for anything else."""
    return Quarter.parse(quarter).bounds()


def months_between(first: dt.date, last: dt.date) -> list[str]:
    """Every month from the one holding ``first`` to the one holding ``last``, as YYYY-MM."""
    out, month, stop = [], Month.of(first), Month.of(last)
    while month <= stop:
        out.append(str(month))
        month = month.shift(1)
    return out


def quarters_between(first: dt.date, last: dt.date) -> list[str]:
    """Every quarter touched by [first, last], as YYYYQn."""
    return list(dict.fromkeys(str(Month.parse(m).quarter()) for m in months_between(first, last)))


def trend_start(last_day: dt.date, months: int) -> dt.date:
    """First day of a trend of ``months`` months ending with the month holding ``last_day``."""
    return Month.of(last_day).shift(-(months - 1)).first


def clock_seconds(text: str) -> int:
    """Seconds after midnight of a clock time ``HH:MM`` (configuration's opening hours)."""
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def to_date(value: dt.date | dt.datetime | str, name: str) -> dt.date:
    """Accept a date, a datetime (its date) or an ISO string, so callers need not convert."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{name} must be an ISO date (YYYY-MM-DD), got {value!r}") from None
    raise TypeError(f"{name} must be a date or an ISO date string, got {value!r}")


# -- comparison periods: "better than last month?" and "better than a year ago?" -----------


def _add_months(day: dt.date, months: int) -> dt.date:
    """Move a day by ``months`` (negative: back), clamped to the month's last day."""
    year, index = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, index + 1)[1]
    return dt.date(year, index + 1, min(day.day, last))


def _whole_months(start: dt.date, end: dt.date) -> int | None:
    """Count the months of [start, end) if it is whole calendar months, else None."""
    if start.day != 1 or end.day != 1:
        return None
    return (end.year - start.year) * 12 + end.month - start.month


def previous_period(start: dt.date | str, end: dt.date | str) -> tuple[dt.date, dt.date]:
    """Return the period of equal length just before [start, end).

    Whole calendar months compare with the same number of months before (November with
    October, a quarter with the quarter before), although their day counts differ; any
    other period compares with the same number of days before it. Defined once so that the
    arrows on every screen answer the same question.
    """
    first, last = to_date(start, "start"), to_date(end, "end")
    months = _whole_months(first, last)
    if months:
        return _add_months(first, -months), first
    return first - (last - first), first


def same_period_last_year(start: dt.date | str, end: dt.date | str) -> tuple[dt.date, dt.date]:
    """[start, end) moved back one calendar year (29 February becomes 28 February)."""
    first, last = to_date(start, "start"), to_date(end, "end")
    return _add_months(first, -12), _add_months(last, -12)
