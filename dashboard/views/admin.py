"""Accounts and audit: who may sign in with which roles, and what everybody did.

For the administrator only (the page checks the admin permission itself, as every other
page relies on the data layer): add accounts, change roles, outlets and grants, disable,
unlock, reset passwords; read and filter the append-only audit log. Everything done here
is itself written to the audit log by the store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

import streamlit as st

from access.roles import Account, AccountError, Grant, Role
from access.store import AuditEvent, PasswordRejected, UnknownUser, new_password
from dashboard import session
from dashboard.i18n import translate
from dashboard.state import language
from warehouse.scope import Permission

log = logging.getLogger(__name__)


NOTICE = "admin_notice"


def _done(message: str) -> None:
    """Show ``message`` above the refreshed account list (the change is in it)."""
    st.session_state[NOTICE] = message
    st.rerun()


def _codes(text: str) -> frozenset[str]:
    """Codes typed as a comma- or space-separated list."""
    return frozenset(c.strip() for c in text.replace(",", " ").split() if c.strip())


def _role_label(lang: str) -> Callable[[str], str]:
    """How the role pickers name a role."""
    return lambda r: translate(f"role_{r}", lang)


def users(lang: str, who: str) -> None:
    """The account list, then the forms to add one and to change one."""
    store = session.store()
    t = lambda key, **v: translate(key, lang, **v)  # noqa: E731
    st.subheader(t("admin_users_title"))
    if notice := st.session_state.pop(NOTICE, None):  # what the last action did
        st.success(notice)
    table = store.user_table()
    st.dataframe(table, hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left, st.form("admin-add", clear_on_submit=True):
        st.markdown(f"**{t('admin_add_title')}**")
        username = st.text_input(t("signin_username"))
        display = st.text_input(t("admin_display_name"))
        roles = st.multiselect(
            t("admin_roles"), [r.value for r in Role], format_func=_role_label(lang)
        )
        outlets = st.text_input(t("admin_outlets"))
        staff = st.text_input(t("admin_staff_id"))
        grants = st.multiselect(t("admin_grants"), [g.value for g in Grant])
        if st.form_submit_button(t("admin_add_button"), type="primary"):
            password = new_password()
            try:
                account = Account(
                    username=username.strip(),
                    display_name=display.strip() or username.strip(),
                    roles=frozenset(Role(r) for r in roles),
                    outlets=_codes(outlets),
                    staff_id=staff.strip() or None,
                    grants=frozenset(Grant(g) for g in grants),
                )
                store.add_user(account, password, by=who)
            except (AccountError, PasswordRejected, ValueError) as refused:
                st.error(t("admin_refused", why=str(refused)))
            else:
                _done(t("admin_added", user=account.username, password=password))
    with right:
        manage(lang, who, table["username"].to_list())


def manage(lang: str, who: str, names: list[str]) -> None:
    """One account: disable or enable, unlock, reset the password, change roles and reach."""
    store = session.store()
    t = lambda key, **v: translate(key, lang, **v)  # noqa: E731
    st.markdown(f"**{t('admin_manage_title')}**")
    if not names:
        return
    chosen = st.selectbox(t("signin_username"), names, key="admin_user")
    account = store.account(chosen)
    if account is None:
        return
    buttons = st.columns(3)
    try:
        if account.disabled:
            if buttons[0].button(t("admin_enable"), key="admin-enable"):
                store.set_disabled(chosen, False, by=who)
                st.rerun()
        elif buttons[0].button(t("admin_disable"), key="admin-disable", disabled=chosen == who):
            store.set_disabled(chosen, True, by=who)
            st.rerun()
        if buttons[1].button(t("admin_unlock"), key="admin-unlock"):
            store.unlock(chosen, by=who)
            _done(t("admin_unlocked", user=chosen))
        if buttons[2].button(t("admin_reset"), key="admin-reset"):
            password = new_password()
            store.set_password(chosen, password, by=who, must_change=True)
            _done(t("admin_reset_done", user=chosen, password=password))
    except UnknownUser:
        st.error(t("admin_refused", why=chosen))
    with st.form(f"admin-change-{chosen}"):
        roles = st.multiselect(
            t("admin_roles"),
            [r.value for r in Role],
            default=sorted(r.value for r in account.roles),
            format_func=_role_label(lang),
        )
        outlets = st.text_input(t("admin_outlets"), value=" ".join(sorted(account.outlets)))
        staff = st.text_input(t("admin_staff_id"), value=account.staff_id or "")
        grants = st.multiselect(
            t("admin_grants"),
            [g.value for g in Grant],
            default=sorted(g.value for g in account.grants),
        )
        if st.form_submit_button(t("admin_change_button")):
            try:
                changed = dataclasses.replace(
                    account,
                    roles=frozenset(Role(r) for r in roles),
                    outlets=_codes(outlets),
                    staff_id=staff.strip() or None,
                    grants=frozenset(Grant(g) for g in grants),
                )
                store.update_user(changed, by=who)
            except AccountError as refused:
                st.error(t("admin_refused", why=str(refused)))
            else:
                _done(t("admin_changed", user=chosen))


def audit_log(lang: str, who: str) -> None:
    """The audit log, newest first, filtered by day, user and event; downloadable."""
    store = session.store()
    t = lambda key, **v: translate(key, lang, **v)  # noqa: E731
    st.subheader(t("admin_audit_title"))
    since_col, user_col, event_col = st.columns(3)
    since = since_col.date_input(
        t("admin_audit_since"), value=dt.date.today() - dt.timedelta(days=30), key="audit_since"
    )
    user = user_col.text_input(t("admin_audit_user"), key="audit_user").strip() or None
    event = event_col.selectbox(
        t("admin_audit_event"),
        ["", *(e.value for e in AuditEvent)],
        format_func=lambda e: e or t("all"),
        key="audit_event",
    )
    start = dt.datetime.combine(since, dt.time()) if isinstance(since, dt.date) else None
    rows = store.audit_log(since=start, username=user, event=event or None, limit=5000)
    broken = store.verify_audit()
    if broken is not None:
        st.error(t("admin_audit_broken", id=broken))
    st.caption(t("admin_audit_caption", n=rows.height))
    st.dataframe(rows, hide_index=True, width="stretch", height=420)

    def export() -> bytes:
        store.audit(AuditEvent.AUDIT_EXPORT, who, since=str(since), rows=rows.height)
        return b"\xef\xbb\xbf" + rows.write_csv().encode("utf-8")

    st.download_button(
        t("download_csv"),
        data=export,
        file_name=f"audit-since-{since}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )


def render() -> None:
    """Build the page (the admin permission is checked here, not only in the menu)."""
    lang = language()
    st.title(translate("nav_admin", lang))
    try:
        if not session.current_scope().can(Permission.ADMIN):
            st.info(translate("page_denied", lang))
            return
        who = session.current_account().username
        users(lang, who)
        audit_log(lang, who)
    except Exception:  # the administrator never sees a traceback either
        log.exception("admin page failed")
        st.error(translate("error_generic", lang))


render()
