"""The demo data set: deterministic, realistic, at the seed's scale (issue 2).

Defaults leave a tenth of each cap free: 90 customer organizations (with one
supplier each), 180 users, 180 parts, 135 machines, 135 warehouses and a year
of 6,750 ledger transactions.  Every movement is written as users write them
(transactions, part usage records, stock adjustments, approvals, reversals)
and posted by the same hooks, so stock levels agree with the ledger.

Shipments from Oraseas EE's hubs to customers are stock transfer documents
moved by the workflow commands (:mod:`app.workflows.transfers`): created and
dispatched by an Oraseas admin, received by the customer's user; each line
costs two ledger rows (dispatch into transit, receipt out of it).  The demo
holds transfers in every state: drafts, cancelled ones, the most recent ones
still in transit, received ones, and a few received with a discrepancy (open,
returned, written off pending approval, written off and approved).

Dates run up to the day of seeding; everything else depends only on the
random seed, except the ids the workflow commands give their documents and
postings (``uuid.uuid4()``, like the ids of derived usage and adjustment
postings), and so the transit location's id and the transfers' reference
numbers.  ``tests/test_demo_determinism.py`` compares those by their business data.
"""
from __future__ import annotations

import collections
import datetime as dt
import decimal
import random
import time
import uuid

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from . import models as m
from .errors import LimitReached
from .models.base import UUIDPrimaryKey
from .extensions import db
from .rules.bulk import insert_rows
from .rules.ledger import reversal_of
from .scoping import ADMIN, AUDITOR, SUPER_ADMIN, USER, acting_as, actor_for, system
from .security.setup import sync_roles
from .workflows import ledger as ledger_steps
from .workflows import stocktake as stocktake_steps
from .workflows import orders as order_workflow
from .workflows import reorder
from .workflows import transfers, unit_of_work
from .workflows.base import Who, recorded_at

DEMO_PASSWORD = "abparts-demo"
D = decimal.Decimal

#: Base sizes at scale 1 (a tenth of each seed cap left free).
SIZES = {"customers": 90, "users": 180, "parts": 180, "machines": 135, "warehouses": 135,
         "transactions_per_year": 6750}
#: The fates of the first customer orders, which go to the customers with demo logins in turn:
#: the first (large) one waits for approval, then orders in transit, a draft, received ones.
FIRST_ORDERS = ["approve", "approve", "transit", "transit", "draft", "draft", "receive", "ship"]
#: Transfers in the states that are not the ordinary shipment's "received", at scale 1:
#: drafts and in transit are the most recent; cancelled and discrepancies spread over the year.
SPECIAL_TRANSFERS = {"draft": 4, "dispatched": 6, "cancelled": 3}
#: Records posted together by the bulk posting path (:func:`app.workflows.transfers.record_shipments`).
BULK_BATCH = 5000
#: How each shipment received short is settled, in the order they happen.
DISCREPANCIES = ["open", "return", "write_off_pending", "write_off_approved", "open"]
#: The two customer organizations with named demo logins.
NAMED_CUSTOMERS = [("Aegean Aquafarms", "aegean"), ("Nordic Net Services", "nordic")]

_PLACES = ["Aegean", "Nordic", "Atlantic", "Baltic", "Celtic", "Fjord", "Highland", "Ionian", "Adriatic",
           "Hebrides", "Shetland", "Faroe", "Tromso", "Bergen", "Cretan", "Cycladic", "Dalmatian", "Galway",
           "Orkney", "Lofoten", "Algarve", "Biscay", "Skagerrak", "Kattegat", "Aland", "Vestfjord", "Malta",
           "Sicilian", "Ligurian", "Tyrrhenian"]
_KINDS = ["Aquafarms", "Net Services", "Salmon", "Seafood", "Marine", "Fish Farming", "Aquaculture",
          "Mariculture", "Net Cleaning", "Ocean Farms"]
_FIRST = ["Maria", "Nikos", "Eleni", "Jonas", "Ingrid", "Sofia", "Lars", "Anna", "Petros", "Kari", "Erik",
          "Dimitra", "Sven", "Astrid", "Yannis", "Freya", "Olaf", "Katerina", "Mats", "Liv"]
_LAST = ["Papadopoulos", "Hansen", "Nilsen", "Georgiou", "Berg", "Johansen", "Andersen", "Nikolaidis",
         "Larsen", "Dahl", "Karlsson", "Vlachos", "Lund", "Eriksen", "Pappas", "Strand"]
_CONSUMABLES = [("Nozzle", 14), ("Filter cartridge", 38), ("Brush head", 55), ("Seal kit", 42), ("O-ring set", 9),
                ("Hose 10 m", 120), ("Bearing", 31), ("Pump impeller", 210), ("Gasket", 7), ("Drive belt", 48),
                ("Pressure sensor", 160), ("Wheel", 65), ("Cable gland", 12), ("Fuse", 3), ("Coupling", 27)]
_BULK = [("Hydraulic oil", "litres", 6), ("Grease", "kg", 11), ("Detergent", "litres", 4),
         ("Antifouling rinse", "litres", 9), ("Anode alloy", "kg", 17)]
_MODELS = ["AutoBoss V4.0", "AutoBoss V3.1", "AutoBoss V3.0", "AutoBoss Mini"]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def demo_logins() -> list[tuple[str, str, str]]:
    """``[(role, username, organization)]`` of the demo logins present in the database."""
    names = ["superadmin", "auditor", "oraseas.admin"]
    for _org, key in NAMED_CUSTOMERS:
        names += [f"{key}.admin", f"{key}.user"]
    users = db.session.execute(sa.select(m.PortalUser).where(m.PortalUser.username.in_(names))).scalars().all()
    by_name = {u.username: u for u in users}
    return [(", ".join(r.name for r in by_name[n].roles), n, by_name[n].organization.name)
            for n in names if n in by_name]


def _check_caps(sizes: dict) -> None:
    cfg = current_app.config
    for key, setting in [("customers", "LIMIT_CUSTOMER_ORGANIZATIONS"), ("users", "LIMIT_USERS"),
                         ("parts", "LIMIT_PARTS"), ("machines", "LIMIT_MACHINES"),
                         ("warehouses", "LIMIT_WAREHOUSES"), ("transactions_per_year", "LIMIT_TRANSACTIONS_PER_YEAR")]:
        cap = cfg.get(setting)
        # a year of history spans two calendar years; the busier one gets at most ~all of it
        if cap is not None and sizes[key] > cap:
            raise LimitReached(
                f"The demo at this scale needs {sizes[key]} {key.replace('_', ' ')}, over {setting}={cap}. "
                f"Lift the caps for large data sets, e.g. {setting}=none in the environment."
            )


def seed_demo(scale: float = 1.0, years: int = 1, random_seed: int = 2026, echo=print) -> dict:
    """Build the demo data set in an empty database, in one database transaction.

    :param scale: multiplies every size (above 1 needs the ``LIMIT_*`` caps lifted).
    :param years: years of ledger history, ``transactions_per_year`` each.
    :returns: counts of what was created.
    :raises LimitReached: when the sizes exceed the configured caps.
    :raises RuntimeError: when the database already holds organizations.
    """
    started = time.monotonic()
    sizes = {k: max(1, round(v * scale)) for k, v in SIZES.items()}
    sizes["customers"] = max(sizes["customers"], len(NAMED_CUSTOMERS))
    _check_caps(sizes)
    session = db.session
    if session.execute(sa.select(sa.func.count()).select_from(m.Organization)).scalar_one():
        raise RuntimeError("The database already has organizations; seed the demo into an empty database.")
    sync_roles()
    rng = random.Random(random_seed)
    builder = _DemoBuilder(session, rng, sizes,
                           lambda message: echo(f"[{time.monotonic() - started:6.1f} s] {message}"))
    builder.organizations()
    builder.users()
    builder.parts()
    builder.warehouses_and_machines()
    session.flush()
    # One database transaction: the workflow commands inside do not commit on their own.
    with unit_of_work(session):
        builder.ledger(years)
        builder.orders()
        builder.stocktakes()
        builder.reorder_points()
    session.commit()
    counts = {
        name: session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
        for name, model in [("organizations", m.Organization), ("users", m.PortalUser), ("parts", m.Part),
                            ("machines", m.Machine), ("warehouses", m.Warehouse),
                            ("transactions", m.Transaction), ("inventory rows", m.Inventory),
                            ("stock transfers", m.StockTransfer)]
    }
    by_state = dict(session.execute(sa.select(m.StockTransfer.status, sa.func.count())
                                    .group_by(m.StockTransfer.status)).all())
    counts.update({f"transfers {state.value}": by_state.get(state, 0) for state in m.TransferStatus})
    for model, states, label in ((m.CustomerOrder, m.CustomerOrderStatus, "customer orders"),
                                 (m.SupplierOrder, m.SupplierOrderStatus, "supplier orders")):
        by_state = dict(session.execute(sa.select(model.status, sa.func.count()).group_by(model.status)).all())
        counts.update({f"{label} {state.value}": by_state.get(state, 0) for state in states})
    counts["stocktakes"] = session.execute(sa.select(sa.func.count()).select_from(m.Stocktake)).scalar_one()
    echo("Demo data ready in {:.1f} s: {}".format(
        time.monotonic() - started, ", ".join(f"{v} {k}" for k, v in counts.items())))
    return counts


class _DemoBuilder:
    def __init__(self, session, rng, sizes, echo):
        self.s, self.rng, self.sizes, self.echo = session, rng, sizes, echo
        self.roles = {name: current_app.appbuilder.sm.find_role(name) for name in (SUPER_ADMIN, ADMIN, USER, AUDITOR)}
        self.password = generate_password_hash(DEMO_PASSWORD)
        self._actors: dict = {}
        #: Records and shipments waiting for the bulk posting path, in the order they happened.
        self.pending: list = []
        #: Stock records the pending records need (created at zero before they post).
        self.new_inventory: list = []
        #: ``{(warehouse id, part id): stock record id}`` (``None``: created by a workflow step, id not read yet).
        self.inventory_ids: dict = {}
        self._whos: dict = {}

    def as_user(self, user):
        """:func:`acting_as` ``user``, its :class:`~app.scoping.Actor` built once (roles and
        organizations do not change while seeding)."""
        if user.id not in self._actors:
            self._actors[user.id] = actor_for(user)
        # The demo's own rows so far are written by their recorded users, not by this one.
        self.post_pending()
        return acting_as(self._actors[user.id])

    def who(self, user) -> Who:
        """``user`` as a workflow's :class:`~app.workflows.base.Who` (for shipments recorded in bulk)."""
        if user.id not in self._whos:
            self._whos[user.id] = Who(actor_for(user), user, self.s.get(m.Organization, user.organization_id))
        return self._whos[user.id]

    def queue(self, record):
        """Keep ``record`` (a ledger record or a :class:`~app.workflows.transfers.Shipment`) for
        :meth:`post_pending`; a record's id comes from the random seed, like :meth:`add`'s."""
        if len(self.pending) >= BULK_BATCH:
            # before this record is kept: the stock records the earlier ones need are all known
            self.post_pending()
        if isinstance(record, UUIDPrimaryKey):
            record.id = _uuid(self.rng)
        self.pending.append(record)
        return record

    def post_pending(self) -> list:
        """Post what :meth:`queue` kept, through the bulk posting path, as each record's own
        user (:func:`app.workflows.transfers.record_shipments`).  :returns: the items posted,
        each shipment as its transfer."""
        self.s.flush()
        if self.new_inventory:
            # New stock records at zero, in the part's unit (what the rules let a new record be),
            # written in one statement instead of one flush of thousands of objects.
            for record in self.new_inventory:
                record.unit_of_measure = self.parts_by_id[record.part_id].unit_of_measure
            insert_rows(self.s, self.new_inventory)
            self.new_inventory = []
        if not self.pending:
            return []
        items, self.pending = self.pending, []
        return transfers.record_shipments(self.s, items)

    def stock_record(self, warehouse_id, part_id) -> None:
        """Make sure the stock record a queued record posts to exists by the time it posts."""
        key = (warehouse_id, part_id)
        if key not in self.inventory_ids:
            record = m.Inventory(id=_uuid(self.rng), warehouse_id=warehouse_id, part_id=part_id)
            self.new_inventory.append(record)
            self.inventory_ids[key] = record.id

    def add(self, obj):
        if isinstance(obj, UUIDPrimaryKey):
            obj.id = _uuid(self.rng)  # replaces the random id given at construction: same ids every run
        self.s.add(obj)
        return obj

    # -- organizations -------------------------------------------------------
    def organizations(self):
        self.echo("Creating organizations ...")
        self.oraseas = self.add(m.Organization(name="Oraseas EE", organization_type=m.OrganizationType.oraseas_ee,
                                               address="Athens, Greece", contact_info="info@oraseas.example"))
        self.bossaqua = self.add(m.Organization(name="BossAqua", organization_type=m.OrganizationType.bossaqua,
                                                parent_organization=self.oraseas, address="Kristiansund, Norway",
                                                contact_info="parts@bossaqua.example"))
        names = [n for n, _ in NAMED_CUSTOMERS]
        combos = [f"{p} {k}" for k in _KINDS for p in _PLACES]
        self.rng.shuffle(combos)
        for combo in combos:
            if len(names) >= self.sizes["customers"]:
                break
            if combo not in names:
                names.append(combo)
        n = 0
        while len(names) < self.sizes["customers"]:
            n += 1
            names.append(f"Customer {n:04d}")
        self.customers = []
        for name in names:
            org = self.add(m.Organization(name=name, organization_type=m.OrganizationType.customer,
                                          address=f"{name.split()[0]} harbour", contact_info=f"ops@{_slug(name)}.example"))
            self.add(m.Organization(name=f"{name} Supplies", organization_type=m.OrganizationType.supplier,
                                    parent_organization=org, contact_info=f"sales@{_slug(name)}-supplies.example"))
            self.customers.append(org)
        for i in range(3):
            self.add(m.Organization(name=f"Oraseas Supplier {i + 1}", organization_type=m.OrganizationType.supplier,
                                    parent_organization=self.oraseas))

    # -- users ------------------------------------------------------------------
    def user(self, username, org, role, first=None, last=None):
        first = first or self.rng.choice(_FIRST)
        last = last or self.rng.choice(_LAST)
        return self.add(m.PortalUser(first_name=first, last_name=last, username=username,
                                     email=f"{username}@{_slug(org.name)}.example", password=self.password,
                                     active=True, organization=org, roles=[self.roles[role]]))

    def users(self):
        self.echo("Creating users ...")
        self.superadmin = self.user("superadmin", self.oraseas, SUPER_ADMIN, "Sofia", "Oraseas")
        self.user("auditor", self.oraseas, AUDITOR, "Anna", "Audit")
        self.oraseas_admin = self.user("oraseas.admin", self.oraseas, ADMIN, "Nikos", "Oraseas")
        self.user("bossaqua.admin", self.bossaqua, ADMIN)
        self.staff = [self.oraseas_admin]
        self.customer_users: dict = {}
        count = 4
        for (name, key), org in zip(NAMED_CUSTOMERS, self.customers):
            self.customer_users[org.id] = [self.user(f"{key}.admin", org, ADMIN), self.user(f"{key}.user", org, USER)]
            count += 2
        for i, org in enumerate(self.customers[len(NAMED_CUSTOMERS):], start=1):
            if count >= self.sizes["users"]:
                break
            self.customer_users[org.id] = [self.user(f"admin{i:03d}", org, ADMIN)]
            count += 1
        for i, org in enumerate(self.customers[len(NAMED_CUSTOMERS):], start=1):
            if count >= self.sizes["users"]:
                break
            self.customer_users[org.id].append(self.user(f"user{i:03d}", org, USER))
            count += 1
        while count < self.sizes["users"]:
            self.staff.append(self.user(f"oraseas.user{count:03d}", self.oraseas, USER))
            count += 1

    # -- catalog ---------------------------------------------------------------
    def parts(self):
        self.echo("Creating parts ...")
        self.part_list = []
        for i in range(self.sizes["parts"]):
            if i % 6 == 5:
                name, unit, price = _BULK[(i // 6) % len(_BULK)]
                kind = m.PartType.bulk_material
            else:
                name, price = _CONSUMABLES[i % len(_CONSUMABLES)]
                unit, kind = "pieces", m.PartType.consumable
            proprietary = i % 3 == 0
            prefix = "AB" if proprietary else "OR"
            series = i // len(_CONSUMABLES) + 1
            part = self.add(m.Part(
                part_number=f"{prefix}-{1000 + i:04d}", name=f"{name} (series {series})", part_type=kind,
                unit_of_measure=unit, is_proprietary=proprietary,
                unit_price=(D(price) * D(1 + (series % 4) / 10)).quantize(D("0.01")),
                manufacturer_part_number=f"BA-{50000 + i}" if proprietary else None,
                manufacturer_delivery_time_days=self.rng.choice([14, 21, 30, 45]),
                local_supplier_delivery_time_days=self.rng.choice([2, 3, 5, 7]),
                description=f"{name} for AutoBoss net cleaners.",
            ))
            self.part_list.append(part)

    def warehouses_and_machines(self):
        self.echo("Creating warehouses and machines ...")
        self.hubs = [self.add(m.Warehouse(organization=self.oraseas, name=n, location=loc))
                     for n, loc in [("Central Warehouse", "Athens"), ("North Hub", "Thessaloniki"),
                                    ("Export Hub", "Piraeus")]]
        self.add(m.Warehouse(organization=self.bossaqua, name="Factory Stores", location="Kristiansund"))
        self.sites: dict = {}
        count = len(self.hubs) + 1
        for org in self.customers:
            self.sites[org.id] = [self.add(m.Warehouse(organization=org, name="Main Store", location=org.address))]
            count += 1
        i = 0
        while count < self.sizes["warehouses"]:
            org = self.customers[i % len(self.customers)]
            self.sites[org.id].append(self.add(m.Warehouse(
                organization=org, name=f"Site Store {len(self.sites[org.id])}", location=f"{org.name} site")))
            count += 1
            i += 1
        self.machines: dict = {}
        today = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        for i in range(self.sizes["machines"]):
            org = self.customers[i % len(self.customers)]
            bought = today - dt.timedelta(days=self.rng.randint(200, 2000))
            machine = self.add(m.Machine(
                customer_organization=org, model_type=self.rng.choice(_MODELS),
                name=f"{org.name.split()[0]} Unit {len(self.machines.get(org.id, [])) + 1}",
                serial_number=f"AB{bought:%y}-{10000 + i:05d}", purchase_date=bought,
                warranty_expiry_date=bought + dt.timedelta(days=730),
                last_maintenance_date=today - dt.timedelta(days=self.rng.randint(10, 150)),
                next_maintenance_date=today + dt.timedelta(days=self.rng.randint(10, 180)),
                status=self.rng.choice([m.MachineStatus.active] * 8 + [m.MachineStatus.maintenance]),
                location=f"{org.name} pen {i % 7 + 1}"))
            self.machines.setdefault(org.id, []).append(machine)

    # -- the ledger ------------------------------------------------------------
    def qty(self, part, low, high):
        if part.part_type == m.PartType.consumable:
            return D(self.rng.randint(low, high))
        return D(self.rng.randint(low * 1000, high * 1000)) / 1000

    def ledger(self, years):
        total = self.sizes["transactions_per_year"] * years
        self.echo(f"Posting {total} ledger transactions ({years} year(s)) ...")
        end = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        start = end - dt.timedelta(days=365 * years)
        step = (end - start) / total
        stock: dict = {}
        self.stock = stock  # what each warehouse holds, for the orders after the ledger
        self.parts_by_id = {p.id: p for p in self.part_list}
        self.warehouses_by_id = {w.id: w for w in [*self.hubs, *(w for ws in self.sites.values() for w in ws)]}
        # What each customer has on its shelves (for its part usage) and each warehouse holds (for
        # shipments), as insertion-ordered sets (dicts): a random pick is the same on every run.
        self.on_shelves: dict = collections.defaultdict(dict)
        self.held: dict = collections.defaultdict(dict)
        self.supplied: dict = {}  # customers with stock on their shelves and a machine to use it on
        self.customers_by_id = {c.id: c for c in self.customers}
        self.posted: list = []
        customers_with_users = [c for c in self.customers if c.id in self.customer_users]
        # The most recent transfers (in transit, drafts) come after the loop: keep their rows free.
        special = {k: max(1, round(v * min(1.0, self.sizes["customers"] / SIZES["customers"])))
                   for k, v in SPECIAL_TRANSFERS.items()}
        recent_lines = [self.rng.randint(1, 4) for _ in range(special["dispatched"])]
        loop_total = total - sum(recent_lines)
        # When (as a share of the loop's rows) a cancelled draft and a short receipt happen.
        self.cancel_at = sorted(self.rng.uniform(0.1, 0.9) for _ in range(special["cancelled"]))
        self.short_at = sorted(self.rng.uniform(0.2, 0.9) for _ in range(len(DISCREPANCIES)))
        self.discrepancies = list(DISCREPANCIES)
        batch = 0
        made = 0
        approvals_left, reversals_left = 12, 8
        while made < loop_total:
            when = start + step * made
            share = made / loop_total
            roll = self.rng.random()
            part = self.rng.choice(self.part_list)
            if made < loop_total * 0.04 or roll < 0.14:
                made += self._creation(part, when, stock, approvals_left > 0 and roll < 0.004,
                                       reverse=reversals_left > 0 and 0.01 < roll < 0.02)
                if roll < 0.004:
                    approvals_left -= 1
                if 0.01 < roll < 0.02:
                    reversals_left -= 1
            elif roll < 0.185:
                # A shipment averages 3 lines, 6 rows: about a fifth of the rows.  Its three
                # workflow steps cost far more time than a row the demo writes itself, so
                # shipments are fewer and fuller than the one-row transfers they replace.
                if self.cancel_at and share >= self.cancel_at[0]:
                    self.cancel_at.pop(0)
                    self._cancelled_shipment(when, stock, customers_with_users)
                short = bool(self.short_at) and share >= self.short_at[0]
                rows = self._shipment(when, stock, customers_with_users, loop_total - made, short=short)
                if rows and short:
                    self.short_at.pop(0)
                made += rows or self._creation(part, when, stock)
            elif roll < 0.195:
                made += self._hub_transfer(when, stock, loop_total - made) or self._creation(part, when, stock)
            elif roll < 0.95:
                made += self._consumption(when, stock, customers_with_users)
            else:
                made += self._adjustment(when, stock)
            if made // 1000 > batch:
                batch = made // 1000
                if batch % (10 if total > 20000 else 1) == 0:
                    self.echo(f"  {min(made, total)}/{total} recorded")
        # The last days: shipments on their way (dispatched, not yet received) and drafts.
        for number, lines in enumerate(recent_lines):
            when = end - dt.timedelta(hours=6 * (len(recent_lines) - number) + self.rng.randint(0, 5))
            # the first go to the customers with demo logins, who can then receive them
            targets = customers_with_users[number:number + 1] if number < len(NAMED_CUSTOMERS) else customers_with_users
            made += self._shipment(when, stock, targets, lines * 2, lines=lines, receive=False)
        for number in range(special["draft"]):
            when = end - dt.timedelta(hours=3 * (special["draft"] - number))
            self._draft(when, stock, customers_with_users, "Planned shipment, waiting for the goods to be packed")
        self.post_pending()
        self.echo(f"  {made}/{total} posted")

    def _move(self, stock, warehouse, part, delta, queued=False):
        """Keep the demo's own account of ``warehouse``'s stock of ``part``; ``queued``: moved by a
        record waiting for :meth:`post_pending` (else a workflow step created the stock record)."""
        key = (warehouse.id, part.id)
        if queued:
            if delta > 0:
                self.stock_record(*key)
        else:
            self.inventory_ids.setdefault(key, None)
        stock[key] = stock.get(key, D(0)) + delta
        if warehouse.organization_id != self.oraseas.id:
            # what each customer has on its shelves, for its part usage
            org_id = warehouse.organization_id
            shelves = self.on_shelves[org_id]
            if stock[key] > 0:
                shelves[(warehouse, part)] = None
            else:
                shelves.pop((warehouse, part), None)
            if shelves and org_id in self.machines:
                self.supplied[org_id] = None
            else:
                self.supplied.pop(org_id, None)
        if stock[key] > 0:
            self.held[warehouse.id][part] = None
        else:
            self.held[warehouse.id].pop(part, None)

    def _creation(self, part, when, stock, needs_approval=False, reverse=False):
        hub = self.rng.choice(self.hubs)
        queued = not (needs_approval or reverse)
        if not queued:
            self.post_pending()
        txn = (self.queue if queued else self.add)(m.Transaction(
            transaction_type=m.TransactionType.creation, part=part, to_warehouse_id=hub.id,
            quantity=self.qty(part, 40, 200), performed_by_user_id=self.oraseas_admin.id, transaction_date=when,
            reference_number=f"GRN-{when:%y%m%d}-{self.rng.randint(100, 999)}",
            notes="Goods received from BossAqua" if part.is_proprietary else "Goods received from supplier",
            requires_approval=needs_approval))
        if needs_approval:
            self.s.flush()
            decision = self.rng.choice([m.ApprovalStatus.approved, m.ApprovalStatus.approved,
                                        m.ApprovalStatus.rejected, None])
            if decision is not None:
                self.add(m.TransactionApproval(transaction_id=txn.id, approver_id=self.superadmin.id,
                                               status=decision, notes="Checked against the delivery note"))
                self.s.flush()
                if decision == m.ApprovalStatus.approved:
                    self._move(stock, hub, part, txn.quantity)
            return 1
        self._move(stock, hub, part, txn.quantity, queued=queued)
        if not reverse:
            return 1
        # A delivery note booked twice: the second booking is reversed (stock transfers are
        # never reversed, so the demo's reversals undo goods receipts).
        self.s.flush()
        back = reversal_of(txn, self.oraseas_admin.id, notes="Delivery note booked twice; reversed")
        back.transaction_date = when + dt.timedelta(minutes=30)
        self.add(back)
        self._move(stock, hub, part, -txn.quantity)
        return 2

    # -- stock transfers (app.workflows.transfers) ------------------------------
    def _lines(self, hub, stock, count):
        """Up to ``count`` ``(part, quantity)`` of what ``hub`` holds, each part once."""
        held = list(self.held[hub.id])
        out = []
        for part in self.rng.sample(held, min(count, len(held))):
            qty = min(self.qty(part, 2, 20), stock[(hub.id, part.id)])
            if part.part_type == m.PartType.consumable:
                qty = qty.to_integral_value(rounding=decimal.ROUND_DOWN)
            if qty > 0:
                out.append((part, qty))
        return out

    def _destination(self, customers):
        org = self.rng.choice(customers)
        users = self.customer_users[org.id]
        # the customer's User receives (its admin where the organization has no User)
        receiver = next((u for u in users if self.roles[USER] in u.roles), users[0])
        return self.rng.choice(self.sites[org.id]), receiver

    def _create(self, when, hub, dest, lines, notes):
        with recorded_at(when), self.as_user(self.oraseas_admin):
            transfer = transfers.create_transfer(hub.id, dest.id, [(p.id, q) for p, q in lines], notes)
        return transfer

    def _shipment(self, when, stock, customers, rows_left, lines=None, receive=True, short=False):
        """One shipment from a hub to a customer's site: a transfer of 1-4 lines, dispatched by
        the Oraseas admin and (``receive``) received by the customer's user.

        :returns: the ledger rows written (two a line when received, one when in transit); 0 when
            no hub holds stock or no row is left.
        """
        count = min(lines or self.rng.choice([1, 2, 3, 3, 4, 4, 4]), rows_left // (2 if receive else 1))
        sources = [h for h in self.hubs if self.held[h.id]]
        if count < 1 or not sources:
            return 0
        hub = self.rng.choice(sources)
        picked = self._lines(hub, stock, count)
        if not picked:
            return 0
        dest, receiver = self._destination(customers)
        notes = self.rng.choice(["Customer order", "Replenishment of consumables", "Service kit",
                                 "Urgent: machine down"])
        if not receive:  # on its way: a draft dispatched by the workflow commands, as a user does it
            transfer = self._create(when, hub, dest, picked, notes)
            with recorded_at(when + dt.timedelta(hours=1)), self.as_user(self.oraseas_admin):
                transfers.dispatch_transfer(transfer.id)
            for part, qty in picked:
                self._move(stock, hub, part, -qty)
            return len(picked)
        received = {part.id: qty for part, qty in picked}
        if short:
            part, qty = picked[0]
            missing = min(qty, D(self.rng.randint(1, 3)))  # whole units: right for bulk materials too
            received[part.id] = qty - missing
        arrived = when + dt.timedelta(hours=self.rng.randint(4, 30))
        self.queue(transfers.Shipment(
            hub.id, dest.id, [(part.id, qty, received[part.id]) for part, qty in picked],
            self.who(self.oraseas_admin), self.who(receiver), when + dt.timedelta(hours=1), arrived, notes))
        for part, qty in picked:
            self._move(stock, hub, part, -qty, queued=True)
            self._move(stock, dest, part, received[part.id], queued=True)
        rows = len(picked) + sum(1 for q in received.values() if q > 0)
        if short:
            with system():
                transfer = self.s.get(m.StockTransfer, self.post_pending()[-1].id)
            rows += self._settle(transfer, picked[0][0], hub, stock, arrived + dt.timedelta(days=2))
        return rows

    def _settle(self, transfer, part, hub, stock, when) -> int:
        """Settle (or not) a short receipt, the next way of :data:`DISCREPANCIES`; the rows written."""
        how = self.discrepancies.pop(0)
        if how == "open":
            return 0
        left = transfers.line_figures(self.s, transfer)[part.id].open_discrepancy
        if how == "return":
            with recorded_at(when), self.as_user(self.oraseas_admin):
                transfers.resolve_discrepancy(transfer.id, part.id, "return", "Found at the depot; back on the shelf")
            self._move(stock, hub, part, left)
            return 1
        # A write-off is approved by an admin of the source organization who did not record it:
        # the Super Admin records this one, the Oraseas admin decides.
        recorder = self.oraseas_admin if how == "write_off_pending" else self.superadmin
        with recorded_at(when), self.as_user(recorder):
            write_off = transfers.resolve_discrepancy(transfer.id, part.id, "write_off", "Lost by the carrier")
        if how == "write_off_approved":
            with self.as_user(self.oraseas_admin):
                ledger_steps.decide_transaction(write_off.id, m.ApprovalStatus.approved,
                                                "Carrier confirmed the loss")
        return 1

    def _cancelled_shipment(self, when, stock, customers):
        transfer = self._draft(when, stock, customers, "Customer order")
        if transfer is not None:
            with recorded_at(when + dt.timedelta(hours=2)), self.as_user(self.oraseas_admin):
                transfers.cancel_transfer(transfer.id)

    def _draft(self, when, stock, customers, notes):
        sources = [h for h in self.hubs if self.held[h.id]]
        if not sources:
            return None
        hub = self.rng.choice(sources)
        picked = self._lines(hub, stock, self.rng.randint(1, 4))
        if not picked:
            return None
        dest, _receiver = self._destination(customers)
        return self._create(when, hub, dest, picked, notes)

    def _hub_transfer(self, when, stock, rows_left):
        """Stock rebalanced between two Oraseas hubs at once (one organization: one step); rows written."""
        sources = [h for h in self.hubs if self.held[h.id]]
        if not sources or rows_left < 1:
            return 0
        hub = self.rng.choice(sources)
        dest = self.rng.choice([h for h in self.hubs if h is not hub])
        picked = self._lines(hub, stock, min(self.rng.randint(1, 2), rows_left // 2))
        if not picked:
            return 0
        admin = self.who(self.oraseas_admin)
        self.queue(transfers.Shipment(hub.id, dest.id, [(p.id, q, q) for p, q in picked], admin, admin,
                                      when, when + dt.timedelta(hours=3), "Rebalancing hubs"))
        for part, qty in picked:
            self._move(stock, hub, part, -qty, queued=True)
            self._move(stock, dest, part, qty, queued=True)
        return 2 * len(picked)

    def _consumption(self, when, stock, customers):
        org = self.rng.choice(customers)
        if not self.on_shelves[org.id] or org.id not in self.machines:
            # nothing on this customer's shelves yet: another customer's machine gets serviced
            org = self.customers_by_id[self.rng.choice(list(self.supplied))] if self.supplied else None
            if org is None:  # nobody has stock yet: a shipment comes first
                return (self._shipment(when, stock, customers, 8) or
                        self._creation(self.rng.choice(self.part_list), when, stock))
        candidates = list(self.on_shelves[org.id])
        warehouse, part = self.rng.choice(candidates)
        qty = min(self.qty(part, 1, 4), stock[(warehouse.id, part.id)])
        if part.part_type == m.PartType.consumable:
            qty = max(D(1), qty.to_integral_value(rounding=decimal.ROUND_DOWN))
        self.queue(m.PartUsage(
            warehouse_id=warehouse.id, part_id=part.id, machine_id=self.rng.choice(self.machines[org.id]).id,
            quantity=qty, usage_date=when, recorded_by_user_id=self.rng.choice(self.customer_users[org.id]).id,
            notes=self.rng.choice(["Scheduled service", "Replaced after inspection", "Breakdown repair",
                                   "Preventive maintenance"])))
        self._move(stock, warehouse, part, -qty, queued=True)
        return 1

    def _adjustment(self, when, stock):
        stocked = [w for w in self.warehouses_by_id if self.held[w]]
        if not stocked:
            return self._creation(self.rng.choice(self.part_list), when, stock)
        warehouse_id = self.rng.choice(stocked)
        part_id = self.rng.choice(list(self.held[warehouse_id])).id
        if self.inventory_ids.get((warehouse_id, part_id)) is None:  # created by a workflow step
            self.post_pending()
            with system():
                self.inventory_ids[(warehouse_id, part_id)] = self.s.execute(sa.select(m.Inventory.id).where(
                    m.Inventory.warehouse_id == warehouse_id, m.Inventory.part_id == part_id)).scalar_one()
        part = self.parts_by_id[part_id]
        warehouse = self.warehouses_by_id[warehouse_id]
        if self.rng.random() < 0.5:
            qty = -min(self.qty(part, 1, 2), stock[(warehouse_id, part_id)])
            reason = self.rng.choice(["damaged", "count difference", "expired"])
        else:
            qty = self.qty(part, 1, 3)
            reason = self.rng.choice(["found in count", "count difference"])
        if part.part_type == m.PartType.consumable:
            qty = qty.to_integral_value(rounding=decimal.ROUND_DOWN) or D(-1 if qty < 0 else 1)
        if warehouse.organization_id == self.oraseas.id:
            user = self.oraseas_admin
        else:
            user = self.customer_users[warehouse.organization_id][0]
        self.queue(m.StockAdjustment(inventory_id=self.inventory_ids[(warehouse_id, part_id)], user_id=user.id,
                                     quantity_adjusted=qty, reason_code=reason, adjustment_date=when,
                                     notes="Stocktake correction"))
        self._move(stock, warehouse, part, qty, queued=True)
        return 1

    # -- reorder points (app.workflows.reorder) ------------------------------------
    def reorder_points(self):
        """Reorder points from the usage of the last days, as an admin sets them: accepted for
        every organization but the customers with demo logins, whose admins find suggestions to
        review.  Lines used faster than they were restocked end up low or out of stock."""
        self.echo("Suggesting reorder points from usage ...")
        self.post_pending()
        outcome = reorder.suggest_reorder_points(self.s, "oraseas.admin")
        named = {org.id for org in self.customers if org.name in dict(NAMED_CUSTOMERS)}
        s = m.ReorderSuggestion
        ids = list(self.s.execute(sa.select(s.id).where(s.organization_id.not_in(named))).scalars())
        accepted = reorder.accept_suggestions(self.s, ids, "oraseas.admin") if ids else 0
        self.echo(f"  {accepted} reorder points set, {outcome.suggestions - accepted} suggestions to review")

    # -- orders (app.workflows.orders) -------------------------------------------
    def orders(self):
        """Customer and supplier orders in every state, moved there by the workflow commands.

        Customer orders are submitted (approved on submission or after an Oraseas admin's
        approval, by value), shipped from a hub holding the stock, in one or two shipments,
        and received by the customer's user; supplier orders are received into a hub in
        one or two deliveries.  Every shipped and received quantity is in the ledger, so
        the orders' figures agree with the stock that moved.
        """
        self.echo("Creating orders ...")
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        stock = self.stock
        # Each order's steps are workflow commands, the demo's costliest rows: enough orders
        # for every state and a year of history, not more (at most three times the seed's).
        for i in range(max(40, round(120 * min(3, self.sizes["customers"] / SIZES["customers"])))):
            # The first orders go to the customers with demo logins, one in each state they act on.
            org = self.customers[i % len(NAMED_CUSTOMERS) if i < len(FIRST_ORDERS) else i % len(self.customers)]
            users = self.customer_users.get(org.id)
            if not users:
                continue
            placed = now - dt.timedelta(days=self.rng.randint(1, 300), hours=self.rng.randint(0, 23))
            fate = FIRST_ORDERS[i] if i < len(FIRST_ORDERS) else self.rng.choices(
                ["draft", "cancel", "approve", "ship", "transit", "receive"], weights=[6, 8, 20, 5, 5, 26])[0]
            big = i % 9 == 0 or i == 1  # worth more than the approval threshold
            buyer = users[-1]
            with recorded_at(placed), self.as_user(buyer):
                order = self.add(m.CustomerOrder(
                    customer_organization=org, oraseas_organization=self.oraseas, order_date=placed,
                    expected_delivery_date=placed + dt.timedelta(days=10), notes=self.rng.choice(
                        [None, "Spare parts for the next service round", "Urgent: machine down"])))
                for n, part in enumerate(self.rng.sample(self.part_list, self.rng.randint(1, 4))):
                    quantity = self.qty(part, 1, 6)
                    if big and n == 0:  # a large first line: the order is worth more than the threshold
                        quantity = (D(6000) / part.unit_price).to_integral_value(rounding=decimal.ROUND_UP)
                    self.add(m.CustomerOrderItem(customer_order=order, part=part, quantity=quantity))
                self.s.flush()
                if fate == "draft":
                    continue
                order_workflow.submit_customer_order(order.id)
            if fate == "cancel":
                with recorded_at(placed + dt.timedelta(hours=5)), self.as_user(buyer):
                    order_workflow.cancel_customer_order(order.id)
                continue
            if order.status == m.CustomerOrderStatus.requested:
                if i < 2 or self.rng.random() < 0.3:
                    continue  # still waiting for approval (the first two, big, orders always)
                with recorded_at(placed + dt.timedelta(hours=20)), self.as_user(self.oraseas_admin):
                    order_workflow.approve_customer_order(order.id)
            if fate == "approve":
                continue
            self._fulfil(order, placed, fate, buyer, stock, now)
        for i in range(30):
            placed = now - dt.timedelta(days=self.rng.randint(2, 300))
            fate = self.rng.choices(["ordered", "cancel", "partial", "received"], weights=[2, 1, 2, 5])[0]
            with recorded_at(placed), self.as_user(self.oraseas_admin):
                order = self.add(m.SupplierOrder(
                    ordering_organization=self.oraseas, supplier_name=self.rng.choice(
                        ["BossAqua", "Oraseas Supplier 1", "Oraseas Supplier 2"]),
                    order_date=placed, expected_delivery_date=placed + dt.timedelta(days=30)))
                for part in self.rng.sample(self.part_list, self.rng.randint(2, 5)):
                    self.add(m.SupplierOrderItem(supplier_order=order, part=part, quantity=self.qty(part, 50, 200),
                                                 unit_price=(part.unit_price * D("0.6")).quantize(D("0.01"))))
                self.s.flush()
                if fate == "cancel":
                    order_workflow.cancel_supplier_order(order.id)
                    continue
            if fate == "ordered":
                continue
            hub = self.rng.choice(self.hubs)
            items = list(order.items)
            if fate == "received":
                first = {item.part_id: item.quantity for item in items}
            else:  # partially: every other line, the first of them in part
                first = {item.part_id: self._some(item.part, item.quantity) if n == 0 else item.quantity
                         for n, item in enumerate(items) if n % 2 == 0}
            arrived = min(placed + dt.timedelta(days=self.rng.randint(10, 40)), now - dt.timedelta(hours=1))
            with recorded_at(arrived), self.as_user(self.oraseas_admin):
                order_workflow.receive_supplier_order(order.id, hub.id, first)
            for item in items:
                if item.part_id in first:
                    self._move(stock, hub, item.part, first[item.part_id])

    def _some(self, part, quantity):
        """About half of ``quantity`` (at least one unit of a consumable)."""
        half = quantity / 2
        return max(D(1), half.to_integral_value(rounding=decimal.ROUND_DOWN)) if part.is_whole_units else half.quantize(
            D("0.001"))

    def _fulfil(self, order, placed, fate, buyer, stock, now):
        """Ship an approved order from the hub holding most of it (a part short everywhere
        stays unshipped), in one shipment or two; the customer receives them unless ``fate``
        is ``ship`` (the last one still in transit) or ``transit`` (nothing received yet)."""
        wanted = {item.part_id: item for item in order.items}
        hub = max(self.hubs, key=lambda h: sum(stock.get((h.id, pid), 0) >= it.quantity for pid, it in wanted.items()))
        lines = {pid: it.quantity for pid, it in wanted.items() if stock.get((hub.id, pid), 0) >= it.quantity}
        if not lines:
            return
        split = fate != "transit" and len(lines) > 1 and self.rng.random() < 0.4
        batches = [dict(list(lines.items())[:1]), dict(list(lines.items())[1:])] if split else [lines]
        shipped_at = placed + dt.timedelta(days=self.rng.randint(1, 3))
        site = self.rng.choice(self.sites[order.customer_organization_id])
        for number, batch in enumerate(batches):
            when = min(shipped_at + dt.timedelta(days=4 * number), now - dt.timedelta(hours=3))
            with recorded_at(when), self.as_user(self.oraseas_admin):
                shipment = order_workflow.ship_customer_order(order.id, hub.id, batch)
            for pid, qty in batch.items():
                self._move(stock, hub, wanted[pid].part, -qty)
            last = number == len(batches) - 1
            if fate == "transit" or (fate == "ship" and last):
                continue
            with recorded_at(min(when + dt.timedelta(days=2), now - dt.timedelta(hours=1))), self.as_user(buyer):
                order_workflow.receive_customer_order(order.id, site.id, batch, shipment.id)
            for pid, qty in batch.items():
                self._move(stock, site, wanted[pid].part, qty)

    # -- stocktakes ----------------------------------------------------------------
    def stocktakes(self):
        """A stocktake in every state (issue 9), at Oraseas EE's hubs, where the stock is.

        Counted by oraseas.admin (with the super admin as a second counter of the
        one still counting, one line in recount); the one awaiting approval has
        variances over the threshold, for the super admin (who counted nothing)
        to approve; the completed one was approved so.  Aegean Aquafarms has one
        planned for its user to count.  Counted quantities come from the random
        seed; the corrections post through the ledger like any other.
        """
        self.echo("Creating stocktakes ...")
        today = dt.date.today()
        central, north, export = self.hubs
        aegean = self.customers[0]
        aegean_admin, aegean_user = self.customer_users[aegean.id][:2]
        admin = self.oraseas_admin
        plans = [  # (warehouse, state, admin, counters, blind)
            (central, "completed", admin, [admin], False),
            (export, "cancelled", admin, [admin], True),
            (north, "awaiting_approval", admin, [admin], True),
            (export, "counting", admin, [admin, self.superadmin], True),
            (central, "planned", admin, [admin], True),
            (self.sites[aegean.id][0], "planned", aegean_admin, [aegean_user], True),
        ]
        for n, (store, state, boss, counters, blind) in enumerate(plans):
            with self.as_user(boss):
                stocktake = stocktake_steps.plan_stocktake(
                    store.id, today + dt.timedelta(days=7 if state == "planned" else n - len(plans)),
                    [u.id for u in counters], blind=blind, notes=f"Demo: {state.replace('_', ' ')}")
                if state == "planned":
                    continue
                stocktake_steps.start_stocktake(stocktake.id)
            self._count(stocktake, counters, state)
            with self.as_user(boss):
                if state == "cancelled":
                    stocktake_steps.cancel_stocktake(stocktake.id)
                elif state != "counting":
                    stocktake_steps.complete_stocktake(stocktake.id)
            if state == "completed" and stocktake.status == m.StocktakeStatus.awaiting_approval:
                with self.as_user(self.superadmin):
                    stocktake_steps.approve_stocktake(stocktake.id)

    def _count(self, stocktake, counters, state):
        """The counters' counts: most lines right, some off a little (a few, awaiting approval, by more);
        while counting, a third of the lines is not counted yet and the second counter disagrees on one."""
        sl = m.StocktakeLine
        lines = self.s.execute(sa.select(sl).where(sl.stocktake_id == stocktake.id).order_by(sl.line_number)
                               .execution_options(populate_existing=True)).scalars().all()
        first, second = [], []
        for i, line in enumerate(lines):
            if state == "counting" and i % 3 == 2:
                continue
            part = self.s.get(m.Part, line.part_id)
            step = D(1) if part.is_whole_units else D("0.5")
            off = self.rng.choice([0] * 12 + [1, -1, 3 if state == "awaiting_approval" else 0]) * step
            counted = max(D(0), line.snapshot_quantity + off)
            first.append((line.part_id, counted))
            if len(counters) > 1 and i < 6:
                second.append((line.part_id, counted + step if i == 0 else counted))
        for user, counts in zip(counters, (first, second)):
            with self.as_user(user):
                stocktake_steps.count_lines(stocktake.id, counts)


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())
