"""rccdash dashboard entry point, run by ``dashboard/server.py`` behind the sign-in gate.

Sets up the page, the signed-in person and their scope, the language switch, the global
filter bar and the navigation. Widgets created here live across page changes, which is
why the filter bar is drawn here; each page lives in ``dashboard/views`` and reads the
filter through :mod:`dashboard.page`.

Every page is registered for everybody (a bookmarked page always exists), but a page the
person may not open shows only that, and the menu lists only the pages they may open.
What a page shows is scoped in the data layer regardless (``dashboard.data``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from access.roles import scope_of
from dashboard import session
from dashboard.filter_bar import SESSION_KEY, filter_bar
from dashboard.i18n import LANGUAGES, plain, translate
from dashboard.navigation import PAGES, VIEWS, PageSpec
from dashboard.state import language
from warehouse.scope import Permission, Scope

st.set_page_config(page_title="rccdash", page_icon="⭐", layout="wide")
lang = language()
account = session.signed_in_account()
scope = scope_of(account) if account is not None else None


def _denied(spec: PageSpec) -> Callable[[], None]:
    """A stand-in for a page the person may not open (its address still exists)."""

    def page() -> None:
        st.title(translate(spec.title_key, lang))
        st.info(translate("page_denied", lang))

    page.__name__ = page.__qualname__ = f"denied_{spec.url_path.replace('-', '_')}"
    return page


def _title(spec: PageSpec, viewer: Scope | None) -> str:
    """The menu title: a teller's staff page is their own card."""
    own_card = viewer is not None and viewer.outlets == frozenset() and viewer.staff_id
    if spec.url_path == "staff" and own_card:
        return translate("nav_my_card", lang)
    return translate(spec.title_key, lang)


opened = {spec.url_path: scope is not None and spec.open_to(scope) for spec in PAGES}
pages = {
    spec.url_path: st.Page(
        VIEWS / spec.file if opened[spec.url_path] else _denied(spec),
        title=_title(spec, scope),
        icon=spec.icon,
        url_path=spec.url_path,
        visibility="visible" if opened[spec.url_path] else "hidden",
    )
    for spec in PAGES
}


def _home() -> None:
    """The bare address opens the person's first page under its own, shareable, path."""
    first = next((path for path, ok in opened.items() if ok), None)
    if first is None:
        st.info(translate("page_denied", lang))
        return
    st.switch_page(pages[first], query_params=st.query_params.to_dict())


current = st.navigation(
    [
        st.Page(_home, title="rccdash", url_path="home", default=True, visibility="hidden"),
        *pages.values(),
    ],
    position="sidebar" if account is not None else "hidden",
)
account = session.require_account(lang)  # without one: "sign in again", and stop
assert scope is not None
st.sidebar.selectbox(
    translate("language", lang),
    options=list(LANGUAGES),
    format_func=LANGUAGES.__getitem__,
    key="lang",
)
with st.sidebar.container(border=True):
    st.markdown(
        translate(
            "signed_in_as",
            lang,
            name=plain(account.display_name),
            roles=session.roles_text(account, lang),
        )
    )
    here = quote(f"/{current.url_path}")
    st.markdown(
        f"[{translate('password_change_link', lang)}](/password?next={here}&lang={lang})"
        f" · [{translate('signout', lang)}](/signout?lang={lang})"
    )
if scope.can(Permission.KPIS) or scope.can(Permission.LOADS):
    st.sidebar.subheader(translate("filters", lang))
    try:
        filter_bar(lang, scope)
    except Exception:  # an unreadable warehouse: the page explains, the log has the details
        logging.getLogger(__name__).exception("filter bar failed")
        st.session_state[SESSION_KEY] = None
        st.error(translate("error_generic", lang))
current.run()
