"""One person: post and history, stars and why, KPIs against peers, trends, complaints.

Reached with ``?staff=ID`` from every staff table; without one (or with one outside the
selected outlets) the picker starts at the first teller in view.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import data, widgets
from dashboard.figures.overview import trend_figure
from dashboard.figures.profiles import complaint_table, peer_figure
from dashboard.figures.stars import (
    advice_text,
    category_text,
    group_text,
    severity_text,
    source_text,
    sources_text,
    stars_text,
)
from dashboard.i18n import code_label, format_kpi, format_number, kpi_label, plain
from dashboard.navigation import can_open, link
from dashboard.page import PageContext, run_page
from dashboard.subject import pick, star_card, star_month
from warehouse.coverage import coverage
from warehouse.periods import months_between, quarter_months, quarter_of, trend_start
from warehouse.profiles import (
    peer_comparison,
    staff_assignments,
    staff_complaints,
    staff_directory,
    staff_trend,
)
from warehouse.scope import Permission
from warehouse.settings import load_config
from warehouse.stars.board import (
    penalties,
    quarter_payout,
    star_history,
    subject_breakdown,
)
from warehouse.stars.publish import BrokenSeal

MONEY = "¥%,.2f"


def pick_staff(ctx: PageContext) -> dict | None:
    """The person to show: ``?staff=`` when in view, else the picker's.

    The picker starts at the first person in view holding the configured position (the
    counter staff the stars are about).
    """
    own = ctx.scope.staff_id if ctx.scope.outlets == frozenset() else None
    people = data.fetch(
        staff_directory,
        start=ctx.selection.start,
        end=ctx.selection.end,
        staff_id=own,
        **ctx.selection.kpi_filters(),
    )
    rows = {r["staff_id"]: r for r in people.iter_rows(named=True)}
    usual = load_config("stars_page")["staff"]["default_position"]
    firsts = [s for s, r in rows.items() if r["position"] == usual] or list(rows) or [""]

    def label(s: str) -> str:
        position = group_text("staff", rows[s]["position"], ctx.lang)
        return f"{s} {rows[s]['staff_name']} · {position} · {rows[s]['outlet_name']}"

    chosen = pick(ctx, "staff", list(rows), label=label, default=firsts[0])
    return None if chosen is None else rows[chosen]


def profile(ctx: PageContext, person: dict) -> pl.DataFrame:
    """Name, post and outlet (linked); returns the assignment history for later."""
    history = data.fetch(staff_assignments, staff_id=person["staff_id"])
    latest = history.row(0, named=True)
    st.subheader(plain(f"{person['staff_id']} {person['staff_name']}"))
    outlet = plain(f"{person['outlet_code']} {person['outlet_name']}")
    if can_open("outlet", ctx.scope):  # a teller's own card has no outlet page
        outlet = f"[{outlet}]({link('outlet', outlet=person['outlet_code'])})"
    st.markdown(
        ctx.t(
            "staff_profile",
            position=group_text("staff", person["position"], ctx.lang),
            outlet=outlet,
            hired=latest["hire_date"],
            status=code_label("staff_status", latest["status"], ctx.lang)
            if latest["status"]
            else "—",
        )
    )
    return history


def stars(ctx: PageContext, staff_id: str) -> None:
    """Stars month by month and this month's breakdown, or why there are none."""
    month = star_month(ctx)
    st.subheader(ctx.t("staff_stars_title", month=month))
    first = data.fetch(coverage).first_day
    held = months_between(first, dt.date.fromisoformat(f"{month}-01"))
    months = tuple(held[-int(load_config("stars_page")["history_months"]) :])
    filters = ctx.selection.kpi_filters()
    found = data.fetch(
        subject_breakdown, month=month, subject="staff", subject_id=staff_id, **filters
    )
    if found is None:
        st.info(ctx.t("staff_no_stars", month=month))
        return
    st.markdown(
        f"**{stars_text(found.stars)}** · {source_text(found.source, ctx.lang)} · "
        f"{advice_text(found, ctx.lang)}"
    )
    history = data.fetch(
        star_history, subject="staff", subject_id=staff_id, months=months, **filters
    )
    star_card(ctx, history, found, month=month, key="staff")


def peers(ctx: PageContext, person: dict) -> None:
    """The person's KPIs against everyone in view in the same position."""
    st.subheader(ctx.t("staff_peers_subheader"))
    kpis = tuple(load_config("stars_page")["staff"]["peer_kpis"])
    found = data.fetch(peer_comparison, staff_id=person["staff_id"], **ctx.kpi_args(kpis=kpis))
    if found.is_empty():
        st.info(ctx.t("staff_no_counter_work"))
        return
    position = group_text("staff", person["position"], ctx.lang)
    st.caption(ctx.t("staff_peers_caption", position=position, n=int(found["peers"].max())))
    left, right = st.columns(2)
    with left:
        widgets.chart(peer_figure(found, ctx.lang), "staff-peers")
    with right:
        frame = pl.DataFrame(
            {
                ctx.t("staff_col_kpi"): [kpi_label(k, ctx.lang) for k in found["kpi"]],
                ctx.t("staff_col_value"): _formatted(found, "value", ctx.lang),
                ctx.t("staff_peer_median"): _formatted(found, "peer_median", ctx.lang),
                ctx.t("staff_col_rank"): [
                    "" if r is None else ctx.t("staff_rank_of", rank=r, n=n)
                    for r, n in zip(found["rank"], found["peers"], strict=True)
                ],
            }
        )
        widgets.table(frame, "staff-peers-table", ctx.lang)


def _formatted(frame: pl.DataFrame, column: str, lang: str) -> list[str]:
    """One column of a per-KPI table formatted KPI by KPI."""
    return [format_kpi(k, v, lang) for k, v in zip(frame["kpi"], frame[column], strict=True)]


def trends(ctx: PageContext, staff_id: str) -> None:
    """The person's KPIs month by month."""
    config = load_config("stars_page")["staff"]
    months = int(config["trend_months"])
    args = ctx.kpi_args(start=trend_start(ctx.selection.last_day, months))
    monthly = data.fetch(staff_trend, staff_id=staff_id, **args)
    if monthly.is_empty():
        return
    st.subheader(ctx.t("trend_title", n=months))
    columns = st.columns(2)
    for i, name in enumerate(config["trend_kpis"]):
        with columns[i % 2]:
            widgets.chart(trend_figure(monthly, name, ctx.lang), key=f"staff-trend-{name}")


def assignments(ctx: PageContext, history: pl.DataFrame) -> None:
    """Every post the person held, latest first."""
    st.subheader(ctx.t("staff_assignments_title"))
    outlet_column = ctx.t("stars_col_outlet")
    frame = pl.DataFrame(
        {
            outlet_column: [link("outlet", outlet=o) for o in history["outlet_code"]],
            ctx.t("stars_col_outlets_name"): history["outlet_name"],
            ctx.t("stars_col_staff_group"): [
                group_text("staff", p, ctx.lang) for p in history["position"]
            ],
            ctx.t("staff_col_from"): history["valid_from"].cast(pl.String),
            ctx.t("staff_col_to"): history["valid_to"]
            .cast(pl.String)
            .fill_null(ctx.t("staff_current")),
        },
        schema_overrides={outlet_column: pl.String},
    )
    linked = can_open("outlet", ctx.scope)
    if not linked:
        frame = frame.with_columns(pl.Series(outlet_column, history["outlet_code"]))
    widgets.table(
        frame,
        "staff-assignments",
        ctx.lang,
        column_config={
            outlet_column: st.column_config.LinkColumn(display_text=r"[?&]outlet=([^&]*)")
        }
        if linked
        else {},
    )


def sees_pay_of(ctx: PageContext, staff_id: str) -> bool:
    """Whether the viewer may see this person's pay: with pay, or their own."""
    own = ctx.can(Permission.OWN_PAY) and staff_id == ctx.scope.staff_id
    return ctx.can(Permission.PAY) or own


def payout_line(ctx: PageContext, staff_id: str) -> None:
    """The person's line of the quarter's payout: stars per month, coefficient, money."""
    if not sees_pay_of(ctx, staff_id):
        return
    quarter = quarter_of(star_month(ctx))
    st.subheader(ctx.t("staff_payout_title", quarter=quarter))
    try:
        table, sources = data.fetch(quarter_payout, quarter=quarter, staff_id=staff_id)
    except BrokenSeal as broken:
        st.error(ctx.t("stars_payout_refused", why=str(broken)))
        return
    if table.is_empty():
        st.info(ctx.t("staff_payout_none", quarter=quarter))
        return
    row = table.row(0, named=True)
    months = quarter_months(quarter)
    stars_cols = st.columns(len(months) + 1)
    for i, (column, month) in enumerate(zip(stars_cols, months, strict=False), start=1):
        value = row.get(f"stars_m{i}")
        column.metric(f"{month} ★", "—" if value is None else stars_text(value), border=True)
    stars_cols[-1].metric(
        ctx.t("stars_payout_col_average_stars"),
        "—" if row["average_stars"] is None else f"{row['average_stars']:.2f}",
        border=True,
    )
    money = st.columns(3)
    for column, key in zip(money, ("gross", "penalties", "net"), strict=True):
        column.metric(
            ctx.t(f"stars_payout_col_{key}"),
            format_number(row[key], "CNY", ctx.lang),
            border=True,
        )
    st.caption(ctx.t("stars_payout_sources", sources=sources_text(sources, ctx.lang)))


def complaints(ctx: PageContext, staff_id: str) -> None:
    """Complaints naming the person in the period, and their penalty entries."""
    st.subheader(ctx.t("staff_complaints_title"))
    listed = data.fetch(staff_complaints, **ctx.kpi_args(staff_id=staff_id))
    frame, _ = complaint_table(listed, ctx.lang, fines=sees_pay_of(ctx, staff_id))
    widgets.table(
        frame,
        "staff-complaints",
        ctx.lang,
        column_config={ctx.t("outlet_col_fine"): st.column_config.NumberColumn(format=MONEY)},
    )
    st.subheader(ctx.t("staff_penalties_title"))
    register = data.fetch(penalties, staff_id=staff_id, **ctx.kpi_args())
    frame = pl.DataFrame(
        {
            ctx.t("stars_col_received"): register["received_at"],
            ctx.t("stars_col_complaint"): register["complaint_id"],
            ctx.t("stars_col_outlet"): register["outlet_code"],
            ctx.t("stars_col_category"): [category_text(c, ctx.lang) for c in register["category"]],
            ctx.t("stars_col_severity"): [severity_text(s, ctx.lang) for s in register["severity"]],
            ctx.t("stars_col_penalty"): [ctx.t(f"stars_penalty_{p}") for p in register["penalty"]],
            ctx.t("stars_col_fine"): register["penalty_amount"],
        }
    )
    if not sees_pay_of(ctx, staff_id):
        frame = frame.drop(ctx.t("stars_col_fine"))
    widgets.table(
        frame,
        "staff-penalties",
        ctx.lang,
        column_config={ctx.t("stars_col_fine"): st.column_config.NumberColumn(format=MONEY)},
    )


def render(ctx: PageContext) -> None:
    """Build the page."""
    person = pick_staff(ctx)
    if person is None:
        return
    history = profile(ctx, person)
    stars(ctx, person["staff_id"])
    payout_line(ctx, person["staff_id"])
    peers(ctx, person)
    trends(ctx, person["staff_id"])
    assignments(ctx, history)
    complaints(ctx, person["staff_id"])


run_page(lambda scope: "nav_my_card" if scope.outlets == frozenset() else "nav_staff", render)
