"""The star model of ``config/star_model.yaml``, parsed and checked before anyone is scored.

A mistake in the model would put wrong stars on people's pay, so every problem is refused
with the key that holds it (``subjects.staff.indicators.speed.weight: ...``), never
guessed around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from warehouse.settings import load_config

NORMALISATIONS = ("linear", "peers", "deductions")
SEVERITIES = ("minor", "major", "critical")


class ModelError(ValueError):
    """The star model is invalid; the message names the key and the problem."""


@dataclass(frozen=True)
class Indicator:
    """One scored indicator: where its value comes from and how it becomes points."""

    name: str
    kpi: str
    weight: float
    normalise: str
    zero_at: float | None = None  # linear: the value worth no points
    full_at: float | None = None  # linear: the value worth the full weight
    deduct: dict[str, float] | None = None  # deductions: points per complaint by severity


@dataclass(frozen=True)
class Veto:
    """A substantiated complaint of one of these severities caps the month's stars."""

    severities: tuple[str, ...]
    max_stars: int


@dataclass(frozen=True)
class Subject:
    """What is scored for outlets or for staff."""

    name: str
    indicators: tuple[Indicator, ...]
    vetoes: tuple[Veto, ...]
    min_hours: float | None


@dataclass(frozen=True)
class Award:
    """A monthly honour: the best ``top`` subjects with at least ``min_stars``."""

    name: str
    subject: str
    top: int
    min_stars: int


@dataclass(frozen=True)
class StarModel:
    """The whole versioned model."""

    version: str
    bands: tuple[tuple[float, int], ...]  # (min_score, stars), highest first
    subjects: dict[str, Subject]
    awards: tuple[Award, ...] = ()
    pool_per_quarter: float = 0.0
    coefficients: dict[int, float] | None = None
    missing_share: float = field(kw_only=True)  # of an indicator's weight, when no value

    def stars_for(self, score: float) -> int:
        """Stars of a score: the first band whose minimum it reaches."""
        return next(stars for minimum, stars in self.bands if score >= minimum)

    def next_band(self, score: float) -> tuple[float, int] | None:
        """The lowest band above the score's band (minimum score, stars), None at the top."""
        above = [(m, s) for m, s in self.bands if m > score]
        return min(above) if above else None


def _number(value: Any, key: str) -> float:
    """A YAML number, or a ModelError naming the key."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelError(f"{key}: expected a number, got {value!r}")
    return float(value)


def _indicator(name: str, spec: Any, key: str) -> Indicator:
    """Parse and check one indicator."""
    if not isinstance(spec, dict):
        raise ModelError(f"{key}: expected a mapping")
    for required in ("kpi", "weight", "normalise"):
        if required not in spec:
            raise ModelError(f"{key}.{required}: missing")
    method = spec["normalise"]
    if method not in NORMALISATIONS:
        raise ModelError(f"{key}.normalise: {method!r} is not one of {', '.join(NORMALISATIONS)}")
    weight = _number(spec["weight"], f"{key}.weight")
    if weight <= 0:
        raise ModelError(f"{key}.weight: must be positive, got {weight:g}")
    zero_at = full_at = None
    deduct = None
    if method == "linear":
        zero_at = _number(spec.get("zero_at"), f"{key}.zero_at")
        full_at = _number(spec.get("full_at"), f"{key}.full_at")
        if zero_at == full_at:
            raise ModelError(f"{key}: zero_at and full_at must differ")
    if method == "deductions":
        raw = spec.get("deduct")
        if not isinstance(raw, dict) or set(raw) != set(SEVERITIES):
            raise ModelError(f"{key}.deduct: give points for each of {', '.join(SEVERITIES)}")
        deduct = {s: _number(raw[s], f"{key}.deduct.{s}") for s in SEVERITIES}
        if any(v < 0 for v in deduct.values()):
            raise ModelError(f"{key}.deduct: deductions cannot be negative")
    return Indicator(name, str(spec["kpi"]), weight, method, zero_at, full_at, deduct)


def _subject(name: str, spec: Any, key: str, max_stars: int) -> Subject:
    """Parse and check one subject (its indicator weights must add up to 100)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("indicators"), dict):
        raise ModelError(f"{key}.indicators: expected a mapping of indicators")
    indicators = tuple(
        _indicator(n, s, f"{key}.indicators.{n}") for n, s in spec["indicators"].items()
    )
    total = sum(i.weight for i in indicators)
    if abs(total - 100) > 1e-9:
        raise ModelError(f"{key}.indicators: weights add up to {total:g}, not 100")
    vetoes = []
    for n, veto in enumerate(spec.get("vetoes") or []):
        vkey = f"{key}.vetoes[{n}]"
        severities = tuple(veto.get("severity") or ())
        unknown = set(severities) - set(SEVERITIES)
        if not severities or unknown:
            raise ModelError(f"{vkey}.severity: expected some of {', '.join(SEVERITIES)}")
        cap = int(_number(veto.get("max_stars"), f"{vkey}.max_stars"))
        if not 1 <= cap <= max_stars:
            raise ModelError(f"{vkey}.max_stars: must be between 1 and {max_stars}")
        vetoes.append(Veto(severities, cap))
    min_hours = spec.get("min_hours")
    hours = None if min_hours is None else _number(min_hours, f"{key}.min_hours")
    return Subject(name, indicators, tuple(vetoes), hours)


def parse_model(data: dict[str, Any]) -> StarModel:
    """Build a :class:`StarModel` from its YAML mapping, refusing anything inconsistent."""
    if not data.get("version"):
        raise ModelError("version: missing (a published assessment records it)")
    bands_raw = data.get("bands")
    if not isinstance(bands_raw, list) or not bands_raw:
        raise ModelError("bands: expected a list of {min_score, stars}")
    bands = sorted(
        (
            (
                _number(b.get("min_score"), f"bands[{i}].min_score"),
                int(_number(b.get("stars"), f"bands[{i}].stars")),
            )
            for i, b in enumerate(bands_raw)
        ),
        reverse=True,
    )
    if bands[-1][0] != 0:
        raise ModelError("bands: the lowest band must start at min_score 0")
    stars = [s for _, s in bands]
    if stars != sorted(stars, reverse=True) or len(set(stars)) != len(stars):
        raise ModelError("bands: a higher score must always give more stars")
    subjects_raw = data.get("subjects")
    if not isinstance(subjects_raw, dict) or not subjects_raw:
        raise ModelError("subjects: expected outlets and/or staff")
    subjects = {
        name: _subject(name, spec, f"subjects.{name}", max(stars))
        for name, spec in subjects_raw.items()
    }
    awards = tuple(
        _award(n, a, subjects, max(stars)) for n, a in (data.get("awards") or {}).items()
    )
    pool, coefficients = _payout(data.get("payout"), stars)
    missing = _number(data.get("missing_share"), "missing_share")
    if not 0 <= missing <= 1:
        raise ModelError(f"missing_share: expected a share between 0 and 1, got {missing}")
    return StarModel(
        str(data["version"]),
        tuple(bands),
        subjects,
        awards,
        pool,
        coefficients,
        missing_share=missing,
    )


def _award(name: str, spec: Any, subjects: dict[str, Subject], max_stars: int) -> Award:
    """Parse and check one award."""
    key = f"awards.{name}"
    if not isinstance(spec, dict) or spec.get("subject") not in subjects:
        raise ModelError(f"{key}.subject: expected one of {', '.join(subjects)}")
    top = int(_number(spec.get("top"), f"{key}.top"))
    min_stars = int(_number(spec.get("min_stars"), f"{key}.min_stars"))
    if top < 1 or not 1 <= min_stars <= max_stars:
        raise ModelError(f"{key}: top must be >= 1 and min_stars between 1 and {max_stars}")
    return Award(name, spec["subject"], top, min_stars)


def _payout(spec: Any, stars: list[int]) -> tuple[float, dict[int, float]]:
    """Parse the quarterly pool and the coefficient of every star level."""
    if not isinstance(spec, dict):
        raise ModelError("payout: expected pool_per_quarter and coefficients")
    pool = _number(spec.get("pool_per_quarter"), "payout.pool_per_quarter")
    raw = spec.get("coefficients")
    if not isinstance(raw, dict) or {int(k) for k in raw} != set(stars):
        raise ModelError(f"payout.coefficients: give one for each star level {sorted(stars)}")
    coefficients = {int(k): _number(v, f"payout.coefficients.{k}") for k, v in raw.items()}
    if pool < 0 or any(c < 0 for c in coefficients.values()):
        raise ModelError("payout: the pool and the coefficients cannot be negative")
    return pool, coefficients


def load_model() -> StarModel:
    """The configured model (``config/star_model.yaml``)."""
    return parse_model(load_config("star_model"))
