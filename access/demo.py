"""The demo's accounts: one per role, on the synthetic county, with one published password.

``make demo`` (``rccdash demo``) creates them so that anyone trying the dashboard can see
what each role sees; the sign-in page then says it is a demonstration and lists them.
They are for the synthetic county only: ``rccdash serve`` warns when they are enabled on
a dashboard that listens beyond the machine.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from access.roles import Account, Role
from access.store import AccessStore

DEMO_PASSWORD = "rccdash-demo"
# user name -> (display name, roles); the outlet head's outlet and the teller are chosen
# from the loaded county.
DEMO_USERS: dict[str, tuple[str, frozenset[Role]]] = {
    "chairman": ("Chairman Wang 王理事长", frozenset({Role.CHAIRMAN})),
    "group": ("Leading group Li 李组长", frozenset({Role.LEADING_GROUP})),
    "analyst": ("Analyst Zhao 赵分析员", frozenset({Role.ANALYST})),
    "head": ("Outlet head Chen 陈主任", frozenset({Role.OUTLET_HEAD})),
    "operator": ("Operator Sun 孙管理员", frozenset({Role.OPERATOR})),
    "teller": ("Teller", frozenset({Role.TELLER})),
    "admin": ("Administrator 管理员", frozenset({Role.ADMIN})),
}


def demo_subjects(db_path: Path) -> tuple[str, str, str]:
    """The outlet the demo's head runs, and a teller of it (id, name).

    The outlet with the most tellers on its current roll, so the head's pages are full.
    """
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute(
            """SELECT outlet_code, staff_id, staff_name FROM dim_staff
               WHERE is_current AND position = 'teller' ORDER BY outlet_code, staff_id"""
        ).fetchall()
    if not rows:
        raise ValueError(f"{db_path}: no current tellers to base the demo accounts on")
    counts: dict[str, int] = {}
    for outlet, _, _ in rows:
        counts[outlet] = counts.get(outlet, 0) + 1
    outlet = max(sorted(counts), key=lambda o: counts[o])
    staff_id, name = next((s, n) for o, s, n in rows if o == outlet)
    return outlet, staff_id, name


def ensure_demo_accounts(store: AccessStore, db_path: Path) -> list[str]:
    """Create the demo accounts that are missing; return every demo user name."""
    outlet, staff_id, staff_name = demo_subjects(db_path)
    for username, (display, roles) in DEMO_USERS.items():
        if store.account(username) is not None:
            continue
        account = Account(
            username=username,
            display_name=f"{staff_name} ({display})" if Role.TELLER in roles else display,
            roles=roles,
            outlets=frozenset({outlet}) if Role.OUTLET_HEAD in roles else frozenset(),
            staff_id=staff_id if Role.TELLER in roles else None,
        )
        store.add_user(account, DEMO_PASSWORD, by="demo", must_change=False)
    store.mark_demo(list(DEMO_USERS))
    return list(DEMO_USERS)
