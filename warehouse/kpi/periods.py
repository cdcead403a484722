"""The comparison periods, as the KPI layer exports them; they live in :mod:`warehouse.periods`."""

from __future__ import annotations

from warehouse.periods import previous_period, same_period_last_year

__all__ = ["previous_period", "same_period_last_year"]
