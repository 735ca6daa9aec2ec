"""Screens of the Organizations menu: organizations and warehouses."""
from __future__ import annotations

from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import lazy_gettext

from .. import models as m
from .base import ABPartsModelView
from .interface import ABPartsInterface
from .inventory import InventoryModelView

#: Transit locations are kept by the transfer workflow, not managed as warehouses.
REAL_WAREHOUSES = [["is_transit", FilterEqual, False]]


class WarehouseModelView(ABPartsModelView):
    """Warehouses; an organization's admin manages its own.  Transit locations are not listed."""

    datamodel = ABPartsInterface(m.Warehouse)
    class_permission_name = "Warehouse"
    base_filters = REAL_WAREHOUSES
    list_title = lazy_gettext("Warehouses")
    text_search_columns = ["name", "location"]
    list_columns = ["name", "organization", "location", "is_active", "updated_at"]
    show_columns = ["name", "organization", "location", "description", "is_active", "created_at", "updated_at"]
    add_columns = ["organization", "name", "location", "description", "is_active"]
    edit_columns = add_columns
    search_columns = ["name", "organization", "location", "is_active"]
    base_order = ("name", "asc")
    label_columns = {"is_active": lazy_gettext("Active"), "updated_at": lazy_gettext("Last changed"),
                     "created_at": lazy_gettext("Created")}
    description_columns = {
        "name": lazy_gettext("Unique within the organization."),
        "is_active": lazy_gettext("Only active warehouses receive or issue stock."),
        "organization": lazy_gettext("An organization's admin always creates warehouses in its own organization."),
    }
    #: The show page lists the warehouse's stock.
    related_views = [InventoryModelView]


class OrganizationModelView(ABPartsModelView):
    """Organizations: Oraseas EE, BossAqua, customers and their suppliers."""

    datamodel = ABPartsInterface(m.Organization)
    class_permission_name = "Organization"
    list_title = lazy_gettext("Organizations")
    text_search_columns = ["name"]
    list_columns = ["name", "organization_type", "parent_organization", "is_active"]
    show_columns = ["name", "organization_type", "parent_organization", "address", "contact_info",
                    "is_active", "order_approval_threshold", "stocktake_threshold_percent",
                    "stocktake_threshold_value", "reorder_lead_time_days", "reorder_safety_stock_days",
                    "created_at", "updated_at"]
    add_columns = ["name", "organization_type", "parent_organization", "address", "contact_info", "is_active",
                   "order_approval_threshold"]
    edit_columns = add_columns + ["stocktake_threshold_percent", "stocktake_threshold_value", "reorder_lead_time_days",
                                  "reorder_safety_stock_days"]
    search_columns = ["name", "organization_type", "parent_organization", "is_active"]
    base_order = ("name", "asc")
    label_columns = {"organization_type": lazy_gettext("Type"),
                     "parent_organization": lazy_gettext("Parent organization"),
                     "is_active": lazy_gettext("Active"), "contact_info": lazy_gettext("Contact"),
                     "stocktake_threshold_percent": lazy_gettext("Stocktake approval over (percent of book)"),
                     "stocktake_threshold_value": lazy_gettext("Stocktake approval over (value)"),
                     "reorder_lead_time_days": lazy_gettext("Reorder lead time (days)"),
                     "reorder_safety_stock_days": lazy_gettext("Reorder safety stock (days)")}
    description_columns = {
        "organization_type": lazy_gettext("Only one Oraseas EE and one BossAqua exist; machines belong to customers."),
        "parent_organization": lazy_gettext("Required for suppliers: the organization they supply."),
        "order_approval_threshold": lazy_gettext("Customer orders worth more than this need an Oraseas EE admin's "
                                                 "approval; empty: the portal's default. Set by Oraseas EE's staff."),
        "stocktake_threshold_percent": lazy_gettext("A stocktake line whose variance exceeds this percent of its "
                                                    "book quantity needs an admin's approval. Empty: the portal's "
                                                    "default."),
        "stocktake_threshold_value": lazy_gettext("The same for the variance's value. Empty: the portal's default."),
        "reorder_lead_time_days": lazy_gettext("Days from ordering stock to receiving it, for the suggested reorder "
                                               "points (Reorder Points). Empty: the portal's default (14)."),
        "reorder_safety_stock_days": lazy_gettext("Days of average use kept on top as safety stock. Empty: the "
                                                  "portal's default (7)."),
    }
    related_views = [WarehouseModelView]
