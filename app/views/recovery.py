"""Pages reached without signing in: forgotten password, reset link, invitation link (issue 12).

``/account/forgot`` asks for an e-mail address and answers the same whether
or not it is known; ``/account/reset/<token>`` and ``/account/invitation/<token>``
set a password through a single-use link (:mod:`app.security.accounts`).
Every POST here is rate limited with the login paths (:mod:`app.security.limits`).
"""
from __future__ import annotations

from flask import flash, redirect
from flask_appbuilder import BaseView, expose
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo
from flask_babel import lazy_gettext

from ..errors import DomainError
from ..security import accounts


class ForgotForm(FlaskForm):
    email = EmailField(lazy_gettext("E-mail address"), validators=[DataRequired()])


class NewPasswordForm(FlaskForm):
    password = PasswordField(lazy_gettext("New password"), validators=[DataRequired()],
                             description=lazy_gettext("At least 12 characters, not a common password, "
                                                      "not your username."))
    conf_password = PasswordField(lazy_gettext("Repeat the password"),
                                  validators=[EqualTo("password", message="The passwords differ.")])


class AccountRecoveryView(BaseView):
    """Public pages: no permission, no sign-in."""

    route_base = "/account"
    default_view = "forgot"

    def _form_page(self, form, heading, intro, button):
        return self.render_template("abparts/account_form.html", form=form, heading=heading, intro=intro,
                                    button=button)

    @expose("/forgot", methods=["GET", "POST"])
    def forgot(self):
        """Ask for a reset link; the same answer for every address (no user enumeration)."""
        form = ForgotForm()
        if form.validate_on_submit():
            flash(accounts.request_reset(form.email.data), "info")
            return redirect(self.appbuilder.get_url_for_login)
        return self._form_page(form, "Forgot your password?",
                               "Enter your account's e-mail address: a link to set a new password follows.",
                               "Send the link")

    def _set_password(self, token, user, action, heading, done):
        if user is None:
            flash(accounts.INVALID_LINK, "warning")
            return redirect(self.appbuilder.get_url_for_login)
        form = NewPasswordForm()
        if form.validate_on_submit():
            try:
                action(token, form.password.data)
            except DomainError as exc:
                form.password.errors.append(str(exc))
            else:
                flash(done, "info")
                return redirect(self.appbuilder.get_url_for_login)
        return self._form_page(form, heading, f"Account: {user.username}", "Set the password")

    @expose("/reset/<token>", methods=["GET", "POST"])
    def reset(self, token):
        """Set a new password through a reset link (it works once, for an hour)."""
        return self._set_password(token, accounts.reset_user(token), accounts.confirm_reset,
                                  "Set a new password", "Your password is set: sign in with it.")

    @expose("/invitation/<token>", methods=["GET", "POST"])
    def invitation(self, token):
        """Accept an invitation by choosing a password."""
        return self._set_password(token, accounts.invited_user(token), accounts.accept,
                                  "Welcome to ABParts Admin", "Your account is ready: sign in.")
