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

    # The ids before acting: the customer's warehouse is not among the rows the Oraseas
    # admin's transaction may read back (PostgreSQL row-level security).
    source_id, dest_id, part_id = source.id, dest.id, part_.id
    with acting_as(by):
        t = transfers.create_transfer(source_id, dest_id, [(part_id, D(str(qty)))])
        transfers.dispatch_transfer(t.id)
        transfers.receive_transfer(t.id, {part_id: D(str(qty))})
    return t


def list_rows(n: int) -> None:
    """``n`` rows more in each big list, written straight into the tables (no hooks, no
    balances: for the list pages only): customers, each with a warehouse, a part, a stock
    record, a creation and a consumption of it, a customer order and a draft stock
    transfer from or to Central.  Names and texts about as long as the demo's.  Committed.
    """
    import uuid

    import sqlalchemy as sa

    from app.rules.ledger import organizations_of

    def get(model, **where):
        return db.session.execute(sa.select(model).filter_by(**where)).scalar_one()

    by = get(m.PortalUser, username="superadmin")
    oraseas = get(m.Organization, name="Oraseas EE")
    central = get(m.Warehouse, name="Central")
    now = dt.datetime.now(dt.timezone.utc)
    rows: dict[type, list[dict]] = {model: [] for model in (
        m.Organization, m.Warehouse, m.Part, m.Inventory, m.Transaction, m.CustomerOrder, m.StockTransfer)}
    for i in range(n):
        org_id, wh_id, part_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        when = now - dt.timedelta(hours=i)
        rows[m.Organization].append({"id": org_id, "name": f"Listed Aquaculture Services {i:04d}",
                                     "organization_type": m.OrganizationType.customer})
        warehouse_ = m.Warehouse(id=wh_id, organization_id=org_id)
        rows[m.Warehouse].append({"id": wh_id, "organization_id": org_id, "name": f"Main Store {i:04d}",
                                  "location": f"Pier {i}, Harbour Road, Bergen"})
        rows[m.Part].append({"id": part_id, "part_number": f"LST-{i:05d}", "name": f"Filter cartridge series {i}",
                             "part_type": m.PartType.consumable, "unit_of_measure": "pieces", "unit_price": D("38.50")})
        rows[m.Inventory].append({"id": uuid.uuid4(), "warehouse_id": wh_id, "part_id": part_id, "current_stock": D(i),
                                  "minimum_stock_recommendation": D(5), "unit_of_measure": "pieces",
                                  "last_updated": when})
        for kind, source, dest in ((m.TransactionType.creation, None, warehouse_),
                                   (m.TransactionType.consumption, warehouse_, None)):
            from_org, to_org = organizations_of(source, dest)
            rows[m.Transaction].append({
                "id": uuid.uuid4(), "transaction_type": kind, "part_id": part_id, "quantity": D(i + 1),
                "from_warehouse_id": source and wh_id, "to_warehouse_id": dest and wh_id,
                "from_organization_id": from_org, "to_organization_id": to_org, "unit_of_measure": "pieces",
                "performed_by_user_id": by.id, "transaction_date": when, "requires_approval": False,
                "reference_number": f"REF-{i:05d}", "notes": "Weekly net cleaning, north cage"})
        rows[m.CustomerOrder].append({"id": uuid.uuid4(), "customer_organization_id": org_id,
                                      "oraseas_organization_id": oraseas.id, "order_date": when,
                                      "status": m.CustomerOrderStatus.draft, "ordered_by_user_id": by.id})
        # Every other transfer goes back to Central.
        ends = [(central.id, oraseas.id), (wh_id, org_id)][::1 if i % 2 else -1]
        rows[m.StockTransfer].append({"id": uuid.uuid4(), "reference_number": f"ST-LIST-{i:05d}",
                                      "from_warehouse_id": ends[0][0], "to_warehouse_id": ends[1][0],
                                      "source_organization_id": ends[0][1], "destination_organization_id": ends[1][1],
                                      "status": m.TransferStatus.draft, "created_by_user_id": by.id,
                                      "created_at": when})
    for model, values in rows.items():
        db.session.execute(sa.insert(model.__table__), values)
    db.session.commit()
