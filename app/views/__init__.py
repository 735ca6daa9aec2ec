"""Registering the screens and menus: grouped by what users do (issue 2)."""
from __future__ import annotations

from flask_babel import lazy_gettext

from .audit import (
    ExportLogModelView,
    InvitationAuditLogModelView,
    SecurityEventModelView,
    UserManagementAuditLogModelView,
    UserSessionModelView,
)
from .catalog import MachineModelView, PartModelView
from .dashboard import LedgerCheckView
from .imports import PartImportView, StockImportView
from .inventory import (
    InTransitView,
    InventoryModelView,
    InventoryNegativeView,
    StockAdjustmentModelView,
    TransactionApprovalModelView,
    TransactionModelView,
)
from .language import LanguageView
from .orders import (
    CustomerOrderItemModelView,
    CustomerOrderModelView,
    SupplierOrderItemModelView,
    SupplierOrderModelView,
)
from .organizations import OrganizationModelView, WarehouseModelView
from .reorder import ReorderSuggestionModelView
from .stocktake import StocktakeModelView
from .switcher import OrganizationSwitcherView
from .transfers import StockTransferModelView
from .usage import PartUsageModelView

#: (view, menu name, icon, category) in menu order.
MENU = [
    (OrganizationModelView, "Organizations", "fa-building", "Organizations"),
    (WarehouseModelView, "Warehouses", "fa-warehouse", "Organizations"),
    (PartModelView, "Parts", "fa-cogs", "Catalog"),
    (MachineModelView, "Machines", "fa-industry", "Catalog"),
    (PartImportView, "Import Parts", "fa-upload", "Catalog"),
    (InventoryModelView, "Stock Levels", "fa-cubes", "Inventory"),
    (ReorderSuggestionModelView, "Reorder Points", "fa-level-down", "Inventory"),
    (StockTransferModelView, "Stock Transfers", "fa-truck", "Inventory"),
    (InTransitView, "Stock in Transit", "fa-road", "Inventory"),
    (StocktakeModelView, "Stocktakes", "fa-check-square", "Inventory"),
    (TransactionModelView, "Transactions", "fa-exchange", "Inventory"),
    (StockAdjustmentModelView, "Stock Adjustments", "fa-sliders", "Inventory"),
    (TransactionApprovalModelView, "Approvals", "fa-check-square-o", "Inventory"),
    (StockImportView, "Import Opening Stock", "fa-upload", "Inventory"),
    (CustomerOrderModelView, "Customer Orders", "fa-shopping-cart", "Orders"),
    (SupplierOrderModelView, "Supplier Orders", "fa-truck", "Orders"),
    (PartUsageModelView, "Part Usage", "fa-wrench", "Usage"),
    (SecurityEventModelView, "Security Events", "fa-shield", "Audit"),
    (UserSessionModelView, "User Sessions", "fa-clock-o", "Audit"),
    (UserManagementAuditLogModelView, "User Management Log", "fa-users", "Audit"),
    (InvitationAuditLogModelView, "Invitation Log", "fa-envelope", "Audit"),
    (ExportLogModelView, "Export Log", "fa-download", "Audit"),
]

#: The menus' names (permission data, English) -> their labels in the user's language.
MENU_LABELS = {
    "Organizations": lazy_gettext("Organizations"), "Warehouses": lazy_gettext("Warehouses"),
    "Catalog": lazy_gettext("Catalog"), "Parts": lazy_gettext("Parts"), "Machines": lazy_gettext("Machines"),
    "Inventory": lazy_gettext("Inventory"), "Stock Levels": lazy_gettext("Stock Levels"),
    "Stock Transfers": lazy_gettext("Stock Transfers"), "Stock in Transit": lazy_gettext("Stock in Transit"),
    "Stocktakes": lazy_gettext("Stocktakes"), "Transactions": lazy_gettext("Transactions"),
    "Stock Adjustments": lazy_gettext("Stock Adjustments"), "Approvals": lazy_gettext("Approvals"),
    "Orders": lazy_gettext("Orders"), "Customer Orders": lazy_gettext("Customer Orders"),
    "Supplier Orders": lazy_gettext("Supplier Orders"), "Usage": lazy_gettext("Usage"),
    "Part Usage": lazy_gettext("Part Usage"), "Audit": lazy_gettext("Audit"),
    "Security Events": lazy_gettext("Security Events"), "User Sessions": lazy_gettext("User Sessions"),
    "User Management Log": lazy_gettext("User Management Log"), "Invitation Log": lazy_gettext("Invitation Log"),
    "Export Log": lazy_gettext("Export Log"), "Import Parts": lazy_gettext("Import Parts"),
    "Import Opening Stock": lazy_gettext("Import Opening Stock"), "Reorder Points": lazy_gettext("Reorder Points"),
}

#: Screens reached from other screens (order lines, the negative-stock list, the dashboard's ledger check).
NO_MENU = [CustomerOrderItemModelView, SupplierOrderItemModelView, InventoryNegativeView, LedgerCheckView]


def register_views(appbuilder) -> None:
    """Add every screen, the Users link and the organization switcher to ``appbuilder``."""
    for view, name, icon, category in MENU:
        appbuilder.add_view(view, name, icon=icon, category=category, label=MENU_LABELS[name],
                            category_label=MENU_LABELS[category])
        if view is WarehouseModelView:
            appbuilder.add_link("Users", href="/users/list/", icon="fa-user", category="Organizations",
                                label=lazy_gettext("Users"), category_label=MENU_LABELS["Organizations"])
    for view in NO_MENU:
        appbuilder.add_view_no_menu(view)
    appbuilder.add_view_no_menu(LanguageView)
    appbuilder.add_view(OrganizationSwitcherView, "Switch Organization", icon="fa-random",
                        category="Organizations", label=lazy_gettext("Switch Organization"),
                        category_label=MENU_LABELS["Organizations"])
