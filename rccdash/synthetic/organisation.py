"""The county's outlets and people: who works where, how fast and how carefully.

Everything is drawn from one seeded generator in a fixed order, so the same seed gives
the same county. The story's roles (outlets that get machines mid-year, understaffed
outlets, complaint-prone tellers) are chosen here and kept on the objects, so that the
tests can check the story is visible in the data.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rccdash.synthetic.demand import counter_share, tellers_for_peak
from warehouse.periods import clock_seconds

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚"
    "桂英华玉萍红娥玲芬燕辉鹏斌宇浩凯健俊帆欣怡梅琴云莉"
)


@dataclass
class Teller:
    """Personal traits the simulation needs for a counter employee."""

    staff_id: str
    speed: float  # multiplies handling time: <1 is faster than standard
    error_rate: float  # chance a transaction ends in error
    courtesy: float  # shifts satisfaction ratings, about -0.6..+0.3
    complaint_prone: bool = False


@dataclass
class Outlet:
    """One outlet with the parameters that drive its demand and staffing."""

    index: int
    code: str
    name: str
    township: str
    outlet_type: str
    windows: int
    devices: int
    volume: float  # mean events per open day before calendar effects
    hours: tuple[int, int]  # opening and closing, seconds after midnight
    open_weekdays: list[int]
    market_offset: int | None  # township market day offset, None in the county town
    latitude: float
    longitude: float
    opened_on: dt.date
    devices_from: dt.date | None = None  # when self-service devices start working
    understaffed: bool = False
    staffing_share: float = 1.0

    def devices_on(self, day: dt.date) -> int:
        """Self-service devices working at the outlet on ``day``."""
        if self.devices_from is None or day >= self.devices_from:
            return self.devices
        return 0


@dataclass
class Assignment:
    """One row of the staff master: a person at an outlet from a date."""

    staff_id: str
    name: str
    outlet_code: str
    position: str
    hire_date: dt.date
    effective_from: dt.date
    status: str = "active"


@dataclass
class County:
    """Outlets, assignments and tellers' traits of the synthetic county."""

    outlets: list[Outlet]
    assignments: list[Assignment]
    tellers: dict[str, Teller]
    start: dt.date
    end: dt.date  # exclusive
    extra: dict[str, Any] = field(default_factory=dict)

    def staff_at(self, outlet_code: str, day: dt.date, position: str) -> list[str]:
        """Staff ids holding ``position`` at ``outlet_code`` on ``day``."""
        current: dict[str, Assignment] = {}
        for a in self.assignments:
            if a.effective_from <= day and (
                a.staff_id not in current or current[a.staff_id].effective_from < a.effective_from
            ):
                current[a.staff_id] = a
        return sorted(
            sid
            for sid, a in current.items()
            if a.outlet_code == outlet_code and a.position == position
        )


def _type_counts(n_outlets: int, types: dict[str, Any]) -> list[str]:
    """Outlet types in creation order, honouring fixed counts and shares."""
    fixed = {k: int(v["count"]) for k, v in types.items() if "count" in v}
    rest = n_outlets - sum(fixed.values())
    if rest < 0:
        raise ValueError(f"--outlets must be at least {sum(fixed.values())}")
    shares = {k: float(v["share"]) for k, v in types.items() if "share" in v}
    counts = {k: round(rest * s) for k, s in shares.items()}
    largest = max(shares, key=shares.__getitem__)
    counts[largest] += rest - sum(counts.values())
    counts.update(fixed)
    return [k for k in types for _ in range(counts[k])]


def _name(rng: np.random.Generator) -> str:
    """A plausible Chinese name: surname plus one or two given characters."""
    size = 1 + int(rng.random() < 0.7)
    given = "".join(GIVEN[int(i)] for i in rng.integers(0, len(GIVEN), size))
    return SURNAMES[int(rng.integers(0, len(SURNAMES)))] + given


def build_county(
    cfg: dict[str, Any], *, n_outlets: int, start: dt.date, end: dt.date, volume: float, seed: int
) -> County:
    """Create outlets, staff and story roles for a county of ``n_outlets``."""
    rng = np.random.default_rng([seed, 1])
    types = cfg["outlet_types"]
    townships: list[str] = cfg["townships"]
    prefix = cfg["county"]["code_prefix"]
    width = 2 if n_outlets < 100 else 3
    lat0, lon0 = cfg["county"]["centre"]
    outlets: list[Outlet] = []
    rural_index = 0
    type_seen: dict[str, int] = {}
    for i, kind in enumerate(_type_counts(n_outlets, types)):
        spec = types[kind]
        type_seen[kind] = type_seen.get(kind, 0) + 1
        if kind in ("county_department", "sub_branch"):
            township, market = townships[0], None
            name = "县联社营业部" if kind == "county_department" else f"城关第{type_seen[kind]}分社"
        else:
            t = 1 + rural_index % (len(townships) - 1)
            rural_index += 1
            township, market = townships[t], t % 5
            lap = (rural_index - 1) // (len(townships) - 1)
            suffix = "" if lap == 0 else str(lap + 1)
            name = (
                f"{township}{suffix}信用社"
                if kind == "township_branch"
                else f"{township}{suffix}便民服务点"
            )
        lo, hi = spec["windows"]
        windows = max(1, round(int(rng.integers(lo, hi + 1)) * volume))
        outlets.append(
            Outlet(
                index=i,
                code=f"{prefix}{i + 1:0{width}d}",
                name=name,
                township=township,
                outlet_type=kind,
                windows=windows,
                devices=int(spec["devices"]),
                volume=float(spec["volume"]) * volume * float(rng.lognormal(0.0, 0.2)),
                hours=(clock_seconds(spec["hours"][0]), clock_seconds(spec["hours"][1])),
                open_weekdays=list(spec["open_weekdays"]),
                market_offset=market,
                latitude=round(lat0 + float(rng.uniform(-0.25, 0.25)), 5),
                longitude=round(lon0 + float(rng.uniform(-0.3, 0.3)), 5),
                opened_on=dt.date(1985, 1, 1) + dt.timedelta(days=int(rng.integers(0, 30 * 365))),
            )
        )
    for outlet in outlets:  # an outlet is built with the windows its ordinary peak needs
        outlet.windows = max(
            outlet.windows,
            tellers_for_peak(outlet.volume * counter_share(outlet.devices, cfg), cfg),
        )
    _assign_story_roles(outlets, cfg, start)
    assignments, tellers = _build_staff(outlets, cfg, rng, start, end)
    return County(outlets, assignments, tellers, start, end)


def _assign_story_roles(outlets: list[Outlet], cfg: dict[str, Any], start: dt.date) -> None:
    """Pick the outlets that get machines mid-year and the understaffed ones."""
    branches = sorted(
        (o for o in outlets if o.outlet_type == "township_branch"), key=lambda o: -o.volume
    )
    devices = cfg["channels"]["mid_year_devices"]
    month = int(devices["month"])
    arrival = dt.date(
        start.year + (start.month - 1 + month) // 12, (start.month - 1 + month) % 12 + 1, 1
    )
    n_devices = max(1, round(len(branches) * float(devices["share"])))
    for outlet in branches[:n_devices]:
        outlet.devices, outlet.devices_from = int(devices["devices"]), arrival
    under = cfg["staffing"]["understaffed"]
    n_under = max(1, round(len(branches) * float(under["share"])))
    for outlet in branches[n_devices : n_devices + n_under]:
        outlet.understaffed, outlet.staffing_share = True, float(under["staffing_share"])


def _build_staff(
    outlets: list[Outlet],
    cfg: dict[str, Any],
    rng: np.random.Generator,
    start: dt.date,
    end: dt.date,
) -> tuple[list[Assignment], dict[str, Teller]]:
    """Staff master rows (with transfers) and tellers' traits."""
    staffing = cfg["staffing"]
    others = staffing["other_staff"]
    assignments: list[Assignment] = []
    tellers: dict[str, Teller] = {}
    next_id = 101
    lo_err, hi_err = staffing["error_rate"]
    for outlet in outlets:
        positions = ["outlet_head"]
        if outlet.outlet_type != "service_point":
            positions += ["lobby_manager"] * int(others["lobby_manager"])
            positions += ["account_manager"] * int(
                rng.integers(others["account_manager"][0], others["account_manager"][1] + 1)
            )
            positions += ["credit_officer"] * int(
                rng.integers(others["credit_officer"][0], others["credit_officer"][1] + 1)
            )
        if outlet.understaffed:
            n_tellers = max(
                1,
                math.ceil(
                    tellers_for_peak(outlet.volume * counter_share(outlet.devices, cfg), cfg)
                    * outlet.staffing_share
                ),
            )
        else:
            n_tellers = outlet.windows + int(staffing["spare_tellers"])
        positions += ["teller"] * n_tellers
        for position in positions:
            staff_id = f"{next_id:06d}"
            next_id += 1
            hire = dt.date(1990, 1, 1) + dt.timedelta(days=int(rng.integers(0, 34 * 365)))
            hire = min(hire, start - dt.timedelta(days=30))
            assignments.append(Assignment(staff_id, _name(rng), outlet.code, position, hire, hire))
            if position == "teller":
                tellers[staff_id] = Teller(
                    staff_id,
                    speed=float(rng.lognormal(0.0, float(staffing["speed_sigma"]))),
                    error_rate=float(rng.uniform(lo_err, hi_err)),
                    courtesy=float(rng.uniform(-0.3, 0.3)),
                )
    _mark_complaint_prone(outlets, assignments, tellers, cfg, rng)
    assignments += _transfers(outlets, assignments, cfg, rng, start, end)
    return assignments, tellers


def _mark_complaint_prone(
    outlets: list[Outlet],
    assignments: list[Assignment],
    tellers: dict[str, Teller],
    cfg: dict[str, Any],
    rng: np.random.Generator,
) -> None:
    """Choose the few tellers who will draw repeated substantiated complaints."""
    stable = {o.code for o in outlets if not o.understaffed}
    candidates = sorted(
        a.staff_id for a in assignments if a.position == "teller" and a.outlet_code in stable
    )
    for staff_id in rng.choice(
        candidates, size=int(cfg["complaints"]["prone_staff"]), replace=False
    ):
        teller = tellers[str(staff_id)]
        teller.complaint_prone, teller.courtesy = True, -0.8


def _transfers(
    outlets: list[Outlet],
    assignments: list[Assignment],
    cfg: dict[str, Any],
    rng: np.random.Generator,
    start: dt.date,
    end: dt.date,
) -> list[Assignment]:
    """Move a few tellers and account managers to another outlet on a month's first day."""
    movable_outlets = sorted(o.code for o in outlets if not o.understaffed)
    movable = [
        a
        for a in assignments
        if a.position in ("teller", "account_manager") and a.outlet_code in movable_outlets
    ]
    n_moves = round(len(assignments) * float(cfg["staffing"]["transfer_share"]))
    firsts = []
    day = dt.date(start.year, start.month, 1)
    while day < end:
        if day > start:
            firsts.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    if not firsts or not movable:
        return []
    moves = []
    for idx in rng.choice(len(movable), size=min(n_moves, len(movable)), replace=False):
        a = movable[int(idx)]
        target = str(rng.choice([c for c in movable_outlets if c != a.outlet_code]))
        when = firsts[int(rng.integers(0, len(firsts)))]
        moves.append(Assignment(a.staff_id, a.name, target, a.position, a.hire_date, when))
    return moves
