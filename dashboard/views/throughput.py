"""Throughput: how many customers came, when, where and how; and were enough windows open.

Flow by period, channel, business type, outlet and hour; the weekday x hour pattern of
demand; and, for one outlet, the counter windows the queue needed (Erlang C) against the
windows the roster opened, hour by hour, so under- and over-staffed hours stand out.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, widgets
from dashboard.figures.throughput import (
    PERIOD_FORMAT,
    STATUS_COLOURS,
    channel_figure,
    day_figure,
    demand_heatmap,
    flow_figure,
    gap_heatmap,
    hour_bars,
    label,
    open_slots,
    outlet_bars,
    self_service_figure,
    staffing_outlet_bars,
    status_counts,
    type_bars,
    weekday_name,
)
from dashboard.i18n import kpi_label
from dashboard.navigation import link, open_clicked_outlet
from dashboard.page import PageContext, run_page
from warehouse.coverage import outlets
from warehouse.headline import headline
from warehouse.kpi import demand_profile, service_summary, target_wait_s
from warehouse.settings import load_config
from warehouse.staffing import staffing_plans

OUTLET_KEY, WEEKDAY_KEY = "throughput_outlet", "throughput_weekday"


def grain(ctx: PageContext) -> str:
    """The time step of the flow charts: days for a month, weeks for a quarter, else months."""
    cfg = load_config("throughput")["grain"]
    days = (ctx.selection.end - ctx.selection.start).days
    if days <= int(cfg["day_max_days"]):
        return "day"
    return "week" if days <= int(cfg["week_max_days"]) else "month"


def _flow(ctx: PageContext, step: str, target: float | None) -> None:
    """Arrivals and served over time, the self-service share, channels and hours."""
    cfg = load_config("throughput")
    st.subheader(ctx.t("throughput_flow_title"))
    timeline = data.fetch(service_summary, **ctx.kpi_args(), by=(step,))
    left, right = st.columns(2)
    with left:
        widgets.chart(flow_figure(timeline, step, ctx.lang), "throughput-flow")
    with right:
        widgets.chart(
            self_service_figure(timeline, step, ctx.lang, target), "throughput-self-service"
        )
    channels = data.fetch(service_summary, **ctx.kpi_args(), by=(step, "channel"))
    hours = data.fetch(service_summary, **ctx.kpi_args(), by=("hour",))
    left, right = st.columns(2)
    with left:
        figure = channel_figure(channels, step, ctx.lang, order=cfg["channels"])
        widgets.chart(figure, "throughput-channels")
    with right:
        widgets.chart(hour_bars(hours, ctx.lang), "throughput-hours")
    with st.expander(ctx.t("throughput_table_flow")):
        table = timeline.select(
            pl.col(step).dt.strftime(PERIOD_FORMAT[step]),
            "arrivals",
            "counter_arrivals",
            "served",
            "abandoned",
            "self_service_share",
        )
        widgets.table(
            table,
            "throughput-flow-table",
            ctx.lang,
            column_config={**_flow_columns(ctx), step: ctx.t("throughput_col_period")},
        )


def _flow_columns(ctx: PageContext) -> dict:
    """Column headers and formats of the flow counts and shares, shared by the tables."""
    config = {}
    for name in ("arrivals", "counter_arrivals", "served", "abandoned"):
        config[name] = st.column_config.NumberColumn(kpi_label(name, ctx.lang), format="localized")
    config["self_service_share"] = st.column_config.NumberColumn(
        kpi_label("self_service_share", ctx.lang), format="percent"
    )
    return config


def _mix(ctx: PageContext, by_outlet: pl.DataFrame) -> None:
    """Business types and outlets side by side; the outlet bars open the outlet's page."""
    types = data.fetch(service_summary, **ctx.kpi_args(), by=("business_type",))
    left, right = st.columns(2)
    with left:
        widgets.chart(type_bars(types, ctx.lang), "throughput-types")
    with right:
        open_clicked_outlet(
            widgets.chart(outlet_bars(by_outlet, ctx.lang), "throughput-outlets", clickable=True)
        )
        st.caption(ctx.t("throughput_outlet_caption"))
    st.markdown(f"**{ctx.t('throughput_table_outlets')}**")
    table = by_outlet.select(
        "outlet_code",
        "outlet_name",
        "arrivals",
        "counter_arrivals",
        self_service_arrivals=pl.col("arrivals") - pl.col("counter_arrivals"),
        served=pl.col("served"),
        abandoned=pl.col("abandoned"),
        self_service_share=pl.col("self_service_share"),
        # Links are made here, in the script's thread: they read the page's URL.
        page=pl.Series([link("outlet", outlet=code) for code in by_outlet["outlet_code"]]),
    ).sort("arrivals", descending=True)
    columns = {
        **_flow_columns(ctx),
        "outlet_code": ctx.t("throughput_col_outlet"),
        "outlet_name": ctx.t("throughput_col_name"),
        "self_service_arrivals": st.column_config.NumberColumn(
            ctx.t("throughput_col_self_service_arrivals"), format="localized"
        ),
        "page": st.column_config.LinkColumn(
            ctx.t("throughput_col_link"), display_text=ctx.t("open_outlet")
        ),
    }
    widgets.table(table, "throughput-outlet-table", ctx.lang, column_config=columns)


def _heatmap(ctx: PageContext) -> None:
    """When customers come: average arrivals per weekday and hour."""
    st.subheader(ctx.t("throughput_when_title"))
    profile = data.fetch(demand_profile, **ctx.kpi_args())
    widgets.chart(demand_heatmap(profile, ctx.lang), "throughput-heatmap")
    st.caption(ctx.t("throughput_heatmap_caption"))


def _plans(ctx: PageContext, codes: list[str]) -> dict[str, pl.DataFrame]:
    """The staffing plan of every outlet in scope, computed for all of them at once."""
    every = data.fetch(staffing_plans, **ctx.kpi_args())
    return {code: every.filter(pl.col("outlet_code") == code).drop("outlet_code") for code in codes}


def _pick_outlet(ctx: PageContext, summary: pl.DataFrame) -> str:
    """The outlet whose plan is shown: picked, else ``?outlet=``, else the most under-staffed."""
    codes = summary["outlet_code"].to_list()
    labels = dict(zip(codes, summary["outlet_label"].to_list(), strict=True))
    if st.session_state.get(OUTLET_KEY) not in codes:
        wanted = st.query_params.get("outlet")
        worst = summary.sort(["under", "outlet_code"], descending=[True, False])
        st.session_state[OUTLET_KEY] = wanted if wanted in codes else worst["outlet_code"][0]
    return st.selectbox(
        ctx.t("throughput_outlet_pick"), codes, format_func=labels.__getitem__, key=OUTLET_KEY
    )


def _pick_weekday(ctx: PageContext, plan: pl.DataFrame) -> int:
    """The weekday drawn hour by hour: picked, else the one with most under-staffed hours."""
    if st.session_state.get(WEEKDAY_KEY) not in range(7):
        under = open_slots(plan).filter(pl.col("status") == "under")["weekday"]
        counts = under.value_counts(sort=True) if under.len() else None
        st.session_state[WEEKDAY_KEY] = int(counts["weekday"][0]) if counts is not None else 0
    chosen = st.segmented_control(
        ctx.t("throughput_weekday_pick"),
        list(range(7)),
        format_func=lambda day: weekday_name(day, ctx.lang),
        key=WEEKDAY_KEY,
    )
    return 0 if chosen is None else int(chosen)


def _staffing(ctx: PageContext, by_outlet: pl.DataFrame) -> None:
    """Windows needed (Erlang C) against windows staffed, per weekday and hour."""
    st.subheader(ctx.t("throughput_staffing_title"))
    level = float(load_config("kpi")["staffing"]["service_level"])
    st.caption(
        ctx.t("throughput_staffing_intro", level=f"{level:.0%}", wait=f"{target_wait_s() / 60:g}")
    )
    codes = by_outlet["outlet_code"].to_list()
    plans = _plans(ctx, codes)
    counts = [status_counts(plans[code]) for code in codes]
    summary = by_outlet.select("outlet_code", "outlet_label").with_columns(
        under=pl.Series([c["under"] for c in counts], dtype=pl.Int64),
        over=pl.Series([c["over"] for c in counts], dtype=pl.Int64),
    )
    if summary.height > 1:
        widgets.chart(staffing_outlet_bars(summary, ctx.lang), "throughput-staffing-outlets")
    code = _pick_outlet(ctx, summary)
    plan = plans[code]
    slots = open_slots(plan)
    if slots.is_empty():
        st.info(ctx.t("throughput_no_staffing"))
        return
    mine = status_counts(plan)
    help_text = ctx.t("throughput_hours_help")
    cards = st.columns(4)
    for column, (key, value) in zip(
        cards,
        (
            ("throughput_under_hours", mine["under"]),
            ("throughput_over_hours", mine["over"]),
            ("throughput_ok_hours", mine["ok"]),
            ("throughput_peak_needed", int(slots["windows_needed"].max())),
        ),
        strict=True,
    ):
        column.metric(ctx.t(key), f"{value:,}", help=help_text, border=True)
    widgets.chart(gap_heatmap(plan, ctx.lang), "throughput-gap")
    weekday = _pick_weekday(ctx, plan)
    widgets.chart(day_figure(plan, weekday, ctx.lang), "throughput-day")
    _plan_table(ctx, slots, code)


def _plan_table(ctx: PageContext, slots: pl.DataFrame, code: str) -> None:
    """The plan hour by hour, with its downloads."""
    st.markdown(f"**{ctx.t('throughput_table_plan')}**")
    table = slots.select(
        weekday=pl.col("weekday").map_elements(
            lambda day: weekday_name(day, ctx.lang), return_dtype=pl.String
        ),
        hour="hour",
        status="status",
        windows_needed="windows_needed",
        windows_staffed="windows_staffed",
        gap="gap",
        arrivals_per_hour="arrivals_per_hour",
        mean_service_min=pl.col("mean_service_s") / 60,
        offered_load="offered_load",
    )
    number = st.column_config.NumberColumn
    columns = {
        "weekday": st.column_config.TextColumn(ctx.t("throughput_col_weekday"), width="small"),
        "hour": number(ctx.t("throughput_col_hour"), format="%d:00", width="small"),
        "arrivals_per_hour": number(ctx.t("throughput_col_arrivals_per_hour"), format="%.1f"),
        "mean_service_min": number(ctx.t("throughput_col_service_min"), format="%.1f"),
        "offered_load": number(ctx.t("throughput_col_load"), format="%.2f"),
        "windows_needed": number(ctx.t("throughput_windows_needed"), format="%d"),
        "windows_staffed": number(ctx.t("throughput_windows_staffed"), format="%.2f"),
        "gap": number(ctx.t("throughput_col_gap"), format="%+.2f"),
        "status": st.column_config.MultiselectColumn(
            ctx.t("throughput_col_status"),
            options=list(STATUS_COLOURS),
            color=list(STATUS_COLOURS.values()),
            format_func=lambda status: label("status", status, ctx.lang),
        ),
    }
    widgets.table(table, f"throughput-plan-{code}", ctx.lang, column_config=columns)


def render(ctx: PageContext) -> None:
    """Build the page."""
    names = data.fetch(outlets).select(
        "outlet_code",
        "outlet_name",
        outlet_label=pl.concat_str([pl.col("outlet_code"), pl.col("outlet_name")], separator=" "),
    )
    by_outlet = data.fetch(service_summary, **ctx.kpi_args(), by=("outlet",))
    by_outlet = by_outlet.join(names, on="outlet_code", how="left").sort("outlet_code")
    if by_outlet.is_empty() or not by_outlet["arrivals"].sum():
        st.info(ctx.t("no_data"))
        return
    cards = data.fetch(headline, **ctx.kpi_args(kpis=tuple(load_config("throughput")["cards"])))
    widgets.kpi_cards(rag=False, lang=ctx.lang, rows=cards)
    goals = dict(zip(cards["kpi"].to_list(), cards["target"].to_list(), strict=True))
    _flow(ctx, grain(ctx), goals.get("self_service_share"))
    _mix(ctx, by_outlet)
    _heatmap(ctx)
    _staffing(ctx, by_outlet)


run_page("nav_throughput", render)
