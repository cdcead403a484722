"""Expected counter load, shared by outlet design (windows, tellers) and daily rostering."""

from __future__ import annotations

import math
from typing import Any


def counter_share(devices: int, cfg: dict[str, Any]) -> float:
    """Expected share of demand that reaches the counter given the working machines."""
    if not devices:
        return 1.0
    mix = {k: v[4] for k, v in cfg["business_types"].items()}
    moved = sum(
        mix.get(k, 0.0) * float(s) for k, s in cfg["channels"]["self_service_share"].items()
    )
    return 1.0 - moved / sum(mix.values())


def tellers_for_peak(counter_events: float, cfg: dict[str, Any]) -> int:
    """Tellers that keep the busiest hour at the target utilisation, for a day's counter demand."""
    weights = list(cfg["hourly_weights"].values())
    peak_share = 2 * max(weights) / sum(weights)
    mix = {k: v[4] for k, v in cfg["business_types"].items()}
    mean_s = sum(cfg["business_types"][k][2] * p for k, p in mix.items()) / sum(mix.values())
    erlangs = counter_events * peak_share * mean_s / 3600
    return max(1, math.ceil(erlangs / float(cfg["staffing"]["target_peak_utilisation"])))
