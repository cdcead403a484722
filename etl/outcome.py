"""What happened to one file of a load: the operator's summary line.

Its own module because the pipeline fills it and the validation report renders it:
neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FileOutcome:
    """What happened to one file: the operator's summary line."""

    path: Path
    kind: str = ""
    status: str = ""  # loaded | skipped | rejected
    read: int = 0
    loaded: int = 0
    duplicate: int = 0
    quarantined: int = 0
    dropped: int = 0
    seconds: float = 0.0
    message: str = ""
    load_id: int | None = None
    report: Path | None = None
    rule_counts: dict[str, int] = field(default_factory=dict)
    advice: str | None = None  # what to do next when rows failed on reference data
