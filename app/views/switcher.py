"""The organization switcher: staff who see every organization narrow the portal to one.

Borrowed from seed 002's "developer access pattern": the choice lives in the
HTTP session and :mod:`app.scoping` applies it to every screen and API call.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, g, redirect, session, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_wtf import FlaskForm
from wtforms import SelectField
from flask_babel import gettext, lazy_gettext

from .. import models as m
from ..extensions import db
from ..scoping import ALL_ORGANIZATION_ROLES, SWITCHER_KEY, system


class SwitcherForm(FlaskForm):
    """The switcher's form (Flask-WTF, so it carries and checks a CSRF token)."""

    organization_id = SelectField(lazy_gettext("Organization"), choices=[], validate_choice=True)


class OrganizationSwitcherView(BaseView):
    """``/organization-switcher/``: pick one organization, or all of them."""

    route_base = "/organization-switcher"
    default_view = "switch"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def switch(self):
        """Show the organizations; POST ``organization_id`` (empty for all) to choose.

        The form carries a CSRF token; the choice lives in the HTTP session.

        :raise 403: for users who see only their own organization (flash + redirect).
        """
        if not {r.name for r in g.user.roles} & ALL_ORGANIZATION_ROLES:
            flash(gettext("Only staff who see every organization can switch organizations."), "warning")
            return redirect(self.appbuilder.get_url_for_index)
        with system():
            orgs = db.session.execute(
                sa.select(m.Organization).order_by(m.Organization.organization_type, m.Organization.name)
            ).scalars().all()
        form = SwitcherForm()
        form.organization_id.choices = [("", "All organizations")] + [
            (str(org.id), f"{org.name} ({org.organization_type})") for org in orgs
        ]
        if form.validate_on_submit():
            chosen = m.parse_uuid(form.organization_id.data)
            if chosen is None:
                session.pop(SWITCHER_KEY, None)
                flash(gettext("Showing all organizations."), "info")
            else:
                session[SWITCHER_KEY] = str(chosen)
                name = next(org.name for org in orgs if org.id == chosen)
                flash(gettext("Showing %(name)s only (and its suppliers).", name=name), "info")
            return redirect(url_for(".switch"))
        form.organization_id.data = session.get(SWITCHER_KEY, "")
        return self.render_template("abparts/switcher.html", form=form)
