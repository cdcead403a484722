"""The pages, their fixed URL paths, and links between them that keep the filter.

A chairman shares a link; it must open the same page with the same period and outlets,
so every link carries the filter bar's query parameters and the language.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

import streamlit as st

from dashboard.filter_bar import FILTER_PARAMS
from warehouse.scope import Permission, Scope

VIEWS = Path(__file__).resolve().parent / "views"


class PageSpec(NamedTuple):
    """One page: URL path, file in ``views/``, title label, icon, and who may open it.

    ``needs``: the permission the page is about. ``outlets``: the page is about outlets,
    so it is for those who see at least one (not for a teller's own card).
    """

    url_path: str
    file: str
    title_key: str
    icon: str
    needs: Permission = Permission.KPIS
    outlets: bool = True

    def open_to(self, scope: Scope) -> bool:
        """Whether ``scope`` may open the page (the data it reads is scoped regardless)."""
        if not scope.can(self.needs):
            return False
        return not self.outlets or scope.outlets is None or bool(scope.outlets)


PAGES = (
    PageSpec("overview", "overview.py", "nav_overview", ":material/dashboard:"),
    PageSpec("throughput", "throughput.py", "nav_throughput", ":material/groups:"),
    PageSpec("quality", "quality.py", "nav_quality", ":material/verified:"),
    PageSpec("stars", "stars.py", "nav_stars", ":material/star:"),
    PageSpec("outlet", "outlet.py", "nav_outlet", ":material/storefront:"),
    PageSpec("staff", "staff.py", "nav_staff", ":material/badge:", outlets=False),
    PageSpec("explorer", "explorer.py", "nav_explorer", ":material/query_stats:"),
    PageSpec(
        "data-quality",
        "data_quality.py",
        "nav_data_quality",
        ":material/fact_check:",
        Permission.LOADS,
        outlets=False,
    ),
    PageSpec(
        "admin", "admin.py", "nav_admin", ":material/admin_panel_settings:", Permission.ADMIN, False
    ),
)


def _spec(url_path: str) -> PageSpec:
    """The page with this URL path (a typo is a programming error, so it raises)."""
    for spec in PAGES:
        if spec.url_path == url_path:
            return spec
    raise KeyError(f"no page {url_path!r}; pages: {[p.url_path for p in PAGES]}")


def can_open(url_path: str, scope: Scope) -> bool:
    """Whether a link to the page would open it for ``scope`` (else leave the link out)."""
    return _spec(url_path).open_to(scope)


def carried_params() -> dict[str, str]:
    """The current filter and language parameters, which every link keeps."""
    current = st.query_params.to_dict()
    return {k: v for k, v in current.items() if k in (*FILTER_PARAMS, "lang")}


def link(url_path: str, **params: str) -> str:
    """A relative link to a page with the current filter and ``params`` (e.g. outlet=)."""
    _spec(url_path)
    return f"./{url_path}?{urlencode({**carried_params(), **params})}"


def go(url_path: str, **params: str) -> None:
    """Switch to a page in this browser tab, keeping the filter (drill-down on click)."""
    st.switch_page(VIEWS / _spec(url_path).file, query_params={**carried_params(), **params})


def open_clicked_outlet(points: list[dict]) -> None:
    """Open the outlet page of the bar the user clicked (charts carry the code as customdata).

    Every chart of outlets drills down the same way, so a chairman learns it once.
    """
    for point in points:
        code = point.get("customdata")
        if isinstance(code, list):
            code = code[0]
        if code:
            go("outlet", outlet=str(code))
