"""Rules on users and their roles (seed 001 "users", issue 2 "Roles")."""
from __future__ import annotations

import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import Role, assoc_user_role
from sqlalchemy import inspect

from .. import models as m
from ..errors import OutOfScope, RuleViolation
from ..scoping import ADMIN, ORGANIZATION_ROLES, SUPER_ADMIN, Actor
from ..i18n import _
from .state import related

ADMIN_ROLES = (ADMIN, SUPER_ADMIN)


def _role_names(user) -> set[str]:
    return {r.name for r in user.roles}


def _organization(session, user):
    return related(session, user, "organization", "organization_id", m.Organization)


def check_users(session, actor: Actor | None) -> None:
    """Super admins only in Oraseas EE; organization admins grant only Admin and User.

    :raises RuleViolation: naming the rule.
    :raises OutOfScope: when an organization's admin hands out a role beyond its reach.
    """
    for user in list(session.new) + list(session.dirty):
        if not isinstance(user, m.PortalUser):
            continue
        roles = _role_names(user)
        org = _organization(session, user)
        if org is None:
            raise RuleViolation(_("A user must belong to an organization."))
        if SUPER_ADMIN in roles and org.organization_type != m.OrganizationType.oraseas_ee:
            raise RuleViolation(_("Super admins must belong to the Oraseas EE organization."))
        if actor is not None and actor.is_restricted:
            history = inspect(user).attrs.roles.history
            granted = {r.name for r in (history.added or ())} | (roles if inspect(user).pending else set())
            beyond = granted - set(ORGANIZATION_ROLES)
            if beyond:
                raise OutOfScope(
                    "An organization's admin can grant only the Admin and User roles, not "
                    + ", ".join(sorted(beyond)) + "."
                )


def organizations_losing_an_admin(session) -> set:
    """Organizations of users about to lose admin rights (deleted, deactivated, moved, demoted)."""
    touched = set()
    for user in list(session.dirty) + list(session.deleted):
        if not isinstance(user, m.PortalUser):
            continue
        state = inspect(user)
        # Load what is not loaded yet (a user deleted by id, or only deactivated):
        # an unloaded attribute has an empty history, which would hide the admin.
        user.roles, user.organization_id  # noqa: B018
        roles_hist = state.attrs.roles.history
        had = {r.name for r in (roles_hist.unchanged or ())} | {r.name for r in (roles_hist.deleted or ())}
        if not had & set(ADMIN_ROLES):
            continue
        org_hist = state.attrs.organization_id.history
        touched.update(x for x in (org_hist.deleted or ()) if x is not None)
        touched.update(x for x in (org_hist.unchanged or ()) if x is not None)
    return touched


def check_admins_kept(session, organization_ids) -> None:
    """Each organization keeps at least one active admin (seed 001 "users").

    Runs after the flush, on the organizations :func:`organizations_losing_an_admin` found.

    :raises RuleViolation: naming the organization left without an admin.
    """
    u = m.PortalUser.__table__.c
    for org_id in organization_ids:
        admins = session.execute(
            sa.select(sa.func.count(sa.distinct(u.id)))
            .select_from(m.PortalUser.__table__.join(assoc_user_role, assoc_user_role.c.user_id == u.id)
                         .join(Role.__table__, Role.__table__.c.id == assoc_user_role.c.role_id))
            .where(u.organization_id == org_id, u.active.is_(True), Role.__table__.c.name.in_(ADMIN_ROLES))
        ).scalar_one()
        if not admins:
            org = session.get(m.Organization, org_id)
            raise RuleViolation(_("Each organization must keep at least one active admin: %(org)s would "
                                  "have none.",
                                  org=org))


def check_organization_change(session, actor: Actor | None) -> None:
    """An organization's own admin never moves a user, or any row, to another organization.

    Not even to one of its own suppliers: a row it changes stays in, or comes
    to, its own organization.

    :raises OutOfScope: when a restricted actor changes an organization column.
    """
    if actor is None or not actor.is_restricted:
        return
    for obj in session.dirty:
        for attr in own_organization_columns(type(obj), actor):
            state = inspect(obj)
            added = list(state.attrs[attr].history.added or ())
            added += [o.id for o in (state.attrs[attr[:-3]].history.added or ()) if o is not None]
            if any(value != actor.organization_id for value in added):
                raise OutOfScope(_("You can only manage records of your own organization."))


#: model -> the columns that say which organization a row belongs to; the
#: relationship of each is the column name without ``_id``.
ORGANIZATION_COLUMNS = {
    m.PortalUser: ("organization_id",),
    m.Warehouse: ("organization_id",),
    m.Machine: ("customer_organization_id",),
    m.PartUsage: ("customer_organization_id",),
    m.CustomerOrder: ("customer_organization_id",),
    m.SupplierOrder: ("ordering_organization_id",),
}


def own_organization_columns(model, actor: Actor) -> tuple[str, ...]:
    """The organization columns of ``model`` that hold a restricted actor's own organization.

    :data:`ORGANIZATION_COLUMNS`, but for one exception: Oraseas EE's staff take
    customer orders on behalf of customers.  A customer order is addressed to
    Oraseas EE (which keeps it in their scope), so its customer is theirs to
    choose; :func:`app.rules.orders.check_customer_orders` checks that it is a
    customer organization.  A customer's own users still order only for their
    own organization.

    :returns: column names (``"customer_organization_id"`` ...); the relationship
        of each is the name without ``_id``.
    """
    if model is m.CustomerOrder and actor.is_oraseas_staff:
        return ()
    return ORGANIZATION_COLUMNS.get(model, ())


def assign_own_organization(session, actor: Actor | None) -> None:
    """New rows of a restricted actor get its organization, whatever the form or payload said
    (in the columns :func:`own_organization_columns` names)."""
    if actor is None or not actor.is_restricted or actor.organization_id is None:
        return
    new = [o for o in session.new if own_organization_columns(type(o), actor)]
    if not new:
        return
    own = session.get(m.Organization, actor.organization_id)
    for obj in new:
        for attr in own_organization_columns(type(obj), actor):
            setattr(obj, attr[:-3], own)
