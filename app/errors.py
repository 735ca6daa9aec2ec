"""The domain errors: one family, raised by the rules, mapped once by views and APIs.

Every error carries a message a user can act on, naming the rule it enforces.
Views flash it; APIs answer with its ``status`` (422, 404 for :class:`OutOfScope`,
403 for :class:`Forbidden`, 409 for :class:`IllegalTransition`); neither
ever shows database error text.
"""
from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from .i18n import _, localize


class DomainError(Exception):
    """A business rule refused a write.

    ``error.message`` is the English message (a :class:`~app.i18n.Message`: logs and
    the command line print it); ``str(error)`` is the same message in the current
    request's language, as views flash it and APIs answer it (English without a request).
    """

    status = 422

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(localize(self.message))


class RuleViolation(DomainError):
    """A general business rule (uniqueness, hierarchy, type, ...) was broken."""


class LimitReached(DomainError):
    """A configured cap of the seed's scale requirements would be exceeded."""


class InvalidQuantity(DomainError):
    """A quantity is not positive, not finite, has too many places, or is fractional
    for a part counted in whole units."""


class InsufficientStock(DomainError):
    """A posting would take a balance below zero (with ``ALLOW_NEGATIVE_STOCK`` off)."""


class OutOfScope(DomainError):
    """The acting user may not touch this organization's rows."""

    status = 404


class Forbidden(DomainError):
    """The acting user sees the record, but its role or side may not take this step."""

    status = 403


class IllegalTransition(DomainError):
    """A workflow step was asked of a document in a state that does not allow it
    (or the step was already done)."""

    status = 409


class LedgerImmutable(DomainError):
    """The ledger is append-only: transactions are never edited or deleted."""


#: Constraint names of the schema -> the rule they enforce, in plain words.
CONSTRAINT_MESSAGES = {
    "uq_organizations_name": _("Organization names must be unique."),
    "uq_organizations_singleton_type": _("There can be only one Oraseas EE and one BossAqua organization."),
    "supplier_must_have_parent": _("A supplier organization must have a parent organization."),
    "reorder_lead_time_days_not_negative": _("A reorder lead time is a number of days, 0 or more."),
    "reorder_safety_stock_days_not_negative": _("A reorder safety stock is a number of days, 0 or more."),
    "_org_warehouse_name_uc": _("Warehouse names must be unique within an organization."),
    "uq_parts_part_number": _("Part numbers must be unique."),
    "uq_machines_serial_number": _("Machine serial numbers must be unique."),
    "_warehouse_part_uc": _("There is already a stock record for this part in this warehouse."),
    "uq_ab_user_username": _("Usernames must be unique."),
    "uq_ab_user_email": _("E-mail addresses must be unique."),
    "uq_transactions_reversal_of_id": _("A transaction can be reversed only once."),
    "positive_quantity": _("Quantities must be greater than zero."),
    "valid_transaction_warehouses": _("The warehouses do not match the transaction type."),
    "nonzero_quantity_adjusted": _("An adjustment must change the stock (quantity not zero)."),
    "uq_user_sessions_session_token": _("Session tokens must be unique."),
    "uq_stock_transfer_lines_part": _("A transfer lists each part once."),
    "received_within_dispatched": _("A received quantity is between zero and the quantity dispatched."),
    "transfer_warehouses_differ": _("A transfer's source and destination warehouses must differ."),
    # PostgreSQL's own walls (migration 0015): reached only when a rule in Python was missed.
    "ck_inventory_stock_not_negative": _("Stock on hand cannot go below zero."),
}

_APPEND_ONLY = _("The stock ledger and the audit records are append-only: nothing recorded is changed or "
                 "deleted. Record a reversal.")

#: PostgreSQL's refusals of migration 0015 (row-level security, append-only tables) -> the rule.
DATABASE_WALLS = {
    "row-level security": (OutOfScope, _("You can only create or change records of your own organization.")),
    "permission denied for table": (LedgerImmutable, _APPEND_ONLY),
    "append-only": (LedgerImmutable, _APPEND_ONLY),
}


#: Constraints whose violation means "done already" (a concurrent second click): 409, not 422.
CONSTRAINT_ERRORS = {"uq_transactions_reversal_of_id": IllegalTransition}


def translate_db_error(exc: Exception) -> DomainError:
    """Turn a database error into the domain error naming the rule it broke.

    :param exc: an :class:`~sqlalchemy.exc.SQLAlchemyError` (or a ``DomainError``,
        returned unchanged).
    :returns: a :class:`DomainError` whose message never contains driver text.
    """
    if isinstance(exc, DomainError):
        return exc
    text = str(getattr(exc, "orig", exc)).lower()
    for name, message in CONSTRAINT_MESSAGES.items():
        if name.lower() in text:
            return CONSTRAINT_ERRORS.get(name, RuleViolation)(message)
    for marker, (error, message) in DATABASE_WALLS.items():
        if marker in text:
            return error(message)
    if isinstance(exc, IntegrityError):
        if "unique" in text or "duplicate" in text:
            # SQLite names the columns, not the constraint.
            for columns, message in _SQLITE_UNIQUE_COLUMNS.items():
                if columns in text:
                    name = next((n for n, msg in CONSTRAINT_MESSAGES.items() if msg == message), "")
                    return CONSTRAINT_ERRORS.get(name, RuleViolation)(message)
            return RuleViolation(_("This record conflicts with an existing one (a unique value is taken)."))
        if "foreign key" in text:
            return RuleViolation(_("This record refers to, or is referred to by, other records."))
        if "not null" in text or "not-null" in text:  # SQLite; PostgreSQL
            return RuleViolation(_("A required value is missing."))
        return RuleViolation(_("The change breaks a rule of the data model."))
    if isinstance(exc, StatementError) and isinstance(getattr(exc, "orig", None), ValueError):
        return RuleViolation(_("A value is malformed (for example an id that is not a UUID)."))
    if isinstance(exc, DBAPIError):
        return RuleViolation(_("A value is out of range or malformed for its column."))
    if isinstance(exc, SQLAlchemyError):
        return RuleViolation(_("The change could not be saved."))
    raise exc


_SQLITE_UNIQUE_COLUMNS = {
    "organizations.name": CONSTRAINT_MESSAGES["uq_organizations_name"],
    "organizations.organization_type": CONSTRAINT_MESSAGES["uq_organizations_singleton_type"],
    "warehouses.organization_id, warehouses.name": CONSTRAINT_MESSAGES["_org_warehouse_name_uc"],
    "parts.part_number": CONSTRAINT_MESSAGES["uq_parts_part_number"],
    "machines.serial_number": CONSTRAINT_MESSAGES["uq_machines_serial_number"],
    "inventory.warehouse_id, inventory.part_id": CONSTRAINT_MESSAGES["_warehouse_part_uc"],
    "ab_user.username": CONSTRAINT_MESSAGES["uq_ab_user_username"],
    "ab_user.email": CONSTRAINT_MESSAGES["uq_ab_user_email"],
    "transactions.reversal_of_id": CONSTRAINT_MESSAGES["uq_transactions_reversal_of_id"],
}


def flush_checked(session) -> None:
    """Flush ``session`` so that every rule hook runs now; on failure roll back.

    :raises DomainError: the rule that refused the write (database errors are
        translated by :func:`translate_db_error`); the session is rolled back,
        so nothing is half-written.
    """
    try:
        session.flush()
    except (DomainError, SQLAlchemyError) as exc:
        session.rollback()
        raise translate_db_error(exc) from exc
