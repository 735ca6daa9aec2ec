"""The organization switcher: staff who see every organization narrow the portal to one.

Borrowed from seed 002's "developer access pattern": the choice lives in the
HTTP session and :mod:`app.scoping` applies it to every screen and API call.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, g, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose, has_access

from .. import models as m
from ..extensions import db
from ..scoping import ALL_ORGANIZATION_ROLES, SWITCHER_KEY, system


class OrganizationSwitcherView(BaseView):
    """``/organization-switcher/``: pick one organization, or all of them."""

    route_base = "/organization-switcher"
    default_view = "switch"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def switch(self):
        """Show the organizations; POST ``organization_id`` (empty for all) to choose.

        :raise 403: for users who see only their own organization (flash + redirect).
        """
        if not {r.name for r in g.user.roles} & ALL_ORGANIZATION_ROLES:
            flash("Only staff who see every organization can switch organizations.", "warning")
            return redirect(self.appbuilder.get_url_for_index)
        if request.method == "POST":
            chosen = m.parse_uuid(request.form.get("organization_id"))
            if chosen is None:
                session.pop(SWITCHER_KEY, None)
                flash("Showing all organizations.", "info")
            else:
                session[SWITCHER_KEY] = str(chosen)
                with system():
                    name = db.session.get(m.Organization, chosen)
                flash(f"Showing {name} only (and its suppliers).", "info")
            return redirect(request.form.get("next") or url_for(".switch"))
        with system():
            orgs = db.session.execute(
                sa.select(m.Organization).order_by(m.Organization.organization_type, m.Organization.name)
            ).scalars().all()
        return self.render_template(
            "abparts/switcher.html", organizations=orgs, selected=session.get(SWITCHER_KEY)
        )

    @expose("/clear", methods=["POST"])
    @has_access
    def clear(self):
        """Show all organizations again."""
        session.pop(SWITCHER_KEY, None)
        return redirect(url_for(".switch"))
