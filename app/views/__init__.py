"""Registering the screens and menus: grouped by what users do (issue 2)."""
from __future__ import annotations

from .audit import (
    ExportLogModelView,
    InvitationAuditLogModelView,
    SecurityEventModelView,
    UserManagementAuditLogModelView,
    UserSessionModelView,
)
from .catalog import MachineModelView, PartModelView
from .imports import PartImportView, StockImportView
from .inventory import (
    InTransitView,
    InventoryModelView,
    InventoryNegativeView,
    StockAdjustmentModelView,
    TransactionApprovalModelView,
    TransactionModelView,
)
from .orders import (
    CustomerOrderItemModelView,
    CustomerOrderModelView,
    SupplierOrderItemModelView,
    SupplierOrderModelView,
)
from .organizations import OrganizationModelView, WarehouseModelView
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

#: Screens reached from other screens (order lines, the negative-stock list).
NO_MENU = [CustomerOrderItemModelView, SupplierOrderItemModelView, InventoryNegativeView]


def register_views(appbuilder) -> None:
    """Add every screen, the Users link and the organization switcher to ``appbuilder``."""
    for view, name, icon, category in MENU:
        appbuilder.add_view(view, name, icon=icon, category=category)
        if view is WarehouseModelView:
            appbuilder.add_link("Users", href="/users/list/", icon="fa-user", category="Organizations")
    for view in NO_MENU:
        appbuilder.add_view_no_menu(view)
    appbuilder.add_view(OrganizationSwitcherView, "Switch Organization", icon="fa-random",
                        category="Organizations")
