"""What every page does around its own content: title, empty states, never a traceback.

A page module defines ``render(ctx)`` and ends with ``run_page("nav_x", render)``. The
wrapper explains a missing warehouse or an empty one instead of failing, and turns any
unexpected error into one polite line (the details go to the server log).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from dashboard import data
from dashboard.filter_bar import SESSION_KEY
from dashboard.i18n import code_label, translate
from dashboard.selection import Selection
from dashboard.session import current_scope
from dashboard.state import language
from warehouse.periods import month_bounds
from warehouse.scope import OutOfScope, Permission, Scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageContext:
    """What a page needs to draw: the language, the global filter, the viewer's scope.

    The scope is here for what a page offers (a payout section, download buttons); what
    it can read is enforced in ``dashboard.data`` whatever the page asks.
    """

    lang: str
    selection: Selection
    scope: Scope

    def can(self, permission: Permission) -> bool:
        """Whether the viewer holds ``permission``."""
        return self.scope.can(permission)

    def t(self, key: str, **values: object) -> str:
        """A label in the page's language."""
        return translate(key, self.lang, **values)

    def kpi_args(self, **extra: Any) -> dict[str, Any]:
        """Keyword arguments for a KPI function: the period and the outlet scope."""
        args = {"start": self.selection.start, "end": self.selection.end}
        return {**args, **self.selection.kpi_filters(), **extra}


def caption(ctx: PageContext) -> str:
    """One line under the title saying which period and outlets the page shows."""
    scope = ctx.selection.scope
    parts = [f"{ctx.selection.start.isoformat()} – {ctx.selection.last_day.isoformat()}"]
    types = tuple(code_label("outlet_type", code, ctx.lang) for code in scope.outlet_types)
    for values, key in (
        (scope.townships, "township"),
        (types, "outlet_type"),
        (scope.outlets, "outlets"),
    ):
        if values:
            parts.append(f"{ctx.t(key)}: {', '.join(values)}")
    if len(parts) == 1:
        parts.append(
            reach_text(ctx.scope, ctx.lang) if not ctx.scope.county else ctx.t("outlets_all")
        )
    return " · ".join(parts)


def empty_state(lang: str) -> None:
    """Say why there is nothing to show and what to do about it."""
    if data.warehouse_version() is None:
        st.info(
            f"**{translate('no_warehouse_title', lang)}**\n\n"
            + translate("no_warehouse_body", lang, path=data.warehouse_path())
        )
    else:
        st.info(translate("no_events_loaded", lang))


def reach_text(scope: Scope, lang: str) -> str:
    """What the viewer sees, in words: every outlet, some outlets, or their own card."""
    if scope.outlets is None:
        return translate("reach_county", lang)
    if scope.outlets:
        return translate("reach_outlets", lang, outlets=", ".join(sorted(scope.outlets)))
    return translate("reach_own_card", lang)


def out_of_scope(refused: OutOfScope, lang: str) -> str:
    """Why something is not shown, naming only what the request named."""
    return translate(
        "out_of_scope", lang, detail=str(refused), reach=reach_text(current_scope(), lang)
    )


def run_page(
    title_key: str | Callable[[Scope], str],
    render: Callable[[PageContext], None],
    *,
    require_events: bool = True,
) -> None:
    """Draw a page: title, caption, then ``render``; explain empty states; hide errors.

    ``title_key`` may depend on the viewer (a teller's staff page is "my card").
    ``require_events=False`` is for pages about the loads themselves (data quality): they
    draw as soon as a warehouse exists, with this month as the period if nothing loaded.
    """
    lang = language()
    try:
        key = title_key(current_scope()) if callable(title_key) else title_key
        st.title(translate(key, lang))
        selection = st.session_state.get(SESSION_KEY)
        if selection is None and not require_events and data.warehouse_version() is not None:
            today = dt.date.today().replace(day=1).isoformat()[:7]
            selection = Selection("month", today, *month_bounds(today))
        if selection is None:
            empty_state(lang)
            return
        ctx = PageContext(lang, selection, current_scope())
        st.caption(caption(ctx))
        render(ctx)
    except OutOfScope as refused:
        st.info(out_of_scope(refused, lang))
    except Exception:  # the chairman never sees a traceback
        log.exception("page %s failed", title_key if isinstance(title_key, str) else "")
        st.error(translate("error_generic", lang))
