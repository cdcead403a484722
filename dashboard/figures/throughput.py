"""Throughput charts: customer flow over time, by channel, type, outlet and hour; staffing.

Pure builders (polars in, Plotly out). Assisted service (counter, phone: customers served
by a person) is the house blue and self-service a teal, on every chart, so the eye
follows one colour across the page; staffing uses the house meaning of colour: red
under-staffed, amber over-staffed, green about right. A queue whose servers the roster
does not record (phone agents) has no staffed side: its plan is drawn as the need alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from dashboard.figures.style import (
    AMBER,
    BAD,
    GOOD,
    NEUTRAL,
    SEQUENTIAL,
    empty_note,
    house_layout,
    reference_line,
)
from dashboard.i18n import code_label, translate

SELF_SERVICE = "#2a9d8f"
SERVED = "#0b3d91"
NEEDED = "#222222"
CHANNEL_COLOURS = {
    "counter": NEUTRAL,
    "atm": SELF_SERVICE,
    "cash_recycler": "#8ecae6",
    "pos": "#b5a3d9",
    "phone": "#f4a261",
    "online": "#90be6d",
    "mobile": "#e76f9a",
}
STATUS_COLOURS = {"under": BAD, "ok": GOOD, "over": AMBER}
STATUS_CODE = {"under": -1, "ok": 0, "over": 1}
TICK_FORMAT = {"day": "%m-%d", "week": "%m-%d", "month": "%Y-%m"}
PERIOD_FORMAT = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m"}  # in tables


def label(prefix: str, code: str, lang: str) -> str:
    """A code's label (``throughput_<prefix>_<code>``), or the code itself when unknown.

    Channels, business types and weekdays are closed lists, but a new code in an export
    must still show up rather than break the page.
    """
    try:
        return translate(f"throughput_{prefix}_{code}", lang)
    except KeyError:
        return str(code)


def weekday_name(weekday: int, lang: str) -> str:
    """Monday ... Sunday (周一 ... 周日) for 0 ... 6."""
    return code_label("weekday", weekday, lang)


def open_slots(plan: pl.DataFrame) -> pl.DataFrame:
    """The weekday-hours of a staffing plan with customers or open windows."""
    staffed = pl.col("windows_staffed").fill_null(0.0) > 0
    return plan.filter((pl.col("windows_needed") > 0) | staffed)


def staffing_known(plan: pl.DataFrame) -> bool:
    """Whether the plan has a staffed side (the roster records this queue's servers).

    ``staffing_plan`` leaves windows_staffed, gap and status null for a queue the roster
    does not cover (phone agents); such a plan is drawn as the need alone.
    """
    return plan.height > 0 and plan["windows_staffed"].is_not_null().any()


def status_counts(plan: pl.DataFrame) -> dict[str, int]:
    """Weekday-hours per status (under / over / ok) among the open slots of a plan."""
    counts = dict.fromkeys(STATUS_CODE, 0)
    for status, n in open_slots(plan)["status"].value_counts().iter_rows():
        if status is not None:  # no status where nothing staffed is known
            counts[status] = int(n)
    return counts


def first_weekday(plan: pl.DataFrame) -> int:
    """The weekday to draw first: the one with most under-staffed hours (Monday if none).

    Without a staffed side (phone agents), the weekday needing the most server-hours.
    """
    if staffing_known(plan):
        under = open_slots(plan).filter(pl.col("status") == "under")["weekday"]
        return int(under.value_counts(sort=True)["weekday"][0]) if under.len() else 0
    need = plan.group_by("weekday").agg(pl.col("windows_needed").sum())
    if need.is_empty():
        return 0
    return int(need.sort(["windows_needed", "weekday"], descending=[True, False])["weekday"][0])


def needed_hours(plan: pl.DataFrame) -> int:
    """Server-hours a typical week of the plan needs: the sum of the hours' needs."""
    return int(plan["windows_needed"].sum())


def _hour_range(hours: Sequence[int]) -> list[int]:
    """Every hour from the first to the last one given, so a quiet lunch hour still shows."""
    return list(range(min(hours), max(hours) + 1)) if hours else []


def flow_figure(frame: pl.DataFrame, grain: str, lang: str) -> go.Figure:
    """Arrivals (bars) and customers served (line) per day, week or month.

    ``frame`` has the column ``grain`` (a date) plus ``arrivals`` and ``served``.
    """
    x = frame[grain].to_list()
    fig = go.Figure(
        [
            go.Bar(
                x=x,
                y=frame["arrivals"].to_list(),
                name=translate("throughput_arrivals", lang),
                marker_color="#9ecae1",
            ),
            go.Scatter(
                x=x,
                y=frame["served"].to_list(),
                name=translate("throughput_served", lang),
                mode="lines+markers",
                line={"color": SERVED, "width": 2},
            ),
        ]
    )
    house_layout(fig, translate(f"throughput_flow_{grain}", lang), height="chart")
    fig.update_layout(
        legend={"orientation": "h", "y": -0.15},
        xaxis={"tickformat": TICK_FORMAT[grain]},
        yaxis={"tickformat": ",.0f", "rangemode": "tozero"},
    )
    return fig


def self_service_figure(
    frame: pl.DataFrame, grain: str, lang: str, target: float | None = None
) -> go.Figure:
    """The share of arrivals that used a self-service channel, per period, with its target."""
    fig = go.Figure(
        go.Scatter(
            x=frame[grain].to_list(),
            y=frame["self_service_share"].to_list(),
            mode="lines+markers",
            line={"color": SELF_SERVICE, "width": 3},
            name=translate("throughput_self_service_title", lang),
        )
    )
    if target is not None:
        reference_line(fig, target, translate("target", lang), position="bottom right")
    house_layout(fig, translate("throughput_self_service_title", lang), height="chart")
    fig.update_layout(
        showlegend=False,
        xaxis={"tickformat": TICK_FORMAT[grain]},
        yaxis={"tickformat": ".0%", "rangemode": "tozero"},
    )
    return fig


def channel_figure(
    frame: pl.DataFrame, grain: str, lang: str, order: Sequence[str] = ()
) -> go.Figure:
    """Arrivals per period stacked by channel (counter first, then ``order``, then others).

    ``frame`` has ``grain``, ``channel`` and ``arrivals`` (one row per period and channel).
    """
    present = frame["channel"].unique().to_list()
    channels = [c for c in order if c in present] + sorted(c for c in present if c not in order)
    traces = []
    for channel in channels:
        part = frame.filter(pl.col("channel") == channel).sort(grain)
        traces.append(
            go.Bar(
                x=part[grain].to_list(),
                y=part["arrivals"].to_list(),
                name=code_label("channel", channel, lang),
                marker_color=CHANNEL_COLOURS.get(channel, "#bbbbbb"),
            )
        )
    fig = go.Figure(traces)
    house_layout(fig, translate("throughput_channel_title", lang), height="chart")
    fig.update_layout(
        barmode="stack",
        legend_traceorder="normal",
        legend={"orientation": "h", "y": -0.15},
        xaxis={"tickformat": TICK_FORMAT[grain]},
        yaxis={"tickformat": ",.0f"},
    )
    return fig


def _split_bars(
    labels: list[str], assisted: list[int], self_service: list[int], lang: str
) -> list[go.Bar]:
    """Two horizontal bar traces: assisted-service and self-service arrivals per label."""
    return [
        go.Bar(
            y=labels,
            x=assisted,
            name=translate("throughput_assisted", lang),
            orientation="h",
            marker_color=NEUTRAL,
        ),
        go.Bar(
            y=labels,
            x=self_service,
            name=translate("throughput_self_service", lang),
            orientation="h",
            marker_color=SELF_SERVICE,
        ),
    ]


def type_bars(frame: pl.DataFrame, lang: str) -> go.Figure:
    """Arrivals per business type, assisted and self-service stacked, busiest on top.

    ``frame`` has ``business_type``, ``arrivals``, ``assisted_arrivals`` and
    ``self_service_arrivals``.
    """
    data = frame.sort("arrivals", descending=True)
    labels = [label("type", t, lang) for t in data["business_type"].to_list()]
    return _ranked_split(data, labels, translate("throughput_type_title", lang), lang)


def outlet_bars(frame: pl.DataFrame, lang: str) -> go.Figure:
    """Arrivals per outlet, assisted and self-service stacked, busiest on top; clickable.

    ``frame`` has ``outlet_code``, ``outlet_label``, ``arrivals``, ``assisted_arrivals``,
    ``self_service_arrivals``. Every bar carries its outlet code, so a click can open the
    outlet's page.
    """
    data = frame.sort(["arrivals", "outlet_code"], descending=[True, False])
    title = translate("throughput_outlet_title", lang)
    return _ranked_split(
        data, data["outlet_label"].to_list(), title, lang, codes=data["outlet_code"].to_list()
    )


def _ranked_split(
    data: pl.DataFrame,
    labels: list[str],
    title: str,
    lang: str,
    *,
    codes: list[str] | None = None,
) -> go.Figure:
    """Horizontal bars in ``data``'s order, assisted and self-service arrivals stacked."""
    assisted = data["assisted_arrivals"].to_list()
    bars = _split_bars(labels, assisted, data["self_service_arrivals"].to_list(), lang)
    if codes is not None:
        for bar in bars:
            bar.customdata = codes
    fig = go.Figure(bars)
    house_layout(fig, title)
    fig.update_layout(
        barmode="stack",
        legend_traceorder="normal",
        height=max(300, 26 * data.height + 110),
        yaxis={"autorange": "reversed"},
        xaxis={"tickformat": ",.0f"},
        legend={"orientation": "h", "y": -0.12},
    )
    return fig


def hour_bars(frame: pl.DataFrame, lang: str) -> go.Figure:
    """Arrivals per hour of day over the period, assisted and self-service stacked.

    ``frame`` has ``hour``, ``arrivals``, ``assisted_arrivals``, ``self_service_arrivals``;
    hours from the first to the last with customers are shown.
    """
    busy = frame.filter(pl.col("arrivals") > 0)
    hours = _hour_range(busy["hour"].to_list())
    by_hour = {r["hour"]: r for r in busy.iter_rows(named=True)}

    def column(name: str) -> list[int]:
        return [by_hour[h][name] if h in by_hour else 0 for h in hours]

    fig = go.Figure(
        [
            go.Bar(
                x=hours,
                y=column("assisted_arrivals"),
                name=translate("throughput_assisted", lang),
                marker_color=NEUTRAL,
            ),
            go.Bar(
                x=hours,
                y=column("self_service_arrivals"),
                name=translate("throughput_self_service", lang),
                marker_color=SELF_SERVICE,
            ),
        ]
    )
    house_layout(fig, translate("throughput_hour_title", lang))
    fig.update_layout(
        barmode="stack",
        legend_traceorder="normal",
        xaxis={"title": translate("throughput_hour_axis", lang), "dtick": 1},
        yaxis={"tickformat": ",.0f"},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def _week_heatmap(
    cell: dict[tuple[int, int], float],
    hours: list[int],
    lang: str,
    *,
    missing: float | None,
    **trace: object,
) -> go.Figure:
    """A weekday x hour heatmap, Monday on top: ``cell`` maps (weekday, hour) to the value."""
    z = [[cell.get((day, h), missing) for h in hours] for day in range(7)]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=hours,
            y=[weekday_name(day, lang) for day in range(7)],
            colorscale=SEQUENTIAL,
            colorbar={"thickness": 12},
            **trace,
        )
    )
    fig.update_layout(
        xaxis={"title": translate("throughput_hour_axis", lang), "dtick": 1},
        yaxis={"autorange": "reversed"},
    )
    return fig


def demand_heatmap(frame: pl.DataFrame, lang: str) -> go.Figure:
    """Average arrivals per hour, Monday on top to Sunday, over the hours with customers.

    ``frame`` is ``demand_profile``'s: weekday, hour, arrivals, arrivals_per_hour.
    """
    busy = frame.filter(pl.col("arrivals") > 0)
    hours = _hour_range(busy["hour"].to_list())
    cell = {(r["weekday"], r["hour"]): r["arrivals_per_hour"] for r in frame.iter_rows(named=True)}
    fig = _week_heatmap(
        {slot: value or 0.0 for slot, value in cell.items()},
        hours,
        lang,
        missing=0.0,
        texttemplate="%{z:.0f}",
        hovertemplate="%{y} %{x}:00 · %{z:.1f}<extra></extra>",
        xgap=1,
        ygap=1,
    )
    house_layout(fig, translate("throughput_heatmap_title", lang), height="tall")
    if not hours:
        empty_note(fig, translate("no_rows", lang))
    return fig


def staffing_outlet_bars(frame: pl.DataFrame, lang: str) -> go.Figure:
    """Weekday-hours under- and over-staffed per outlet, most under-staffed on top.

    ``frame`` has ``outlet_label``, ``under`` and ``over`` (counts of weekday-hours).
    """
    data = frame.sort(["under", "over"], descending=True)
    fig = go.Figure(
        [
            go.Bar(
                y=data["outlet_label"].to_list(),
                x=data[status].to_list(),
                name=translate(f"throughput_status_{status}", lang),
                orientation="h",
                marker_color=STATUS_COLOURS[status],
            )
            for status in ("under", "over")
        ]
    )
    house_layout(fig, translate("throughput_staffing_outlets_title", lang))
    fig.update_layout(
        barmode="stack",
        legend_traceorder="normal",
        height=max(300, 26 * data.height + 110),
        yaxis={"autorange": "reversed"},
        legend={"orientation": "h", "y": -0.12},
    )
    return fig


def gap_heatmap(plan: pl.DataFrame, lang: str) -> go.Figure:
    """A week of one outlet: each weekday-hour coloured by staffing status, labelled by gap.

    ``plan`` is ``staffing_plan``'s output. Slots without customers or open windows stay
    blank; the legend names the three colours.
    """
    slots = open_slots(plan)
    hours = _hour_range(slots["hour"].to_list())
    cell = {(r["weekday"], r["hour"]): r for r in slots.iter_rows(named=True)}
    z, text, hover = [], [], []
    for day in range(7):
        z.append(
            [STATUS_CODE[cell[(day, h)]["status"]] if (day, h) in cell else None for h in hours]
        )
        text.append([_gap_text(cell[(day, h)]["gap"]) if (day, h) in cell else "" for h in hours])
        hover.append([_slot_hover(cell.get((day, h)), lang) for h in hours])
    scale = [
        [0.0, BAD],
        [1 / 3, BAD],
        [1 / 3, GOOD],
        [2 / 3, GOOD],
        [2 / 3, AMBER],
        [1.0, AMBER],
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=hours,
            y=[weekday_name(day, lang) for day in range(7)],
            zmin=-1.5,
            zmax=1.5,
            colorscale=scale,
            showscale=False,
            text=text,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{y} %{x}:00<br>%{customdata}<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    for status in ("under", "ok", "over"):  # legend entries for the three colours
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"color": STATUS_COLOURS[status], "size": 12, "symbol": "square"},
                name=translate(f"throughput_status_{status}", lang),
            )
        )
    house_layout(fig, translate("throughput_gap_title", lang), height="tall")
    fig.update_layout(
        xaxis={"title": translate("throughput_hour_axis", lang), "dtick": 1},
        yaxis={"autorange": "reversed"},
        legend={"orientation": "h", "y": -0.25},
        plot_bgcolor="#f4f4f4",
    )
    if not hours:
        empty_note(fig, translate("throughput_no_staffing_windows", lang))
    return fig


def _gap_text(gap: float) -> str:
    """A gap in windows, signed, without trailing zeros: -3, -0.25, +0.5."""
    return f"{gap:+.2f}".rstrip("0").rstrip(".")


def _slot_hover(row: dict | None, lang: str) -> str:
    """Hover line of one weekday-hour: windows needed and staffed."""
    if row is None:
        return ""
    return (
        f"{translate('throughput_windows_needed', lang)}: {row['windows_needed']}<br>"
        f"{translate('throughput_windows_staffed', lang)}: {row['windows_staffed']:.2f}"
    )


def needed_heatmap(plan: pl.DataFrame, lang: str, unit: str = "agents") -> go.Figure:
    """A week of one queue without a staffed side: servers needed per weekday-hour.

    ``plan`` is ``staffing_plan``'s output for a queue the roster does not cover (phone
    agents); slots without customers stay blank.
    """
    slots = open_slots(plan)
    hours = _hour_range(slots["hour"].to_list())
    cell = {(r["weekday"], r["hour"]): r["windows_needed"] for r in slots.iter_rows(named=True)}
    fig = _week_heatmap(
        cell,
        hours,
        lang,
        missing=None,  # a slot without customers stays blank
        zmin=0,  # the scale starts at no agent, so one agent is not drawn as "none"
        zmax=max([*cell.values(), 1]),
        texttemplate="%{z}",
        hovertemplate=(
            f"%{{y}} %{{x}}:00 · {translate(f'throughput_{unit}_needed', lang)}: %{{z}}"
            "<extra></extra>"
        ),
        xgap=2,
        ygap=2,
    )
    house_layout(fig, translate(f"throughput_needed_title_{unit}", lang), height="tall")
    fig.update_layout(plot_bgcolor="#f4f4f4")
    if not hours:
        empty_note(fig, translate(f"throughput_no_staffing_{unit}", lang))
    return fig


def day_figure(plan: pl.DataFrame, weekday: int, lang: str, unit: str = "windows") -> go.Figure:
    """One weekday of one queue: servers staffed (bars, coloured by status) and needed (line).

    The hours shown are the queue's open hours over the whole week, so two weekdays line
    up. ``unit`` names the servers (``windows`` at the counter, ``agents`` on the phone);
    a plan without a staffed side (null status) has the line alone.
    """
    hours = _hour_range(open_slots(plan)["hour"].to_list())
    day = {r["hour"]: r for r in plan.filter(pl.col("weekday") == weekday).iter_rows(named=True)}
    traces: list[go.BaseTraceType] = []
    if staffing_known(plan):
        staffed_name = translate(f"throughput_{unit}_staffed", lang)
        for status, colour in STATUS_COLOURS.items():
            shown = [h for h in hours if h in day and day[h]["status"] == status]
            if shown:
                traces.append(
                    go.Bar(
                        x=shown,
                        y=[day[h]["windows_staffed"] for h in shown],
                        name=f"{staffed_name} · {translate(f'throughput_status_{status}', lang)}",
                        marker_color=colour,
                        hovertemplate="%{x}:00 · %{y:.2f}<extra></extra>",
                    )
                )
    traces.append(
        go.Scatter(
            x=hours,
            y=[day[h]["windows_needed"] if h in day else 0 for h in hours],
            name=translate(f"throughput_{unit}_needed", lang),
            mode="lines+markers",
            line={"color": NEEDED, "width": 2, "shape": "hvh"},
            marker={"size": 7},
        )
    )
    fig = go.Figure(traces)
    title = translate(f"throughput_day_title_{unit}", lang, day=weekday_name(weekday, lang))
    house_layout(fig, title, height="tall")
    fig.update_layout(
        barmode="overlay",
        showlegend=True,
        xaxis={"title": translate("throughput_hour_axis", lang), "dtick": 1},
        yaxis={"title": translate(f"throughput_{unit}", lang), "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.25},
    )
    if not hours:
        empty_note(fig, translate(f"throughput_no_staffing_{unit}", lang))
    return fig
