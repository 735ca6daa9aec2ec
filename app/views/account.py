"""``/account/sessions/``: a signed-in user's own sessions, each with an "End" button (issue 12)."""
from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_wtf import FlaskForm
from wtforms import HiddenField
from flask_babel import gettext

from ..security import sessions


class EndSessionForm(FlaskForm):
    """One "End" button (a CSRF-checked POST naming the session)."""

    session_id = HiddenField()


class MySessionsView(BaseView):
    """Where users see and end their own sessions (browsers and API tokens)."""

    route_base = "/account/sessions"
    default_view = "list"
    class_permission_name = "User"
    #: every role may see its own sessions (FAB's ``can_userinfo`` on ``User``).
    method_permission_name = {"list": "userinfo", "end": "userinfo"}

    @expose("/", methods=["GET"])
    @has_access
    def list(self):
        """The signed-in user's active sessions, this one marked."""
        return self.render_template("abparts/sessions.html", rows=sessions.active_sessions(g.user.id),
                                    form=EndSessionForm())

    @expose("/end", methods=["POST"])
    @has_access
    def end(self):
        """End one of the signed-in user's sessions (ending this one signs out)."""
        form = EndSessionForm()
        if form.validate_on_submit() and sessions.end_own(g.user.id, form.session_id.data, g.user.id):
            flash(gettext("The session is ended: its browser or API token is signed out."), "info")
        else:
            flash(gettext("There is no such session of yours."), "warning")
        return redirect(url_for(".list"))
