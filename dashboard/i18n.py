"""Labels in English and 简体中文, and locale-aware number formatting.

Pages never hold display text: they ask ``t(key)`` in the language the user chose.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

LANGUAGES = {"en": "English", "zh": "简体中文"}
_MARKDOWN = re.compile(r"([\\`*_\[\]()<>#+\-!|~$])")
_LOCALES = Path(__file__).resolve().parent / "locales"


def label_files(lang: str) -> list[Path]:
    """The label files of one language: one per page, plus ``common.yaml``."""
    return sorted((_LOCALES / lang).glob("*.yaml"))


@cache
def _catalogue(lang: str) -> dict[str, str]:
    """Every label of one language; a key defined in two files is an error, not a race."""
    merged: dict[str, str] = {}
    for path in label_files(lang):
        with path.open(encoding="utf-8") as handle:
            labels = yaml.safe_load(handle) or {}
        clash = set(labels) & set(merged)
        if clash:
            raise ValueError(f"{path}: labels {sorted(clash)} are already defined elsewhere")
        merged.update(labels)
    return merged


def translate(key: str, lang: str, **values: object) -> str:
    """The label ``key`` in ``lang``, with ``{placeholders}`` filled; English if missing."""
    text = _catalogue(lang).get(key) or _catalogue("en")[key]
    return text.format(**values) if values else text


def code_label(kind: str, code: object, lang: str) -> str:
    """The label of a code from a closed list (``channel``, ``complaint_channel``, ``weekday``).

    Defined once in common.yaml for every page; a code no label file knows (a new channel
    in next month's export) is shown as itself rather than breaking the page.
    """
    key = f"{kind}_{code}"
    if key in _catalogue(lang) or key in _catalogue("en"):
        return translate(key, lang)
    return str(code)


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
        sign = "-" if value < 0 else ""
        if lang == "zh" and abs(value) >= 10_000:
            return f"{sign}¥{abs(value) / 10_000:,.1f}万"
        return f"{sign}¥{abs(value):,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def kpi_label(name: str, lang: str) -> str:
    """A KPI's label from the catalogue (config/kpi.yaml), in ``lang``."""
    from warehouse.kpi import kpi

    entry = kpi(name)
    return entry.label_zh if lang == "zh" else entry.label_en


def format_kpi(name: str, value: float | None, lang: str) -> str:
    """A KPI value for a card: seconds as minutes, money in ¥ (万 in Chinese), else its format."""
    from warehouse.kpi import kpi

    if value is None or value != value:  # None or NaN
        return "—"
    if name.endswith("_s"):
        return format_number(value, "s", lang)
    if "deposit" in name and not name.endswith("growth"):
        return format_number(value, "CNY", lang)
    spec = kpi(name).format
    if spec.endswith("d"):
        return format(round(value), spec)
    return format(value, spec)


def format_change(name: str, change: float | None, lang: str) -> str | None:
    """The change since the previous period, signed: points for shares, minutes for times."""
    from warehouse.kpi import kpi

    if change is None or change != change:
        return None
    if name.endswith("_s"):
        minutes = change / 60
        return f"{minutes:+.1f} " + ("min" if lang == "en" else "分钟")
    spec = kpi(name).format
    if spec.endswith("%"):
        return f"{change * 100:+.1f} " + ("pts" if lang == "en" else "个百分点")
    if "deposit" in name and not name.endswith("growth"):
        return ("+" if change >= 0 else "") + format_number(change, "CNY", lang)
    if spec.endswith("d"):
        return f"{change:+,.0f}"
    return f"{change:+,.2f}"


def plain(text: object) -> str:
    r"""Text from the data (a name, a message) shown as it is inside Streamlit markdown.

    A name is whatever the export said; in markdown, ``[x](url)`` would become a link and
    ``![x](url)`` an image fetched from anywhere. Escaped, it reads as typed.

    >>> print(plain("王*芳 [click](http://x)"))
    王\*芳 \[click\]\(http://x\)
    """
    return _MARKDOWN.sub(r"\\\1", "" if text is None else str(text))
