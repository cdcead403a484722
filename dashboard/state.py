"""State that must survive page changes and be bookmarkable: kept in the URL query string."""

from __future__ import annotations

import streamlit as st

from dashboard.i18n import LANGUAGES


def language() -> str:
    """The chosen language: the sidebar switch, else ``?lang=``, else English.

    Whatever is chosen is written back to the URL so a bookmark reopens it.
    """
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang", "en")
        st.session_state["lang"] = wanted if wanted in LANGUAGES else "en"
    lang = st.session_state["lang"]
    st.query_params["lang"] = lang
    return lang
