"""Who is signed in, for the Streamlit script: the account behind the session cookie.

The gate (``dashboard.gate``) already refused every request without a valid session, so
an anonymous browser never gets here; the script checks again on every run (defence in
depth, and the way an idle session ends while its tab is open). The account's
:class:`warehouse.scope.Scope` is kept in the session state for ``dashboard.data``, which
puts every warehouse read through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from access.roles import Account, Role, scope_of
from access.settings import SignInMethod, access_settings, store_path
from access.store import AccessStore, AuditEvent
from dashboard.i18n import translate
from warehouse.scope import Scope
from warehouse.settings import resolve_db_path

ACCOUNT_KEY = "_rccdash_account"
SCOPE_KEY = "_rccdash_scope"


class NotSignedIn(PermissionError):
    """A read was attempted outside a signed-in session."""


def store() -> AccessStore:
    """The account store beside the warehouse this dashboard serves."""
    return _store(str(store_path(resolve_db_path(None))))


@st.cache_resource(show_spinner=False)
def _store(path: str) -> AccessStore:
    """One store object per file for the whole server (it opens a connection per call)."""
    return AccessStore(Path(path))


def signed_in_account() -> Account | None:
    """The account of this browser session, or None (signed out, expired, disabled).

    With OpenID Connect (config/access.yaml ``sign_in.method: oidc``) the person is who
    Streamlit's ``st.user`` says, matched to an account of the same name (their e-mail).
    """
    if access_settings().method is SignInMethod.OIDC:
        user = st.user
        if not user.is_logged_in:
            return None
        account = store().account(str(user.get("email") or ""))
        return None if account is None or account.disabled else account
    token = st.context.cookies.get(access_settings().cookie_name)
    return store().session(token) if isinstance(token, str) else None


def require_account(lang: str) -> Account:
    """The signed-in account; without one, say how to sign in and stop the script."""
    account = signed_in_account()
    if account is None:
        st.session_state.pop(ACCOUNT_KEY, None)
        st.session_state.pop(SCOPE_KEY, None)
        if access_settings().method is SignInMethod.OIDC:
            st.info(translate("signin_required", lang))
            st.button(translate("signin_submit", lang), on_click=st.login)
        else:
            st.info(translate("signin_expired", lang))
            st.link_button(translate("signin_again", lang), f"/signin?lang={lang}")
        st.stop()
    st.session_state[ACCOUNT_KEY] = account
    st.session_state[SCOPE_KEY] = scope_of(account)
    return account


def current_account() -> Account:
    """The account of this run (set by the entrypoint before any page runs)."""
    account = st.session_state.get(ACCOUNT_KEY)
    if account is None:
        raise NotSignedIn("no one is signed in")
    return account


def current_scope() -> Scope:
    """The scope every read of this run goes through."""
    scope = st.session_state.get(SCOPE_KEY)
    if scope is None:
        raise NotSignedIn("no one is signed in")
    return scope


def audit(event: AuditEvent, **detail: Any) -> None:
    """Record what the signed-in person did."""
    store().audit(event, current_account().username, **detail)


def roles_text(account: Account, lang: str) -> str:
    """The account's roles (and grants) in the page's language, for the sidebar."""
    roles = [translate(f"role_{r.value}", lang) for r in Role if r in account.roles]
    grants = [translate(f"grant_{g.value}", lang) for g in sorted(account.grants)]
    return " · ".join(roles + ([f"+ {', '.join(grants)}"] if grants else []))
