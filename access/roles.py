"""Who may do what: the roles of the union, their permissions, and the reach of an account.

The policy is code, not configuration: a typo in a YAML file must not hand a teller the
county's payroll, and every change to it goes through review and the scope tests. The
table follows the union's organisation (issue 12):

============== ===================================================== ==================
role           sees                                                  may also
============== ===================================================== ==================
chairman       every outlet, pay amounts                             SQL console,
                                                                     publish stars
leading_group  every outlet, pay amounts                             publish stars
analyst        every outlet; pay only with the ``pay`` grant         SQL console
outlet_head    own outlet(s); county totals, median and ranks        downloads
operator       data quality: loads, quarantine, missing days         —
teller         own card: own KPIs, stars, complaints, payout line    —
admin          accounts and the audit log                            manage users
============== ===================================================== ==================

Identifiers (resident ids, phones, cards) in free text are shown only with the ``pii``
grant, whatever the role: least privilege, and a grant is visible in the user list.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from warehouse.scope import Permission, Scope


class Role(StrEnum):
    """A role an account holds; an account may hold several."""

    CHAIRMAN = "chairman"
    LEADING_GROUP = "leading_group"
    ANALYST = "analyst"
    OUTLET_HEAD = "outlet_head"
    OPERATOR = "operator"
    TELLER = "teller"
    ADMIN = "admin"


class Grant(StrEnum):
    """An extra right given to one account on top of its roles."""

    PAY = "pay"  # pay amounts (payout, fines) of everyone in reach
    PII = "pii"  # identifiers in complaint narratives and raw records, unmasked


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CHAIRMAN: frozenset({P.KPIS, P.LOADS, P.CONSOLE, P.PAY, P.PUBLISH, P.DOWNLOAD}),
    Role.LEADING_GROUP: frozenset({P.KPIS, P.LOADS, P.PAY, P.PUBLISH, P.DOWNLOAD}),
    Role.ANALYST: frozenset({P.KPIS, P.LOADS, P.CONSOLE, P.DOWNLOAD}),
    Role.OUTLET_HEAD: frozenset({P.KPIS, P.DOWNLOAD}),
    Role.OPERATOR: frozenset({P.LOADS}),
    Role.TELLER: frozenset({P.KPIS, P.OWN_PAY}),
    Role.ADMIN: frozenset({P.ADMIN}),
}
GRANT_PERMISSIONS: dict[Grant, Permission] = {Grant.PAY: P.PAY, Grant.PII: P.PII}
# Roles that see every outlet; an outlet head sees the outlets of the account, a teller none.
COUNTY_ROLES = frozenset({Role.CHAIRMAN, Role.LEADING_GROUP, Role.ANALYST, Role.OPERATOR})


class AccountError(ValueError):
    """An account that cannot exist: unknown role, an outlet head without outlets, ..."""


@dataclass(frozen=True)
class Account:
    """A person who signs in: roles, and the outlets or staff id the roles refer to."""

    username: str
    display_name: str
    roles: frozenset[Role]
    outlets: frozenset[str] = frozenset()  # an outlet head's outlets
    staff_id: str | None = None  # a teller's own staff id (also shown as "my card")
    grants: frozenset[Grant] = frozenset()
    disabled: bool = False
    must_change_password: bool = False

    def __post_init__(self) -> None:
        """Refuse accounts whose roles lack what they refer to."""
        if not self.roles:
            raise AccountError(f"{self.username}: an account needs at least one role")
        if Role.OUTLET_HEAD in self.roles and not self.outlets:
            raise AccountError(f"{self.username}: an outlet head needs --outlet CODE")
        if Role.TELLER in self.roles and not self.staff_id:
            raise AccountError(f"{self.username}: a teller needs --staff ID")

    def has(self, role: Role) -> bool:
        """Whether the account holds ``role``."""
        return role in self.roles


def parse_roles(values: list[str] | tuple[str, ...]) -> frozenset[Role]:
    """Roles from their names, with an error listing the valid ones."""
    try:
        return frozenset(Role(v.strip()) for v in values if v.strip())
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise AccountError(f"unknown role in {list(values)}; roles: {valid}") from None


def parse_grants(values: list[str] | tuple[str, ...]) -> frozenset[Grant]:
    """Grants from their names, with an error listing the valid ones."""
    try:
        return frozenset(Grant(v.strip()) for v in values if v.strip())
    except ValueError:
        valid = ", ".join(g.value for g in Grant)
        raise AccountError(f"unknown grant in {list(values)}; grants: {valid}") from None


def scope_of(account: Account) -> Scope:
    """The one scope every warehouse read of this account goes through.

    Permissions are the union over the roles plus the grants; the outlets in reach are
    all of them for a county role, else the outlet head's own (none for a teller alone,
    whose reads are then only those about their own staff id).
    """
    permissions: set[Permission] = set()
    for role in account.roles:
        permissions |= ROLE_PERMISSIONS[role]
    permissions |= {GRANT_PERMISSIONS[g] for g in account.grants}
    if account.roles & COUNTY_ROLES:
        outlets: frozenset[str] | None = None
    elif Role.OUTLET_HEAD in account.roles:
        outlets = frozenset(account.outlets)
    else:
        outlets = frozenset()
    return Scope(
        permissions=frozenset(permissions),
        outlets=outlets,
        staff_id=account.staff_id,
        who=account.username,
    )
