"""The canonical export kinds of ``config/exports.yaml`` and recognising a file's kind."""

from __future__ import annotations

from dataclasses import dataclass

from warehouse.settings import load_config


@dataclass(frozen=True)
class ExportKind:
    """One kind of export: its canonical columns with DuckDB types, and its load order."""

    name: str
    order: int
    types: dict[str, str]
    required: frozenset[str]


def export_kinds() -> dict[str, ExportKind]:
    """All kinds, keyed by name, in load order."""
    kinds = load_config("exports")["kinds"]
    out = {
        name: ExportKind(
            name,
            int(spec["order"]),
            {col: str(c["type"]) for col, c in spec["columns"].items()},
            frozenset(col for col, c in spec["columns"].items() if c.get("required")),
        )
        for name, spec in kinds.items()
    }
    return dict(sorted(out.items(), key=lambda item: item[1].order))


def detect_kind(header: list[str]) -> ExportKind | None:
    """The kind whose required columns all appear in ``header``; the most specific wins.

    Returns None when no kind matches, so the caller can say which columns are missing.
    """
    present = {h.strip() for h in header}
    matches = [k for k in export_kinds().values() if k.required <= present]
    return max(matches, key=lambda k: len(k.required), default=None)
