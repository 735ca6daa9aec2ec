"""Organization scoping, written once: who sees which rows.

The rule (issue 2, seed 002's ``ScopedModelMixin``): a user of a customer,
supplier, BossAqua or Oraseas EE organization sees the rows of its own
organization and of the suppliers whose parent it is ("its family").  Super
Admins and Auditors see every organization; the organization switcher narrows
what they see to one family without limiting what they may do.

How it is applied: one ``do_orm_execute`` listener adds
:func:`sqlalchemy.orm.with_loader_criteria` for every scoped model to every ORM
statement of the session (lists, show, edit, delete, REST, related-field
dropdowns, FAB filters and ``/_info``, counts, aggregates and relationship
loads).  :data:`SCOPE_RULES` says how each model reaches its organization;
:data:`UNSCOPED_MODELS` lists the shared tables.  ``tests/test_scoping.py``
fails when a model is in neither.

Two deliberate, narrow exceptions, both about customer orders (which a
customer places and Oraseas EE receives): whoever sees an order sees the names
of both parties (``CustomerOrder.customer_organization_name`` and
``oraseas_organization_name``, Core subqueries read with the order row, which
this rule does not narrow), and Oraseas EE's staff choose among every customer
organization when they place an order on a customer's behalf
(:func:`app.rules.orders.orderable_customers`).  Neither opens any other row of
those organizations.

Who is acting: the security manager calls :func:`establish` when it loads the
user of a request (session cookie or JWT).  Outside a request (commands, seed
data, tests) nobody is acting and nothing is filtered, unless code runs inside
:func:`acting_as`.  The rules run their own queries inside :func:`system` so
that they see the whole database.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterator

import sqlalchemy as sa
from flask import has_request_context, request, session as http_session
from flask_appbuilder.security.sqla.models import Role
from flask_appbuilder.security.sqla.models import User as FabUser
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, with_loader_criteria

from . import models as m
from .models.audit import UnknownLoginFailure

SUPER_ADMIN = "Super Admin"
ADMIN = "Admin"
USER = "User"
AUDITOR = "Auditor"
#: Roles that see every organization.
ALL_ORGANIZATION_ROLES = frozenset({SUPER_ADMIN, AUDITOR})
#: Roles an organization's own admin may hand out.
ORGANIZATION_ROLES = (ADMIN, USER)
#: Key of the organization switcher in the HTTP session.
SWITCHER_KEY = "abparts_organization_id"

_ENVIRON_KEY = "abparts.actor"
_cli_actor: contextvars.ContextVar["Actor | None"] = contextvars.ContextVar("abparts_actor", default=None)
_system: contextvars.ContextVar[bool] = contextvars.ContextVar("abparts_system", default=False)


@dataclass(frozen=True)
class Actor:
    """Who is acting, and which organizations' rows they see.

    :ivar user_id: ``ab_user.id`` of the acting user.
    :ivar organization_id: the user's own organization.
    :ivar roles: names of the user's roles.
    :ivar visible_organization_ids: the organizations whose rows are shown, or
        ``None`` for all of them (Super Admin or Auditor without a switcher choice).
    :ivar organization_type: the type of the user's own organization.
    """

    user_id: int | None
    organization_id: uuid.UUID | None
    roles: frozenset[str] = field(default_factory=frozenset)
    visible_organization_ids: tuple[uuid.UUID, ...] | None = None
    organization_type: m.OrganizationType | None = None

    @property
    def is_super_admin(self) -> bool:
        return SUPER_ADMIN in self.roles

    @property
    def sees_all_organizations(self) -> bool:
        """Super Admins and Auditors: their writes are not confined to one organization."""
        return bool(self.roles & ALL_ORGANIZATION_ROLES)

    @property
    def is_restricted(self) -> bool:
        """Confined to its own organization's family, for reads and writes."""
        return not self.sees_all_organizations

    @property
    def is_oraseas_staff(self) -> bool:
        """A user of Oraseas EE: customer orders are addressed to it (see :mod:`app.rules.orders`)."""
        return self.organization_type == m.OrganizationType.oraseas_ee

    @property
    def is_read_only(self) -> bool:
        """Auditors read everything and change nothing."""
        return AUDITOR in self.roles and not (self.roles & {SUPER_ADMIN, ADMIN, USER})


def organization_family(organization_id: uuid.UUID) -> tuple[uuid.UUID, ...]:
    """The organization and the suppliers whose parent it is.

    :returns: a tuple of organization ids, the organization first.
    """
    with system():
        children = m.db_session().execute(
            sa.select(m.Organization.id).where(
                m.Organization.parent_organization_id == organization_id,
                m.Organization.organization_type == m.OrganizationType.supplier,
            )
        ).scalars().all()
    return (organization_id, *sorted(children, key=str))


def actor_for(user, selected_organization_id: uuid.UUID | None = None) -> Actor:
    """Build the :class:`Actor` of ``user`` (an ``ab_user`` row).

    :param selected_organization_id: the organization switcher's choice; used only
        for roles that see all organizations.
    """
    with system():
        roles = frozenset(role.name for role in user.roles)
        organization = getattr(user, "organization", None)
    org_id = getattr(user, "organization_id", None)
    if roles & ALL_ORGANIZATION_ROLES:
        visible = organization_family(selected_organization_id) if selected_organization_id else None
    else:
        visible = organization_family(org_id) if org_id else ()
    return Actor(user.id, org_id, roles, visible, organization.organization_type if organization else None)


def establish(user) -> Actor | None:
    """Record ``user`` as the actor of the current request and return its :class:`Actor`.

    Called by the security manager whenever it loads the request's user.
    """
    if user is None or not has_request_context():
        return None
    selected = None
    raw = http_session.get(SWITCHER_KEY)
    if raw:
        selected = m.parse_uuid(raw)
    actor = actor_for(user, selected)
    request.environ[_ENVIRON_KEY] = actor
    return actor


def ensure_established(user) -> None:
    """Establish ``user`` as the request's actor unless that is done already.

    Flask-Login may hand a request a user it loaded earlier in the same
    application context, without calling the user loader again.
    """
    if has_request_context() and _ENVIRON_KEY not in request.environ:
        establish(user)


def current_actor() -> Actor | None:
    """The actor of this request, or of the enclosing :func:`acting_as`; ``None`` for the system."""
    if has_request_context():
        actor = request.environ.get(_ENVIRON_KEY)
        if actor is not None:
            return actor
    return _cli_actor.get()


@contextlib.contextmanager
def acting_as(actor_or_user) -> Iterator[Actor]:
    """Run a block as a given user outside a request (commands, workflows, tests)."""
    actor = actor_or_user if isinstance(actor_or_user, Actor) else actor_for(actor_or_user)
    token = _cli_actor.set(actor)
    try:
        yield actor
    finally:
        _cli_actor.reset(token)


@contextlib.contextmanager
def system() -> Iterator[None]:
    """Run a block unscoped: the rules and the posting hooks see the whole database."""
    token = _system.set(True)
    try:
        yield
    finally:
        _system.reset(token)


def in_system() -> bool:
    return _system.get()


def sees_every_organization() -> bool:
    """Whether no organization criteria narrow the statements run now: the system, no
    actor, or a Super Admin or Auditor without a switcher choice.

    Then every foreign key leads to a visible row, so a query may inner-join where a
    scoped one must outer-join (a sort by a relation's name, :mod:`app.views.interface`).
    """
    if _system.get():
        return True
    actor = current_actor()
    return actor is None or actor.visible_organization_ids is None


#: :func:`database_scope` of the system: every organization.
SEE_ALL = (True, "")
#: :func:`database_scope` of an anonymous request: no organization's rows.
SEE_NOTHING = (False, "{}")


def database_scope() -> tuple[bool, str]:
    """The scope PostgreSQL's row-level security applies to the statement run now
    (:mod:`app.row_security`): the same actor as the ORM criteria.

    - inside :func:`system` (the rules' own queries, bulk posting): every organization;
    - a Super Admin or an Auditor: every organization (the switcher narrows what the
      lists show, through the ORM criteria, not what they may do);
    - any other actor: its organization's family, the ids the ORM criteria use;
    - no actor inside a request (the login page, a password reset): no organization's
      rows; what such a request must read (the user signing in) it reads in :func:`system`;
    - no actor outside a request (the ``flask`` commands, seed data, the tests' set-up):
      the command line acts as the system and sees every organization.

    :returns: ``(see_all, ids)``: ``ids`` is a PostgreSQL ``uuid[]`` literal, ``"{}"`` for none.
    """
    if _system.get():
        return SEE_ALL
    actor = current_actor()
    if actor is None:
        return SEE_NOTHING if has_request_context() else SEE_ALL
    return _actor_scope(actor)


@functools.lru_cache(maxsize=512)
def _actor_scope(actor: Actor) -> tuple[bool, str]:
    if actor.sees_all_organizations:
        return SEE_ALL
    return (False, "{" + ",".join(str(i) for i in actor.visible_organization_ids or ()) + "}")


# --- the rule: how each model reaches its organization ----------------------

Ids = tuple
_w = m.Warehouse.__table__.c
_u = FabUser.__table__.c


def _warehouses_of(ids: Ids):
    return sa.select(_w.id).where(_w.organization_id.in_(ids))


def _users_of(ids: Ids):
    return sa.select(_u.id).where(_u.organization_id.in_(ids))


def _moves_in(t, ids: Ids):
    """A transaction (columns ``t``) that moves stock out of or into the organizations' warehouses.

    Read from the organizations the row carries (filled by the posting rules from
    its warehouses, :func:`app.rules.ledger.organizations_of`), through their
    indexes: the planner knows how many rows the organizations have and reads just
    those.  ``warehouse_id IN (SELECT ...)`` instead left it guessing half the
    ledger and scanning the date index (issue 15: 290 ms for an empty page 100 of
    a customer's 1,500 rows among 750,000; 14 ms this way).
    """
    return sa.or_(t.from_organization_id.in_(ids), t.to_organization_id.in_(ids))


_co = m.CustomerOrder.__table__.c
_so = m.SupplierOrder.__table__.c


def _customer_order_of(o, ids: Ids):
    """Both parties see a customer order (columns ``o``): the customer and Oraseas EE."""
    return sa.or_(o.customer_organization_id.in_(ids), o.oraseas_organization_id.in_(ids))


def _supplier_order_of(o, ids: Ids):
    return o.ordering_organization_id.in_(ids)


def _stocktakes_of(ids: Ids):
    return sa.select(m.Stocktake.__table__.c.id).where(m.Stocktake.__table__.c.organization_id.in_(ids))


#: The ledger rows an approval decides on, as its own alias so that the scope
#: subquery correlates only to ``transaction_approvals``.
_approved_txn = m.Transaction.__table__.alias("scope_transaction")


def _approval_in(ids: Ids):
    """Per approval, one primary-key lookup of its transaction (never a scan of the ledger)."""
    return sa.exists().where(_approved_txn.c.id == m.TransactionApproval.transaction_id,
                             _moves_in(_approved_txn.c, ids))


#: model -> function(visible organization ids) -> SQL criterion on that model.
#: The criterion names the model's own columns as mapped attributes, so that
#: ``with_loader_criteria`` adapts it to an alias of the model (a list sorted by a
#: relation joins an alias: its criterion must read the alias, not the table);
#: subqueries read the tables.
SCOPE_RULES: dict[type, Callable[[Ids], sa.ColumnElement]] = {
    m.Organization: lambda ids: m.Organization.id.in_(ids),
    FabUser: lambda ids: m.PortalUser.organization_id.in_(ids),
    m.Warehouse: lambda ids: m.Warehouse.organization_id.in_(ids),
    m.Inventory: lambda ids: m.Inventory.warehouse_id.in_(_warehouses_of(ids)),
    m.Machine: lambda ids: m.Machine.customer_organization_id.in_(ids),
    m.ReorderSuggestion: lambda ids: m.ReorderSuggestion.organization_id.in_(ids),
    # On the row itself, not "id IN (SELECT id FROM transactions ...)": that subquery
    # reads every ledger row of the organization, so each posting (the after-flush
    # scope check) and each list would cost more as the ledger grows.  The row
    # carries its warehouses' organizations, so no warehouse is looked up either.
    m.Transaction: lambda ids: _moves_in(m.Transaction, ids),
    m.TransactionApproval: _approval_in,
    m.StockAdjustment: lambda ids: m.StockAdjustment.inventory_id.in_(
        sa.select(m.Inventory.__table__.c.id).where(
            m.Inventory.__table__.c.warehouse_id.in_(_warehouses_of(ids))
        )
    ),
    m.PartUsage: lambda ids: m.PartUsage.customer_organization_id.in_(ids),
    m.CustomerOrder: lambda ids: _customer_order_of(m.CustomerOrder, ids),
    m.CustomerOrderItem: lambda ids: m.CustomerOrderItem.customer_order_id.in_(
        sa.select(_co.id).where(_customer_order_of(_co, ids))),
    m.SupplierOrder: lambda ids: _supplier_order_of(m.SupplierOrder, ids),
    m.SupplierOrderItem: lambda ids: m.SupplierOrderItem.supplier_order_id.in_(
        sa.select(_so.id).where(_supplier_order_of(_so, ids))),
    # An order's history: as its order.
    m.OrderEvent: lambda ids: sa.or_(
        m.OrderEvent.customer_order_id.in_(sa.select(_co.id).where(_customer_order_of(_co, ids))),
        m.OrderEvent.supplier_order_id.in_(sa.select(_so.id).where(_supplier_order_of(_so, ids))),
    ),
    # Both parties see a transfer: the organization it leaves and the one it goes to.
    m.StockTransfer: lambda ids: sa.or_(
        m.StockTransfer.source_organization_id.in_(ids),
        m.StockTransfer.destination_organization_id.in_(ids),
    ),
    m.StockTransferLine: lambda ids: m.StockTransferLine.stock_transfer_id.in_(
        sa.select(m.StockTransfer.__table__.c.id).where(sa.or_(
            m.StockTransfer.__table__.c.source_organization_id.in_(ids),
            m.StockTransfer.__table__.c.destination_organization_id.in_(ids),
        ))
    ),
    # A stocktake belongs to its warehouse's organization; its lines, counts and counters with it.
    m.Stocktake: lambda ids: m.Stocktake.organization_id.in_(ids),
    m.StocktakeLine: lambda ids: m.StocktakeLine.stocktake_id.in_(_stocktakes_of(ids)),
    m.StocktakeCounter: lambda ids: m.StocktakeCounter.stocktake_id.in_(_stocktakes_of(ids)),
    m.StocktakeCount: lambda ids: m.StocktakeCount.stocktake_line_id.in_(
        sa.select(m.StocktakeLine.__table__.c.id).where(
            m.StocktakeLine.__table__.c.stocktake_id.in_(_stocktakes_of(ids)))),
    m.IdempotencyKey: lambda ids: m.IdempotencyKey.user_id.in_(_users_of(ids)),
    m.SecurityEvent: lambda ids: m.SecurityEvent.user_id.in_(_users_of(ids)),
    m.UserSession: lambda ids: m.UserSession.user_id.in_(_users_of(ids)),
    m.InvitationAuditLog: lambda ids: m.InvitationAuditLog.user_id.in_(_users_of(ids)),
    m.UserManagementAuditLog: lambda ids: m.UserManagementAuditLog.user_id.in_(
        _users_of(ids)
    ),
    # An export belongs to the organization its user was in when exporting.
    m.ExportLog: lambda ids: m.ExportLog.__table__.c.organization_id.in_(ids),
}

#: Shared tables every role reads: the parts catalog and FAB's permission tables; and the
#: failed sign-ins under unknown names (no organization; only the login code reads them).
#: Roles are narrowed separately (:func:`_role_criterion`).
UNSCOPED_MODELS = frozenset({m.Part, UnknownLoginFailure})


def _role_criterion(actor: Actor):
    """An organization's own admin sees, and so can grant, only Admin and User."""
    if actor.is_restricted:
        return Role.__table__.c.name.in_(ORGANIZATION_ROLES)
    return None


def criteria_for(actor: Actor | None) -> list:
    """The loader options that confine a statement to ``actor``'s organizations.

    Built once per actor (an :class:`Actor` is immutable) and reused by every statement:
    building some thirty criteria took milliseconds, on each ORM query.
    """
    if actor is None:
        return []
    return list(_criteria(actor))


@functools.lru_cache(maxsize=512)
def _criteria(actor: Actor) -> tuple:
    options = []
    ids = actor.visible_organization_ids
    if ids is not None:
        options = [
            with_loader_criteria(model, rule(ids), include_aliases=True)
            for model, rule in SCOPE_RULES.items()
        ]
    role_rule = _role_criterion(actor)
    if role_rule is not None:
        options.append(with_loader_criteria(Role, role_rule, include_aliases=True))
    return tuple(options)


@event.listens_for(Session, "do_orm_execute")
def _apply_scope(state) -> None:
    """Add the actor's criteria to every ORM select, update and delete."""
    if _system.get() or state.execution_options.get("abparts_unscoped"):
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    options = criteria_for(current_actor())
    if options:
        state.statement = state.statement.options(*options)


def visible(model, ids, session=None) -> set:
    """Which of ``ids`` (primary keys of ``model``) the current actor can see.

    :param session: the session to ask; by default the app's ``db.session``.
        The flush hooks pass the session being flushed: only it sees the rows
        it has just written, and on SQLite a second connection would wait for
        the write lock that session holds.
    """
    if not ids:
        return set()
    session = session or m.db_session()
    mapper = model.__mapper__
    # The mapped attribute, not the table column: only an ORM statement gets the
    # actor's loader criteria (a bare column select would see every row).
    pk = getattr(model, mapper.get_property_by_column(mapper.primary_key[0]).key)
    if len(ids) > 100 and session.get_bind().dialect.name == "postgresql" and isinstance(next(iter(ids)), uuid.UUID):
        # One array parameter instead of one per key: a bulk posting's 10,000 keys
        # cost 0.37 s to bind as an IN list.
        keys = sa.cast(sa.bindparam("keys", [str(key) for key in ids], type_=ARRAY(sa.Text)), ARRAY(sa.Uuid))
        stmt = sa.select(pk).where(pk == sa.any_(keys))
    else:
        stmt = sa.select(pk).where(pk.in_(list(ids)))
    return set(session.execute(stmt).scalars().all())
