"""The Usage menu: parts consumed in customers' machines."""
from __future__ import annotations
from flask_babel import lazy_gettext

from .. import models as m
from .base import ABPartsModelView
from .interface import ABPartsInterface


class PartUsageModelView(ABPartsModelView):
    """Part usage records; each posts a consumption from its warehouse."""

    datamodel = ABPartsInterface(m.PartUsage)
    class_permission_name = "PartUsage"
    base_permissions = ["can_read", "can_add"]
    exclude_route_methods = {"edit", "delete"}
    list_title = lazy_gettext("Part usage")
    list_columns = ["usage_date", "customer_organization", "machine", "part", "quantity_with_unit",
                    "warehouse", "recorded_by_user"]
    show_columns = list_columns + ["notes", "transaction", "created_at"]
    add_columns = ["warehouse", "machine", "part", "quantity", "usage_date", "notes"]
    search_columns = ["customer_organization", "machine", "part", "warehouse", "usage_date"]
    base_order = ("usage_date", "desc")
    label_columns = {"quantity_with_unit": lazy_gettext("Quantity"), "customer_organization": lazy_gettext("Customer"),
                     "recorded_by_user": lazy_gettext("Recorded by")}
    description_columns = {
        "warehouse": lazy_gettext("The warehouse the parts came from; its stock goes down."),
        "machine": lazy_gettext("Must belong to the organization that owns the warehouse."),
        "quantity": lazy_gettext("In the part's unit of measure."),
    }
