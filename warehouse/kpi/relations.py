"""The relations every KPI is computed from, defined once over the warehouse tables.

Each KPI reads these relations and nothing else, so the meaning of "arrival", "served",
"error", "staffed hour" ... lives here and only here. The marts (``warehouse.marts``) are
these same expressions materialised, which is why answers do not depend on whether a mart
exists. The definitions are ibis expressions over the base tables, so they compile for
DuckDB today and for a distributed engine (PySpark over Parquet) later.

**Event relation** (one row per ``fact_transaction`` row, reversal rows included). Key
columns: outlet_code, township, outlet_type (``dim_outlet``), business_date, hour (0-23 of
``arrival_at``), weekday (0 = Monday), channel, business_type, staff_id and position (the
staff member's position in the assignment valid on ``business_date``, from ``dim_staff``).

Measure columns are each event's contribution to an additive total, so the same ``sum()``
gives the KPI over events or over the pre-summed cells of the mart. The measures of waiting,
handling and rating are kept for every channel: which channels are assisted service (a
queue served by people: counter, phone) is configuration (:mod:`warehouse.kpi.channels`),
applied by the KPIs when they query, with ``channel`` a key of every event and cell. Baked
in here, a change of configuration would leave marts built under the old sets behind.

======================  ===============================================================
measure                 event contribution
======================  ===============================================================
arrivals                1 unless a reversal row (status 'reversed')
counter_arrivals        arrivals on channel 'counter' (the windows of the roster)
served                  1 for an arrival with status completed or error not later reversed
counter_served          served on the counter
abandoned               1 for status 'abandoned' (left the queue)
errors                  1 for an arrival with status 'error' or that was later reversed
waits / wait_s          1 / wait_s of a served event with a known wait
services / service_s    1 / service_s of a served event with a known duration
standard_s              standard handling time of the type, for events counted in services
service_std_s           service_s of those events whose type has a standard
busy_s                  service_s of every counter row that occupied a window (all but
                        abandoned, reversal rows included)
rated / satisfied       1 when a served event was rated / rated 4 or 5
deposits / withdrawals  amount of a served event of a type with cash_flow_sign +1 / -1
======================  ===============================================================

The event relation also keeps ``wait_s`` and ``service_s`` per event, which is what exact
percentiles are computed from.

**Cell relation**: the event relation summed per outlet, date, hour, channel and business
type (staff dropped): about 15 times fewer rows, the same totals.

**Roster relation**: one row per shift segment per clock hour it overlaps: business_date
(the work date), outlet_code, township, outlet_type, staff_id, position, window_no,
is_counter (window_no not null), hour, weekday and staffed_s (seconds of the segment in that
hour of the work date; a segment running past midnight is cut there).

**Complaint relation**: one row per complaint with business_date (date received), hour,
weekday, the outlet and staff attributes above, deadline_days and is_repeat.
"""

from __future__ import annotations

import warnings

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from warehouse.settings import load_config, satisfied_from

SERVED_STATUSES = ("completed", "error")
REVERSAL_STATUS = "reversed"
ABANDONED_STATUS = "abandoned"
COUNTER_CHANNEL = "counter"
SECONDS_PER_DAY = 86_400

# Columns that identify a cell (staff and position dropped).
CELL_KEYS = (
    "outlet_code",
    "township",
    "outlet_type",
    "business_date",
    "hour",
    "weekday",
    "channel",
    "business_type",
)
EVENT_KEYS = (*CELL_KEYS, "staff_id", "position")
# Additive measures: per-event contributions in the event relation, sums in the cells.
MEASURES = (
    "arrivals",
    "counter_arrivals",
    "served",
    "counter_served",
    "abandoned",
    "errors",
    "waits",
    "wait_s",
    "services",
    "service_s",
    "standard_s",
    "service_std_s",
    "busy_s",
    "rated",
    "satisfied",
    "deposits",
    "withdrawals",
)
EVENT_COLUMNS = (*EVENT_KEYS, *MEASURES)
ROSTER_COLUMNS = (
    "business_date",
    "outlet_code",
    "township",
    "outlet_type",
    "staff_id",
    "position",
    "window_no",
    "is_counter",
    "hour",
    "weekday",
    "staffed_s",
)


def table(backend: BaseBackend, name: str) -> ir.Table:
    """Open a warehouse table without the deprecation noise ibis 12 emits on DuckDB 2.

    ibis 12 still calls ``fetch_arrow_table`` (deprecated in DuckDB 1.5, gone from the
    connection in 2.0) when it reads a table's schema; the call works on a relation, so
    the warning is noise for every dashboard query.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "fetch_arrow_table", DeprecationWarning)
        return backend.table(name)


def _staff_position(
    rel: ir.Table, staff: ir.Table, date_col: str, staff_col: str = "staff_id"
) -> ir.Table:
    """Attach the position of the assignment valid on the row's date (NULL if none).

    Assignments of one staff member do not overlap (the loader closes one with the next's
    valid_from), so the range join matches at most one row and never duplicates events.
    """
    s = staff.select(
        _s_staff=staff.staff_id,
        _s_from=staff.valid_from,
        _s_to=staff.valid_to,
        position=staff.position,
    )
    day = rel[date_col]
    joined = rel.left_join(
        s,
        [
            rel[staff_col] == s._s_staff,
            day >= s._s_from,
            s._s_to.isnull() | (day < s._s_to),
        ],
    )
    return joined.drop("_s_staff", "_s_from", "_s_to")


def _outlet_attributes(rel: ir.Table, outlets: ir.Table) -> ir.Table:
    """Attach township and outlet type of the row's outlet."""
    o = outlets.select(
        _o_code=outlets.outlet_code,
        township=outlets.township,
        outlet_type=outlets.outlet_type,
    )
    return rel.left_join(o, rel.outlet_code == o._o_code).drop("_o_code")


def _flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    """1 where the condition holds, else 0 (NULL counts as not holding)."""
    return ibis.ifelse(condition.fill_null(False), 1, 0).cast("int8")


def _value_if(condition: ir.BooleanValue, value: ir.Value, dtype: str) -> ir.Value:
    """Keep the value where the condition holds, else NULL."""
    return ibis.ifelse(condition.fill_null(False), value.cast(dtype), ibis.null(dtype))


def base_events(backend: BaseBackend) -> ir.Table:
    """Build the event relation from ``fact_transaction`` and its dimensions.

    This is the single definition of arrivals, served, abandoned and errors; see the module
    docstring for every column. Waits, handling times and ratings are kept on every
    channel; the KPIs keep the assisted ones (:mod:`warehouse.kpi.channels`).
    """
    t = table(backend, "fact_transaction")
    bt = table(backend, "dim_business_type")
    bt = bt.select(
        _b_type=bt.business_type,
        _b_standard=bt.standard_handling_s,
        _b_sign=bt.cash_flow_sign,
    )
    t = t.left_join(bt, t.business_type == bt._b_type)
    arrival = t.status != REVERSAL_STATUS
    counter = t.channel == COUNTER_CHANNEL
    served = arrival & t.status.isin(SERVED_STATUSES) & ~t.is_reversed
    served_counter = served & counter
    timed = served & t.service_s.notnull()
    standard = timed & t._b_standard.notnull()
    money = "decimal(18, 2)"
    ev = t.select(
        outlet_code=t.outlet_code,
        business_date=t.business_date,
        hour=t.arrival_at.hour().cast("int8"),
        weekday=t.business_date.day_of_week.index().cast("int8"),
        channel=t.channel,
        business_type=t.business_type,
        staff_id=t.staff_id,
        arrivals=_flag(arrival),
        counter_arrivals=_flag(arrival & counter),
        served=_flag(served),
        counter_served=_flag(served_counter),
        abandoned=_flag(t.status == ABANDONED_STATUS),
        errors=_flag(arrival & ((t.status == "error") | t.is_reversed)),
        waits=_flag(served & t.wait_s.notnull()),
        wait_s=_value_if(served, t.wait_s, "int64"),
        services=_flag(timed),
        service_s=_value_if(timed, t.service_s, "int64"),
        standard_s=_value_if(standard, t._b_standard, "int64"),
        service_std_s=_value_if(standard, t.service_s, "int64"),
        busy_s=_value_if(counter & (t.status != ABANDONED_STATUS), t.service_s, "int64"),
        rated=_flag(served & t.satisfaction.notnull()),
        satisfied=_flag(served & (t.satisfaction >= satisfied_from())),
        deposits=_value_if(served & (t._b_sign == 1), t.amount, money),
        withdrawals=_value_if(served & (t._b_sign == -1), t.amount, money),
    )
    ev = _outlet_attributes(ev, table(backend, "dim_outlet"))
    ev = _staff_position(ev, table(backend, "dim_staff"), "business_date")
    return ev.select(*EVENT_COLUMNS)


def cells(events: ir.Table) -> ir.Table:
    """Sum the event relation per cell (outlet, date, hour, channel, business type).

    Every measure is additive, so any KPI that does not need staff or percentiles gets the
    same totals from the cells as from the events, at a fraction of the rows.
    """
    return events.group_by(list(CELL_KEYS)).aggregate(**{m: events[m].sum() for m in MEASURES})


def base_roster(backend: BaseBackend) -> ir.Table:
    """Build the roster relation: shift segments cut into clock hours of their work date.

    Cutting by hour lets staffed time be grouped by hour of day exactly like arrivals;
    summing the hours of a segment gives back its length (for segments within the day).
    """
    r = table(backend, "fact_roster")
    day_start = r.work_date.cast("timestamp").epoch_seconds().cast("int64")
    seg = r.select(
        business_date=r.work_date,
        outlet_code=r.outlet_code,
        staff_id=r.staff_id,
        window_no=r.window_no,
        is_counter=r.window_no.notnull(),
        weekday=r.work_date.day_of_week.index().cast("int8"),
        _day0=day_start,
        _s0=r.shift_start.epoch_seconds().cast("int64"),
        _s1=r.shift_end.epoch_seconds().cast("int64"),
        hour=ibis.range(0, 24).unnest().cast("int8"),
    )
    h0 = seg._day0 + seg.hour.cast("int64") * 3600
    overlap = ibis.least(seg._s1, h0 + 3600) - ibis.greatest(seg._s0, h0)
    seg = seg.mutate(staffed_s=overlap.cast("int64")).filter(lambda s: s.staffed_s > 0)
    seg = seg.drop("_day0", "_s0", "_s1")
    seg = _outlet_attributes(seg, table(backend, "dim_outlet"))
    seg = _staff_position(seg, table(backend, "dim_staff"), "business_date")
    return seg.select(*ROSTER_COLUMNS)


def base_complaints(backend: BaseBackend) -> ir.Table:
    """Build the complaint relation with its deadline and repeat flag.

    The repeat flag looks back over every complaint in the warehouse, not only those in a
    query's period or outlets: a customer who complained last month at another outlet is
    still a repeat complainant.
    """
    cfg = load_config("kpi")["complaints"]
    window_s = int(cfg["repeat_window_days"]) * SECONDS_PER_DAY
    c = table(backend, "fact_complaint")
    received = c.received_at.epoch_seconds().cast("int64")
    by_customer = ibis.window(group_by=c.customer_ref, order_by=[c.received_at, c.complaint_id])
    by_staff = ibis.window(group_by=c.staff_id, order_by=[c.received_at, c.complaint_id])
    prev_customer = c.received_at.lag().over(by_customer).epoch_seconds().cast("int64")
    prev_staff = c.received_at.lag().over(by_staff).epoch_seconds().cast("int64")
    repeat_customer = c.customer_ref.notnull() & ((received - prev_customer) <= window_s)
    repeat_staff = c.staff_id.notnull() & ((received - prev_staff) <= window_s)
    rel = c.select(
        complaint_id=c.complaint_id,
        received_at=c.received_at,
        business_date=c.received_at.date(),
        hour=c.received_at.hour().cast("int8"),
        weekday=c.received_at.date().day_of_week.index().cast("int8"),
        outlet_code=c.outlet_code,
        staff_id=c.staff_id,
        customer_ref=c.customer_ref,
        category=c.category,
        severity=c.severity,
        is_complex=c.is_complex,
        resolved_at=c.resolved_at,
        resolution_days=c.resolution_days,
        substantiated=c.substantiated,
        deadline_days=ibis.ifelse(
            c.is_complex, int(cfg["deadline_days_complex"]), int(cfg["deadline_days_simple"])
        ).cast("int64"),
        is_repeat=repeat_customer.fill_null(False) | repeat_staff.fill_null(False),
    )
    rel = _outlet_attributes(rel, table(backend, "dim_outlet"))
    return _staff_position(rel, table(backend, "dim_staff"), "business_date")


def base_outlets(backend: BaseBackend) -> ir.Table:
    """Return the outlets with the attributes filters use, to list outlets without rows."""
    o = table(backend, "dim_outlet")
    return o.select(o.outlet_code, o.township, o.outlet_type)
