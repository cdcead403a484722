"""The canonical export kinds of ``config/exports.yaml``: columns, types, load order."""

from __future__ import annotations

from dataclasses import dataclass, field

from warehouse.settings import load_config


@dataclass(frozen=True)
class ExportKind:
    """One kind of export: its canonical columns with DuckDB types, and its load order."""

    name: str
    order: int
    types: dict[str, str]
    required: frozenset[str]
    # TIMESTAMP field -> the DATE field a bare time of day in it is taken on.
    on_date: dict[str, str] = field(default_factory=dict)


def export_kinds() -> dict[str, ExportKind]:
    """All kinds, keyed by name, in load order."""
    kinds = load_config("exports")["kinds"]
    out = {
        name: ExportKind(
            name,
            int(spec["order"]),
            {col: str(c["type"]) for col, c in spec["columns"].items()},
            frozenset(col for col, c in spec["columns"].items() if c.get("required")),
            {col: str(c["on_date"]) for col, c in spec["columns"].items() if c.get("on_date")},
        )
        for name, spec in kinds.items()
    }
    return dict(sorted(out.items(), key=lambda item: item[1].order))
