"""The dashboard's web server: Streamlit (``app.py``) behind the sign-in gate (``gate.py``).

``rccdash serve`` runs ``streamlit run dashboard/server.py``; Streamlit finds ``app``
below (an ``st.App``) and serves the dashboard with the gate's pages and middleware in
front of it. With OpenID Connect sign-in (config/access.yaml) Streamlit's own ``st.login``
routes do the signing in, and the app itself turns away anyone not signed in.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dashboard.data
import dashboard.widgets  # noqa: F401 - and Plotly
from access.settings import SignInMethod, access_settings, store_path
from access.store import AccessStore
from dashboard.gate import Gate
from dashboard.reports import report_route
from warehouse.settings import resolve_db_path

# The libraries loaded above live as long as the server: moved out of the collector's
# reach, so a collection walks only what the sessions allocate (with Streamlit's own
# collection after every run switched off by `rccdash serve`).
gc.freeze()

WARMUP_ENV_VAR = "RCCDASH_WARMUP_SECRET"

settings = access_settings()
gate = Gate(
    AccessStore(store_path(resolve_db_path(None)), settings),
    settings,
    os.environ.get(WARMUP_ENV_VAR, ""),
)
local = settings.method is SignInMethod.LOCAL
app = st.App(
    "app.py",
    routes=[*gate.routes(), report_route(gate.account_of)] if local else [],
    middleware=[Middleware(gate.middleware)] if local else [],
)
