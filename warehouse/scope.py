"""The one scope object every read of the dashboard goes through: who may see which rows.

Why in the data layer: hiding a page hides nothing from a URL (``?outlet=03114``), a
bookmark or a pivot by staff. A :class:`Scope` is derived from the signed-in account
(:func:`access.roles.scope_of`) and applied to each warehouse read in three steps:

1. :meth:`Scope.bind` checks the read's arguments against the reach before anything
   runs: the permission the read needs, the outlet or person it names, and the outlet
   filters, which are intersected with the outlets in reach. A request for something
   outside the reach raises :class:`OutOfScope`, whose message names no outlet or person
   beyond what the request itself said.
2. The read runs with the bound arguments (the dashboard caches it per warehouse file).
3. :meth:`Scope.redact` cuts every table in the result down to the reach (rows of other
   outlets go, a teller keeps only their own rows), empties pay columns without the
   ``pay`` permission, and masks identifiers in free text without ``pii``.

How each read is scoped (which argument names an outlet or a person, which columns hold
pay or free text) is declared once per read in :mod:`warehouse.reads`; a read that is not
declared there cannot be made through a scope at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import duckdb
import polars as pl

# Warehouse columns that hold pay: hidden in the SQL console without the pay permission.
# (The payout itself is computed, never stored.)
PAY_COLUMNS: dict[str, tuple[str, ...]] = {"fact_complaint": ("penalty_amount",)}


class Permission(StrEnum):
    """What a scope allows; roles and grants give them (:mod:`access.roles`)."""

    KPIS = "kpis"  # KPIs, stars and complaints of the outlets (or the person) in reach
    LOADS = "loads"  # data quality: loads, quarantine, missing days
    CONSOLE = "console"  # the read-only SQL console
    PAY = "pay"  # pay amounts (payout, fines) of everyone in reach
    OWN_PAY = "own_pay"  # one's own payout line and fines
    PII = "pii"  # identifiers in free text, unmasked
    PUBLISH = "publish"  # publish or restate a month's stars
    DOWNLOAD = "download"  # take tables away as files
    ADMIN = "admin"  # accounts and the audit log


class OutOfScope(PermissionError):
    """A read asked for something outside the scope's reach.

    ``kind`` is ``permission``, ``outlet`` or ``staff``; the message is safe to show: it
    names only what the request named.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Read:
    """How one warehouse read is scoped (declared in :mod:`warehouse.reads`).

    ``needs``: the read is allowed with any one of these permissions (none: anybody
    signed in). ``filters``: it takes the outlet filters (township, outlet_type,
    outlets), which a restricted scope narrows to its outlets. ``outlet_arg`` /
    ``staff_arg``: the argument naming one outlet / one person, which must be in reach;
    ``subject``: the pair of arguments (kind, id) naming an outlet or a person.
    ``pay_columns`` / ``text_columns``: result columns holding pay / free text
    (``"*"``: every text column, for results of arbitrary SQL). ``search_arg``: words
    looked for in that text, which must not be an identifier without ``pii`` (else a
    search would confirm a masked phone number).
    """

    needs: tuple[Permission, ...] = ()
    filters: bool = False
    outlet_arg: str | None = None
    staff_arg: str | None = None
    subject: tuple[str, str] | None = None
    pay_columns: tuple[str, ...] = ()
    text_columns: tuple[str, ...] = ()
    search_arg: str | None = None


def _as_set(value: str | Iterable[str] | None) -> frozenset[str] | None:
    """A filter value as a set of codes, normalised as the KPI layer does (None: no filter)."""
    from warehouse.kpi.filters import codes  # imported when used: it brings in ibis

    values = codes(value, "outlets")
    return None if values is None else frozenset(values)


@dataclass(frozen=True)
class Scope:
    """What one signed-in person may read; hashable, so it can key a cache.

    ``outlets``: the outlets in reach, None for every outlet (county roles), empty for a
    person who sees only their own card. ``staff_id``: the person's own staff id, whose
    rows (own KPIs, stars, complaints, payout line) are always in reach.
    """

    permissions: frozenset[Permission]
    outlets: frozenset[str] | None = None
    staff_id: str | None = None
    who: str = ""

    def can(self, permission: Permission) -> bool:
        """Whether the scope holds ``permission``."""
        return permission in self.permissions

    @property
    def county(self) -> bool:
        """True when every outlet is in reach."""
        return self.outlets is None

    @property
    def sees_pay(self) -> bool:
        """Pay amounts of others in reach are shown (not only one's own)."""
        return self.can(Permission.PAY)

    def bind(
        self,
        read: Read,
        kwargs: Mapping[str, Any],
        staff_in_reach: Callable[[], frozenset[str]],
    ) -> dict[str, Any]:
        """The arguments ``read`` runs with under this scope, or :class:`OutOfScope`.

        ``staff_in_reach`` lists the people of the outlets in reach; it is called only
        when a restricted scope's read names a person other than the viewer.
        """
        if read.needs and not any(self.can(p) for p in read.needs):
            raise OutOfScope("permission", "this information is not part of your access")
        out = dict(kwargs)
        term = out.get(read.search_arg) if read.search_arg else None
        if term and not self.can(Permission.PII):
            from warehouse.privacy import contains_identifier

            if contains_identifier(str(term)):
                raise OutOfScope("permission", "searching for a personal identifier")
        if self.outlets is None:
            return out
        about_me = False
        people: list[str] = []
        places: list[str] = []
        if read.staff_arg and out.get(read.staff_arg) is not None:
            people.append(str(out[read.staff_arg]))
        if read.subject:
            kind, ident = out.get(read.subject[0]), out.get(read.subject[1])
            (people if kind == "staff" else places).append(str(ident))
        if read.outlet_arg:
            places.append(str(out.get(read.outlet_arg)))
        for person in people:
            if person == self.staff_id:
                about_me = True
            elif person not in staff_in_reach():
                raise OutOfScope("staff", f"staff {person} is outside your access")
        for place in places:
            if place not in self.outlets:
                raise OutOfScope("outlet", f"outlet {place} is outside your access")
        if read.filters and not about_me:
            wanted = _as_set(out.get("outlets"))
            allowed = self.outlets if wanted is None else self.outlets & wanted
            if not allowed:
                named = ", ".join(sorted(wanted or ())) or "these outlets"
                raise OutOfScope("outlet", f"{named}: outside your access")
            out["outlets"] = tuple(sorted(allowed))
        return out

    def redact(self, read: Read, result: Any) -> Any:
        """The result cut down to the reach: rows, pay columns, identifiers in text."""
        return _each_frame(result, lambda frame: self._frame(read, frame))

    def _frame(self, read: Read, frame: pl.DataFrame) -> pl.DataFrame:
        """One table of a result under this scope."""
        mine = None
        if self.staff_id is not None and "staff_id" in frame.columns:
            mine = pl.col("staff_id") == self.staff_id
        if self.outlets is not None and "outlet_code" in frame.columns:
            keep = pl.col("outlet_code").is_null() | pl.col("outlet_code").is_in(
                sorted(self.outlets)
            )
            if mine is not None:
                keep = keep | mine.fill_null(False)
            frame = frame.filter(keep)
        pay = [c for c in read.pay_columns if c in frame.columns]
        if pay and not self.sees_pay:
            own = mine is not None and self.can(Permission.OWN_PAY)
            shown = mine.fill_null(False) if own and mine is not None else pl.lit(False)
            frame = frame.with_columns(
                pl.when(shown).then(pl.col(c)).otherwise(None).alias(c) for c in pay
            )
        text = [
            c
            for c in frame.columns
            if c in read.text_columns or ("*" in read.text_columns and frame[c].dtype == pl.String)
        ]
        if text and not self.can(Permission.PII):
            from warehouse.privacy import mask_frame

            frame = mask_frame(frame, text)
        return frame

    def read(self, con: duckdb.DuckDBPyConnection, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """Run the warehouse read ``fn(con, **kwargs)`` under this scope (no caching).

        For callers outside the dashboard (the review pack of one outlet, tests); the
        dashboard does the same through ``dashboard.data.fetch``, with a cache.
        """
        from warehouse.reads import declared

        spec = declared(fn)
        bound = self.bind(spec, kwargs, lambda: staff_of(con, self.outlets or frozenset()))
        return self.redact(spec, fn(con, **bound))


def _each_frame(value: Any, change: Callable[[pl.DataFrame], pl.DataFrame]) -> Any:
    """``value`` with ``change`` applied to every table in it (tuples, dataclasses)."""
    if isinstance(value, pl.DataFrame):
        return change(value)
    if isinstance(value, tuple):
        items = [_each_frame(v, change) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        frames = {
            f.name: change(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if isinstance(getattr(value, f.name), pl.DataFrame)
        }
        return dataclasses.replace(value, **frames) if frames else value
    return value


def staff_of(con: duckdb.DuckDBPyConnection, outlets: frozenset[str]) -> frozenset[str]:
    """Everyone ever assigned to one of ``outlets`` (an outlet head's people).

    Any assignment counts, past ones included: the head may look back at someone who
    has since moved on; their numbers elsewhere stay out, because the outlet filters of
    every read about them are narrowed to the head's outlets.
    """
    if not outlets:
        return frozenset()
    rows = con.execute(
        "SELECT DISTINCT staff_id FROM dim_staff WHERE list_contains(?, outlet_code)",
        [sorted(outlets)],
    ).fetchall()
    return frozenset(r[0] for r in rows)
