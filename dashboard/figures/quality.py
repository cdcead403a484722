"""Service-quality charts: time distributions, KPIs over time, complaint Pareto and handling.

Pure builders (data in, figure out): the page passes frames from ``warehouse`` functions.
Times are stored in seconds and shown in minutes; shares are drawn as percentages.
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
    TARGET,
    axis_format,
    house_layout,
    minutes_scale,
    reference_line,
    unit_suffix,
)
from dashboard.i18n import code_label, format_number, kpi_label, translate
from warehouse.kpi import kpi

# One colour per line when a chart compares two KPIs (the first is the one with a target).
LINE_COLOURS = (NEUTRAL, AMBER)
MUTED = "#b8c4d6"  # bars that are not the point of the chart
DATE_FORMATS = {"day": "%m-%d", "week": "%m-%d", "month": "%Y-%m"}
BELOW = {"orientation": "h", "y": -0.22, "x": 0}  # legend under the plot


def _minutes(seconds: float) -> float:
    """Seconds as minutes, the unit people read waits in."""
    return seconds / 60


def _bin_label(start: float | None, end: float | None, unit: str, lang: str) -> str:
    """Hover label of a bin: "3–4 min", or "over 60 min" for the overflow bin."""
    suffix = translate(unit, lang)
    if end is None:
        return translate("quality_over", lang, value=f"{start:g}", unit=suffix)
    return f"{start:g}–{end:g} {suffix}"


def time_histogram(
    frame: pl.DataFrame,
    measure: str,
    lang: str,
    *,
    p50_s: float | None,
    p90_s: float | None,
    target_s: float | None = None,
) -> go.Figure:
    """Customers per bin of waiting or handling time, with median, p90 and target marked.

    ``frame`` is ``warehouse.distributions.wait_histogram`` output. Bars beyond the target
    wait are red: those customers miss the service level. The overflow bin (longer than
    the last bin) is drawn after the last bin, grey, labelled "over ..."; customers
    without a recorded time are not drawn.
    """
    bins = frame.filter(pl.col("bin_start_s").is_not_null())
    starts = [_minutes(v) for v in bins["bin_start_s"].to_list()]
    ends = [None if v is None else _minutes(v) for v in bins["bin_end_s"].to_list()]
    width = ends[0] - starts[0]
    target_min = None if target_s is None else _minutes(target_s)
    colours = [
        TARGET if e is None else BAD if target_min is not None and e > target_min else NEUTRAL
        for e in ends
    ]
    labels = [_bin_label(s, e, "quality_min", lang) for s, e in zip(starts, ends, strict=True)]
    shares = [v or 0.0 for v in bins["share"].to_list()]
    fig = go.Figure(
        go.Bar(
            x=[s + width / 2 for s in starts],
            y=bins["customers"].to_list(),
            showlegend=False,
            width=width * 0.92,
            marker_color=colours,
            customdata=list(zip(labels, shares, strict=True)),
            hovertemplate="%{customdata[0]}: %{y:,} (%{customdata[1]:.1%})<extra></extra>",
        )
    )
    top = max(bins["customers"].max() or 0, 1) * 1.05
    marks = (
        (p50_s, "quality_median", "dot", NEUTRAL),
        (p90_s, "quality_p90", "dash", BAD if target_s else NEUTRAL),
        (target_s, "quality_target_at", "solid", TARGET),
    )
    for seconds, key, dash, colour in marks:
        if seconds is not None:
            label = translate(key, lang, value=format_number(seconds, "s", lang))
            fig.add_trace(_marker_line(_minutes(seconds), top, label, dash, colour))
    minutes = translate("minutes", lang)
    house_layout(fig, f"{translate(f'quality_hist_{measure}', lang)} ({minutes})", height="tall")
    fig.update_layout(
        bargap=0,
        legend=BELOW,
        xaxis={"title": minutes, "rangemode": "tozero"},
        yaxis={"title": translate("quality_customers", lang), **count_axis(top)},
    )
    return fig


def _marker_line(x: float, top: float, label: str, dash: str, colour: str) -> go.Scatter:
    """A vertical line at ``x`` named in the legend (labels on the plot would collide)."""
    return go.Scatter(
        x=[x, x],
        y=[0, top],
        mode="lines",
        name=label,
        line={"color": colour, "dash": dash, "width": 2},
        hoverinfo="name",
    )


def count_axis(top: float) -> dict[str, object]:
    """Axis settings for counts: whole numbers only, one tick per unit when counts are few."""
    axis: dict[str, object] = {"tickformat": ",d", "rangemode": "tozero"}
    if top <= 8:
        axis["dtick"] = 1
    return axis


def _time_axis(grain: str) -> dict[str, object]:
    """Date axis ticks for a day, week or month series."""
    axis: dict[str, object] = {"tickformat": DATE_FORMATS[grain]}
    if grain == "month":
        axis["dtick"] = "M1"
    return axis


def every_day(frame: pl.DataFrame, grain: str) -> pl.DataFrame:
    """A daily series with a row for every day between its first and last (nulls between).

    Days without service (a holiday week) then break the line instead of being bridged
    by a straight segment that looks like data.
    """
    if grain != "day" or frame.is_empty():
        return frame
    days = pl.date_range(frame[grain].min(), frame[grain].max(), "1d", eager=True)
    return pl.DataFrame({grain: days}).join(frame, on=grain, how="left")


def kpi_lines(
    frame: pl.DataFrame,
    grain: str,
    names: Sequence[str],
    lang: str,
    *,
    title: str,
    target: float | None = None,
) -> go.Figure:
    """One or two KPIs of the same unit over time; the first KPI's target as a dashed line.

    ``frame`` has the ``grain`` column (day, week or month) and the KPI columns, as
    ``service_summary(by=grain)`` returns them. Points of the first KPI are green where
    its target is met and red where it is missed. Days without a value break the line.
    """
    frame = every_day(frame, grain)
    first = names[0]
    scale = minutes_scale(first)
    fig = go.Figure()
    for i, name in enumerate(names):
        values = [None if v is None else v * scale for v in frame[name].to_list()]
        marker: dict[str, object] = {"color": LINE_COLOURS[i % 2], "size": 7}
        if i == 0 and target is not None:
            marker["color"] = [_target_colour(first, v, target * scale) for v in values]
        fig.add_trace(
            go.Scatter(
                x=frame[grain].to_list(),
                y=values,
                mode="lines+markers",
                name=kpi_label(name, lang),
                line={"color": LINE_COLOURS[i % 2], "width": 3 if i == 0 else 2},
                marker=marker,
            )
        )
    if target is not None:
        reference_line(fig, target * scale, translate("target", lang), position="bottom left")
    house_layout(fig, title + unit_suffix(first, lang), height="short")
    fig.update_layout(
        showlegend=len(names) > 1,
        legend={"orientation": "h", "y": -0.15},
        yaxis={"tickformat": axis_format(first), "rangemode": "tozero"},
        xaxis=_time_axis(grain),
    )
    return fig


def _target_colour(name: str, value: float | None, target: float) -> str:
    """Green when a value meets the target in the KPI's good direction, red when not."""
    if value is None:
        return TARGET
    met = value >= target if kpi(name).direction == "up" else value <= target
    return GOOD if met else BAD


def errors_figure(
    frame: pl.DataFrame, grain: str, lang: str, target: float | None = None
) -> go.Figure:
    """Errors and reversals over time: counts as bars, the rate per 1,000 as a line.

    The count says how much went wrong, the rate whether it is more than the volume
    explains; the rate's target is drawn on its own (right) axis.
    """
    frame = every_day(frame, grain)
    x = frame[grain].to_list()
    fig = go.Figure(
        [
            go.Bar(
                x=x, y=frame["errors"].to_list(), name=kpi_label("errors", lang), marker_color=MUTED
            ),
            go.Scatter(
                x=x,
                y=frame["errors_per_1000"].to_list(),
                name=kpi_label("errors_per_1000", lang),
                mode="lines+markers",
                line={"color": BAD, "width": 3},
                yaxis="y2",
            ),
        ]
    )
    if target is not None:
        reference_line(fig, target, translate("target", lang), yref="y2")
    house_layout(fig, kpi_label("errors", lang), height="short")
    fig.update_layout(
        legend={"orientation": "h", "y": -0.15},
        xaxis=_time_axis(grain),
        yaxis={"title": translate("quality_count", lang), "tickformat": ",d"},
        yaxis2={
            "title": translate("quality_per_1000", lang),
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        },
    )
    return fig


def pareto_figure(frame: pl.DataFrame, lang: str, vital_share: float) -> go.Figure:
    """Complaints per category, largest first, with the cumulative share as a line.

    ``frame`` is ``complaint_pareto`` output. The vital few (the categories needed to
    reach ``vital_share`` of complaints) are drawn in full colour, the rest muted, and
    the ``vital_share`` level is a dashed line on the cumulative axis.
    """
    labels = frame["label_zh" if lang == "zh" else "label_en"].to_list()
    colours = [AMBER if v else MUTED for v in frame["vital_few"].to_list()]
    fig = go.Figure(
        [
            go.Bar(
                x=labels,
                y=frame["complaints"].to_list(),
                marker_color=colours,
                name=kpi_label("complaints", lang),
                customdata=frame["share"].to_list(),
                hovertemplate="%{x}: %{y} (%{customdata:.0%})<extra></extra>",
            ),
            go.Scatter(
                x=labels,
                y=frame["cumulative_share"].to_list(),
                name=translate("quality_cumulative", lang),
                mode="lines+markers",
                line={"color": NEUTRAL, "width": 2},
                yaxis="y2",
                hovertemplate="%{x}: %{y:.0%}<extra></extra>",
            ),
        ]
    )
    vital = translate("quality_vital_few", lang, share=f"{vital_share:.0%}")
    reference_line(fig, vital_share, vital, position="bottom right", yref="y2")
    house_layout(fig, translate("quality_pareto_title", lang), height="chart")
    fig.update_layout(
        showlegend=False,
        yaxis={
            "title": kpi_label("complaints", lang),
            **count_axis(max(frame["complaints"].max() or 0, 1)),
        },
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "range": [0, 1.05],
            "dtick": 0.25,
            "tickformat": ".0%",
            "showgrid": False,
        },
    )
    return fig


def channel_figure(frame: pl.DataFrame, lang: str) -> go.Figure:
    """Complaints per channel received, most first, with their handling in the hover.

    ``frame`` is ``warehouse.complaint_views.complaints_by_channel`` output.
    """
    labels = [code_label("complaint_channel", c, lang) for c in frame["channel"].to_list()]
    hover = [
        [
            format_number(row["share"], "share", lang),
            format_number(row["substantiated_share"], "share", lang),
            format_number(row["closed_within_deadline_share"], "share", lang),
        ]
        for row in frame.iter_rows(named=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=frame["complaints"].to_list(),
            y=labels,
            orientation="h",
            marker_color=NEUTRAL,
            customdata=hover,
            hovertemplate=(
                "%{y}: %{x} (%{customdata[0]})<br>"
                + kpi_label("substantiated_share", lang)
                + ": %{customdata[1]}<br>"
                + kpi_label("closed_within_deadline_share", lang)
                + ": %{customdata[2]}<extra></extra>"
            ),
        )
    )
    house_layout(fig, translate("quality_channel_title", lang), height="chart")
    fig.update_layout(
        yaxis={"autorange": "reversed"},
        xaxis={
            "title": kpi_label("complaints", lang),
            **count_axis(max(frame["complaints"].max() or 0, 1)),
        },
    )
    return fig


def resolution_figure(
    frame: pl.DataFrame,
    lang: str,
    *,
    deadlines: Sequence[tuple[str, int]],
    mean_days: float | None = None,
) -> go.Figure:
    """Resolved complaints per bin of days to resolve, with the deadlines as lines.

    ``frame`` is ``resolution_histogram`` output; ``deadlines`` are (kind, days) pairs,
    e.g. ("simple", 15), ("complex", 30). Complaints not resolved yet (the row without
    bounds) are counted in the title, not drawn.
    """
    bins = frame.filter(pl.col("bin_start_days").is_not_null())
    starts = bins["bin_start_days"].to_list()
    ends = bins["bin_end_days"].to_list()
    width = float(ends[0] - starts[0])
    days = translate("quality_days", lang)
    labels = [_bin_label(s, e, "quality_days", lang) for s, e in zip(starts, ends, strict=True)]
    fig = go.Figure(
        go.Bar(
            x=[s + width / 2 for s in starts],
            y=bins["complaints"].to_list(),
            width=width * 0.92,
            marker_color=[NEUTRAL if e is not None else TARGET for e in ends],
            showlegend=False,
            customdata=labels,
            hovertemplate="%{customdata}: %{y}<extra></extra>",
        )
    )
    top = max(bins["complaints"].max() or 0, 1) * 1.05
    for i, (kind, limit) in enumerate(deadlines):
        label = translate(f"quality_deadline_{kind}", lang, days=limit)
        fig.add_trace(_marker_line(limit, top, label, "dash" if i == 0 else "solid", BAD))
    if mean_days is not None:
        label = translate("quality_mean_days", lang, value=f"{mean_days:.1f}")
        fig.add_trace(_marker_line(mean_days, top, label, "dot", NEUTRAL))
    title = translate("quality_resolution_title", lang)
    unresolved = frame.filter(pl.col("bin_start_days").is_null())["complaints"].sum()
    if unresolved:
        title += " · " + translate("quality_unresolved", lang, n=unresolved)
    house_layout(fig, title, height="tall")
    fig.update_layout(
        bargap=0,
        legend=BELOW,
        xaxis={"title": days, "rangemode": "tozero"},
        yaxis={"title": kpi_label("complaints", lang), **count_axis(top)},
    )
    return fig
