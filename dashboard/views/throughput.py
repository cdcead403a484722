"""Placeholder while the page is being built (replaced by its real content)."""

from __future__ import annotations

import streamlit as st

from dashboard.page import PageContext, run_page


def render(ctx: PageContext) -> None:
    """Nothing yet."""
    st.write(ctx.selection)


run_page("nav_throughput", render)
