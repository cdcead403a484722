"""The house style every chart shares: fonts that render Chinese, colours that mean things.

Green is good news and red bad news whatever the KPI's direction; neutral blue is for
plain volumes. Times are stored in seconds and shown in minutes.
"""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.i18n import translate
from warehouse.kpi import kpi

FONT = "Noto Sans CJK SC, Noto Sans, sans-serif"
GOOD, BAD, NEUTRAL, TARGET, AMBER = "#1a7f37", "#c62828", "#1f5fa8", "#8a8a8a", "#e0a100"
SEQUENTIAL = "Blues"


def minutes_scale(name: str) -> float:
    """Factor turning a KPI's stored value into what is shown (seconds -> minutes)."""
    return 1 / 60 if name.endswith("_s") else 1


def axis_format(name: str) -> str:
    """A Plotly tick format for a KPI axis (minutes get plain numbers)."""
    if minutes_scale(name) != 1:
        return ""
    spec = kpi(name).format
    return ".0%" if spec.endswith("%") else ",.0f" if spec.endswith(("d", "0f")) else ",.1f"


def unit_suffix(name: str, lang: str) -> str:
    """A " (minutes)" suffix for time KPIs, else nothing: for titles and axis labels."""
    return f" ({translate('minutes', lang)})" if minutes_scale(name) != 1 else ""


# Chart heights in pixels, by what a chart holds: a small multiple ("compact"), a line or
# a few bars ("short"), most charts ("chart"), a histogram, a heatmap or a plan with an
# axis of hours ("tall"). Side by side in two columns, charts of one row then line up.
HEIGHTS = {"compact": 260, "short": 300, "chart": 320, "tall": 340}


def house_layout(fig: go.Figure, title: str, *, height: str | int = "short") -> go.Figure:
    """Apply the shared title, font, margins and height; returns ``fig`` for chaining.

    ``height``: a name in :data:`HEIGHTS`, or pixels for a chart that grows with its rows.
    """
    fig.update_layout(
        title={"text": title, "font": {"size": 15}},
        height=HEIGHTS[height] if isinstance(height, str) else height,
        margin={"l": 10, "r": 10, "t": 44, "b": 10},
        font={"family": FONT},
    )
    return fig


def reference_line(
    fig: go.Figure, y: float, label: str, *, position: str = "top left", yref: str = "y"
) -> None:
    """A dashed grey line across the chart at ``y``, labelled: a target or a threshold."""
    fig.add_hline(
        y=y,
        yref=yref,
        line={"color": TARGET, "dash": "dash"},
        annotation_text=label,
        annotation_position=position,
    )


def empty_note(fig: go.Figure, text: str) -> None:
    """Say on an empty chart why it is empty."""
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
