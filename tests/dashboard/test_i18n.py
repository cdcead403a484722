"""Labels exist in both languages; numbers are formatted as people read them."""

from __future__ import annotations

import yaml

from dashboard.i18n import (
    _LOCALES,
    format_change,
    format_kpi,
    format_number,
    kpi_label,
    label_files,
    translate,
)


def test_every_label_exists_in_both_languages() -> None:
    assert [p.name for p in label_files("en")] == [p.name for p in label_files("zh")]
    for path in label_files("en"):
        en = yaml.safe_load(path.read_text(encoding="utf-8"))
        zh = yaml.safe_load((_LOCALES / "zh" / path.name).read_text(encoding="utf-8"))
        assert set(en) == set(zh), path.name
        names = ("CSV", "Excel", "Parquet", "SQL")  # file formats read the same in Chinese
        left = [k for k in en if zh[k] == en[k] and str(en[k]) not in names]
        assert not left, f"Chinese labels left in English in {path.name}: {left}"
    assert translate("no_warehouse_body", "zh", path="x.duckdb").count("x.duckdb") == 1


def test_kpi_labels_come_from_the_catalogue_in_each_language() -> None:
    assert kpi_label("wait_p90_s", "en") != kpi_label("wait_p90_s", "zh")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in kpi_label("service_level", "zh"))


def test_formats() -> None:
    assert format_kpi("service_level", 0.8123, "en") == "81.2%"
    assert format_kpi("wait_p90_s", 672.0, "en") == "11.2 min"
    assert format_kpi("wait_p90_s", 672.0, "zh") == "11.2 分钟"
    assert format_kpi("net_deposits", -9_276_000.0, "zh") == "-¥927.6万"
    assert format_kpi("net_deposits", 8_451_112.4, "en") == "¥8,451,112"
    assert format_kpi("service_level", None, "en") == "—"
    assert format_change("abandonment_rate", -0.002, "en") == "-0.2 pts"
    assert format_change("wait_p90_s", -24.0, "en") == "-0.4 min"
    assert format_change("net_deposits", 12_000.0, "zh") == "+¥1.2万"
    assert format_number(1234.5, "", "en") == "1,234"
    assert format_change("arrivals", 1234.0, "en") == "+1,234"  # counts: no decimals
