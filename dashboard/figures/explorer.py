"""Explorer figures: the pivot as a coloured grid and the chart builder's line or bar panels.

Also the labels of grouping values (weekday names, hours, months, channels), which the
pivot's headers and the charts' axes share.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
import polars as pl
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from dashboard.figures.style import (
    NEUTRAL,
    SEQUENTIAL,
    axis_format,
    house_layout,
    minutes_scale,
    unit_suffix,
)
from dashboard.i18n import code_label, format_kpi, kpi_label, translate
from warehouse.kpi import KEY_COLUMNS, kpi
from warehouse.pivot import NO_KEY

CALENDAR = ("day", "week", "month", "quarter")
# Good news is green whichever way the KPI is good; volumes are plain blue.
GRID_COLOURS = {"up": "RdYlGn", "down": "RdYlGn_r", "none": SEQUENTIAL}
PALETTE = qualitative.D3 + qualitative.Set2 + qualitative.Pastel1
Names = Mapping[str, Mapping[str, str]]


def key_label(key: str, value: object, lang: str, names: Names | None = None) -> str:
    """How a grouping value reads: Monday for weekday 0, 08:00 for hour 8, 2025-12 for a month.

    ``value`` may be the key itself or its text (pivot headers are text). ``names`` maps
    a grouping to labels for its codes (outlet code -> "03101 城关分社").
    """
    if value is None or value == NO_KEY:
        return NO_KEY
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    if names and text in names.get(key, {}):
        return names[key][text]
    if key == "weekday":
        return code_label("weekday", int(text), lang)
    if key == "hour":
        return f"{int(text):02d}:00"
    if key == "month":
        return text[:7]
    if key == "quarter":
        return f"{text[:4]}Q{(int(text[5:7]) - 1) // 3 + 1}"
    if key in ("day", "week"):
        return text[:10]
    if key == "channel":
        return code_label("channel", text, lang)
    return text


def group_label(key: str, lang: str) -> str:
    """The name of a grouping (Outlet, Hour of day ...)."""
    return translate(f"explorer_group_{key}", lang)


def display_frame(
    frame: pl.DataFrame, measure: str, rows: str, lang: str, names: Names | None = None
) -> pl.DataFrame:
    """A pivot as shown and downloaded: labelled rows and headers, times in minutes.

    ``frame`` is :func:`warehouse.pivot.pivot`'s result (row key column first).
    """
    row_col, *value_cols = frame.columns
    scale = minutes_scale(measure)
    return frame.select(
        pl.Series(
            group_label(rows, lang),
            [key_label(rows, v, lang, names) for v in frame[row_col].to_list()],
            dtype=pl.String,
        ),
        *[(pl.col(c).cast(pl.Float64) * scale).alias(c) for c in value_cols],
    )


def rename_headers(
    frame: pl.DataFrame, columns: str | None, measure: str, lang: str, names: Names | None = None
) -> pl.DataFrame:
    """Give the value columns of :func:`display_frame` their readable names."""
    value_cols = frame.columns[1:]
    if columns is None:
        return frame.rename({value_cols[0]: kpi_label(measure, lang)})
    labels = [key_label(columns, c, lang, names) for c in value_cols]
    if len(set(labels)) < len(labels):  # two codes with one name: keep the codes
        return frame
    return frame.rename(dict(zip(value_cols, labels, strict=True)))


def chart_table(
    frame: pl.DataFrame, names: Sequence[str], keys: Sequence[str], lang: str
) -> pl.DataFrame:
    """The chart builder's data as people download it: one column per KPI, labelled.

    ``frame`` is :func:`warehouse.pivot.chart_data`'s long table, ``keys`` its groupings.
    Values stay in their stored units (seconds, shares), as the KPI layer gives them.
    """
    key_cols = [KEY_COLUMNS[k] for k in keys]
    wide = frame.pivot(on="kpi", on_columns=list(names), index=key_cols, values="value")
    return wide.rename(
        {
            **{KEY_COLUMNS[k]: group_label(k, lang) for k in keys},
            **{n: kpi_label(n, lang) for n in names},
        }
    )


def column_format(measure: str) -> str:
    """A Streamlit number format for a pivot's cells (after :func:`display_frame`)."""
    if minutes_scale(measure) != 1:
        return "%.1f"
    entry = kpi(measure)
    if entry.format.endswith("%"):
        return "percent"
    if entry.unit == "CNY":
        return "%,.0f"
    if entry.format.endswith("d"):
        return "%,d"
    return "%.2f"


def _cell_text(measure: str, value: float | None, lang: str) -> str:
    """A grid cell's text: the value as cards show it, minutes without the unit."""
    if value is None:
        return ""
    if minutes_scale(measure) != 1:
        return f"{value * minutes_scale(measure):.1f}"
    if kpi(measure).unit == "CNY":
        return f"{value:,.0f}"
    return format_kpi(measure, value, lang)


def pivot_heatmap(
    frame: pl.DataFrame,
    *,
    measure: str,
    rows: str,
    columns: str | None,
    lang: str,
    names: Names | None = None,
) -> go.Figure:
    """The pivot as a grid coloured by how good each cell is, with its value written in.

    ``frame`` is :func:`warehouse.pivot.pivot`'s result. Green is good news whatever the
    KPI's direction; volumes without a direction are shaded blue.
    """
    row_col, *value_cols = frame.columns
    scale = minutes_scale(measure)
    raw = [[frame[c][i] for c in value_cols] for i in range(frame.height)]
    z = [[None if v is None else v * scale for v in row] for row in raw]
    text = [[_cell_text(measure, v, lang) for v in row] for row in raw]
    x_labels = (
        [kpi_label(measure, lang)]
        if columns is None
        else [key_label(columns, c, lang, names) for c in value_cols]
    )
    y_labels = [key_label(rows, v, lang, names) for v in frame[row_col].to_list()]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=x_labels,
            y=y_labels,
            text=text,
            texttemplate="%{text}",
            colorscale=GRID_COLOURS[kpi(measure).direction],
            hoverongaps=False,
            hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
            colorbar={"tickformat": axis_format(measure), "thickness": 12},
            xgap=1,
            ygap=1,
        )
    )
    title = (
        translate(
            "explorer_pivot_title_one",
            lang,
            kpi=kpi_label(measure, lang),
            rows=group_label(rows, lang),
        )
        if columns is None
        else translate(
            "explorer_pivot_title",
            lang,
            kpi=kpi_label(measure, lang),
            rows=group_label(rows, lang),
            columns=group_label(columns, lang),
        )
    )
    house_layout(fig, title + unit_suffix(measure, lang), height=max(260, 24 * frame.height + 110))
    fig.update_layout(
        yaxis={"autorange": "reversed", "type": "category"},
        xaxis={"type": "category", "side": "top"},
        margin={"t": 80},
    )
    return fig


def _x_values(key: str, values: list[object], lang: str, names: Names | None) -> list[object]:
    """Axis values: dates stay dates, hours stay numbers, everything else is labelled."""
    if key in CALENDAR or key == "hour":
        return values
    return [key_label(key, v, lang, names) for v in values]


def _trace(
    kind: str, x: list[object], y: list[float | None], name: str, colour: str, **kw
) -> go.BaseTraceType:
    """One line or bar series."""
    if kind == "bar":
        return go.Bar(x=x, y=y, name=name, marker_color=colour, **kw)
    return go.Scatter(
        x=x, y=y, name=name, mode="lines+markers", line={"color": colour, "width": 2}, **kw
    )


def chart_figure(
    frame: pl.DataFrame,
    *,
    names: Sequence[str],
    x: str,
    colour: str | None,
    kind: str,
    lang: str,
    labels: Names | None = None,
) -> go.Figure:
    """The chart builder's figure: one panel per KPI along ``x``, a series per colour group.

    ``frame`` is :func:`warehouse.pivot.chart_data`'s long table (keys, kpi, value).
    ``kind`` is "line" or "bar". Times are shown in minutes; panels share the x axis.
    """
    x_col = KEY_COLUMNS[x]
    colour_col = KEY_COLUMNS[colour] if colour else None
    groups = (
        frame.select(colour_col).unique(maintain_order=True)[colour_col].to_list()
        if colour_col
        else [None]
    )
    titles = [kpi_label(n, lang) + unit_suffix(n, lang) for n in names]
    fig = make_subplots(
        rows=len(names),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12 if len(names) > 1 else 0.0,
        subplot_titles=titles if len(names) > 1 else None,
    )
    for row, name in enumerate(names, start=1):
        scale = minutes_scale(name)
        part = frame.filter(pl.col("kpi") == name)
        for i, group in enumerate(groups):
            series = (
                part if colour_col is None else part.filter(pl.col(colour_col).eq_missing(group))
            )
            label = (
                kpi_label(name, lang) if colour is None else key_label(colour, group, lang, labels)
            )
            fig.add_trace(
                _trace(
                    kind,
                    _x_values(x, series[x_col].to_list(), lang, labels),
                    [None if v is None else v * scale for v in series["value"].to_list()],
                    label,
                    NEUTRAL if colour is None else PALETTE[i % len(PALETTE)],
                    legendgroup=label,
                    showlegend=colour is not None and row == 1,
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(tickformat=axis_format(name), rangemode="tozero", row=row, col=1)
    if len(names) == 1:
        title = translate("explorer_chart_title", lang, kpi=titles[0], x=group_label(x, lang))
    else:
        title = translate("explorer_chart_title_many", lang, x=group_label(x, lang))
    house_layout(fig, title, height=60 + 300 * len(names))
    fig.update_layout(
        barmode="group", legend={"title": {"text": group_label(colour, lang) if colour else ""}}
    )
    if x == "hour":
        fig.update_xaxes(dtick=1)
    elif x not in CALENDAR:
        fig.update_xaxes(type="category")
    return fig
