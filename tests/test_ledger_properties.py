"""The books always balance: random sequences of valid and invalid postings (issue 3).

Hypothesis draws sequences of steps: single movements of the four types (some
requiring approval), multi-line postings, part usage records, stock
adjustments, approval decisions and reversals, with random quantities (valid,
negative, zero, too precise, fractional consumables, NaN, infinities, floats,
too large), random warehouses, machines and users.

A small model of the rules (written from issue 3, not from the code) predicts
for each step whether it is accepted and how the balances move.  After every
step:

- every balance equals its ledger sum (:func:`app.ledger_check.verify_balances`
  and an independent recomputation);
- a refused step changed nothing (row counts, balances, last posting times,
  approval statuses);
- an accepted step moved the balances exactly as the model says, and a step
  is accepted exactly when the model says it is valid.

Since issue 8 a transfer transaction moves stock within one organization only
(between organizations it is a stock transfer document, moved through a transit
location by dispatch and receipt); the drawn transfers stay within one
organization, and one drawn with the "warehouses" fault between two is refused.
Approvals come from an admin of the organization owning the stock or from
Oraseas EE staff, and never from the performer.  The base data's shipments are
stock transfer postings through Oraseas EE's transit location: never reversed.

Each example starts from the restored base data plus Oraseas EE's second
warehouse, North Hub (so Oraseas EE moves stock between warehouses too).  The
examples are derived from a fixed seed (``derandomize``), so a run is repeatable.
"""
from __future__ import annotations

import contextlib
import decimal
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app import models as m
from app.errors import DomainError, InvalidQuantity, flush_checked
from app.extensions import db
from app.ledger_check import verify_balances
from app.rules.ledger import reversal_of
from app.scoping import acting_as, system

from .test_ledger import World, books, second_hub
from .test_verify_ledger import independent_books

D = decimal.Decimal
T = m.TransactionType
MAX_QUANTITY = D("9999999.999")

WAREHOUSES = ["central", "north_hub", "acme_main", "acme_site", "beta_main"]
#: "transit" (Oraseas EE's transit location) is never drawn: only the base data's shipments touch it.
OWNER = {"central": "oraseas", "north_hub": "oraseas", "acme_main": "acme", "acme_site": "acme", "beta_main": "beta",
         "transit": "oraseas"}
#: Warehouses with another warehouse of the same organization: the sources of a well-formed transfer.
SIBLINGS = {w: [o for o in WAREHOUSES if o != w and OWNER[o] == OWNER[w]] for w in WAREHOUSES}
TRANSFER_SOURCES = [w for w in WAREHOUSES if SIBLINGS[w]]
USERS = ["superadmin", "oraseas.admin", "acme.admin", "acme.user", "beta.admin"]
USER_ORG = {"superadmin": "oraseas", "oraseas.admin": "oraseas", "acme.admin": "acme", "acme.user": "acme",
            "beta.admin": "beta"}
#: Only admins decide on approvals (and a Super Admin).
ADMINS = {"superadmin", "oraseas.admin", "acme.admin", "beta.admin"}
MACHINE_ORG = {"acme_machine": "acme", "beta_machine": "beta"}
PARTS = {"con": True, "bulk": False}  # part -> counted in whole units

# --- what hypothesis draws ----------------------------------------------------------

whole = st.integers(min_value=1, max_value=8).map(D)
#: Often more than a warehouse holds (the base balances are 5 to 85).
large = st.integers(min_value=6, max_value=120).map(D)
#: Valid for bulk materials only (fractional).
fractional = st.decimals(min_value=D("0.001"), max_value=D("6"), places=3)
invalid = st.one_of(
    st.integers(min_value=-3, max_value=0).map(D),
    st.decimals(min_value=D("0.0001"), max_value=D("5"), places=4).filter(lambda q: q != q.quantize(D("0.001"))),
    st.sampled_from([D("NaN"), D("Infinity"), D("-Infinity")]),
    st.sampled_from([1.5, 2.0, 0.25]),
    st.sampled_from([D("1E+7"), D("12345678.5")]),
)
#: Users who may move stock out of each organization's warehouses (and one who may not).
OWNERS = {"oraseas": ["superadmin", "oraseas.admin"], "acme": ["acme.admin", "acme.user"], "beta": ["beta.admin"]}
warehouses = st.sampled_from(WAREHOUSES)
maybe_warehouse = st.one_of(st.none(), warehouses)
users = st.sampled_from(USERS)
parts = st.sampled_from(sorted(PARTS))
kinds = st.sampled_from(list(T))


#: What may go wrong with a drawn posting: nothing (most often), or one thing.
FAULTS = ["none", "none", "none", "quantity", "quantity", "large", "user", "warehouses", "machine"]
HOME_MACHINE = {"acme": "acme_machine", "beta": "beta_machine"}
#: A machine of another organization than the warehouse's.
FOREIGN_MACHINES = {"acme": ["beta_machine"], "beta": ["acme_machine"], "oraseas": ["acme_machine", "beta_machine"]}


def quantity_for(draw, part):
    """A valid quantity of ``part``: whole units, fractions for bulk materials."""
    return draw(st.one_of(whole, fractional) if not PARTS[part] else whole)


def fault_quantity(draw, part):
    return draw(st.one_of(invalid, fractional.filter(lambda q: q != q.to_integral_value()))
                if PARTS[part] else invalid)


@st.composite
def movements(draw, approval=True, faults=True):
    """One movement, well formed and by a user who may make it, with at most one fault."""
    kind, part = draw(kinds), draw(parts)
    if kind == T.transfer:  # within one organization (between two: only the "warehouses" fault)
        source = draw(st.sampled_from(TRANSFER_SOURCES))
        dest = draw(st.sampled_from(SIBLINGS[source]))
    else:
        source = draw(warehouses) if kind == T.consumption else None
        dest = draw(warehouses) if kind == T.creation else None
    if kind == T.adjustment:
        if draw(st.booleans()):
            source = draw(warehouses)
        else:
            dest = draw(warehouses)
    home = OWNER[source or dest]
    user = draw(st.sampled_from(OWNERS[home]))
    qty = quantity_for(draw, part)
    machine = HOME_MACHINE.get(home) if kind == T.consumption and draw(st.booleans()) else None
    fault = draw(st.sampled_from(FAULTS)) if faults else draw(st.sampled_from(["none", "none", "large"]))
    if fault == "quantity":
        qty = fault_quantity(draw, part)
    elif fault == "large":
        qty = draw(large)
    elif fault == "user":
        user = draw(users)
    elif fault == "warehouses":
        source, dest = draw(maybe_warehouse), draw(maybe_warehouse)
    elif fault == "machine":
        machine = draw(st.sampled_from(FOREIGN_MACHINES[home]))
    return {"step": "move", "kind": kind, "part": part, "qty": qty, "source": source, "dest": dest,
            "machine": machine, "user": user,
            "approval": approval == "always" or (approval is True and draw(st.integers(0, 2)) == 0)}


@st.composite
def records(draw, step):
    """A part usage record or a stock adjustment by a user of the warehouse's organization, at most one fault."""
    warehouse, part = draw(warehouses), draw(parts)
    user = draw(st.sampled_from(OWNERS[OWNER[warehouse]]))
    qty = quantity_for(draw, part)
    machine = HOME_MACHINE.get(OWNER[warehouse]) if draw(st.booleans()) else None
    fault = draw(st.sampled_from(FAULTS))
    if fault == "quantity":
        qty = fault_quantity(draw, part)
    elif fault == "large":
        qty = draw(large)
    elif fault == "user":
        user = draw(users)
    elif fault in ("machine", "warehouses"):
        machine = draw(st.sampled_from(FOREIGN_MACHINES[OWNER[warehouse]]))
    out = {"step": step, "warehouse": warehouse, "part": part, "qty": qty, "user": user}
    if step == "usage":
        out["machine"] = machine
    elif draw(st.booleans()) and isinstance(qty, (D, float)):
        out["qty"] = -qty
    return out


def decisions(pending_first):
    """An approval decision on a transaction picked from the ledger (or from those pending)."""
    return st.fixed_dictionaries({
        "step": st.just("decide"), "pick": st.integers(0, 1000), "pending_first": pending_first,
        "status": st.sampled_from([m.ApprovalStatus.approved, m.ApprovalStatus.rejected]),
        "approver": st.sampled_from(["superadmin", "superadmin", "oraseas.admin", "acme.admin", "performer"])})


@st.composite
def batches(draw):
    """A multi-line posting: well-formed lines, sometimes with one random (often invalid) line among them."""
    lines = draw(st.lists(movements(approval=False, faults=False), min_size=2, max_size=3))
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(movements(approval=False)))
    # one user posts every line: a Super Admin (who may move any stock) most of the time
    return {"step": "batch", "user": draw(st.sampled_from(["superadmin"] * 3 + USERS)), "lines": lines}


steps = st.one_of(
    movements(),
    movements(),
    movements(),
    batches(),
    batches(),
    records("usage"),
    records("adjust"),
    decisions(st.booleans()),
    st.fixed_dictionaries({"step": st.just("reverse"), "pick": st.integers(0, 1000), "user": users}),
)


# --- the model of the rules -------------------------------------------------------------


@dataclass
class Entry:
    """What the model knows of one ledger row."""

    id: object
    part: str
    qty: D
    source: str | None
    dest: str | None
    performer: str
    status: str  # posted, pending, rejected
    is_reversal: bool = False
    reversed: bool = False
    by_transfer: bool = False  # a stock transfer's posting (the base data's shipments)


@dataclass
class Model:
    balances: dict = field(default_factory=lambda: defaultdict(D))
    entries: list = field(default_factory=list)

    def nonzero(self):
        return {k: v for k, v in self.balances.items() if v}


def valid_quantity(qty, whole: bool) -> bool:
    if isinstance(qty, (float, bool)) or not isinstance(qty, (D, int)):
        return False
    qty = D(qty)
    if not qty.is_finite() or qty <= 0 or qty > MAX_QUANTITY:
        return False
    if qty != qty.quantize(D("0.001"), rounding=decimal.ROUND_DOWN):
        return False
    return not (whole and qty != qty.to_integral_value())


def types_match(kind, source, dest) -> bool:
    if kind == T.creation:
        return source is None and dest is not None
    if kind == T.consumption:
        return source is not None and dest is None
    if kind == T.transfer:
        # within one organization: between two, a stock transfer document (issue 8)
        return source is not None and dest is not None and source != dest and OWNER[source] == OWNER[dest]
    return (source is None) != (dest is None)


def may_move(user, source, dest) -> bool:
    return user == "superadmin" or OWNER[source or dest] == USER_ORG[user]


def may_approve(approver, entry) -> bool:
    """Issue 8: never the performer; a Super Admin, or an admin of the organization owning
    the stock (the source's, else the destination's) or of Oraseas EE."""
    if approver == entry.performer:
        return False
    owner = OWNER[entry.source or entry.dest]
    return approver == "superadmin" or (approver in ADMINS and USER_ORG[approver] in (owner, "oraseas"))


def machine_ok(machine, source, dest) -> bool:
    return machine is None or MACHINE_ORG[machine] == OWNER[source or dest]


def movement_valid(mv) -> bool:
    """Every rule but stock on hand."""
    return (valid_quantity(mv["qty"], PARTS[mv["part"]]) and types_match(mv["kind"], mv["source"], mv["dest"])
            and may_move(mv["user"], mv["source"], mv["dest"]) and machine_ok(mv["machine"], mv["source"], mv["dest"]))


def net_changes(lines) -> dict:
    """``{(warehouse, part): delta}`` of posted lines ``(part, qty, source, dest)``."""
    net = defaultdict(D)
    for part, qty, source, dest in lines:
        if source:
            net[(source, part)] -= D(qty)
        if dest:
            net[(dest, part)] += D(qty)
    return net


def stock_ok(model, net) -> bool:
    return all(model.balances[key] + delta >= 0 for key, delta in net.items() if delta < 0)


# --- running a step against the application and the model --------------------------------


class Runner:
    """The application and the model side by side, starting from the base data."""

    def __init__(self):
        second_hub()
        self.w = World()
        self.model = Model()
        key = {v: k for k, v in vars(self.w).items() if k in WAREHOUSES}
        key[_transit_id()] = "transit"
        part_key = {self.w.con: "con", self.w.bulk: "bulk"}
        uid_key = {v: k for k, v in self.w.uid.items()}
        for (wh, part), value in independent_books()[0].items():
            self.model.balances[(key[wh], part_key[part])] = value
        base = sorted(_transactions(), key=lambda t: (t.transaction_type.value, part_key[t.part_id], t.quantity,
                                                      str(key.get(t.from_warehouse_id)), str(key.get(t.to_warehouse_id))))
        for t in base:
            self.model.entries.append(Entry(t.id, part_key[t.part_id], t.quantity, key[t.from_warehouse_id]
                                            if t.from_warehouse_id else None, key[t.to_warehouse_id],
                                            uid_key.get(t.performed_by_user_id, "?"), "posted",
                                            by_transfer=t.stock_transfer_id is not None))

    def ids(self, warehouse):
        return getattr(self.w, warehouse) if warehouse else None

    def commit(self, user, objects):
        """Write ``objects`` in one database transaction as ``user``; ``True`` when accepted."""
        session = db.session
        context = acting_as(self.w.users[user]) if user else contextlib.nullcontext()
        try:
            with context:
                session.add_all(objects)
                flush_checked(session)
                session.commit()
            return True
        except DomainError:
            session.rollback()
            return False

    def transaction(self, mv):
        return m.Transaction(transaction_type=mv["kind"], part_id=getattr(self.w, mv["part"]), quantity=mv["qty"],
                             from_warehouse_id=self.ids(mv["source"]), to_warehouse_id=self.ids(mv["dest"]),
                             machine_id=self.ids(mv["machine"]), requires_approval=mv.get("approval", False))

    # Each step returns (user, objects, expected, on_accept): who writes ``objects`` in one
    # database transaction, whether the model says that is accepted, and how it updates the model.

    def move(self, s):
        valid = movement_valid(s)
        pending = s["approval"]
        net = {} if pending else net_changes([(s["part"], s["qty"], s["source"], s["dest"])]) if valid else {}
        expected = valid and (pending or stock_ok(self.model, net))
        txn = self.transaction(s)

        def apply():
            self._apply(net)
            self.model.entries.append(Entry(txn.id, s["part"], D(s["qty"]), s["source"], s["dest"], s["user"],
                                            "pending" if pending else "posted"))

        return s["user"], [txn], expected, apply

    def batch(self, s):
        lines = [{**mv, "user": s["user"]} for mv in s["lines"]]  # one user posts every line
        valid = all(movement_valid(mv) for mv in lines)
        net = net_changes([(mv["part"], mv["qty"], mv["source"], mv["dest"]) for mv in lines]) if valid else {}
        expected = valid and stock_ok(self.model, net)
        txns = [self.transaction(mv) for mv in lines]

        def apply():
            self._apply(net)
            for mv, txn in zip(lines, txns):
                self.model.entries.append(Entry(txn.id, mv["part"], D(mv["qty"]), mv["source"], mv["dest"],
                                                s["user"], "posted"))

        return s["user"], txns, expected, apply

    def usage(self, s):
        mv = {"kind": T.consumption, "part": s["part"], "qty": s["qty"], "source": s["warehouse"], "dest": None,
              "machine": s["machine"], "user": s["user"]}
        valid = movement_valid(mv)
        net = net_changes([(s["part"], s["qty"], s["warehouse"], None)]) if valid else {}
        expected = valid and stock_ok(self.model, net)
        record = m.PartUsage(warehouse_id=self.ids(s["warehouse"]), part_id=getattr(self.w, s["part"]),
                             quantity=s["qty"], machine_id=self.ids(s["machine"]))

        def apply():
            self._apply(net)
            self.model.entries.append(Entry(record.transaction_id, s["part"], D(s["qty"]), s["warehouse"], None,
                                            s["user"], "posted"))

        return s["user"], [record], expected, apply

    def adjust(self, s):
        qty = s["qty"]
        inventory = _inventory_id(self.ids(s["warehouse"]), getattr(self.w, s["part"]))
        negative = isinstance(qty, (D, int, float)) and not (isinstance(qty, D) and qty.is_nan()) and qty < 0
        size = -qty if negative else qty
        source, dest = (s["warehouse"], None) if negative else (None, s["warehouse"])
        valid = (inventory is not None and valid_quantity(size, PARTS[s["part"]])
                 and may_move(s["user"], source, dest))
        net = net_changes([(s["part"], size, source, dest)]) if valid else {}
        expected = valid and stock_ok(self.model, net)
        record = m.StockAdjustment(inventory_id=inventory, quantity_adjusted=qty, reason_code="count difference")

        def apply():
            self._apply(net)
            self.model.entries.append(Entry(record.transaction_id, s["part"], D(size), source, dest, s["user"],
                                            "posted"))

        return s["user"], [record], expected, apply

    def decide(self, s):
        waiting = [e for e in self.model.entries if e.status == "pending"]
        choices = waiting if waiting and s["pending_first"] else self.model.entries
        entry = choices[s["pick"] % len(choices)]
        approver = entry.performer if s["approver"] == "performer" else s["approver"]
        visible = approver == "superadmin" or USER_ORG[approver] in {OWNER[w] for w in (entry.source, entry.dest) if w}
        approving = s["status"] == m.ApprovalStatus.approved
        net = net_changes([(entry.part, entry.qty, entry.source, entry.dest)]) if approving else {}
        expected = (entry.status == "pending" and visible and may_approve(approver, entry)
                    and stock_ok(self.model, net))
        decision = m.TransactionApproval(transaction_id=entry.id, status=s["status"])

        def apply():
            self._apply(net)
            entry.status = "posted" if approving else "rejected"

        return approver, [decision], expected, apply

    def reverse(self, s):
        entry = self.model.entries[s["pick"] % len(self.model.entries)]
        user = s["user"]
        net = net_changes([(entry.part, entry.qty, entry.dest, entry.source)])
        expected = (entry.status == "posted" and not entry.is_reversal and not entry.reversed
                    and not entry.by_transfer
                    and may_move(user, entry.source, entry.dest) and stock_ok(self.model, net))
        with system():
            back = reversal_of(db.session.get(m.Transaction, entry.id), self.w.uid[user])

        def apply():
            self._apply(net)
            entry.reversed = True
            self.model.entries.append(Entry(back.id, entry.part, entry.qty, entry.dest, entry.source, user,
                                            "posted", is_reversal=True))

        return user, [back], expected, apply

    def _apply(self, net):
        for key, delta in net.items():
            self.model.balances[key] += delta


def _transit_id():
    with system():
        return db.session.execute(sa.select(m.Warehouse.id).where(m.Warehouse.is_transit.is_(True))).scalar_one()


def _transactions():
    with system():
        return db.session.execute(sa.select(m.Transaction)).scalars().all()


def _inventory_id(warehouse_id, part_id):
    with system():
        return db.session.execute(sa.select(m.Inventory.id).where(
            m.Inventory.warehouse_id == warehouse_id, m.Inventory.part_id == part_id)).scalar_one_or_none()


def db_balances(runner):
    key = {getattr(runner.w, k): k for k in WAREHOUSES}
    key[_transit_id()] = "transit"
    part_key = {runner.w.con: "con", runner.w.bulk: "bulk"}
    balances, sums = independent_books()
    assert balances == sums, "a balance differs from its ledger sum"
    return {(key[w], part_key[p]): v for (w, p), v in balances.items()}


# --- the property --------------------------------------------------------------------------------


#: A sequence: single steps, and now and then a posting that requires approval followed by a decision.
sequences = st.lists(
    st.one_of(steps.map(lambda step: [step]),
              st.tuples(movements(approval="always", faults=False), decisions(st.just(True))).map(list)),
    min_size=4, max_size=12,
).map(lambda groups: [step for group in groups for step in group])


@settings(max_examples=25, deadline=None, derandomize=True, database=None, print_blob=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(sequence=sequences)
def test_random_postings_keep_every_balance_equal_to_its_ledger_sum(app, database, sequence):
    with app.app_context():
        db.session.remove()
        database.restore(db.engine)
        try:
            runner = Runner()
            for number, step in enumerate(sequence):
                before = books()
                user, objects, expected, apply = getattr(runner, step["step"])(step)
                accepted = runner.commit(user, objects)
                event(f"{step['step']} {'accepted' if accepted else 'refused'}")
                where = f"step {number}: {step}"
                assert accepted == expected, f"{where} was {'accepted' if accepted else 'refused'}"
                if accepted:
                    apply()
                else:
                    assert books() == before, f"{where} was refused but changed the books"
                assert verify_balances(db.session) == [], where
                assert db_balances(runner) == runner.model.nonzero(), where
                db.session.rollback()
        finally:
            db.session.remove()


@pytest.mark.parametrize("qty, message", [
    (D("NaN"), "finite"), (D("Infinity"), "finite"), (D("-Infinity"), "finite"), (-1.5, "floating-point"),
    ("lots", "must be a number"), (D("-0.0005"), "at most 3 decimal places")])
def test_a_stock_adjustment_with_an_unusable_quantity_is_refused_naming_the_rule(app, qty, message):
    """Found by the property test: the adjustment's sign was taken before its quantity was checked
    (a NaN raised a bare ``decimal.InvalidOperation`` instead of the rule's refusal)."""
    with app.app_context():
        w = World()
        before = books()
        with pytest.raises(InvalidQuantity, match=message):
            with acting_as(w.users["acme.admin"]):
                db.session.add(m.StockAdjustment(inventory_id=_inventory_id(w.acme_main, w.con),
                                                 quantity_adjusted=qty, reason_code="count difference"))
                flush_checked(db.session)
        db.session.rollback()
        assert books() == before
        db.session.remove()
