"""Every warehouse read the dashboard may make, and how each is scoped.

One table so that the whole access policy of the data can be reviewed on one screen and
tested read by read (``tests/warehouse/test_scope.py`` has a case per entry and fails
when an entry has none). ``dashboard.data.fetch`` refuses a function that is not here,
so a new read cannot bypass the scope: it has to be declared, and then tested.

Each entry says which permission the read needs, which argument names an outlet or a
person, whether it takes the outlet filters, and which result columns hold pay or
free text (see :class:`warehouse.scope.Read`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from warehouse.alerts import alerts
from warehouse.benchmark import outlet_benchmark
from warehouse.complaint_views import complaint_list, complaints_by_channel, resolution_histogram
from warehouse.completeness import missing_days
from warehouse.console import schema_tree
from warehouse.coverage import coverage, outlets
from warehouse.data_quality import (
    load_history,
    load_totals,
    orphan_reversals,
    quarantined_rows,
    rule_counts,
)
from warehouse.distributions import percentile_table, wait_histogram
from warehouse.headline import headline, outlet_changes
from warehouse.kpi.catalogue import targets
from warehouse.kpi.complaints import complaint_pareto, complaint_summary
from warehouse.kpi.demand import demand_profile
from warehouse.kpi.service import service_summary
from warehouse.pivot import business_types, chart_data, pivot
from warehouse.profiles import (
    outlet_complaints,
    outlet_profile,
    outlet_staff,
    peer_comparison,
    scope_outlets,
    staff_assignments,
    staff_complaints,
    staff_directory,
    staff_trend,
)
from warehouse.scope import Permission, Read
from warehouse.staffing import staffing_plans
from warehouse.stars.board import (
    month_boards,
    penalties,
    publication,
    quarter_payout,
    restatement,
    star_history,
    subject_breakdown,
)

P = Permission
KPIS = (P.KPIS,)
FINE = ("penalty_amount",)
NARRATIVE = ("description",)

# Reads anybody signed in may make: what the warehouse covers, labels, targets.
_ANYONE = Read()
# KPI-layer reads under the outlet filters.
_KPI = Read(needs=KPIS, filters=True)

READS: dict[Callable[..., Any], Read] = {
    # what the warehouse holds; labels
    coverage: _ANYONE,
    business_types: _ANYONE,
    targets: _ANYONE,
    publication: _ANYONE,
    outlets: Read(needs=(P.KPIS, P.LOADS)),
    scope_outlets: Read(needs=(P.KPIS, P.LOADS), filters=True),
    # the KPI layer and what is built on it
    service_summary: _KPI,
    complaint_summary: _KPI,
    complaint_pareto: _KPI,
    demand_profile: _KPI,
    headline: _KPI,
    outlet_changes: _KPI,
    outlet_benchmark: _KPI,
    alerts: _KPI,
    percentile_table: _KPI,
    wait_histogram: _KPI,
    complaints_by_channel: _KPI,
    resolution_histogram: _KPI,
    staffing_plans: _KPI,
    pivot: _KPI,
    chart_data: _KPI,
    complaint_list: Read(
        needs=KPIS, filters=True, pay_columns=FINE, text_columns=NARRATIVE, search_arg="search"
    ),
    # one outlet, one person
    outlet_profile: Read(needs=KPIS, outlet_arg="outlet"),
    outlet_staff: Read(needs=KPIS, outlet_arg="outlet"),
    outlet_complaints: Read(
        needs=KPIS, outlet_arg="outlet", filters=True, pay_columns=FINE, text_columns=NARRATIVE
    ),
    staff_directory: Read(needs=KPIS, filters=True, staff_arg="staff_id"),
    staff_assignments: Read(needs=KPIS, staff_arg="staff_id"),
    peer_comparison: Read(needs=KPIS, staff_arg="staff_id", filters=True),
    staff_trend: Read(needs=KPIS, staff_arg="staff_id", filters=True),
    staff_complaints: Read(
        needs=KPIS, staff_arg="staff_id", filters=True, pay_columns=FINE, text_columns=NARRATIVE
    ),
    # stars
    month_boards: _KPI,
    restatement: _KPI,
    star_history: Read(needs=KPIS, subject=("subject", "subject_id"), filters=True),
    subject_breakdown: Read(needs=KPIS, subject=("subject", "subject_id"), filters=True),
    penalties: Read(needs=KPIS, staff_arg="staff_id", filters=True, pay_columns=FINE),
    quarter_payout: Read(
        needs=(P.PAY, P.OWN_PAY),
        staff_arg="staff_id",
        filters=True,
        pay_columns=("gross", "penalties", "net"),
    ),
    # data quality
    load_history: Read(needs=(P.LOADS,)),
    load_totals: Read(needs=(P.LOADS,)),
    rule_counts: Read(needs=(P.LOADS,)),
    quarantined_rows: Read(needs=(P.LOADS,), text_columns=("raw_record",)),
    missing_days: Read(needs=(P.LOADS,), filters=True),
    orphan_reversals: Read(needs=(P.LOADS,), filters=True),
    # the SQL console's schema browser (queries go through warehouse.console itself)
    schema_tree: Read(needs=(P.CONSOLE,)),
}


class UndeclaredRead(LookupError):
    """A warehouse read that :data:`READS` does not declare: it cannot be scoped."""


def declared(fn: Callable[..., Any]) -> Read:
    """How ``fn`` is scoped; :class:`UndeclaredRead` when it is not a declared read."""
    try:
        return READS[fn]
    except KeyError:
        name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"
        raise UndeclaredRead(
            f"{name} is not declared in warehouse.reads.READS; declare how it is scoped"
        ) from None
