"""The calendar effects of the synthetic county: holidays, opening days, demand factors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HolidayCalendar:
    """Statutory days off and the weekend days declared working days (调休)."""

    days_off: dict[dt.date, str]
    make_up_workdays: dict[dt.date, str]

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> HolidayCalendar:
        """Expand the holiday ranges of ``config/synthetic_county.yaml``."""
        days_off: dict[dt.date, str] = {}
        for first, last, name in cfg["holidays"]:
            day = _as_date(first)
            while day <= _as_date(last):
                days_off[day] = name
                day += dt.timedelta(days=1)
        make_up = {_as_date(day): name for day, name in cfg["make_up_workdays"]}
        return cls(days_off, make_up)

    def rows(self) -> list[dict[str, object]]:
        """The holidays.csv export: one row per day off or make-up working day."""
        out: list[dict[str, object]] = [
            {"date": d.isoformat(), "name": n, "is_day_off": "true"}
            for d, n in self.days_off.items()
        ]
        out += [
            {"date": d.isoformat(), "name": n, "is_day_off": "false"}
            for d, n in self.make_up_workdays.items()
        ]
        return sorted(out, key=lambda r: str(r["date"]))


def _as_date(value: object) -> dt.date:
    """YAML gives dates as ``date`` objects or ISO strings; accept both."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def is_open(day: dt.date, open_weekdays: list[int], calendar: HolidayCalendar) -> bool:
    """Whether an outlet with these regular opening weekdays serves customers on ``day``."""
    if day in calendar.days_off:
        return False
    if day in calendar.make_up_workdays:
        return True
    return day.weekday() in open_weekdays


def is_market_day(day: dt.date, market_offset: int) -> bool:
    """Township markets are held every fifth day (逢五赶集): days whose number ≡ offset mod 5."""
    return day.day % 5 == market_offset


def spring_festival_factor(day: dt.date, cfg: dict[str, Any]) -> float:
    """Demand multiplier in the run-up to Spring Festival: migrant workers come home with cash."""
    sf = cfg["spring_festival"]
    run_up = int(sf["run_up_days"])
    for festival in sf["dates"]:
        days_before = (_as_date(festival) - day).days
        if 1 <= days_before <= run_up:
            progress = 1.0 - (days_before - 1) / run_up
            return 1.0 + (float(sf["peak_factor"]) - 1.0) * progress
    return 1.0


def in_spring_festival_run_up(day: dt.date, cfg: dict[str, Any]) -> bool:
    """True on the days :func:`spring_festival_factor` lifts."""
    return spring_festival_factor(day, cfg) > 1.0


def day_factor(
    day: dt.date, *, market_offset: int | None, calendar: HolidayCalendar, cfg: dict[str, Any]
) -> float:
    """Expected demand on ``day`` relative to an ordinary day at the same outlet."""
    weekday = 1.0 if day in calendar.make_up_workdays else cfg["weekday_factor"][day.weekday()]
    factor = float(weekday) * float(cfg["day_of_month_factor"].get(day.day, 1.0))
    if market_offset is not None and is_market_day(day, market_offset):
        factor *= float(cfg["market_day_factor"])
    return factor * spring_festival_factor(day, cfg)


def month_starts(start: str, months: int) -> list[dt.date]:
    """First days of ``months`` consecutive months from ``start`` ("YYYY-MM")."""
    year, month = (int(part) for part in start.split("-"))
    out = []
    for _ in range(months):
        out.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def days_of_month(first: dt.date) -> list[dt.date]:
    """Every day of the month beginning at ``first``."""
    nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return [first + dt.timedelta(days=i) for i in range((nxt - first).days)]
