"""One outlet: its KPIs and trends, its people, its complaints, its stars.

Reached with ``?outlet=CODE`` from every outlet table and chart; without one (or with
one outside the selected outlets) the picker starts at the first outlet in view.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import data, widgets
from dashboard.figures.overview import benchmark_table, trend_figure
from dashboard.figures.profiles import complaint_table
from dashboard.figures.stars import (
    advice_text,
    group_text,
    source_text,
    stars_text,
)
from dashboard.i18n import format_kpi, kpi_label, plain
from dashboard.navigation import link
from dashboard.page import PageContext, run_page
from dashboard.subject import pick, star_card, star_month
from warehouse.benchmark import outlet_benchmark
from warehouse.coverage import coverage, outlets
from warehouse.headline import headline
from warehouse.kpi import complaint_summary, service_summary
from warehouse.periods import months_between, trend_start
from warehouse.profiles import outlet_complaints, outlet_profile, outlet_staff, scope_outlets
from warehouse.scope import Permission
from warehouse.settings import load_config
from warehouse.stars.board import star_history, subject_breakdown


def pick_outlet(ctx: PageContext) -> str | None:
    """The outlet to show: ``?outlet=`` when in view, else the picker's (first in view)."""
    names = data.fetch(outlets)
    scope = data.fetch(scope_outlets, **ctx.selection.kpi_filters())
    names = names if scope is None else names.filter(pl.col("outlet_code").is_in(scope))
    labels = dict(zip(names["outlet_code"], names["outlet_name"], strict=True))
    codes = list(labels)
    first = codes[0] if codes else ""
    return pick(ctx, "outlet", codes, label=lambda code: f"{code} {labels[code]}", default=first)


def profile_line(ctx: PageContext, code: str) -> None:
    """Who the outlet is: name, township, type, windows, devices, opened."""
    row = data.fetch(outlet_profile, outlet=code).row(0, named=True)
    st.subheader(plain(f"{row['outlet_code']} {row['outlet_name']}"))
    st.caption(
        ctx.t(
            "outlet_profile",
            township=row["township"],
            kind=group_text("outlets", row["outlet_type"], ctx.lang),
            windows=row["counter_windows"],
            devices=row["self_service_devices"],
            opened=row["opened_on"],
        )
    )


def cards(ctx: PageContext, code: str) -> bool:
    """The overview's headline KPIs for this outlet; False when it had no events."""
    total = data.fetch(service_summary, **ctx.kpi_args(outlets=(code,)))
    if not total["arrivals"][0]:
        st.info(ctx.t("no_data"))
        return False
    kpis = tuple(load_config("dashboard")["overview"]["headline"])
    widgets.kpi_cards(data.fetch(headline, **ctx.kpi_args(kpis=kpis, outlets=(code,))), ctx.lang)
    return True


def standing(ctx: PageContext, code: str) -> None:
    """Where the outlet stands in the county on the headline KPIs (rank, county, median)."""
    kpis = tuple(load_config("dashboard")["overview"]["headline"])
    found = data.fetch(outlet_benchmark, **ctx.kpi_args(kpis=kpis, outlets=(code,)))
    st.subheader(ctx.t("benchmark_title"))
    table = benchmark_table(found, ctx.lang, {}).drop(ctx.t("benchmark_col_outlet"))
    widgets.table(table, f"outlet-{code}-benchmark", ctx.lang)
    st.caption(ctx.t("benchmark_caption"))


def trends(ctx: PageContext, code: str) -> None:
    """The overview's trend KPIs, month by month, for this outlet."""
    config = load_config("dashboard")["overview"]
    months = int(config["trend_months"])
    st.subheader(ctx.t("trend_title", n=months))
    args = ctx.kpi_args(start=trend_start(ctx.selection.last_day, months), outlets=(code,))
    monthly = data.fetch(service_summary, **args, by=("month",))
    columns = st.columns(2)
    for i, name in enumerate(config["trend"]):
        with columns[i % 2]:
            widgets.chart(trend_figure(monthly, name, ctx.lang), key=f"outlet-trend-{name}")


def stars(ctx: PageContext, code: str) -> None:
    """Stars month by month, and this month's breakdown with what would lift a star."""
    month = star_month(ctx)
    st.subheader(ctx.t("outlet_stars_title", month=month))
    first = data.fetch(coverage).first_day
    held = months_between(first, dt.date.fromisoformat(f"{month}-01"))
    months = tuple(held[-int(load_config("stars_page")["history_months"]) :])
    filters = ctx.selection.kpi_filters()
    history = data.fetch(star_history, subject="outlets", subject_id=code, months=months, **filters)
    found = data.fetch(
        subject_breakdown, month=month, subject="outlets", subject_id=code, **filters
    )
    if found is None:
        st.info(ctx.t("stars_not_in_view"))
        return
    st.markdown(
        f"**{stars_text(found.stars)}** · {source_text(found.source, ctx.lang)} · "
        f"{advice_text(found, ctx.lang)} · [{ctx.t('outlet_to_stars')}]({link('stars')})"
    )
    star_card(ctx, history, found, month=month, key="outlet")


def people(ctx: PageContext, code: str) -> None:
    """The outlet's people in the period with their KPIs here, each linking to their page."""
    st.subheader(ctx.t("outlet_staff_title"))
    kpis = tuple(load_config("stars_page")["outlet"]["staff_kpis"])
    staff = data.fetch(
        outlet_staff, outlet=code, start=ctx.selection.start, end=ctx.selection.end, kpis=kpis
    )
    id_column = ctx.t("stars_col_staff_id")
    frame = pl.DataFrame(
        {
            id_column: [link("staff", staff=s) for s in staff["staff_id"]],
            ctx.t("stars_col_staff_name"): staff["staff_name"],
            ctx.t("stars_col_staff_group"): [
                group_text("staff", p, ctx.lang) for p in staff["position"]
            ],
            **{
                kpi_label(k, ctx.lang): [format_kpi(k, v, ctx.lang) for v in staff[k]] for k in kpis
            },
            kpi_label("complaints", ctx.lang): staff["complaints"],
        },
        schema_overrides={id_column: pl.String},
    )
    widgets.table(
        frame,
        f"outlet-{code}-staff",
        ctx.lang,
        column_config={id_column: st.column_config.LinkColumn(display_text=r"[?&]staff=([^&]*)")},
    )
    st.caption(ctx.t("outlet_staff_caption"))


def complaints(ctx: PageContext, code: str) -> None:
    """Complaint KPIs of the outlet and the list of its complaints in the period."""
    st.subheader(ctx.t("outlet_complaints_title"))
    kpis = load_config("stars_page")["outlet"]["complaint_kpis"]
    summary = data.fetch(complaint_summary, **ctx.kpi_args(outlets=(code,)))
    row = summary.row(0, named=True) if summary.height else {}
    for column, name in zip(st.columns(len(kpis)), kpis, strict=True):
        column.metric(
            kpi_label(name, ctx.lang), format_kpi(name, row.get(name), ctx.lang), border=True
        )
    listed = data.fetch(outlet_complaints, **ctx.kpi_args(outlet=code))
    frame, link_column = complaint_table(
        listed, ctx.lang, lambda s: link("staff", staff=s), fines=ctx.can(Permission.PAY)
    )
    widgets.table(
        frame,
        f"outlet-{code}-complaints",
        ctx.lang,
        column_config={
            link_column: st.column_config.LinkColumn(display_text=r"[?&]staff=([^&]*)"),
            ctx.t("outlet_col_fine"): st.column_config.NumberColumn(format="¥%,.2f"),
        },
    )


def render(ctx: PageContext) -> None:
    """Build the page."""
    code = pick_outlet(ctx)
    if code is None:
        return
    profile_line(ctx, code)
    if not cards(ctx, code):
        return
    standing(ctx, code)
    stars(ctx, code)
    trends(ctx, code)
    people(ctx, code)
    complaints(ctx, code)


run_page("nav_outlet", render)
