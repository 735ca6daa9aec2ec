"""Roles as data: role name -> what it may do on each domain (issue 2, "Roles").

Every generated screen and REST API of a domain shares one permission name
(its ``class_permission_name``) and four actions, ``read``, ``add``, ``edit``
and ``delete`` (:data:`METHOD_PERMISSIONS` collapses FAB's many method names
into them).  :func:`fab_roles` turns :data:`ROLE_GRANTS` into FAB's
``FAB_ROLES`` (built-in roles checked in memory), and ``flask abparts
sync-roles`` creates the role rows users are linked to.

Which *rows* a role sees is not decided here but in :mod:`app.scoping`.
"""
from __future__ import annotations

from ..scoping import ADMIN, AUDITOR, SUPER_ADMIN, USER

READ, ADD, EDIT, DELETE = "read", "add", "edit", "delete"
ALL = (READ, ADD, EDIT, DELETE)

#: FAB view and API method -> the action it needs.
METHOD_PERMISSIONS = {
    # ModelView
    "list": READ, "show": READ, "download": READ, "api": READ, "api_read": READ,
    "api_get": READ, "api_column_add": ADD, "api_column_edit": EDIT, "api_readvalues": READ,
    "add": ADD, "edit": EDIT, "delete": DELETE, "action": EDIT, "action_post": EDIT,
    # ModelRestApi
    "get_list": READ, "get": READ, "info": READ, "post": ADD, "put": EDIT,
    # custom actions
    "reverse": ADD, "approve": ADD, "reject": ADD, "export": READ, "usage": READ,
    # workflow steps of a document: "edit" of its domain (who exactly decides app.workflows)
    "dispatch": EDIT, "receive": EDIT, "cancel": EDIT, "resolve": EDIT, "submit": EDIT, "ship": EDIT,
    "start": EDIT, "count": EDIT, "complete": EDIT,
    "count_screen": READ, "report": READ, "report_xlsx": READ, "counters": READ,
    # type-ahead lookups of a form: reading
    "destinations": READ, "parts": READ,
    # relation choices on demand (app/views/choices.py): what a form or filter may offer
    "choices": READ,
    # the imports (app/views/imports.py): writing the domain, even the dry run and the templates
    "upload": ADD, "check": ADD, "confirm": ADD, "template": ADD,
}

#: The domains (permission names); each has screens and a REST API.
DOMAINS = (
    "Organization", "User", "Warehouse", "Part", "Machine", "Inventory", "Transaction",
    "StockAdjustment", "TransactionApproval", "CustomerOrder", "CustomerOrderItem",
    "SupplierOrder", "SupplierOrderItem", "PartUsage", "SecurityEvent", "UserSession",
    "InvitationAuditLog", "UserManagementAuditLog", "StockTransfer", "Stocktake", "ExportLog",
)

#: Menu entries and categories (FAB ``menu_access``), per domain.
MENUS = {
    "Organization": ("Organizations",), "User": ("Users",), "Warehouse": ("Warehouses",),
    "Part": ("Parts",), "Machine": ("Machines",), "Inventory": ("Stock Levels",),
    "Transaction": ("Transactions",), "StockAdjustment": ("Stock Adjustments",),
    "TransactionApproval": ("Approvals",), "CustomerOrder": ("Customer Orders",),
    "CustomerOrderItem": (), "SupplierOrder": ("Supplier Orders",), "SupplierOrderItem": (),
    "PartUsage": ("Part Usage",), "SecurityEvent": ("Security Events",),
    "UserSession": ("User Sessions",), "InvitationAuditLog": ("Invitation Log",),
    "UserManagementAuditLog": ("User Management Log",), "ExportLog": ("Export Log",),
    "StockTransfer": ("Stock Transfers", "Stock in Transit"),
    "Stocktake": ("Stocktakes",),
}
#: Menu entries of a domain that need more than reading it: entry -> (domain, action).  A role
#: that may read the parts but not add them has no "Import Parts" in its menu.
ACTION_MENUS = {"Import Parts": ("Part", ADD), "Import Opening Stock": ("Transaction", ADD)}
#: Menu categories and their entries (the menu of :mod:`app.views`; a test keeps the two alike).
CATEGORIES = {
    "Organizations": ("Organizations", "Warehouses", "Users", "Switch Organization"),
    "Catalog": ("Parts", "Machines", "Import Parts"),
    "Inventory": ("Stock Levels", "Stock Transfers", "Stock in Transit", "Stocktakes", "Transactions",
                  "Stock Adjustments", "Approvals", "Import Opening Stock"),
    "Orders": ("Customer Orders", "Supplier Orders"),
    "Usage": ("Part Usage",),
    "Audit": ("Security Events", "User Sessions", "User Management Log", "Invitation Log", "Export Log"),
}

_ORDERS = ("CustomerOrder", "CustomerOrderItem", "SupplierOrder", "SupplierOrderItem")
_AUDIT = ("SecurityEvent", "UserSession", "InvitationAuditLog", "UserManagementAuditLog", "ExportLog")

#: role -> domain -> actions.  Super Admin may do everything (see :func:`fab_roles`).
ROLE_GRANTS: dict[str, dict[str, tuple[str, ...]]] = {
    ADMIN: {
        "Organization": (READ, EDIT),
        "User": ALL,
        "Warehouse": ALL,
        "Part": (READ,),
        "Machine": (READ, EDIT),
        "Inventory": (READ, ADD, EDIT),
        "Transaction": (READ, ADD),
        "StockTransfer": (READ, ADD, EDIT),
        "Stocktake": (READ, ADD, EDIT),
        "StockAdjustment": (READ, ADD),
        "TransactionApproval": (READ, ADD),
        **{d: ALL for d in _ORDERS},
        "PartUsage": (READ, ADD),
        **{d: (READ,) for d in _AUDIT},
    },
    USER: {
        "Organization": (READ,),
        "Warehouse": (READ,),
        "Part": (READ,),
        "Machine": (READ,),
        "Inventory": (READ,),
        # the source side's users dispatch, the destination's receive (issue 8)
        "StockTransfer": (READ, ADD, EDIT),
        # counters count (edit); who may plan, complete or approve decides app.workflows.stocktake
        "Stocktake": (READ, EDIT),
        "PartUsage": (READ, ADD),
        # a customer's users order for their organization, and receive (issue 10);
        # Oraseas EE's users ship; a draft's lines change until it is submitted
        "CustomerOrder": (READ, ADD, EDIT),
        "CustomerOrderItem": ALL,
        "SupplierOrder": (READ,),
        "SupplierOrderItem": (READ,),
    },
    AUDITOR: {domain: (READ,) for domain in DOMAINS},
}

#: What every signed-in role may do on FAB's own self-service screens.
SELF_SERVICE = [
    ("^User$", "^can_userinfo$"),
    ("^UserInfoEditView$", "^can_this_form_(get|post)$"),
    ("^ResetMyPasswordView$", "^can_this_form_(get|post)$"),
]

#: Extra grants of roles that see every organization: the organization switcher.
SWITCHER = [("^OrganizationSwitcherView$", "^can_switch$"), ("^Switch Organization$", "^menu_access$")]


def _menus_for(grants: dict[str, tuple[str, ...]], extra: tuple[str, ...] = ()) -> list[str]:
    """The menu entries a role may open, and the categories holding at least one of them.

    FAB shows a category the role has ``menu_access`` to even when it may open
    none of its entries: an empty drop-down.
    """
    names = [menu for domain in grants for menu in MENUS[domain]] + list(extra)
    names += [menu for menu, (domain, action) in ACTION_MENUS.items() if action in grants.get(domain, ())]
    return names + [category for category, entries in CATEGORIES.items() if set(entries) & set(names)]


def fab_roles() -> dict[str, list[list[str]]]:
    """``FAB_ROLES``: role -> [[view-name regex, permission regex], ...]."""
    roles: dict[str, list[list[str]]] = {SUPER_ADMIN: [[".*", ".*"]]}
    for role, grants in ROLE_GRANTS.items():
        pvms = [[f"^{domain}$", f"^can_({'|'.join(actions)})$"] for domain, actions in grants.items()]
        menus = "|".join(_menus_for(grants, ("Switch Organization",) if role == AUDITOR else ()))
        pvms.append([f"^({menus})$", "^menu_access$"])
        pvms.extend([list(pair) for pair in SELF_SERVICE])
        if role == AUDITOR:
            pvms.extend([list(pair) for pair in SWITCHER])
        roles[role] = pvms
    return roles


def may(role: str, domain: str, action: str) -> bool:
    """Whether ``role`` may perform ``action`` on ``domain`` (used by tests and docs)."""
    if role == SUPER_ADMIN:
        return True
    return action in ROLE_GRANTS.get(role, {}).get(domain, ())
