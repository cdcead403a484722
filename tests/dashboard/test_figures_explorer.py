"""Explorer figure builders and labels: checked on their Plotly specs and frames."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl
import pytest

from dashboard.figures.explorer import (
    GRID_COLOURS,
    PALETTE,
    chart_figure,
    chart_table,
    column_format,
    display_frame,
    key_label,
    pivot_heatmap,
    rename_headers,
)
from dashboard.figures.style import NEUTRAL
from warehouse.pivot import NO_KEY

NAMES = {"outlet": {"03101": "03101 城关分社", "03102": "03102 河口分社"}}
WAITS = pl.DataFrame(
    {
        "outlet_code": ["03101", "03102"],
        "0": [600.0, 1200.0],
        "6": [None, 300.0],
    }
)


@pytest.mark.parametrize(
    ("key", "value", "lang", "expected"),
    [
        ("weekday", 0, "en", "Monday"),
        ("weekday", "6", "zh", "周日"),
        ("hour", 8, "en", "08:00"),
        ("hour", "14", "en", "14:00"),
        ("month", dt.date(2025, 12, 1), "en", "2025-12"),
        ("month", "2026-02-01", "zh", "2026-02"),
        ("quarter", "2026-04-01", "en", "2026Q2"),
        ("day", dt.date(2026, 1, 5), "en", "2026-01-05"),
        ("channel", "counter", "zh", "柜面"),
        ("channel", "teleport", "en", "teleport"),
        ("outlet", "03101", "en", "03101 城关分社"),
        ("outlet", "09999", "en", "09999"),
        ("staff", None, "en", NO_KEY),
    ],
)
def test_key_labels(key: str, value: object, lang: str, expected: str) -> None:
    assert key_label(key, value, lang, NAMES) == expected


def test_heatmap_cells_in_minutes_coloured_by_direction() -> None:
    fig = pivot_heatmap(
        WAITS, measure="wait_p90_s", rows="outlet", columns="weekday", lang="en", names=NAMES
    )
    heat = fig.data[0]
    assert isinstance(heat, go.Heatmap)
    assert [list(r) for r in heat.z] == [[10.0, None], [20.0, 5.0]]
    assert [list(r) for r in heat.text] == [["10.0", ""], ["20.0", "5.0"]]
    assert list(heat.x) == ["Monday", "Sunday"]
    assert list(heat.y) == ["03101 城关分社", "03102 河口分社"]
    # Waiting is good when low: the high end of the scale is red.
    reversed_scale = go.Heatmap(colorscale=GRID_COLOURS["down"]).colorscale
    assert heat.colorscale == reversed_scale
    assert heat.colorscale[-1][1] != go.Heatmap(colorscale="RdYlGn").colorscale[-1][1]
    assert "Wait, 90th percentile" in fig.layout.title.text
    assert "minutes" in fig.layout.title.text
    assert fig.layout.yaxis.autorange == "reversed"  # first row at the top, like the table


def test_heatmap_of_a_share_in_chinese() -> None:
    shares = pl.DataFrame({"weekday": [0, 1], "counter": [0.8, 0.95]})
    fig = pivot_heatmap(
        shares, measure="service_level", rows="weekday", columns="channel", lang="zh"
    )
    heat = fig.data[0]
    assert list(heat.y) == ["周一", "周二"]
    assert list(heat.x) == ["柜面"]
    assert [list(r) for r in heat.text] == [["80.0%"], ["95.0%"]]
    assert heat.colorscale == go.Heatmap(colorscale="RdYlGn").colorscale
    assert "限时服务达标率" in fig.layout.title.text
    assert "星期" in fig.layout.title.text


def test_heatmap_without_columns_has_one_column_named_after_the_kpi() -> None:
    frame = pl.DataFrame({"outlet_code": ["03101"], "arrivals": [1234]})
    fig = pivot_heatmap(frame, measure="arrivals", rows="outlet", columns=None, lang="en")
    assert list(fig.data[0].x) == ["Arrivals"]
    assert list(fig.data[0].text[0]) == ["1,234"]
    assert fig.data[0].colorscale == go.Heatmap(colorscale="Blues").colorscale


def test_display_frame_labels_rows_and_shows_minutes() -> None:
    shown = display_frame(WAITS, "wait_p90_s", "outlet", "en", NAMES)
    assert shown.columns == ["Outlet", "0", "6"]
    assert shown["Outlet"].to_list() == ["03101 城关分社", "03102 河口分社"]
    assert shown["0"].to_list() == [10.0, 20.0]
    renamed = rename_headers(shown, "weekday", "wait_p90_s", "zh", NAMES)
    assert renamed.columns == ["Outlet", "周一", "周日"]
    single = rename_headers(
        display_frame(WAITS.select("outlet_code", "0"), "wait_p90_s", "outlet", "en"),
        None,
        "wait_p90_s",
        "en",
    )
    assert single.columns[1] == "Wait, 90th percentile"


@pytest.mark.parametrize(
    ("measure", "expected"),
    [
        ("wait_p90_s", "%.1f"),
        ("service_level", "percent"),
        ("net_deposits", "%,.0f"),
        ("arrivals", "%,d"),
        ("errors_per_1000", "%.2f"),
    ],
)
def test_column_formats(measure: str, expected: str) -> None:
    assert column_format(measure) == expected


def _long() -> pl.DataFrame:
    months = [dt.date(2025, 12, 1), dt.date(2026, 1, 1)]
    rows = []
    for name, values in (
        ("wait_p90_s", [600.0, 900.0, 1200.0, None]),
        ("arrivals", [10, 20, 30, 40]),
    ):
        i = 0
        for month in months:
            for outlet in ("03101", "03102"):
                rows.append((month, outlet, name, None if values[i] is None else float(values[i])))
                i += 1
    return pl.DataFrame(rows, schema=["month", "outlet_code", "kpi", "value"], orient="row").sort(
        "kpi", "month", "outlet_code", descending=[True, False, False]
    )


def test_chart_one_panel_per_kpi_one_series_per_colour_group() -> None:
    fig = chart_figure(
        _long(),
        names=["wait_p90_s", "arrivals"],
        x="month",
        colour="outlet",
        kind="line",
        lang="en",
        labels=NAMES,
    )
    assert len(fig.data) == 4
    assert all(isinstance(t, go.Scatter) for t in fig.data)
    assert [t.yaxis for t in fig.data] == ["y", "y", "y2", "y2"]
    first = fig.data[0]
    assert first.name == "03101 城关分社"
    assert list(first.y) == [10.0, 20.0]  # seconds shown as minutes
    assert list(fig.data[1].y) == [15.0, None]
    assert list(fig.data[2].y) == [10.0, 30.0]  # counts unscaled
    assert first.line.color == PALETTE[0] and fig.data[1].line.color == PALETTE[1]
    assert fig.data[2].line.color == PALETTE[0]  # one colour per outlet in every panel
    assert [t.showlegend for t in fig.data] == [True, True, False, False]
    subtitles = [a.text for a in fig.layout.annotations]
    assert subtitles == ["Wait, 90th percentile (minutes)", "Arrivals"]
    assert fig.layout.title.text == "By Month"


def test_chart_bars_without_colour_in_chinese() -> None:
    frame = _long().filter(pl.col("outlet_code") == "03101").drop("outlet_code")
    frame = frame.filter(pl.col("kpi") == "arrivals").with_columns(
        pl.Series("outlet_code", ["03101", "03102"])
    )
    fig = chart_figure(
        frame.select("outlet_code", "kpi", "value"),
        names=["arrivals"],
        x="outlet",
        colour=None,
        kind="bar",
        lang="zh",
        labels=NAMES,
    )
    assert len(fig.data) == 1
    bar = fig.data[0]
    assert isinstance(bar, go.Bar)
    assert list(bar.x) == ["03101 城关分社", "03102 河口分社"]
    assert bar.marker.color == NEUTRAL
    assert fig.layout.xaxis.type == "category"
    assert fig.layout.title.text.startswith("到达客户数")
    assert "网点" in fig.layout.title.text


def test_chart_table_one_labelled_column_per_kpi() -> None:
    table = chart_table(_long(), ["wait_p90_s", "arrivals"], ["month", "outlet"], "zh")
    assert table.columns == ["月份", "网点", "等候时长90分位", "到达客户数"]
    assert table.height == 4
    first = table.row(0)
    assert first == (dt.date(2025, 12, 1), "03101", 600.0, 10.0)  # stored units, not minutes
