"""Data-quality figure builders and rule labels, checked on hand-made frames."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.figures.data_quality import fates_figure, missing_bars, rule_bars, rule_label
from dashboard.figures.style import BAD, GOOD, NEUTRAL, TARGET


def test_rule_labels_follow_the_contract_patterns() -> None:
    assert rule_label("timestamp_order", "en").startswith("Times out of order")
    assert rule_label("not_allowed_channel", "en") == "channel not an allowed value"
    assert rule_label("out_of_range_amount", "zh") == "amount 超出合理范围"
    assert rule_label("bad_type_ticket_at", "en") == "Unreadable value in ticket_at"
    assert rule_label("id_not_text_txn_id", "en").startswith("txn_id turned into a number")
    assert rule_label("missing_arrival", "en") == "arrival missing"
    assert rule_label("duration_over_4h", "zh") == "时长超过 4 小时"
    assert rule_label("a_rule_from_the_future", "en") == "a_rule_from_the_future"


def _history() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "load_id": [3, 2, 1],
            "file_name": ["transactions_2026-01.csv", "staff.csv", "outlets.csv"],
            "rows_loaded": [90, 5, 10],
            "rows_duplicate": [4, 5, 0],
            "rows_quarantined": [6, 0, 0],
            "rows_dropped": [0, 0, 2],
        }
    )


def test_fates_split_each_load_into_shares_newest_on_top() -> None:
    fig = fates_figure(_history(), "en")
    assert [t.name for t in fig.data] == [
        "Loaded",
        "Duplicate (already loaded)",
        "Quarantined",
        "Dropped by the import profile",
    ]
    assert [t.marker.color for t in fig.data] == [GOOD, NEUTRAL, BAD, TARGET]
    assert list(fig.data[0].y) == [
        "#3 transactions_2026-01.csv",
        "#2 staff.csv",
        "#1 outlets.csv",
    ]
    assert list(fig.data[2].x) == [6, 0, 0]  # rows; Plotly turns them into shares
    assert list(fig.data[2].customdata) == [6, 0, 0]  # the hover keeps the count
    assert fig.layout.barnorm == "percent"
    assert fig.layout.yaxis.autorange == "reversed"
    assert fates_figure(_history(), "zh").data[2].name == "隔离"


def test_rule_bars_describe_rules_and_count_whole_rows() -> None:
    counts = pl.DataFrame(
        {
            "rule": ["not_allowed_channel", "out_of_range_amount"],
            "rows": [5, 2],
            "share": [0.7, 0.3],
        }
    )
    fig = rule_bars(counts, "en")
    assert list(fig.data[0].y) == ["channel not an allowed value", "amount out of range"]
    assert list(fig.data[0].x) == [5, 2]
    assert list(fig.data[0].customdata) == ["not_allowed_channel", "out_of_range_amount"]
    assert fig.layout.xaxis.dtick == 1  # no "0 1 1 2 2" ticks for small counts
    big = rule_bars(counts.with_columns(rows=pl.Series([500, 20])), "en")
    assert big.layout.xaxis.dtick is None


def test_missing_bars_list_only_outlets_with_gaps_worst_first() -> None:
    frame = pl.DataFrame(
        {
            "outlet_code": ["01", "02", "03", "04"],
            "outlet_label": ["01 A", "02 B", "03 C", "04 D"],
            "missing_days": [1, 0, 3, 1],
            "missing_dates": [[dt.date(2026, 2, 2)], [], [], []],
        }
    )
    fig = missing_bars(frame, "zh")
    assert list(fig.data[0].y) == ["03 C", "01 A", "04 D"]
    assert list(fig.data[0].x) == [3, 1, 1]
    assert list(fig.data[0].customdata) == ["03", "01", "04"]  # a click opens the outlet
    assert fig.layout.title.text == "各网点没有任何业务数据的营业日数"
