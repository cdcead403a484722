"""Figure builders: pure functions, checked on their Plotly specs."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.figures.overview import change_bars, outlet_bars, trend_figure
from dashboard.figures.style import BAD, GOOD


def test_trend_shows_minutes_and_the_target_line() -> None:
    frame = pl.DataFrame(
        {"month": [dt.date(2026, 1, 1), dt.date(2026, 2, 1)], "wait_p90_s": [600.0, 1200.0]}
    )
    fig = trend_figure(frame, "wait_p90_s", "en", target=900.0)
    assert list(fig.data[0].y) == [10.0, 20.0]
    assert fig.layout.shapes[0].y0 == 15.0
    assert "minutes" in fig.layout.title.text
    zh = trend_figure(frame, "wait_p90_s", "zh", target=900.0)
    assert "分钟" in zh.layout.title.text


def test_outlet_bars_worst_first_and_red_when_missing_target() -> None:
    frame = pl.DataFrame(
        {
            "outlet_code": ["01", "02", "03"],
            "outlet_label": ["01 A", "02 B", "03 C"],
            "wait_p90_s": [300.0, 1200.0, 960.0],
            "service_level": [0.9, 0.6, 0.85],
        }
    )
    waits = outlet_bars(frame, "wait_p90_s", "en", target=900.0)
    assert list(waits.data[0].y) == ["02 B", "03 C", "01 A"]  # down is good: longest wait first
    assert list(waits.data[0].marker.color) == [BAD, BAD, GOOD]
    levels = outlet_bars(frame, "service_level", "en", target=0.8)
    assert list(levels.data[0].y) == ["02 B", "03 C", "01 A"]  # up is good: lowest first
    assert list(levels.data[0].marker.color) == [BAD, GOOD, GOOD]
    limited = outlet_bars(frame, "wait_p90_s", "en", target=900.0, limit=2)
    assert list(limited.data[0].y) == ["02 B", "03 C"]
    assert list(limited.data[0].customdata) == ["02", "03"]  # a click knows the outlet


def test_change_bars_list_only_improvements_biggest_first() -> None:
    frame = pl.DataFrame(
        {
            "outlet_code": ["01", "02", "03", "04"],
            "outlet_label": ["01 A", "02 B", "03 C", "04 D"],
            "change": [-60.0, -240.0, 120.0, None],
            "improved": [True, True, False, None],
        }
    )
    fig = change_bars(frame, "wait_p90_s", "en", limit=5)
    assert list(fig.data[0].y) == ["02 B", "01 A"]
    assert list(fig.data[0].x) == [4.0, 1.0]  # minutes of waiting saved
    assert list(fig.data[0].customdata) == ["02", "01"]
    nobody = change_bars(frame.filter(pl.col("outlet_code") == "03"), "wait_p90_s", "zh", limit=5)
    assert nobody.layout.annotations[0].text == "本期没有网点在该指标上改善"
