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
    with sqlite3.connect(folder / "demo.db") as conn:
        return {
            "stock": conn.execute("SELECT warehouse_id, part_id, current_stock FROM inventory ORDER BY warehouse_id, part_id").fetchall(),
            "usage": conn.execute("SELECT id, machine_id, quantity FROM part_usage ORDER BY id").fetchall(),
            "orgs": conn.execute("SELECT id, name FROM organizations ORDER BY id").fetchall(),
        }


def test_the_same_seed_gives_the_same_data_set(tmp_path):
    first, second = _seed(tmp_path, "a"), _seed(tmp_path, "b")
    assert first["orgs"] and first["stock"] and first["usage"]
    assert first == second
