"""``/account/invite``: an admin invites a user by e-mail (issue 12); the link is mailed."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect
from flask_appbuilder import BaseView, expose, has_access
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length
from flask_babel import gettext, lazy_gettext

from .. import models as m
from ..errors import DomainError
from ..extensions import db
from ..scoping import ORGANIZATION_ROLES, current_actor
from ..security import accounts


class InviteForm(FlaskForm):
    email = EmailField(lazy_gettext("E-mail address"), validators=[DataRequired(), Length(max=255)])
    first_name = StringField(lazy_gettext("First name"), validators=[DataRequired(), Length(max=64)])
    last_name = StringField(lazy_gettext("Last name"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(lazy_gettext("Role"), choices=[(role, role) for role in ORGANIZATION_ROLES])
    organization_id = SelectField(lazy_gettext("Organization"), choices=[])


class InviteUserView(BaseView):
    """The invitation form: an organization's admin invites Admins and Users of its own
    organization; a Super Admin chooses any organization."""

    route_base = "/account/invite"
    default_view = "invite"
    class_permission_name = "User"
    method_permission_name = {"invite": "add"}

    @expose("/", methods=["GET", "POST"])
    @has_access
    def invite(self):
        """Show the form; POST sends the invitation (errors stay on the form)."""
        form = InviteForm()
        actor = current_actor()
        organizations = db.session.execute(
            sa.select(m.Organization).order_by(m.Organization.name)).scalars().all()
        if actor is not None and actor.is_restricted:
            organizations = [org for org in organizations if org.id == actor.organization_id]
        form.organization_id.choices = [(str(org.id), org.name) for org in organizations]
        if form.validate_on_submit():
            try:
                user = accounts.invite(form.email.data, form.first_name.data, form.last_name.data,
                                       form.role.data, form.organization_id.data)
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                flash(gettext("Invitation sent to %(email)s: the link works for %(value)s hours.",
                        email=user.email, value=format(accounts.invitation_hours(), 'g')), "info")
                return redirect("/users/list/")
        return self.render_template("abparts/account_form.html", form=form, heading="Invite a user",
                                    intro="The new user receives a link to set a password.", button="Invite")
