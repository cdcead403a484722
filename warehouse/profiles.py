"""One outlet's or one person's page: who they are, their people, complaints and peers.

Why a module of its own: the KPI layer answers "this KPI by outlet / staff / month" for
everyone at once; the outlet and staff pages also need plain lists (a person's
assignments, the complaints against an outlet, who works there) and a comparison of one
person with the others in the same position. These are gathered here, on the same tables
and with the same outlet-scope filters (``township``, ``outlet_type``, ``outlets``) as the
KPI layer, so the pages hold no queries of their own.

Periods are ``[start, end)`` like every KPI function; complaints count by the day they
were received.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import duckdb
import polars as pl

from warehouse.kpi import complaint_summary, kpi, service_summary
from warehouse.kpi.filters import outlets_in_scope
from warehouse.kpi.source import Source

Codes = str | Iterable[str] | None


def scope_outlets(
    con: duckdb.DuckDBPyConnection,
    *,
    township: Codes = None,
    outlet_type: Codes = None,
    outlets: Codes = None,
) -> tuple[str, ...] | None:
    """Outlet codes the outlet-scope filters leave in view; None when nothing restricts.

    The same three filters as the KPI layer, so a row-level list (an assessment, a payout,
    a complaint list) shows exactly the outlets the KPI panels beside it count.
    """
    if township is None and outlet_type is None and outlets is None:
        return None
    src = Source.of(con, use_marts=False)
    return tuple(outlets_in_scope(src, outlets=outlets, township=township, outlet_type=outlet_type))


def outlet_profile(con: duckdb.DuckDBPyConnection, *, outlet: str) -> pl.DataFrame:
    """The outlet's own row (name, township, type, windows, devices, opened); empty if unknown."""
    return con.sql(
        """SELECT outlet_code, outlet_name, township, outlet_type, counter_windows,
                  self_service_devices, opened_on
           FROM dim_outlet WHERE outlet_code = $outlet""",
        params={"outlet": outlet},
    ).pl()


_COMPLAINTS = """
    SELECT c.complaint_id, c.received_at, c.outlet_code, c.staff_id, s.staff_name,
           c.channel, c.category, c.severity, c.status, c.substantiated, c.resolved_at,
           c.resolution_days, coalesce(c.penalty, 'none') AS penalty,
           coalesce(c.penalty_amount, 0)::DOUBLE AS penalty_amount, c.description
    FROM fact_complaint c
    LEFT JOIN dim_staff s
      ON s.staff_id = c.staff_id AND s.valid_from <= c.received_at::DATE
     AND (s.valid_to IS NULL OR c.received_at::DATE < s.valid_to)
    WHERE c.{column} = $key AND c.received_at >= $start AND c.received_at < $end
      AND ($scope IS NULL OR list_contains($scope, c.outlet_code))
    ORDER BY c.received_at DESC, c.complaint_id
"""


def outlet_complaints(
    con: duckdb.DuckDBPyConnection,
    *,
    outlet: str,
    start: dt.date,
    end: dt.date,
    township: Codes = None,
    outlet_type: Codes = None,
    outlets: Codes = None,
) -> pl.DataFrame:
    """Complaints against one outlet received in the period, newest first, with handling.

    One row per complaint: who was named (and their name then), category, severity,
    status, whether substantiated, days to resolve, penalty and fine, the customer's text
    (display it as text: it may hold markup).
    """
    scope = {"township": township, "outlet_type": outlet_type, "outlets": outlets}
    return _complaints(con, "outlet_code", outlet, start, end, scope)


def staff_complaints(
    con: duckdb.DuckDBPyConnection,
    *,
    staff_id: str,
    start: dt.date,
    end: dt.date,
    township: Codes = None,
    outlet_type: Codes = None,
    outlets: Codes = None,
) -> pl.DataFrame:
    """Complaints naming one staff member received in the period, newest first.

    Same columns as :func:`outlet_complaints`, so both pages list complaints alike; the
    outlet filters keep only complaints at outlets in view (a transferred teller's
    complaints at the old outlet stay with that outlet), as the penalty register does.
    """
    scope = {"township": township, "outlet_type": outlet_type, "outlets": outlets}
    return _complaints(con, "staff_id", staff_id, start, end, scope)


def _complaints(
    con: duckdb.DuckDBPyConnection,
    column: str,
    key: str,
    start: dt.date,
    end: dt.date,
    scope: dict[str, Codes],
) -> pl.DataFrame:
    """Complaints whose ``column`` is ``key``, received in the period, at outlets in view."""
    kept = scope_outlets(con, **scope)
    return con.sql(
        _COMPLAINTS.format(column=column),
        params={
            "key": key,
            "start": start,
            "end": end,
            "scope": None if kept is None else list(kept),
        },
    ).pl()


def staff_directory(
    con: duckdb.DuckDBPyConnection,
    *,
    start: dt.date,
    end: dt.date,
    staff_id: str | None = None,
    township: Codes = None,
    outlet_type: Codes = None,
    outlets: Codes = None,
) -> pl.DataFrame:
    """Everyone assigned to an outlet in view at some time in the period: the staff picker.

    One row per person (staff_id, staff_name, position, outlet_code, outlet_name) from
    their latest such assignment in the period, ordered by staff id; with ``staff_id``,
    only that person (a teller's own card).
    """
    scope = scope_outlets(con, township=township, outlet_type=outlet_type, outlets=outlets)
    assignments = con.sql(
        """SELECT s.staff_id, s.staff_name, s.position, s.outlet_code, o.outlet_name,
                  s.valid_from
           FROM dim_staff s JOIN dim_outlet o USING (outlet_code)
           WHERE s.valid_from < $end AND (s.valid_to IS NULL OR s.valid_to > $start)
             AND ($staff IS NULL OR s.staff_id = $staff)""",
        params={"start": start, "end": end, "staff": staff_id},
    ).pl()
    if scope is not None:  # a person who moved out of view is listed by the post held in it
        assignments = assignments.filter(pl.col("outlet_code").is_in(scope))
    return (
        assignments.sort("valid_from", descending=True)
        .unique("staff_id", keep="first")
        .drop("valid_from")
        .sort("staff_id")
    )


def staff_assignments(con: duckdb.DuckDBPyConnection, *, staff_id: str) -> pl.DataFrame:
    """A person's assignment history, latest first: outlet, position, from, to, status.

    ``valid_to`` is the day the next assignment starts (null while current), as stored.
    """
    return con.sql(
        """SELECT s.staff_id, s.staff_name, s.position, s.outlet_code, o.outlet_name,
                  s.valid_from, s.valid_to, s.hire_date, s.status, s.is_current
           FROM dim_staff s LEFT JOIN dim_outlet o USING (outlet_code)
           WHERE s.staff_id = $staff ORDER BY s.valid_from DESC""",
        params={"staff": staff_id},
    ).pl()


def outlet_staff(
    con: duckdb.DuckDBPyConnection,
    *,
    outlet: str,
    start: dt.date,
    end: dt.date,
    kpis: Sequence[str],
) -> pl.DataFrame:
    """The outlet's people in the period with their service KPIs there and complaints.

    One row per person assigned to the outlet at some time in the period or who served
    customers there: staff_id, staff_name, position, the requested service ``kpis``
    (events at this outlet only) and ``complaints`` naming them at this outlet.
    """
    assigned = con.sql(
        """SELECT staff_id, staff_name, position FROM dim_staff
           WHERE outlet_code = $outlet AND valid_from < $end
             AND (valid_to IS NULL OR valid_to > $start)
           QUALIFY row_number() OVER (PARTITION BY staff_id ORDER BY valid_from DESC) = 1""",
        params={"outlet": outlet, "start": start, "end": end},
    ).pl()
    service = (
        service_summary(con, start=start, end=end, by="staff", outlets=(outlet,))
        .filter(pl.col("staff_id").is_not_null())
        .select("staff_id", *kpis)
    )
    complaints = (
        complaint_summary(con, start=start, end=end, by="staff", outlets=(outlet,))
        .filter(pl.col("staff_id").is_not_null())
        .select("staff_id", "complaints")
    )
    names = latest_assignments(con, end=end)
    frame = (
        assigned.join(service, on="staff_id", how="full", coalesce=True)
        .join(complaints, on="staff_id", how="left")
        .join(names, on="staff_id", how="left", suffix="_latest")
        .with_columns(
            staff_name=pl.coalesce("staff_name", "staff_name_latest"),
            position=pl.coalesce("position", "position_latest"),
            complaints=pl.col("complaints").fill_null(0),
        )
    )
    return frame.select("staff_id", "staff_name", "position", *kpis, "complaints").sort("staff_id")


def latest_assignments(con: duckdb.DuckDBPyConnection, *, end: dt.date) -> pl.DataFrame:
    """Each person's name and position in their latest assignment starting before ``end``.

    Names people who left before a period ended, where "the assignment on the last day"
    has nobody.
    """
    return con.sql(
        """SELECT staff_id, staff_name, position FROM dim_staff WHERE valid_from < $end
           QUALIFY row_number() OVER (PARTITION BY staff_id ORDER BY valid_from DESC) = 1""",
        params={"end": end},
    ).pl()


def staff_position(con: duckdb.DuckDBPyConnection, *, staff_id: str, end: dt.date) -> str | None:
    """The person's position in their latest assignment starting before ``end``."""
    rows = latest_assignments(con, end=end).filter(pl.col("staff_id") == staff_id)
    return rows["position"][0] if rows.height else None


def peer_comparison(
    con: duckdb.DuckDBPyConnection,
    *,
    staff_id: str,
    start: dt.date,
    end: dt.date,
    kpis: Sequence[str],
    township: Codes = None,
    outlet_type: Codes = None,
    outlets: Codes = None,
) -> pl.DataFrame:
    """One person's service KPIs against everyone in view in the same position.

    Peers are the people who served customers in the period in the person's position
    (their latest assignment before ``end``) at the outlets in view, the person included.
    One row per KPI: kpi, value, peer_median, peer_min, peer_max, peers (people with a
    value), rank (1 = best in the KPI's good direction; null for volumes or no value).
    Empty when the person holds no position or served nobody.
    """
    position = staff_position(con, staff_id=staff_id, end=end)
    empty = pl.DataFrame(
        schema={
            "kpi": pl.String,
            "value": pl.Float64,
            "peer_median": pl.Float64,
            "peer_min": pl.Float64,
            "peer_max": pl.Float64,
            "peers": pl.Int64,
            "rank": pl.Int64,
        }
    )
    if position is None:
        return empty
    group = service_summary(
        con,
        start=start,
        end=end,
        by="staff",
        position=position,
        township=township,
        outlet_type=outlet_type,
        outlets=outlets,
    ).filter(pl.col("staff_id").is_not_null())
    if staff_id not in group["staff_id"].to_list():
        return empty
    rows = [_peer_row(group, staff_id, name) for name in kpis]
    return pl.DataFrame(rows, schema=empty.schema)


def _peer_row(group: pl.DataFrame, staff_id: str, name: str) -> dict[str, object]:
    """One KPI of the person against the group's median, range and their rank in it."""
    values = group.select("staff_id", value=pl.col(name).cast(pl.Float64)).drop_nulls("value")
    mine = values.filter(pl.col("staff_id") == staff_id)["value"]
    value = mine[0] if mine.len() else None
    rank = kpi(name).rank_of(value, values["value"])
    return {
        "kpi": name,
        "value": value,
        "peer_median": values["value"].median(),
        "peer_min": values["value"].min(),
        "peer_max": values["value"].max(),
        "peers": values.height,
        "rank": rank,
    }


def staff_trend(
    con: duckdb.DuckDBPyConnection,
    *,
    staff_id: str,
    start: dt.date,
    end: dt.date,
    township: Codes = None,
    outlet_type: Codes = None,
    outlets: Codes = None,
) -> pl.DataFrame:
    """One person's service KPIs month by month (service_summary's columns), at outlets in view.

    Months without any counter work of theirs are absent.
    """
    monthly = service_summary(
        con,
        start=start,
        end=end,
        by=("month", "staff"),
        township=township,
        outlet_type=outlet_type,
        outlets=outlets,
    )
    return monthly.filter(pl.col("staff_id") == staff_id).sort("month")
