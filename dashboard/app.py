"""rccdash dashboard entry point: `streamlit run dashboard/app.py` (or `rccdash serve`).

Sets up the page, the language switch, the global filter bar and the navigation. Widgets
created here live across page changes, which is why the filter bar is drawn here; each
page lives in ``dashboard/views`` and reads the filter through :mod:`dashboard.page`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.filter_bar import SESSION_KEY, filter_bar
from dashboard.i18n import LANGUAGES, translate
from dashboard.navigation import PAGES, VIEWS
from dashboard.state import language

st.set_page_config(page_title="rccdash", page_icon="⭐", layout="wide")
lang = language()
pages = {
    spec.url_path: st.Page(
        VIEWS / spec.file,
        title=translate(spec.title_key, lang),
        icon=spec.icon,
        url_path=spec.url_path,
    )
    for spec in PAGES
}


def _home() -> None:
    """The bare address opens the overview under its own, shareable, /overview path."""
    st.switch_page(pages["overview"], query_params=st.query_params.to_dict())


current = st.navigation(
    [
        st.Page(_home, title="rccdash", url_path="home", default=True, visibility="hidden"),
        *pages.values(),
    ]
)
st.sidebar.selectbox(
    translate("language", lang),
    options=list(LANGUAGES),
    format_func=LANGUAGES.__getitem__,
    key="lang",
)
st.sidebar.subheader(translate("filters", lang))
try:
    filter_bar(lang)
except Exception:  # an unreadable warehouse: the page explains, the log has the details
    logging.getLogger(__name__).exception("filter bar failed")
    st.session_state[SESSION_KEY] = None
    st.error(translate("error_generic", lang))
current.run()
