"""Factories for the test data: organizations, users, parts, warehouses, machines, stock."""
from __future__ import annotations

import datetime as dt
import decimal

from werkzeug.security import generate_password_hash

from app import models as m
from flask import current_app

from app.extensions import db

PASSWORD = "test-password-1"
D = decimal.Decimal
_HASH = None


def password_hash() -> str:
    global _HASH
    if _HASH is None:
        # A cheap hash keeps logins fast in the tests; the portal itself uses FAB's default (scrypt).
        _HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    return _HASH


def organization(name, kind=m.OrganizationType.customer, parent=None, **kw):
    org = m.Organization(name=name, organization_type=kind, parent_organization=parent, **kw)
    db.session.add(org)
    return org


def user(username, org, *role_names, active=True):
    roles = [current_app.appbuilder.sm.find_role(r) for r in role_names]
    u = m.PortalUser(first_name=username.split(".")[0].title(), last_name="Tester", username=username,
                     email=f"{username}@example.test", password=password_hash(), active=active,
                     organization=org, roles=roles)
    db.session.add(u)
    return u


def warehouse(org, name, active=True):
    w = m.Warehouse(organization=org, name=name, is_active=active)
    db.session.add(w)
    return w


def part(number, kind=m.PartType.consumable, unit="pieces", price="10.00"):
    p = m.Part(part_number=number, name=f"Part {number}", part_type=kind, unit_of_measure=unit,
               unit_price=D(price))
    db.session.add(p)
    return p


def machine(org, serial):
    mc = m.Machine(customer_organization=org, model_type="AutoBoss V4.0", name=f"Machine {serial}",
                   serial_number=serial)
    db.session.add(mc)
    return mc


def txn(kind, part_, qty, by, source=None, dest=None, **kw):
    t = m.Transaction(transaction_type=kind, part=part_, quantity=D(str(qty)), performed_by_user_id=by.id,
                      from_warehouse_id=source.id if source else None, to_warehouse_id=dest.id if dest else None,
                      transaction_date=kw.pop("transaction_date", dt.datetime.now(dt.timezone.utc)), **kw)
    db.session.add(t)
    return t


def build_base_data() -> None:
    """The shared world of the tests (committed once, restored before each test).

    Oraseas EE (warehouse Central, 100 CON-1 and 50 litres of BULK-1), BossAqua,
    customers Acme Aqua (Acme Main with 10 CON-1, Acme Site; supplier Acme Supplies)
    and Beta Fish (Beta Main with 5 CON-1); users superadmin, auditor, oraseas.admin,
    acme.admin, acme.user, beta.admin, beta.user.  The CON-1 of Acme Main and Beta
    Main came from Central by two received stock transfers (so Oraseas EE has a
    transit location, empty).
    """
    T = m.TransactionType
    oraseas = organization("Oraseas EE", m.OrganizationType.oraseas_ee)
    organization("BossAqua", m.OrganizationType.bossaqua, parent=oraseas)
    acme = organization("Acme Aqua")
    organization("Acme Supplies", m.OrganizationType.supplier, parent=acme)
    beta = organization("Beta Fish")
    db.session.flush()
    user("superadmin", oraseas, "Super Admin")
    user("auditor", oraseas, "Auditor")
    ora_admin = user("oraseas.admin", oraseas, "Admin")
    user("acme.admin", acme, "Admin")
    user("acme.user", acme, "User")
    user("beta.admin", beta, "Admin")
    user("beta.user", beta, "User")
    central = warehouse(oraseas, "Central")
    acme_main = warehouse(acme, "Acme Main")
    warehouse(acme, "Acme Site")
    beta_main = warehouse(beta, "Beta Main")
    con = part("CON-1")
    bulk = part("BULK-1", m.PartType.bulk_material, "litres", "4.50")
    machine(acme, "SN-ACME-1")
    machine(beta, "SN-BETA-1")
    db.session.flush()
    txn(T.creation, con, 100, ora_admin, dest=central)
    txn(T.creation, bulk, 50, ora_admin, dest=central)
    db.session.flush()
    db.session.commit()
    shipped_to(acme_main, con, 10, central, ora_admin)
    shipped_to(beta_main, con, 5, central, ora_admin)


def shipped_to(dest, part_, qty, source, by):
    """A stock transfer from ``source`` to ``dest`` of one line, dispatched by ``by``
    and received in full by the same user (an Oraseas admin may act for the
    customer); committed.  Returns the transfer."""
    from app.scoping import acting_as
    from app.workflows import transfers

    with acting_as(by):
        t = transfers.create_transfer(source.id, dest.id, [(part_.id, D(str(qty)))])
        transfers.dispatch_transfer(t.id)
        transfers.receive_transfer(t.id, {part_.id: D(str(qty))})
    return t
