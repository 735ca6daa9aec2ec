"""The database as a second wall (issue 14): row-level security per organization, an
append-only ledger and non-negative balances enforced by PostgreSQL itself.

PostgreSQL only (SQLite keeps the ORM guards; on SQLite this revision does nothing).

- Two roles besides the owner that runs the migrations (README, "Database roles"):
  ``abparts_app`` (the portal connects as it; not the tables' owner, no ``BYPASSRLS``,
  ``NOINHERIT``) and ``abparts_system`` (``NOLOGIN BYPASSRLS``, granted to
  ``abparts_app``, which switches to it with ``SET LOCAL ROLE`` for the system's
  work: commands, the posting rules' ``system()`` blocks, Super Admins and
  Auditors).  Created here when missing (creating ``BYPASSRLS`` needs a
  superuser; otherwise run ``flask abparts create-app-role`` as one first).
- Row-level security on every organization's table, one policy each, keyed on
  ``abparts_visible_organizations()``: the ``abparts.organization_ids`` setting the
  portal sets at the start of each transaction from :func:`app.scoping.database_scope`,
  read once per statement (``(SELECT abparts_visible_organizations())`` is an
  InitPlan, so the policy's ``= ANY`` is an index condition, not a cast per row).
  No setting, no rows: a forgotten setting shows nothing.  Policies are
  ``TO PUBLIC``: every role but the owner and ``BYPASSRLS`` ones is confined.
- Append-only tables: no ``UPDATE``/``DELETE`` for the portal's roles; the two
  updates the portal makes are column grants guarded by a trigger (a pending
  transaction's decision, once; an export's finish, once).
- ``inventory.current_stock >= 0`` by a trigger, unless the transaction sets
  ``abparts.allow_negative_stock`` (the portal does when ``ALLOW_NEGATIVE_STOCK`` is on).
- Two views of names, ``warehouse_names`` and ``organization_names``: the parties of a
  movement or an order read each other's names (issues 8 and 10), not their rows.
- ``abparts_repair_balances(json)``: the balance repair (``verify-ledger --repair``):
  sets balances to their ledger sums, nothing else, and records them as one
  ``ledger_repair`` security event, in the database's own code.

Revision ID: 0015_row_security
Revises: 0014_ledger_warehouse_sort
Create Date: 2026-12-04 19:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015_row_security'
down_revision = '0014_ledger_warehouse_sort'
branch_labels = None
depends_on = None

APP_ROLE = 'abparts_app'
SYSTEM_ROLE = 'abparts_system'
ROLES = f'{APP_ROLE}, {SYSTEM_ROLE}'

#: The visible organizations, once per statement (an InitPlan).
IDS = '(SELECT abparts_visible_organizations())::uuid[]'


def _in(column):
    return f'{column} = ANY ({IDS})'


def _users(column='user_id'):
    return f'{column} IN (SELECT id FROM ab_user WHERE {_in("organization_id")})'


_CUSTOMER_ORDERS = f'SELECT id FROM customer_orders WHERE {_in("customer_organization_id")} ' \
                   f'OR {_in("oraseas_organization_id")}'
_SUPPLIER_ORDERS = f'SELECT id FROM supplier_orders WHERE {_in("ordering_organization_id")}'
_WAREHOUSES = f'SELECT id FROM warehouses WHERE {_in("organization_id")}'
_STOCKTAKES = f'SELECT id FROM stocktakes WHERE {_in("organization_id")}'
_TRANSFERS = f'SELECT id FROM stock_transfers WHERE {_in("source_organization_id")} ' \
             f'OR {_in("destination_organization_id")}'

#: table -> (rows visible to the caller, rows it may write).  The same rule as
#: app/scoping.py's SCOPE_RULES; tests/test_row_security.py checks both list the same tables.
POLICIES = {
    # An admin creates suppliers under its own organization: a new child is writable.
    'organizations': (_in('id'), f'{_in("id")} OR {_in("parent_organization_id")}'),
    'ab_user': (_in('organization_id'), None),
    'warehouses': (_in('organization_id'), None),
    'inventory': (f'warehouse_id IN ({_WAREHOUSES})', None),
    'machines': (_in('customer_organization_id'), None),
    'transactions': (f'{_in("from_organization_id")} OR {_in("to_organization_id")}', None),
    'transaction_approvals': (
        'EXISTS (SELECT 1 FROM transactions t WHERE t.id = transaction_id AND '
        f'({_in("t.from_organization_id")} OR {_in("t.to_organization_id")}))', None),
    'stock_adjustments': (f'inventory_id IN (SELECT id FROM inventory WHERE warehouse_id IN ({_WAREHOUSES}))', None),
    'part_usage': (_in('customer_organization_id'), None),
    'customer_orders': (f'{_in("customer_organization_id")} OR {_in("oraseas_organization_id")}', None),
    'customer_order_items': (f'customer_order_id IN ({_CUSTOMER_ORDERS})', None),
    'supplier_orders': (_in('ordering_organization_id'), None),
    'supplier_order_items': (f'supplier_order_id IN ({_SUPPLIER_ORDERS})', None),
    'order_events': (f'customer_order_id IN ({_CUSTOMER_ORDERS}) OR supplier_order_id IN ({_SUPPLIER_ORDERS})',
                     None),
    'stock_transfers': (f'{_in("source_organization_id")} OR {_in("destination_organization_id")}', None),
    'stock_transfer_lines': (f'stock_transfer_id IN ({_TRANSFERS})', None),
    'stocktakes': (_in('organization_id'), None),
    'stocktake_lines': (f'stocktake_id IN ({_STOCKTAKES})', None),
    'stocktake_counters': (f'stocktake_id IN ({_STOCKTAKES})', None),
    'stocktake_counts': (
        f'stocktake_line_id IN (SELECT id FROM stocktake_lines WHERE stocktake_id IN ({_STOCKTAKES}))', None),
    'idempotency_keys': (_users(), None),
    'security_events': (_users(), None),
    'user_sessions': (_users(), None),
    'invitation_audit_logs': (_users(), None),
    'user_management_audit_logs': (_users(), None),
    'export_log': (_in('organization_id'), None),
    'reorder_suggestions': (_in('organization_id'), None),
}

#: Append-only tables: never updated or deleted by the portal; (table, columns it may update once).
APPEND_ONLY = {
    'transactions': ('approval_status',),
    'part_usage': (),
    'stock_adjustments': (),
    'transaction_approvals': (),
    'security_events': (),
    'invitation_audit_logs': (),
    'user_management_audit_logs': (),
    'export_log': ('row_count', 'finished_at'),
}


def _create_roles():
    # CREATE ROLE ... BYPASSRLS needs a superuser: a clear message otherwise.
    op.execute(f"""
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SYSTEM_ROLE}') THEN
        BEGIN
            CREATE ROLE {SYSTEM_ROLE} NOLOGIN BYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        BEGIN
            CREATE ROLE {APP_ROLE} NOLOGIN NOINHERIT;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    IF NOT pg_has_role('{APP_ROLE}', '{SYSTEM_ROLE}', 'MEMBER') THEN
        GRANT {SYSTEM_ROLE} TO {APP_ROLE};
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'The roles {APP_ROLE} and {SYSTEM_ROLE} are missing and this role may not create them: '
        'run `flask abparts create-app-role` with DATABASE_OWNER_URL naming a superuser first (README, '
        '"Database roles").';
END
$roles$;
""")


def _functions():
    op.execute("""
CREATE OR REPLACE FUNCTION abparts_visible_organizations() RETURNS uuid[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(nullif(current_setting('abparts.organization_ids', true), ''), '{}')::uuid[]
$$;
COMMENT ON FUNCTION abparts_visible_organizations() IS
    'The organizations whose rows the transaction sees (the abparts.organization_ids setting; none when unset).';

CREATE OR REPLACE FUNCTION abparts_refuse_negative_stock() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.current_stock < 0 AND coalesce(current_setting('abparts.allow_negative_stock', true), '') <> 'on' THEN
        RAISE EXCEPTION 'Stock on hand cannot go below zero (warehouse %, part %: %).',
            NEW.warehouse_id, NEW.part_id, NEW.current_stock
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_inventory_stock_not_negative';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION abparts_decide_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.approval_status IS DISTINCT FROM OLD.approval_status
       AND (OLD.approval_status IS DISTINCT FROM 'pending' OR NOT OLD.requires_approval
            OR NEW.approval_status NOT IN ('approved', 'rejected')) THEN
        RAISE EXCEPTION 'The stock ledger is append-only: only a pending transaction''s approval status '
            'changes, once, to approved or rejected.' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION abparts_finish_export_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.finished_at IS NOT NULL AND (NEW.finished_at IS DISTINCT FROM OLD.finished_at
                                        OR NEW.row_count IS DISTINCT FROM OLD.row_count) THEN
        RAISE EXCEPTION 'The export log is append-only: an export is stamped finished once.'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
""")
    # The balance repair: owned by the owner (SECURITY DEFINER), it can only set balances to
    # the sums of their posted ledger rows, and records what it changed as one security event.
    op.execute("""
CREATE OR REPLACE FUNCTION abparts_repair_balances(p_balances json) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    item json;
    ledger numeric;
    old numeric;
    details json[] := '{}';
BEGIN
    FOR item IN SELECT * FROM json_array_elements(p_balances) LOOP
        SELECT coalesce(sum(CASE WHEN to_warehouse_id = (item->>'warehouse_id')::uuid THEN quantity ELSE 0 END)
                      - sum(CASE WHEN from_warehouse_id = (item->>'warehouse_id')::uuid THEN quantity ELSE 0 END), 0)
          INTO ledger
          FROM transactions
         WHERE part_id = (item->>'part_id')::uuid
           AND (to_warehouse_id = (item->>'warehouse_id')::uuid OR from_warehouse_id = (item->>'warehouse_id')::uuid)
           AND (NOT requires_approval OR approval_status = 'approved');
        SELECT current_stock INTO old FROM inventory
         WHERE warehouse_id = (item->>'warehouse_id')::uuid AND part_id = (item->>'part_id')::uuid FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'No stock record of part % in warehouse %.', item->>'part', item->>'warehouse'
                USING ERRCODE = 'no_data_found';
        END IF;
        IF old IS DISTINCT FROM ledger THEN
            UPDATE inventory SET current_stock = ledger, last_updated = now()
             WHERE warehouse_id = (item->>'warehouse_id')::uuid AND part_id = (item->>'part_id')::uuid;
            details := details || json_build_object('warehouse', item->>'warehouse', 'part', item->>'part',
                                                    'old_balance', old::text, 'new_balance', ledger::text);
        END IF;
    END LOOP;
    IF cardinality(details) > 0 THEN
        INSERT INTO security_events (id, event_type, risk_level, details, "timestamp")
        VALUES (gen_random_uuid(), 'ledger_repair', 'high', array_to_json(details)::text, now());
    END IF;
    RETURN cardinality(details);
END
$$;
REVOKE ALL ON FUNCTION abparts_repair_balances(json) FROM PUBLIC;
""")
    op.execute(f'GRANT EXECUTE ON FUNCTION abparts_repair_balances(json) TO {ROLES}')


def _grants():
    op.execute(f"""
GRANT USAGE ON SCHEMA public TO {ROLES};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLES};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {ROLES};
REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {ROLES};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLES};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {ROLES};
""")
    for table, columns in APPEND_ONLY.items():
        op.execute(f'REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {ROLES}')
        if columns:
            op.execute(f'GRANT UPDATE ({", ".join(columns)}) ON {table} TO {ROLES}')
    op.execute('CREATE TRIGGER trg_transactions_decide_once BEFORE UPDATE ON transactions '
               'FOR EACH ROW EXECUTE FUNCTION abparts_decide_once()')
    op.execute('CREATE TRIGGER trg_export_log_finish_once BEFORE UPDATE ON export_log '
               'FOR EACH ROW EXECUTE FUNCTION abparts_finish_export_once()')
    op.execute('CREATE TRIGGER trg_inventory_not_negative BEFORE INSERT OR UPDATE OF current_stock ON inventory '
               'FOR EACH ROW EXECUTE FUNCTION abparts_refuse_negative_stock()')


def _policies():
    for table, (using, check) in POLICIES.items():
        op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
        with_check = f' WITH CHECK ({check})' if check else ''
        op.execute(f'CREATE POLICY abparts_organization_scope ON {table} USING ({using}){with_check}')


def _name_views():
    # The names the parties of a document read across organizations (app.models.base.NamesView):
    # owned by the owner, so the policies do not narrow them; ids and names only, and nothing
    # to a transaction without a scope (a request with nobody signed in).
    shown = f"current_user <> '{APP_ROLE}' OR cardinality(abparts_visible_organizations()) > 0"
    op.execute(f"""
CREATE VIEW warehouse_names AS
SELECT w.id, w.name, w.organization_id, o.name AS organization_name
  FROM warehouses w JOIN organizations o ON o.id = w.organization_id
 WHERE {shown};
CREATE VIEW organization_names AS
SELECT o.id, o.name FROM organizations o WHERE {shown};
GRANT SELECT ON warehouse_names, organization_names TO {ROLES};
""")


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    _create_roles()
    _functions()
    _grants()
    _policies()
    _name_views()


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP VIEW IF EXISTS organization_names')
    op.execute('DROP VIEW IF EXISTS warehouse_names')
    for table in POLICIES:
        op.execute(f'DROP POLICY IF EXISTS abparts_organization_scope ON {table}')
        op.execute(f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY')
    op.execute('DROP TRIGGER IF EXISTS trg_inventory_not_negative ON inventory')
    op.execute('DROP TRIGGER IF EXISTS trg_export_log_finish_once ON export_log')
    op.execute('DROP TRIGGER IF EXISTS trg_transactions_decide_once ON transactions')
    op.execute(f"""
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {ROLES};
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT, UPDATE ON SEQUENCES FROM {ROLES};
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ROLES};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLES};
REVOKE USAGE ON SCHEMA public FROM {ROLES};
DROP FUNCTION IF EXISTS abparts_repair_balances(json);
DROP FUNCTION IF EXISTS abparts_finish_export_once();
DROP FUNCTION IF EXISTS abparts_decide_once();
DROP FUNCTION IF EXISTS abparts_refuse_negative_stock();
DROP FUNCTION IF EXISTS abparts_visible_organizations();
""")
    # The roles are the cluster's, shared by its databases: they stay.
