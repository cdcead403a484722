"""The KPI layer: every KPI of brief section 4 defined once, as ibis expressions.

Functions take a DuckDB connection (read-only is enough) or an ibis backend and return
polars DataFrames. See docs/kpi.md for definitions, examples and which table each KPI
reads.

The functions are imported on first use (PEP 562): a process that needs one module of
the layer, such as the ETL refreshing the marts from :mod:`warehouse.kpi.relations`,
does not pay for importing all of them (and pandas, which the result converter needs).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse.kpi.catalogue import (
        Kpi,
        is_improvement,
        kpi,
        kpi_catalogue,
        kpi_names,
        outlet_targets,
        rag,
        targets,
    )
    from warehouse.kpi.channels import (
        ChannelSets,
        assisted_channels,
        channel_sets,
        self_service_channels,
    )
    from warehouse.kpi.comparison import compare
    from warehouse.kpi.complaints import complaint_pareto, complaint_summary
    from warehouse.kpi.demand import demand_profile, weekday_counts, windows_staffed
    from warehouse.kpi.deposits import deposit_summary
    from warehouse.kpi.filters import GROUPINGS, KEY_COLUMNS, Filters, make_filters
    from warehouse.kpi.periods import previous_period, same_period_last_year
    from warehouse.kpi.service import service_summary, target_wait_s
    from warehouse.kpi.source import StaleMartError

_WHERE: dict[str, str] = {
    "ChannelSets": "warehouse.kpi.channels",
    "Filters": "warehouse.kpi.filters",
    "GROUPINGS": "warehouse.kpi.filters",
    "KEY_COLUMNS": "warehouse.kpi.filters",
    "Kpi": "warehouse.kpi.catalogue",
    "StaleMartError": "warehouse.kpi.source",
    "assisted_channels": "warehouse.kpi.channels",
    "channel_sets": "warehouse.kpi.channels",
    "compare": "warehouse.kpi.comparison",
    "complaint_pareto": "warehouse.kpi.complaints",
    "complaint_summary": "warehouse.kpi.complaints",
    "demand_profile": "warehouse.kpi.demand",
    "deposit_summary": "warehouse.kpi.deposits",
    "is_improvement": "warehouse.kpi.catalogue",
    "kpi": "warehouse.kpi.catalogue",
    "kpi_catalogue": "warehouse.kpi.catalogue",
    "kpi_names": "warehouse.kpi.catalogue",
    "make_filters": "warehouse.kpi.filters",
    "outlet_targets": "warehouse.kpi.catalogue",
    "previous_period": "warehouse.kpi.periods",
    "rag": "warehouse.kpi.catalogue",
    "same_period_last_year": "warehouse.kpi.periods",
    "self_service_channels": "warehouse.kpi.channels",
    "service_summary": "warehouse.kpi.service",
    "target_wait_s": "warehouse.kpi.service",
    "targets": "warehouse.kpi.catalogue",
    "weekday_counts": "warehouse.kpi.demand",
    "windows_staffed": "warehouse.kpi.demand",
}
__all__ = [
    "GROUPINGS",
    "KEY_COLUMNS",
    "ChannelSets",
    "Filters",
    "Kpi",
    "StaleMartError",
    "assisted_channels",
    "channel_sets",
    "compare",
    "complaint_pareto",
    "complaint_summary",
    "demand_profile",
    "deposit_summary",
    "is_improvement",
    "kpi",
    "kpi_catalogue",
    "kpi_names",
    "make_filters",
    "outlet_targets",
    "previous_period",
    "rag",
    "same_period_last_year",
    "self_service_channels",
    "service_summary",
    "target_wait_s",
    "targets",
    "weekday_counts",
    "windows_staffed",
]


def __getattr__(name: str) -> Any:
    """Import a public name of the layer from its module the first time it is asked for."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
