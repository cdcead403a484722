"""rccdash dashboard entry point: `streamlit run dashboard/app.py` (or `rccdash serve`).

Sets up the page, the language switch and the navigation; each page lives in
``dashboard/views`` and only calls warehouse functions through :mod:`dashboard.data`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.i18n import LANGUAGES, translate
from dashboard.state import language

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="rccdash", page_icon="⭐", layout="wide")
lang = language()
st.sidebar.selectbox(
    translate("language", lang),
    options=list(LANGUAGES),
    format_func=LANGUAGES.__getitem__,
    key="lang",
)
overview = st.Page(
    VIEWS / "overview.py", title=translate("nav_overview", lang), url_path="overview"
)


def _home() -> None:
    """The bare address opens the overview under its own, shareable, /overview path."""
    st.switch_page(overview)


pages = [
    st.Page(_home, title="rccdash", url_path="home", default=True, visibility="hidden"),
    overview,
]
st.navigation(pages).run()
