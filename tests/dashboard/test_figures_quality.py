"""Service-quality figure builders, checked on their Plotly specs."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from dashboard.figures.quality import (
    AMBER,
    MUTED,
    channel_figure,
    count_axis,
    errors_figure,
    kpi_lines,
    pareto_figure,
    resolution_figure,
    time_histogram,
)
from dashboard.figures.style import BAD, GOOD, NEUTRAL, TARGET

DAYS = [dt.date(2026, 2, 2), dt.date(2026, 2, 3)]


def _wait_bins(*, missing: int = 0) -> pl.DataFrame:
    """Bins of 60 s up to 180 s, an overflow row and optionally a no-time row."""
    starts: list[int | None] = [0, 60, 120, 180]
    ends: list[int | None] = [60, 120, 180, None]
    customers = [5, 3, 2, 1]
    if missing:
        starts.append(None)
        ends.append(None)
        customers.append(missing)
    total = sum(customers)
    return pl.DataFrame(
        {
            "bin_start_s": starts,
            "bin_end_s": ends,
            "customers": customers,
            "share": [c / total for c in customers],
        },
        schema={
            "bin_start_s": pl.Int64,
            "bin_end_s": pl.Int64,
            "customers": pl.Int64,
            "share": pl.Float64,
        },
    )


def test_wait_histogram_in_minutes_with_target_colours_and_marks() -> None:
    fig = time_histogram(_wait_bins(missing=4), "wait_s", "en", p50_s=60, p90_s=150, target_s=120)
    bars = fig.data[0]
    assert list(bars.x) == [0.5, 1.5, 2.5, 3.5]  # bin middles, minutes
    assert list(bars.y) == [5, 3, 2, 1]  # the no-time row is not drawn
    # (120, 180] is beyond the 2-minute target; the overflow bar is grey.
    assert list(bars.marker.color) == [NEUTRAL, NEUTRAL, BAD, TARGET]
    assert bars.customdata[3][0] == "over 3 min"
    marks = {trace.name: list(trace.x) for trace in fig.data[1:]}
    assert marks == {
        "median 1.0 min": [1.0, 1.0],
        "90% within 2.5 min": [2.5, 2.5],
        "target 2.0 min": [2.0, 2.0],
    }
    assert "Waiting time" in fig.layout.title.text
    assert "minutes" in fig.layout.title.text
    assert fig.layout.yaxis.dtick == 1  # few customers: whole-number ticks


def test_handling_histogram_has_no_target_and_speaks_chinese() -> None:
    fig = time_histogram(_wait_bins(), "service_s", "zh", p50_s=90, p90_s=None)
    assert list(fig.data[0].marker.color) == [NEUTRAL, NEUTRAL, NEUTRAL, TARGET]
    assert [t.name for t in fig.data[1:]] == ["中位数 1.5 分钟"]
    assert fig.layout.title.text == "柜面已办结客户的办理时长 (分钟)"
    assert fig.data[0].customdata[3][0] == "超过 3 分钟"


def test_service_level_points_green_or_red_against_the_target() -> None:
    frame = pl.DataFrame({"day": DAYS, "service_level": [0.9, 0.7]})
    fig = kpi_lines(frame, "day", ["service_level"], "en", title="SL", target=0.8)
    assert len(fig.data) == 1
    assert list(fig.data[0].y) == [0.9, 0.7]
    assert list(fig.data[0].marker.color) == [GOOD, BAD]
    assert fig.layout.shapes[0].y0 == 0.8
    assert fig.layout.yaxis.tickformat == ".0%"
    assert fig.layout.showlegend is False


def test_wait_lines_in_minutes_judged_downwards() -> None:
    frame = pl.DataFrame({"week": DAYS, "wait_p90_s": [600.0, 1200.0], "wait_p50_s": [120.0, None]})
    fig = kpi_lines(frame, "week", ["wait_p90_s", "wait_p50_s"], "en", title="W", target=900)
    assert list(fig.data[0].y) == [10.0, 20.0]
    assert list(fig.data[0].marker.color) == [GOOD, BAD]  # shorter waits are good
    assert list(fig.data[1].y) == [2.0, None]  # a gap, not a zero
    assert [t.name for t in fig.data] == ["Wait, 90th percentile", "Median wait"]
    assert fig.layout.shapes[0].y0 == 15.0
    assert fig.layout.showlegend is True
    assert "(minutes)" in fig.layout.title.text


def test_days_without_service_break_the_line() -> None:
    frame = pl.DataFrame(
        {
            "day": [dt.date(2026, 2, 13), dt.date(2026, 2, 16)],
            "service_level": [0.9, 0.95],
            "errors": [2, 3],
            "errors_per_1000": [1.0, 1.5],
        }
    )
    line = kpi_lines(frame, "day", ["service_level"], "en", title="SL").data[0]
    assert [d.day for d in line.x] == [13, 14, 15, 16]
    assert list(line.y) == [0.9, None, None, 0.95]
    bars = errors_figure(frame, "day", "en").data[0]
    assert list(bars.y) == [2, None, None, 3]
    weekly = kpi_lines(frame.rename({"day": "week"}), "week", ["service_level"], "en", title="")
    assert len(weekly.data[0].x) == 2  # weeks and months are not filled in


def test_errors_bars_and_rate_on_its_own_axis() -> None:
    frame = pl.DataFrame({"month": DAYS, "errors": [4, 9], "errors_per_1000": [2.0, 6.0]})
    fig = errors_figure(frame, "month", "zh", target=5.0)
    bars, line = fig.data
    assert list(bars.y) == [4, 9]
    assert list(line.y) == [2.0, 6.0]
    assert line.yaxis == "y2"
    assert fig.layout.shapes[0].yref == "y2"
    assert fig.layout.shapes[0].y0 == 5.0
    assert fig.layout.title.text == "差错及冲正笔数"
    assert fig.layout.xaxis.dtick == "M1"


PARETO = pl.DataFrame(
    {
        "category": ["attitude", "wait_time", "facility"],
        "label_en": ["Attitude", "Waiting time", "Facilities"],
        "label_zh": ["服务态度", "等候时间", "设施设备"],
        "complaints": [6, 3, 1],
        "share": [0.6, 0.3, 0.1],
        "cumulative_share": [0.6, 0.9, 1.0],
        "vital_few": [True, True, False],
    }
)


@pytest.mark.parametrize(("lang", "column"), [("en", "label_en"), ("zh", "label_zh")])
def test_pareto_bars_cumulative_line_and_vital_few(lang: str, column: str) -> None:
    fig = pareto_figure(PARETO, lang, 0.8)
    bars, line = fig.data
    assert list(bars.x) == PARETO[column].to_list()
    assert list(bars.y) == [6, 3, 1]
    assert list(bars.marker.color) == [AMBER, AMBER, MUTED]
    assert list(line.y) == [0.6, 0.9, 1.0]
    assert line.yaxis == "y2"
    assert fig.layout.shapes[0].y0 == 0.8
    assert "80%" in fig.layout.annotations[0].text


def test_channels_translated_in_order_with_handling_in_hover() -> None:
    frame = pl.DataFrame(
        {
            "channel": ["hotline", "regulator"],
            "complaints": [3, 1],
            "share": [0.75, 0.25],
            "substantiated_share": [2 / 3, None],
            "closed_within_deadline_share": [1.0, 0.0],
        }
    )
    en = channel_figure(frame, "en")
    assert list(en.data[0].y) == ["Hotline", "Regulator referral"]
    assert list(en.data[0].x) == [3, 1]
    assert [list(c) for c in en.data[0].customdata] == [
        ["75.0%", "66.7%", "100.0%"],
        ["25.0%", "—", "0.0%"],
    ]
    assert list(channel_figure(frame, "zh").data[0].y) == ["热线电话", "监管转办"]


def test_resolution_histogram_with_deadlines_mean_and_open_count() -> None:
    frame = pl.DataFrame(
        {
            "bin_start_days": [0.0, 10.0, 20.0, None],
            "bin_end_days": [10.0, 20.0, None, None],
            "complaints": [4, 2, 1, 3],
        }
    )
    fig = resolution_figure(
        frame, "en", deadlines=[("simple", 15), ("complex", 30)], mean_days=8.25
    )
    bars = fig.data[0]
    assert list(bars.x) == [5.0, 15.0, 25.0]
    assert list(bars.y) == [4, 2, 1]
    assert list(bars.marker.color) == [NEUTRAL, NEUTRAL, TARGET]
    marks = {t.name: list(t.x) for t in fig.data[1:]}
    assert marks == {
        "simple: 15 days": [15, 15],
        "complex: 30 days": [30, 30],
        "mean 8.2 days": [8.25, 8.25],
    }
    assert fig.layout.title.text.endswith("3 not resolved yet")
    none_open = resolution_figure(frame.head(3), "zh", deadlines=[("simple", 15)])
    assert "尚未办结" not in none_open.layout.title.text
    assert [t.name for t in none_open.data[1:]] == ["简单投诉：15 天"]


def test_count_axis_whole_ticks() -> None:
    assert count_axis(5)["dtick"] == 1
    assert "dtick" not in count_axis(500)
    assert count_axis(500)["tickformat"] == ",d"
