"""The business rules and posting hooks: one place every write path meets.

:func:`before_flush` and :func:`after_flush` are SQLAlchemy session events,
so they run for FAB forms, the REST API, commands, seed data and workflows
alike.  They raise :class:`app.errors.DomainError` subclasses and never
commit; the caller's transaction is rolled back, so nothing is half-written.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from .. import models as m
from ..errors import OutOfScope
from ..scoping import current_actor, system, visible
from ..i18n import _
from . import append_only, ledger, limits, orders, organizations, users

#: Tables an Auditor's session may still write (FAB's login bookkeeping on ab_user).
_READ_ONLY_EXEMPT = (m.PortalUser,)


@event.listens_for(Session, "before_flush")
def before_flush(session, _flush_context, _instances) -> None:
    """Check every rule on the pending changes and post new ledger movements."""
    actor = current_actor()
    if actor is not None and actor.is_read_only:
        changed = [o for o in (*session.new, *session.dirty, *session.deleted)
                   if isinstance(o, m.Model) and not isinstance(o, _READ_ONLY_EXEMPT)]
        if changed:
            raise OutOfScope(_("Auditors read and export; they change nothing."))
    append_only.guard_append_only(session)
    with system():
        users.assign_own_organization(session, actor)
        users.check_organization_change(session, actor)
        organizations.check_organizations(session)
        organizations.check_order_approval_thresholds(session, actor)
        organizations.check_machines(session, actor)
        organizations.check_parts(session)
        organizations.check_transit_locations(session)
        organizations.check_warehouse_owners(session)
        orders.check_customer_orders(session, actor)
        orders.check_order_status(session)
        orders.check_supplier_orders(session)
        orders.check_order_lines(session)
        users.check_users(session, actor)
        session.info["abparts_admin_check"] = users.organizations_losing_an_admin(session)
        new_transactions = ledger.process(session, actor)
        limits.check_caps(session)
        limits.check_yearly_transactions(session, new_transactions)
    _check_changed_rows_in_scope(session, actor)
    # A workflow command decided itself who may post its movements (a receipt
    # posts out of the sender's transit location, which the receiver does not see).
    session.info["abparts_written"] = [
        o for o in (*session.new, *session.dirty)
        if type(o) in _SCOPED_WRITES and not (isinstance(o, m.Transaction) and ledger.is_workflow_posting(o))
    ]


def _check_changed_rows_in_scope(session, actor) -> None:
    """A restricted actor changes or deletes only rows it sees (as they are before the flush).

    Checked here, before the flush, because on PostgreSQL the row-level security
    policies would hide such a row from the ``UPDATE`` itself (0 rows matched, an
    error that names no rule); the new values are checked after the flush.

    :raises OutOfScope: a changed or deleted row of another organization.
    """
    if actor is None or not actor.is_restricted:
        return
    by_model: dict[type, set] = {}
    for obj in (*session.dirty, *session.deleted):
        if type(obj) in _SCOPED_WRITES and (obj in session.deleted or session.is_modified(obj)):
            by_model.setdefault(_scope_model(type(obj)), set()).add(obj.id)
    for model, ids in by_model.items():
        if visible(model, ids, session) != ids:
            raise OutOfScope("You can only create or change records of your own organization.")


@event.listens_for(Session, "after_flush")
def after_flush(session, _flush_context) -> None:
    """Rules that need the flushed state: admins kept, and a restricted actor's rows stay in scope."""
    with system():
        users.check_admins_kept(session, session.info.pop("abparts_admin_check", ()))
    written = session.info.pop("abparts_written", [])
    actor = current_actor()
    if actor is None or not actor.is_restricted or not written:
        return
    by_model: dict[type, set] = {}
    for obj in written:
        by_model.setdefault(_scope_model(type(obj)), set()).add(obj.id)
    for model, ids in by_model.items():
        if visible(model, ids, session) != ids:
            raise OutOfScope(_("You can only create or change records of your own organization."))


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_ledger_writes(state) -> None:
    ledger.refuse_bulk_ledger_writes(state)
    append_only.refuse_bulk_changes(state)


def _scope_model(cls):
    from flask_appbuilder.security.sqla.models import User as FabUser

    return FabUser if issubclass(cls, FabUser) else cls


def _scoped_writes():
    from ..scoping import SCOPE_RULES

    return {m.PortalUser, *SCOPE_RULES}


_SCOPED_WRITES = _scoped_writes()
