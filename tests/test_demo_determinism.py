"""seed-demo is deterministic: the same seed gives the same data set."""
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _seed(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    env = {**os.environ, "ABPARTS_INSTANCE_DIR": str(folder), "DATABASE_URL": f"sqlite:///{folder}/demo.db",
           "ABPARTS_ENV": "development"}
    flask = [sys.executable, "-m", "flask", "--app", "run"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "abparts", "seed-demo", "--scale", "0.05"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    # The workflow commands give their documents, postings and the transit location
    # ids of their own (uuid4) and reference numbers from them (app/demo.py): stock and
    # transfers are compared by what they are (organization, warehouse name, part,
    # quantities, states), every id the demo gives itself by id.
    with sqlite3.connect(folder / "demo.db") as conn:
        return {
            "stock": conn.execute(
                "SELECT w.organization_id, w.name, i.part_id, i.current_stock, i.minimum_stock_recommendation FROM inventory i "
                "JOIN warehouses w ON w.id = i.warehouse_id ORDER BY 1, 2, 3").fetchall(),
            "warehouses": conn.execute(
                "SELECT id, organization_id, name FROM warehouses WHERE NOT is_transit ORDER BY id").fetchall(),
            "transfers": conn.execute(
                "SELECT t.from_warehouse_id, t.to_warehouse_id, t.status, t.notes, t.created_by_user_id, "
                "t.dispatched_by_user_id, t.received_by_user_id, t.cancelled_by_user_id, "
                "l.line_number, l.part_id, l.quantity, l.received_quantity "
                "FROM stock_transfers t JOIN stock_transfer_lines l ON l.stock_transfer_id = t.id "
                "ORDER BY t.dispatched_at, t.created_at, 1, 2, l.line_number").fetchall(),
            "usage": conn.execute("SELECT id, machine_id, quantity FROM part_usage ORDER BY id").fetchall(),
            "orgs": conn.execute("SELECT id, name FROM organizations ORDER BY id").fetchall(),
        }


def test_the_same_seed_gives_the_same_data_set(tmp_path):
    first, second = _seed(tmp_path, "a"), _seed(tmp_path, "b")
    assert first["orgs"] and first["stock"] and first["usage"] and first["transfers"]
    assert first == second
