"""What ``python run.py`` does before serving: migrate, roles, first-run demo data."""
from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from config import database_url
from .extensions import db
from .security.setup import sync_roles


def is_default_database(app) -> bool:
    """Whether the app uses the embedded default (the SQLite file in ``instance/``)."""
    return app.config["SQLALCHEMY_DATABASE_URI"] == database_url(None)


def prepare(app, demo: bool = False, echo=print) -> None:
    """Bring the database to the latest schema, create the roles and, on a first run, the demo.

    The demo data is seeded on its own only on the default SQLite file while it
    has no organizations; ``demo=True`` asks for it on any empty database.
    """
    from . import models as m
    from .demo import DEMO_PASSWORD, demo_logins, seed_demo

    echo("Migrating the database ...")
    upgrade()
    sync_roles()
    empty = db.session.execute(sa.select(sa.func.count()).select_from(m.Organization)).scalar_one() == 0
    if empty and (demo or is_default_database(app)):
        seed_demo(echo=echo)
    elif empty:
        echo("The database is empty. Seed the demo with `python run.py --demo` or create users with "
             "`flask --app run fab create-admin`.")
    if db.session.execute(sa.select(sa.func.count()).select_from(m.PortalUser)).scalar_one():
        logins = demo_logins()
        if logins:
            echo(f"\nDemo logins (password: {DEMO_PASSWORD}):")
            for role, username, organization in logins:
                echo(f"  {role:<14} {username:<22} {organization}")
