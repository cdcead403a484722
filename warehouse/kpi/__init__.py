"""The KPI layer: every KPI of brief section 4 defined once, as ibis expressions.

Functions take a DuckDB connection (read-only is enough) or an ibis backend and return
polars DataFrames. See docs/kpi.md for definitions, examples and which table each KPI
reads.
"""

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
from warehouse.kpi.compare import compare
from warehouse.kpi.complaints import complaint_pareto, complaint_summary
from warehouse.kpi.demand import demand_profile, weekday_counts, windows_staffed
from warehouse.kpi.deposits import deposit_summary
from warehouse.kpi.filters import GROUPINGS, KEY_COLUMNS, Filters, make_filters
from warehouse.kpi.periods import previous_period, same_period_last_year
from warehouse.kpi.service import service_summary, target_wait_s
from warehouse.kpi.source import StaleMartError

__all__ = [
    "GROUPINGS",
    "KEY_COLUMNS",
    "Filters",
    "Kpi",
    "StaleMartError",
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
    "service_summary",
    "target_wait_s",
    "targets",
    "weekday_counts",
    "windows_staffed",
]
