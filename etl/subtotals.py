"""Subtotal rows (合计, 总计, 小计) of an export, recognised in SQL over its raw text.

Report-style exports end with a total row, sometimes one per page or per outlet; it must
be dropped and counted as dropped, not validated as a record. A row counts when its first
column starts with one of the words, or when one of the first three columns is a short
label ending in one (``合计``, ``本页合计``, ``网点小计:``); whitespace inside the label
(``合  计``) is ignored, and so are colons after it.
"""

from __future__ import annotations

from etl.mapping import literal, quote
from etl.normalise import WHITESPACE, char_class

SUBTOTAL_WORDS = ("合计", "总计", "小计")
LABEL_COLUMNS = 3  # a subtotal label sits in one of the first columns
LABEL_PREFIX = 6  # characters allowed before the word: 本页, 网点, 城关网点
_MENTION = "计"  # every word ends in it: a cheap literal test before the regexes
_COLONS = ":："


def subtotal_sql(columns: list[str]) -> str:
    """SQL that is true for a subtotal row, over the raw text ``columns`` in file order.

    Why a CASE: the literal test on 计 is cheap and rarely true, so the regexes run only
    on the few rows that mention it.
    """
    labels = [quote(c) for c in columns[:LABEL_COLUMNS]]
    if not labels:
        return "false"
    words = "|".join(SUBTOTAL_WORDS)

    def label(column: str) -> str:
        no_space = f"regexp_replace({column}, {literal(char_class(WHITESPACE))}, '', 'g')"
        return f"rtrim({no_space}, {literal(_COLONS)})"

    mentions = " OR ".join(f"contains({c}, {literal(_MENTION)})" for c in labels)
    starts = f"regexp_matches({label(labels[0])}, {literal(f'^(?:{words})')})"
    ends = [
        f"regexp_matches({label(c)}, {literal(f'^.{{0,{LABEL_PREFIX}}}(?:{words})$')})"
        for c in labels
    ]
    found = " OR ".join([starts, *ends])
    return f"CASE WHEN {mentions} THEN coalesce({found}, false) ELSE false END"
