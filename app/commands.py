"""``flask abparts ...``: the portal's commands."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from .extensions import db


@click.group()
def abparts():
    """ABParts Admin commands."""


@abparts.command("sync-roles")
@with_appcontext
def sync_roles_command():
    """Create the roles declared in app/security/roles.py (Super Admin, Admin, User, Auditor)."""
    from .security.setup import sync_roles

    created = sync_roles()
    click.echo(f"Roles in place ({', '.join(created) or 'none new'} created).")


@abparts.command("seed-demo")
@click.option("--scale", default=1.0, show_default=True,
              help="Multiply the demo sizes; above 1 needs the caps lifted (LIMIT_* settings).")
@click.option("--years", default=1, show_default=True, help="Years of ledger history to post.")
@click.option("--seed", "random_seed", default=2026, show_default=True, help="Random seed (deterministic).")
@with_appcontext
def seed_demo_command(scale, years, random_seed):
    """Build the deterministic demo data set (organizations, users, parts, a year of postings)."""
    from .demo import seed_demo

    seed_demo(scale=scale, years=years, random_seed=random_seed, echo=click.echo)


@abparts.command("verify-ledger")
@click.option("--repair", is_flag=True, help="Rewrite balances from the ledger and record the changes.")
@with_appcontext
def verify_ledger_command(repair):
    """Recompute every balance from the ledger and check the stock in transit against its
    transfers; exit 1 on any mismatch (unless ``--repair`` fixed every one).

    Output lines: ``MISMATCH warehouse=... part=... balance=... ledger=...`` (a balance
    against its ledger sum), ``TRANSIT MISMATCH transit=... part=... balance=... in_transit=...``
    (a transit location's balance against what its transfers have in transit) and
    ``TRANSIT NEGATIVE transfer=... part=... in_transit=...`` (a transfer line that took
    more out of transit than it put in).  ``--repair`` rewrites balances from the
    ledger; transit problems that remain then are reported and exit 1 (the ledger
    itself needs a correction, which no rewrite of balances makes).
    """
    from .ledger_check import record_check, repair_balances, verify_balances, verify_transit

    mismatches = verify_balances(db.session)
    for row in mismatches:
        click.echo(
            f"MISMATCH warehouse={row.warehouse} part={row.part} balance={row.balance} "
            f"ledger={row.ledger_sum}"
        )
    left = []
    if mismatches and repair:
        from flask import current_app

        left = repair_balances(db.session, mismatches, current_app.config.get("ALLOW_NEGATIVE_STOCK", False))
        if len(left) < len(mismatches):
            click.echo(f"Repaired {len(mismatches) - len(left)} balance(s); recorded as a security event "
                       "'ledger_repair'.")
        for row in left:
            click.echo(f"NOT REPAIRED warehouse={row.warehouse} part={row.part} ledger={row.ledger_sum}: "
                       "a ledger sum below zero (no balance goes below zero); the ledger needs a correction")
    negative, transit = verify_transit(db.session)
    _echo_transit(negative, transit)
    record_check(db.session, mismatches, negative, transit)  # what it found, for the auditors' dashboard
    db.session.commit()
    if not mismatches and not negative and not transit:
        click.echo("Ledger and balances agree.")
        return
    if negative or transit:
        click.echo(f"{len(negative) + len(transit)} transit problem(s).")
    if mismatches and not repair:
        click.echo(f"{len(mismatches)} mismatch(es). Run with --repair to rewrite balances from the ledger.")
    if negative or transit or left or not repair:
        sys.exit(1)


def _echo_transit(negative, transit) -> None:
    for row in negative:
        click.echo(f"TRANSIT NEGATIVE transfer={row.reference} part={row.part} in_transit={row.in_transit}")
    for row in transit:
        click.echo(f"TRANSIT MISMATCH transit={row.warehouse} part={row.part} balance={row.balance} "
                   f"in_transit={row.in_transit}")


@abparts.command("cleanup-sessions")
@click.option("--retention-days", default=30, show_default=True,
              help="Keep ended sessions this many days (for the audit screens) before deleting them.")
@with_appcontext
def cleanup_sessions_command(retention_days):
    """Delete expired login sessions, and ended ones older than the retention (issue 12)."""
    import datetime as dt

    from .security.sessions import cleanup

    click.echo(f"Deleted {cleanup(dt.timedelta(days=retention_days))} session(s).")


# --- imports (issue 11) ------------------------------------------------------------

def _import_command(kind: str, path: str, username: str, dry_run: bool) -> None:
    """Run an import of ``kind`` from ``path`` as ``username``; print the report; exit 1 on any problem."""
    import os

    import sqlalchemy as sa

    from . import models as m
    from .errors import DomainError
    from .imports.files import FileRefused
    from .scoping import acting_as, system
    from .views.catalog import part_form
    from .workflows import imports

    with system():
        user = db.session.execute(sa.select(m.PortalUser).where(m.PortalUser.username == username)).scalar()
    if user is None:
        click.echo(f"There is no user {username!r}: --as names the user the import runs as.", err=True)
        sys.exit(1)
    with open(path, "rb") as file:
        data = file.read()
    name = os.path.basename(path)
    try:
        with acting_as(user):
            if dry_run:
                report = imports.dry_run(kind, name, data, part_form())
            else:
                report = imports.run_import(kind, name, data, part_form())
    except imports.ImportRefused as exc:
        report = exc.report
    except (FileRefused, DomainError) as exc:
        click.echo(f"{name}: {exc.message}", err=True)
        sys.exit(1)
    for error in report.errors:
        where = f"row {error.row}" if error.row else "all rows"
        click.echo(f"{name}: {where}{', ' + error.column if error.column else ''}: {error.message}")
    if report.errors:
        click.echo(f"{len(report.errors)} problem(s) in {report.rows} row(s); nothing was imported.", err=True)
        sys.exit(1)
    if dry_run:
        click.echo(f"Dry run: {report.rows} row(s), no problems; nothing was written.")
    else:
        click.echo(f"Imported {report.written} {'part(s)' if kind == 'parts' else 'line(s) of opening stock'}.")


@abparts.command("import-parts")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", required=True, help="The user the import runs as (a Super Admin).")
@click.option("--dry-run", is_flag=True, help="Check every row and write nothing.")
@with_appcontext
def import_parts_command(path, username, dry_run):
    """Add parts to the catalog from a CSV or XLSX file (columns as the template of Catalog > Import
    Parts); all of them or none.  Problems are printed as ``FILE: row N, column: message``; exit 1."""
    _import_command("parts", path, username, dry_run)


@abparts.command("import-stock")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", required=True,
              help="The user the import runs as: an admin imports into its own organization's warehouses.")
@click.option("--dry-run", is_flag=True, help="Check every row and write nothing.")
@with_appcontext
def import_stock_command(path, username, dry_run):
    """Post opening stock (``creation`` ledger rows) from a CSV or XLSX file (columns as the template
    of Inventory > Import Opening Stock); all of it or none.  Problems as ``import-parts``; exit 1."""
    _import_command("stock", path, username, dry_run)


@abparts.command("suggest-reorder-points")
@click.option("--window", "window_days", type=int, default=None,
              help="Days of usage history (default REORDER_WINDOW_DAYS, 90).")
@click.option("--organization", "organization_name", default=None, help="Only this organization's warehouses.")
@click.option("--accept", is_flag=True, help="Also accept every suggestion into the reorder points.")
@with_appcontext
def suggest_reorder_points_command(window_days, organization_name, accept):
    """Suggest reorder points from usage (average daily use x (lead time + safety stock days)),
    for an admin to review on the Reorder Points screen; ``--accept`` sets them at once."""
    import sqlalchemy as sa

    from . import models as m
    from .workflows import reorder

    organization_id = None
    if organization_name:
        organization_id = db.session.execute(sa.select(m.Organization.id).where(
            m.Organization.name == organization_name)).scalar_one_or_none()
        if organization_id is None:
            raise click.UsageError(f"No organization named {organization_name!r}.")
    try:
        outcome = reorder.suggest_reorder_points(db.session, "flask abparts", window_days,
                                                 organization_id=organization_id)
        accepted = 0
        if accept:
            ids = reorder.pending_suggestion_ids(db.session, organization_id)
            accepted = reorder.accept_suggestions(db.session, ids, "flask abparts") if ids else 0
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"{outcome.suggestions} of {outcome.lines} stock lines have a new suggested reorder point"
               + (f"; {accepted} accepted." if accept else "; review them on the Reorder Points screen."))


@abparts.command("create-app-role")
@click.option("--password", envvar="ABPARTS_APP_ROLE_PASSWORD",
              help="The login password of abparts_app (or ABPARTS_APP_ROLE_PASSWORD); none: keep it "
                   "(trust or peer authentication).")
@click.option("--print-sql", is_flag=True, help="Print the SQL for a DBA instead of running it.")
@with_appcontext
def create_app_role_command(password, print_sql):
    """Create the PostgreSQL roles of row-level security, once per server (issue 14).

    ``abparts_app`` (the portal's login: not the tables' owner, no BYPASSRLS) and
    ``abparts_system`` (NOLOGIN BYPASSRLS, granted to abparts_app for the system's own
    work).  Creating a BYPASSRLS role needs a superuser: this connects with
    ``DATABASE_OWNER_URL`` (else ``DATABASE_URL``), which must be one, or prints the SQL
    (``--print-sql``) to run as one.  Then ``flask db upgrade`` (migration 0015) grants
    the tables and turns the policies on.  See README, "Database roles".
    """
    import sqlalchemy as sa
    from flask import current_app

    from .row_security import create_roles_sql

    statements = create_roles_sql(password)
    if print_sql:
        click.echo(";\n".join(statements) + ";")
        return
    url = current_app.config.get("DATABASE_OWNER_URL") or current_app.config["SQLALCHEMY_DATABASE_URI"]
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    if engine.dialect.name != "postgresql":
        raise click.ClickException("Row-level security is PostgreSQL's: SQLite keeps the ORM guards only.")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    except sa.exc.DBAPIError as exc:
        raise click.ClickException(f"PostgreSQL refused: {exc.orig}. Connect as a superuser "
                                   "(DATABASE_OWNER_URL) or run the --print-sql output as one.") from None
    finally:
        engine.dispose()
    click.echo("Roles abparts_app and abparts_system are in place; now run `flask db upgrade` as the owner.")
