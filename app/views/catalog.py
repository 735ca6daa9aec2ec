"""Screens of the Catalog menu: parts and machines."""
from __future__ import annotations

from flask_appbuilder import expose, has_access
from wtforms.validators import NumberRange

from .. import models as m
from ..reports.usage import machine_usage
from .base import ABPartsModelView
from .interface import ABPartsInterface
from .inventory import InventoryModelView
from .usage import PartUsageModelView


class PartModelView(ABPartsModelView):
    """The parts catalog, shared by all organizations."""

    datamodel = ABPartsInterface(m.Part)
    class_permission_name = "Part"
    list_title = "Parts"
    text_search_columns = ["part_number", "name", "description"]
    list_columns = ["part_number", "name", "part_type", "unit_of_measure", "is_proprietary", "unit_price"]
    show_columns = ["part_number", "name", "description", "part_type", "unit_of_measure", "is_proprietary",
                    "unit_price", "manufacturer_part_number", "manufacturer_delivery_time_days",
                    "local_supplier_delivery_time_days", "created_at", "updated_at"]
    add_columns = ["part_number", "name", "description", "part_type", "unit_of_measure", "is_proprietary",
                   "unit_price", "manufacturer_part_number", "manufacturer_delivery_time_days",
                   "local_supplier_delivery_time_days"]
    edit_columns = add_columns
    search_columns = ["part_number", "name", "part_type", "is_proprietary", "unit_of_measure"]
    base_order = ("part_number", "asc")
    label_columns = {"part_type": "Type", "is_proprietary": "Proprietary (BossAqua)",
                     "unit_price": "Unit price", "manufacturer_delivery_time_days": "Manufacturer lead time (days)",
                     "local_supplier_delivery_time_days": "Local supplier lead time (days)"}
    description_columns = {
        "part_number": "Unique; stored trimmed and in upper case.",
        "part_type": "Consumables are counted in whole units; bulk materials up to 3 decimal places.",
        "unit_of_measure": "All quantities of this part are in this unit; fixed once stock is recorded.",
        "unit_price": "In the price currency; used for stock valuation.",
    }
    #: The form's own checks beyond what FAB derives from the model (the import checks its rows with this form).
    validators_columns = {
        "unit_price": [NumberRange(min=0, message="The unit price cannot be negative.")],
        "manufacturer_delivery_time_days": [NumberRange(min=0, message="A lead time cannot be negative.")],
        "local_supplier_delivery_time_days": [NumberRange(min=0, message="A lead time cannot be negative.")],
    }
    #: The show page lists the part's stock per warehouse (the user's organization's, as everywhere).
    related_views = [InventoryModelView]


def part_form():
    """The Parts screen's add form class, as FAB built it for the registered screen.

    The parts import (:mod:`app.workflows.imports`) checks each row with it, so a row
    meets exactly the checks of the form: required fields, lengths, numbers, the
    type's choices and :attr:`PartModelView.validators_columns`.
    """
    from ..extensions import appbuilder

    return next(view.add_form for view in appbuilder.baseviews if isinstance(view, PartModelView))


class MachineModelView(ABPartsModelView):
    """AutoBoss machines at customers; only a Super Admin registers one."""

    datamodel = ABPartsInterface(m.Machine)
    class_permission_name = "Machine"
    list_title = "Machines"
    text_search_columns = ["name", "serial_number", "model_type"]
    list_columns = ["name", "serial_number", "model_type", "customer_organization", "status",
                    "next_maintenance_date"]
    show_columns = ["name", "serial_number", "model_type", "customer_organization", "status", "location",
                    "purchase_date", "warranty_expiry_date", "last_maintenance_date", "next_maintenance_date",
                    "notes", "created_at", "updated_at"]
    add_columns = ["customer_organization", "name", "serial_number", "model_type", "status", "location",
                   "purchase_date", "warranty_expiry_date", "last_maintenance_date", "next_maintenance_date",
                   "notes"]
    edit_columns = add_columns
    search_columns = ["name", "serial_number", "model_type", "customer_organization", "status"]
    base_order = ("name", "asc")
    label_columns = {"customer_organization": "Customer", "model_type": "Model"}
    description_columns = {"customer_organization": "Machines belong only to customer organizations.",
                           "serial_number": "Unique; stored trimmed and in upper case."}
    #: The show page lists the parts used in the machine, and totals per part.
    related_views = [PartUsageModelView]
    show_template = "abparts/machine_show.html"

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """FAB's show page plus the machine's part usage per part (:func:`app.reports.usage.machine_usage`).

        :raise 404: no such machine for this user.
        """
        return self.show_page(pk, lambda machine: {
            "usage": machine_usage(self.datamodel.session, machine.id, limit=0)})
