"""Labels in English and 简体中文, and locale-aware number formatting.

Pages never hold display text: they ask ``t(key)`` in the language the user chose.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LANGUAGES = {"en": "English", "zh": "简体中文"}
_LOCALES = Path(__file__).resolve().parent / "locales"


@cache
def _catalogue(lang: str) -> dict[str, str]:
    """The label file of one language."""
    with (_LOCALES / f"{lang}.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def translate(key: str, lang: str, **values: object) -> str:
    """The label ``key`` in ``lang``, with ``{placeholders}`` filled; English if missing."""
    text = _catalogue(lang).get(key) or _catalogue("en")[key]
    return text.format(**values) if values else text


def format_number(value: float | None, unit: str, lang: str) -> str:
    """A KPI value as people read it: shares as %, seconds as minutes, money in ¥."""
    if value is None:
        return "—"
    if unit in ("share", "ratio", "%"):
        return f"{value * 100:.1f}%"
    if unit == "s":
        minutes = value / 60
        return f"{minutes:.1f} min" if lang == "en" else f"{minutes:.1f} 分钟"
    if unit in ("CNY", "¥"):
        if lang == "zh" and abs(value) >= 10_000:
            return f"¥{value / 10_000:,.1f}万"
        return f"¥{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"
