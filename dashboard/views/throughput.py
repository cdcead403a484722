"""Throughput: how many customers came, when, where and how; and were enough servers there.

Flow by period, channel, business type, outlet and hour; the weekday x hour pattern of
demand; and, for one outlet and one assisted channel (config/kpi.yaml channels.assisted),
the servers its queue needed (Erlang C) hour by hour. For the counter they are windows,
set against the windows the roster opened, so under- and over-staffed hours stand out;
for the phone queue they are agents, whom the roster does not record, so the page shows
the need alone and says why.
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
    first_weekday,
    flow_figure,
    gap_heatmap,
    hour_bars,
    label,
    needed_heatmap,
    needed_hours,
    open_slots,
    outlet_bars,
    self_service_figure,
    staffing_known,
    staffing_outlet_bars,
    status_counts,
    type_bars,
    weekday_name,
)
from dashboard.i18n import code_label, kpi_label
from dashboard.navigation import link, open_clicked_outlet
from dashboard.page import PageContext, run_page
from warehouse.coverage import outlets
from warehouse.headline import headline
from warehouse.kpi import assisted_channels, demand_profile, service_summary, target_wait_s
from warehouse.settings import load_config
from warehouse.staffing import staffing_plans

OUTLET_KEY, WEEKDAY_KEY = "throughput_outlet", "throughput_weekday"
CHANNEL_KEY = "throughput_channel"


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
            "assisted_arrivals",
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
    for name in ("arrivals", "assisted_arrivals", "self_service_arrivals", "served", "abandoned"):
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
        "assisted_arrivals",
        "self_service_arrivals",
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


def _plans(ctx: PageContext, channel: str, codes: list[str]) -> dict[str, pl.DataFrame]:
    """The channel's staffing plan of every outlet in scope, computed for all at once."""
    every = data.fetch(staffing_plans, **ctx.kpi_args(), channel=channel)
    return {code: every.filter(pl.col("outlet_code") == code).drop("outlet_code") for code in codes}


def _pick_channel(ctx: PageContext) -> str:
    """The assisted channel whose queue is planned: picked, else the first with customers.

    The choice is offered only when more than one assisted channel had customers in
    scope; the counter comes first (configuration order), so a county without a phone
    queue sees the page as before.
    """
    configured = assisted_channels()
    flow = data.fetch(service_summary, **ctx.kpi_args(), by=("channel",))
    busy = set(flow.filter(pl.col("assisted_arrivals") > 0)["channel"].to_list())
    present = [c for c in configured if c in busy] or [configured[0]]
    if st.session_state.get(CHANNEL_KEY) not in present:
        st.session_state[CHANNEL_KEY] = present[0]
    if len(present) == 1:
        return present[0]
    chosen = st.segmented_control(
        ctx.t("throughput_channel_pick"),
        present,
        format_func=lambda channel: code_label("channel", channel, ctx.lang),
        key=CHANNEL_KEY,
    )
    return present[0] if chosen is None else str(chosen)


def _unit(channel: str) -> str:
    """What the servers of a channel's queue are called on the page: windows, agents."""
    return load_config("throughput")["staffing_positions"].get(channel, "agents")


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
    """The weekday drawn hour by hour: picked, else the one the plan most draws the eye to."""
    if st.session_state.get(WEEKDAY_KEY) not in range(7):
        st.session_state[WEEKDAY_KEY] = first_weekday(plan)
    chosen = st.segmented_control(
        ctx.t("throughput_weekday_pick"),
        list(range(7)),
        format_func=lambda day: weekday_name(day, ctx.lang),
        key=WEEKDAY_KEY,
    )
    return 0 if chosen is None else int(chosen)


def _staffing(ctx: PageContext, by_outlet: pl.DataFrame) -> None:
    """Servers needed (Erlang C) against servers staffed, per weekday and hour.

    One assisted channel at a time: windows at the counter, agents on the phone queue.
    """
    channel = _pick_channel(ctx)
    unit = _unit(channel)
    st.subheader(ctx.t(f"throughput_staffing_title_{unit}"))
    level = float(load_config("kpi")["staffing"]["service_level"])
    st.caption(
        ctx.t(
            f"throughput_staffing_intro_{unit}",
            level=f"{level:.0%}",
            wait=f"{target_wait_s() / 60:g}",
            channel=code_label("channel", channel, ctx.lang),
        )
    )
    every = by_outlet["outlet_code"].to_list()
    plans = _plans(ctx, channel, every)
    # Outlets whose queue on this channel had customers or open windows; all when none did.
    codes = [code for code in every if not open_slots(plans[code]).is_empty()] or every
    counts = [status_counts(plans[code]) for code in codes]
    summary = (
        by_outlet.filter(pl.col("outlet_code").is_in(codes))
        .select("outlet_code", "outlet_label")
        .with_columns(
            under=pl.Series([c["under"] for c in counts], dtype=pl.Int64),
            over=pl.Series([c["over"] for c in counts], dtype=pl.Int64),
        )
    )
    known = any(staffing_known(plans[code]) for code in codes)
    if known and summary.height > 1:
        widgets.chart(staffing_outlet_bars(summary, ctx.lang), "throughput-staffing-outlets")
    code = _pick_outlet(ctx, summary)
    plan = plans[code]
    slots = open_slots(plan)
    if slots.is_empty():
        st.info(ctx.t(f"throughput_no_staffing_{unit}"))
        return
    if staffing_known(plan):
        _staffed_cards(ctx, plan, slots)
        widgets.chart(gap_heatmap(plan, ctx.lang), "throughput-gap")
    else:
        _need_cards(ctx, plan, slots, unit)
        widgets.chart(needed_heatmap(plan, ctx.lang, unit), "throughput-needed")
    weekday = _pick_weekday(ctx, plan)
    widgets.chart(day_figure(plan, weekday, ctx.lang, unit), "throughput-day")
    _plan_table(ctx, slots, code, channel, unit)


def _staffed_cards(ctx: PageContext, plan: pl.DataFrame, slots: pl.DataFrame) -> None:
    """Hours under- and over-staffed, about right, and the peak need (counter windows)."""
    mine = status_counts(plan)
    help_text = ctx.t("throughput_hours_help")
    cards = st.columns(4)
    for column, (key, value) in zip(
        cards,
        (
            ("throughput_under_hours", mine["under"]),
            ("throughput_over_hours", mine["over"]),
            ("throughput_ok_hours", mine["ok"]),
            ("throughput_peak_needed_windows", int(slots["windows_needed"].max())),
        ),
        strict=True,
    ):
        column.metric(ctx.t(key), f"{value:,}", help=help_text, border=True)


def _need_cards(ctx: PageContext, plan: pl.DataFrame, slots: pl.DataFrame, unit: str) -> None:
    """The peak need and the server-hours of a typical week, for a queue with no roster."""
    help_text = ctx.t("throughput_need_help")
    cards = st.columns(3)
    for column, (key, value) in zip(
        cards,
        (
            (f"throughput_peak_needed_{unit}", int(slots["windows_needed"].max())),
            (f"throughput_needed_hours_{unit}", needed_hours(plan)),
            ("throughput_open_hours", slots.height),
        ),
        strict=True,
    ):
        column.metric(ctx.t(key), f"{value:,}", help=help_text, border=True)


def _plan_table(ctx: PageContext, slots: pl.DataFrame, code: str, channel: str, unit: str) -> None:
    """The plan hour by hour, with its downloads (no staffed columns where none is known)."""
    st.markdown(f"**{ctx.t('throughput_table_plan')}**")
    known = staffing_known(slots)
    table = slots.select(
        weekday=pl.col("weekday").map_elements(
            lambda day: weekday_name(day, ctx.lang), return_dtype=pl.String
        ),
        hour="hour",
        **({"status": "status"} if known else {}),
        windows_needed="windows_needed",
        **({"windows_staffed": "windows_staffed", "gap": "gap"} if known else {}),
        arrivals_per_hour="arrivals_per_hour",
        mean_service_min=pl.col("mean_service_s") / 60,
        offered_load="offered_load",
    )
    number = st.column_config.NumberColumn
    columns = {
        "weekday": st.column_config.TextColumn(ctx.t("throughput_col_weekday"), width="small"),
        "hour": number(ctx.t("throughput_col_hour"), format="%d:00", width="small"),
        "arrivals_per_hour": number(
            ctx.t(
                "throughput_col_arrivals_per_hour",
                channel=code_label("channel", channel, ctx.lang),
            ),
            format="%.1f",
        ),
        "mean_service_min": number(ctx.t("throughput_col_service_min"), format="%.1f"),
        "offered_load": number(ctx.t("throughput_col_load"), format="%.2f"),
        "windows_needed": number(ctx.t(f"throughput_{unit}_needed"), format="%d"),
        "windows_staffed": number(ctx.t("throughput_windows_staffed"), format="%.2f"),
        "gap": number(ctx.t("throughput_col_gap"), format="%+.2f"),
        "status": st.column_config.MultiselectColumn(
            ctx.t("throughput_col_status"),
            options=list(STATUS_COLOURS),
            color=list(STATUS_COLOURS.values()),
            format_func=lambda status: label("status", status, ctx.lang),
        ),
    }
    widgets.table(table, f"throughput-plan-{channel}-{code}", ctx.lang, column_config=columns)


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
    _flow(ctx, ctx.selection.grain(), goals.get("self_service_share"))
    _mix(ctx, by_outlet)
    _heatmap(ctx)
    _staffing(ctx, by_outlet)


run_page("nav_throughput", render)
