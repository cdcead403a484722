"""Map a raw export (all text, foreign headers) onto the canonical fields, in DuckDB SQL.

Staging renames and casts only (as dbt's staging models do): each canonical field becomes
an expression over the raw columns built from the import profile, and is cast to the
canonical type with ``TRY_CAST``/``try_strptime``. A value that is present but does not
cast is remembered, so the validator can name it instead of silently loading NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from etl.kinds import ExportKind, export_kinds
from etl.profiles import FieldSpec, Profile, normalise_header

# Free text keeps its own punctuation (only trimmed); every other field is also folded
# from full-width to ASCII (etl.normalise).
FREE_TEXT = {"description", "name", "outlet_name", "township", "name_en", "name_zh"}
# Fields whose canonical values are lower-case codes.
CODES = {
    "channel",
    "business_type",
    "status",
    "customer_segment",
    "outlet_type",
    "position",
    "category",
    "severity",
    "penalty",
    "kpi",
}
DEFAULT_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%dT%H:%M:%S",
)
DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%m/%d/%Y")
# The longest text DuckDB casts to an infinite date or timestamp: "-infinity".
_LONGEST_INFINITY = 9
# A bare time of day, as attendance exports write a shift: 8:30, 08:30, 08:30:00.
TIME_OF_DAY = r"\d{1,2}:\d{2}(:\d{2})?"


class MappingError(ValueError):
    """The file cannot be mapped (kind unknown, a required field has no source)."""


def quote(identifier: str) -> str:
    """A SQL identifier quoted for DuckDB."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Mapping:
    """The kind of a file and, per canonical field, the SQL that produces its text."""

    kind: ExportKind
    source_sql: dict[str, str]  # canonical field -> SQL over raw columns (absent: no source)
    sources: dict[str, str]  # canonical field -> where it comes from, for messages


def _header_index(header: list[str]) -> dict[str, str]:
    """Normalised header -> header as in the file (first occurrence wins)."""
    index: dict[str, str] = {}
    for column in header:
        index.setdefault(normalise_header(column), column)
    return index


def _source(field: str, spec: FieldSpec | None, index: dict[str, str]) -> str | None:
    """The raw column carrying ``field``: its own name or one of its aliases."""
    for candidate in (field, *(spec.aliases if spec else ())):
        found = index.get(normalise_header(candidate))
        if found is not None:
            return found
    return None


def _nulls(field: str, profile: Profile) -> tuple[str, ...]:
    """Texts that mean "did not happen" for ``field``."""
    spec = profile.fields.get(field)
    return profile.null_values + (spec.null_values if spec else ())


def _source_expr(
    field: str, spec: FieldSpec | None, index: dict[str, str], profile: Profile
) -> tuple[str | None, str]:
    """SQL over the raw columns giving the folded text of ``field``, and where it comes from.

    This is the first staging layer; :func:`text_sql` builds on its result by column name,
    so no expression is repeated inside another (which would grow exponentially).
    """
    if spec and spec.sql:
        return f"CAST(({spec.sql}) AS VARCHAR)", f"sql: {spec.sql}"
    if spec and spec.constant is not None:
        return literal(spec.constant), f"constant {spec.constant!r}"
    if spec and spec.date and spec.time:
        date_col, time_col = (
            index.get(normalise_header(spec.date)),
            index.get(normalise_header(spec.time)),
        )
        if date_col is None or time_col is None:
            return None, f"date {spec.date!r} + time {spec.time!r} (column missing)"
        time_sql = quote(time_col)
        listed = ", ".join(literal(n) for n in _nulls(field, profile)) or "NULL"
        return (
            f"CASE WHEN {time_sql} IN ({listed}) THEN NULL"
            f" ELSE {quote(date_col)} || ' ' || {time_sql} END",
            f"{date_col} + {time_col}",
        )
    column = _source(field, spec, index)
    if column is None:
        return None, "no column"
    return quote(column), column


def text_sql(field: str, ref: str, profile: Profile, codes: Sequence[str] = ()) -> str:
    """Second staging layer: null sentinels and value map, over column ``ref``.

    The sentinel test first compares the value's length in bytes, which DuckDB knows
    without reading it: most values (ids, times) are longer than any sentinel, and an
    ``IN`` list over millions of them is a tenth of the staging's CPU. A value already
    one of the field's allowed ``codes`` skips the value map (when the map and the
    sentinels leave those codes as they are): most values of an export are.
    """
    spec = profile.fields.get(field)
    expr = ref
    nulls = _nulls(field, profile)
    if nulls:
        listed = ", ".join(literal(n) for n in nulls)
        longest = max(len(n.encode()) for n in nulls)
        sentinel = f"strlen({ref}) <= {longest} AND {ref} IN ({listed})"
        expr = f"CASE WHEN {sentinel} THEN NULL ELSE {ref} END"
    if spec and spec.values:
        cases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in spec.values.items())
        expr = f"CASE {ref} {cases} ELSE {expr} END"
        kept = set(codes) - set(spec.values) - set(nulls)
        if kept:
            listed = ", ".join(literal(c) for c in sorted(kept))
            expr = f"CASE WHEN {ref} IN ({listed}) THEN {ref} ELSE {expr} END"
    return expr


def build_mapping(header: list[str], profile: Profile, kind_name: str | None = None) -> Mapping:
    """Decide the file's kind and how every canonical field is produced.

    The kind is the one named (``--kind`` or the profile's ``kind``), else the kind all of
    whose required fields can be produced, preferring the one with most required fields.
    """
    index = _header_index(header)
    kinds = export_kinds()
    wanted = kind_name or profile.kind
    if wanted and wanted not in kinds:
        raise MappingError(f"unknown kind {wanted!r}; kinds: {', '.join(kinds)}")
    candidates = [kinds[wanted]] if wanted else list(kinds.values())
    best: Mapping | None = None
    best_missing: list[str] = []
    for kind in candidates:
        found: dict[str, str] = {}
        sources: dict[str, str] = {}
        for field in kind.types:
            sql, where = _source_expr(field, profile.fields.get(field), index, profile)
            sources[field] = where
            if sql is not None:
                found[field] = sql
        missing = sorted(kind.required - set(found))
        if not missing and (best is None or len(kind.required) > len(best.kind.required)):
            best = Mapping(kind, found, sources)
        elif wanted:
            best_missing = missing
    if best is None:
        if wanted:
            raise MappingError(
                f"required column(s) missing for {wanted}: {', '.join(best_missing)}"
                f" (header: {', '.join(header)})"
            )
        raise MappingError(
            f"header matches no export kind with profile {profile.name!r}: {', '.join(header)}"
        )
    return best


def typed_sql(
    field: str,
    sql_type: str,
    text: str,
    profile: Profile,
    codes: Sequence[str] = (),
    on_date: str | None = None,
) -> str:
    """Cast the text of a field to its canonical type; NULL when it does not cast.

    A code field is lower-cased; ``codes`` (its allowed values) are kept as they are,
    which is the same and cheaper than lower-casing millions of values that already are.
    A time is parsed with the formats only when present and not in DuckDB's own format.
    ``on_date`` (SQL of a DATE) is the day a bare time of day (``8:30``, ``08:30:00``,
    ``24:00``) in a TIMESTAMP field falls on; only text that is nothing but a time of day
    qualifies, so a malformed timestamp still fails rather than losing its date.
    """
    spec = profile.fields.get(field)
    own = spec.formats if spec else ()
    if sql_type == "TIMESTAMP":
        formats = own or profile.formats or DEFAULT_TIME_FORMATS
        listed = ", ".join(literal(f) for f in formats)
        on_day = (
            f", CASE WHEN regexp_full_match({text}, {literal(TIME_OF_DAY)})"
            f" THEN {on_date} + TRY_CAST({text} AS TIME) END"
            if on_date
            else ""
        )
        parsed = f"try_strptime({text}, [{listed}]){on_day}"
        typed = _finite(f"coalesce(TRY_CAST({text} AS TIMESTAMP), {parsed})", text)
        return f"CASE WHEN {text} IS NOT NULL THEN {typed} END"
    if sql_type == "DATE":
        formats = own or DEFAULT_DATE_FORMATS
        listed = ", ".join(literal(f) for f in formats)
        return _finite(
            f"coalesce(TRY_CAST({text} AS DATE), try_strptime({text}, [{listed}])::DATE)", text
        )
    if sql_type.startswith(("INTEGER", "DOUBLE", "DECIMAL", "BIGINT")):
        # Thousands separators are removed only where there are any: rewriting millions
        # of values that hold none costs 3% of the staging.
        plain = f"CASE WHEN contains({text}, ',') THEN replace({text}, ',', '') ELSE {text} END"
        if sql_type.startswith("DOUBLE"):
            return _finite(f"TRY_CAST({plain} AS {sql_type})")
        return f"TRY_CAST({plain} AS {sql_type})"
    if sql_type == "BOOLEAN":
        return f"TRY_CAST(lower({text}) AS BOOLEAN)"
    if field in CODES:
        kept = [c for c in codes if c == c.lower()]
        if not kept:
            return f"lower({text})"
        listed = ", ".join(literal(c) for c in kept)
        return f"CASE WHEN {text} IN ({listed}) THEN {text} ELSE lower({text}) END"
    return text


def _finite(typed: str, text: str | None = None) -> str:
    """SQL of a cast that is NULL where the value is infinite or NaN.

    Why: DuckDB reads ``'infinity'`` as a timestamp or date (``TRY_CAST`` and
    ``try_strptime`` alike) and ``'NaN'`` as a number. No export means them, and an
    infinite timestamp fails the whole file in the checks (it has no time of day). As
    NULL with a value present, the row fails ``bad_type_<field>`` like any value that
    does not cast. Given the ``text`` cast, only text as short as DuckDB's spellings of
    infinity (``-infinity``; staging has trimmed it) is tested: the test evaluates the
    cast again, which would cost timestamps 85% more, and DuckDB knows a value's length
    without reading it.
    """
    guarded = f"CASE WHEN isfinite({typed}) THEN {typed} END"
    if text is None:
        return guarded
    return f"CASE WHEN strlen({text}) > {_LONGEST_INFINITY} THEN {typed} ELSE {guarded} END"
