"""Pure Plotly figure builders: data in, figure out, no Streamlit, so tests can check them."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.i18n import kpi_label, translate
from warehouse.kpi import kpi

FONT = "Noto Sans CJK SC, Noto Sans, sans-serif"
GOOD, BAD, NEUTRAL, TARGET = "#1a7f37", "#c62828", "#1f5fa8", "#8a8a8a"


def _axis_format(name: str) -> str:
    """A Plotly tick format from the KPI's Python format spec."""
    spec = kpi(name).format
    return ".0%" if spec.endswith("%") else ",.0f" if spec.endswith(("d", "0f")) else ",.1f"


def trend_figure(
    frame: pl.DataFrame, name: str, lang: str, target: float | None = None
) -> go.Figure:
    """Monthly trend of one KPI (columns ``month`` and ``name``), with its target as a line."""
    label = kpi_label(name, lang)
    scale = 1 / 60 if name.endswith("_s") else 1
    values = frame[name].to_list()
    fig = go.Figure(
        go.Scatter(
            x=frame["month"].to_list(),
            y=[None if v is None else v * scale for v in values],
            mode="lines+markers",
            name=label,
            line={"color": NEUTRAL, "width": 3},
        )
    )
    if target is not None:
        fig.add_hline(
            y=target * scale,
            line={"color": TARGET, "dash": "dash"},
            annotation_text=translate("target", lang),
            annotation_position="top left",
        )
    unit = translate("minutes", lang) if scale != 1 else ""
    fig.update_layout(
        title={"text": label + (f" ({unit})" if unit else ""), "font": {"size": 15}},
        height=260,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        showlegend=False,
        font={"family": FONT},
        yaxis={"tickformat": "" if scale != 1 else _axis_format(name), "rangemode": "tozero"},
        xaxis={"tickformat": "%Y-%m", "dtick": "M1"},
    )
    return fig


def outlet_bars(
    frame: pl.DataFrame, name: str, lang: str, target: float | None = None
) -> go.Figure:
    """One KPI per outlet as horizontal bars, worst first, red where the target is missed."""
    entry = kpi(name)
    ascending = entry.direction == "up"
    data = frame.drop_nulls(name).sort(name, descending=not ascending)
    scale = 1 / 60 if name.endswith("_s") else 1
    values = [v * scale for v in data[name].to_list()]
    if target is None:
        colours = [NEUTRAL] * len(values)
    else:
        bad = (
            (lambda v: v > target * scale)
            if entry.direction == "down"
            else (lambda v: v < target * scale)
        )
        colours = [BAD if bad(v) else GOOD for v in values]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=data["outlet_label"].to_list(),
            orientation="h",
            marker_color=colours,
            customdata=data["outlet_code"].to_list(),
            hovertemplate="%{y}: %{x:.1f}<extra></extra>"
            if scale != 1
            else "%{y}: %{x}<extra></extra>",
        )
    )
    if target is not None:
        fig.add_vline(x=target * scale, line={"color": TARGET, "dash": "dash"})
    unit = translate("minutes", lang) if scale != 1 else ""
    fig.update_layout(
        title={
            "text": kpi_label(name, lang) + (f" ({unit})" if unit else ""),
            "font": {"size": 15},
        },
        height=max(260, 24 * len(values) + 80),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        font={"family": FONT},
        yaxis={"autorange": "reversed"},
        xaxis={"tickformat": "" if scale != 1 else _axis_format(name)},
    )
    return fig
