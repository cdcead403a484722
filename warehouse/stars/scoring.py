"""Turn a month's indicator values into points, a 0-100 score and stars.

Pure functions over small tables (one row per outlet or per person), so the rules can be
tested by hand and explained on screen. The values come from the KPI layer; the model
from :mod:`warehouse.stars.model`.

Rules, beyond the model's numbers:
- a missing value (e.g. nobody rated the teller this month) earns half the indicator's
  points: no evidence is neither good nor bad news;
- ``peers`` ranks a value within its peer group (same position): the best gets the full
  weight, the worst none, ties share the middle;
- a staff member below ``min_hours`` is "not rated" (no score, no stars);
- a substantiated complaint of a vetoed severity caps the stars, not the score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from warehouse.stars.model import SEVERITIES, Indicator, StarModel, Subject


def _present(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def linear_share(indicator: Indicator, value: float | None, *, missing: float) -> float:
    """Share of the weight earned on a straight line from ``zero_at`` to ``full_at``.

    ``missing`` (the model's ``missing_share``) when there is no value.
    """
    if not _present(value):
        return missing
    assert indicator.zero_at is not None and indicator.full_at is not None
    share = (value - indicator.zero_at) / (indicator.full_at - indicator.zero_at)
    return min(1.0, max(0.0, share))


def peer_share(value: float | None, peers: list[float | None], *, missing: float) -> float:
    """Share earned by rank among peers (higher is better): best 1, worst 0, ties between.

    ``missing`` (the model's ``missing_share``) when there is no value.
    """
    if not _present(value):
        return missing
    others = [p for p in peers if _present(p)]
    if len(others) <= 1:
        return 1.0
    below = sum(p < value for p in others)
    ties = sum(p == value for p in others) - 1
    return (below + 0.5 * ties) / (len(others) - 1)


def deduction_share(indicator: Indicator, counts: dict[str, int]) -> float:
    """Share left after deducting points per substantiated complaint by severity."""
    assert indicator.deduct is not None
    lost = sum(indicator.deduct[s] * counts.get(s, 0) for s in SEVERITIES)
    return max(0.0, 1.0 - lost / indicator.weight)


@dataclass(frozen=True)
class Scored:
    """One subject's month: points per indicator, score, stars and why."""

    subject_id: str
    status: str  # rated | not_rated
    points: dict[str, float]
    shares: dict[str, float]
    values: dict[str, float | None]
    score: float | None
    stars: int | None
    capped_by: str | None  # the veto that capped the stars, if any


def score_subjects(frame: pl.DataFrame, model: StarModel, subject: str) -> list[Scored]:
    """Score every row of ``frame`` for ``subject`` ("staff" or "outlets").

    ``frame`` has ``subject_id``, one column per indicator KPI, ``complaints_<severity>``
    (substantiated complaints by severity), and for staff ``hours`` and ``peer_group``.
    """
    spec: Subject = model.subjects[subject]
    rows = frame.to_dicts()
    groups: dict[object, list[dict]] = {}
    for row in rows:
        groups.setdefault(row.get("peer_group"), []).append(row)
    out = []
    for row in rows:
        counts = {s: int(row.get(f"complaints_{s}") or 0) for s in SEVERITIES}
        if spec.min_hours is not None and (row.get("hours") or 0) < spec.min_hours:
            out.append(Scored(str(row["subject_id"]), "not_rated", {}, {}, {}, None, None, None))
            continue
        shares: dict[str, float] = {}
        values: dict[str, float | None] = {}
        for ind in spec.indicators:
            value = row.get(ind.kpi)
            values[ind.name] = value
            if ind.normalise == "linear":
                shares[ind.name] = linear_share(ind, value, missing=model.missing_share)
            elif ind.normalise == "peers":
                peers = [
                    r.get(ind.kpi)
                    for r in groups[row.get("peer_group")]
                    if spec.min_hours is None or (r.get("hours") or 0) >= spec.min_hours
                ]
                shares[ind.name] = peer_share(value, peers, missing=model.missing_share)
            else:
                values[ind.name] = float(sum(counts.values()))
                shares[ind.name] = deduction_share(ind, counts)
        points = {ind.name: ind.weight * shares[ind.name] for ind in spec.indicators}
        score = round(sum(points.values()), 6)
        stars = model.stars_for(score)
        capped_by = None
        for veto in spec.vetoes:
            hit = [s for s in veto.severities if counts[s] > 0]
            if hit and stars > veto.max_stars:
                stars, capped_by = veto.max_stars, f"substantiated {'/'.join(hit)} complaint"
        out.append(
            Scored(str(row["subject_id"]), "rated", points, shares, values, score, stars, capped_by)
        )
    return out


@dataclass(frozen=True)
class BreakdownLine:
    """One indicator's part of a score, and how much more it could give."""

    indicator: str
    kpi: str
    value: float | None
    share: float
    weight: float
    points: float
    headroom: float  # points still available on this indicator


def breakdown(scored: Scored, model: StarModel, subject: str) -> tuple[list[BreakdownLine], str]:
    """What earned each point, and a sentence on what would lift the next star."""
    spec = model.subjects[subject]
    if scored.status != "rated":
        return [], "not rated this month (too few hours on duty)"
    lines = [
        BreakdownLine(
            ind.name,
            ind.kpi,
            scored.values[ind.name],
            scored.shares[ind.name],
            ind.weight,
            scored.points[ind.name],
            ind.weight - scored.points[ind.name],
        )
        for ind in spec.indicators
    ]
    if scored.capped_by:
        return lines, f"capped at {scored.stars} stars by a {scored.capped_by}"
    nxt = model.next_band(scored.score or 0.0)
    if nxt is None:
        return lines, "top band reached"
    needed = nxt[0] - (scored.score or 0.0)
    best = sorted(lines, key=lambda line: -line.headroom)
    alone = [line.indicator for line in best if line.headroom >= needed]
    if alone:
        return lines, f"{needed:.1f} more points reach {nxt[1]} stars, e.g. from {alone[0]}"
    return lines, f"{needed:.1f} more points reach {nxt[1]} stars, from several indicators"
