"""Base classes of the generated screens: permissions, error mapping, formatting."""
from __future__ import annotations

import enum

from flask import abort, request
from flask_babel import format_date as babel_date
from flask_babel import format_time as babel_time
from flask_appbuilder import ModelView, expose
from flask_appbuilder.widgets import ShowWidget
from wtforms import validators
from flask_babel import lazy_gettext

from ..i18n import translating
from ..security.roles import METHOD_PERMISSIONS
from .choices import OnDemandChoices
from .export import Exportable
from .fields import LabelledEnumField, TimestampField
from .interface import CheckedWrites, LoadsShownRelations
from .labels import COLUMN_LABELS, default_titles
from .listargs import CheckedListArguments
from .search import TextSearch


#: What a page shows for an empty value (a missing location, no parent organization).
EMPTY = "\u2014"


def format_datetime(value) -> str:
    """Timestamps to the minute, in UTC: ``2026-11-23 14:05 UTC``; in Greek the locale's
    date ("23 Νοε 2026, 14:05 UTC", Flask-Babel)."""
    if value is None:
        return ""
    if translating():
        return f"{babel_date(value, 'medium')}, {babel_time(value, 'HH:mm')} UTC"
    return value.strftime("%Y-%m-%d %H:%M UTC")


def format_day(value) -> str:
    """A date (or the date of a timestamp): ``2026-11-23``; in Greek "23 Νοε 2026"."""
    if value is None:
        return ""
    return babel_date(value, "medium") if translating() else value.strftime("%Y-%m-%d")


def format_month(value, long: bool = False) -> str:
    """A month (the first instant of it): ``Nov 26`` (``long``: ``November 2026``); in Greek
    the month's own name, not its genitive ("Νοέ 26", "Νοέμβριος 2026", Flask-Babel)."""
    if value is None:
        return ""
    if translating():
        return babel_date(value, "LLLL y" if long else "LLL yy")
    return value.strftime("%B %Y" if long else "%b %y")


def format_value(value):
    """A cell as a person reads it: an em dash for an empty value, an enum as its label,
    related rows as their names separated by commas.

    Jinja prints ``None`` as "None" and a ``str`` enum as its stored value
    ("bulk_material"); the enums' ``__str__`` gives the words ("Bulk material").
    """
    if value is None:
        return EMPTY
    if hasattr(value, "localized"):  # an enum, a quantity with its unit, a rule's message
        return value.localized()
    if isinstance(value, enum.Enum):
        return str(value)
    if isinstance(value, (list, tuple)):
        # a to-many relation (a user's roles): Jinja would print the list, "[Admin]"
        return ", ".join(str(item) for item in value) or EMPTY
    return value


def enum_label(enum_class):
    """A formatter printing a stored value of ``enum_class`` as the member's label.

    FAB hands list and show pages an enum column's stored value ("bulk_material").
    """
    def label(value):
        try:
            return str(enum_class(getattr(value, "value", value)))
        except ValueError:
            return value

    return label


def shown_with(formatter):
    """``formatter`` for a page cell: an empty value is an em dash, whatever the formatter says."""
    def format_cell(value):
        return EMPTY if value is None else formatter(value)

    return format_cell


class ShowWithEditWidget(ShowWidget):
    """FAB's show widget plus an Edit button for users who may edit (``abparts/widgets/show.html``)."""

    template = "abparts/widgets/show.html"


class ReadableValues:
    """View mixin: values as words on every page of a view (issue 13, "rough edges").

    - List, show and related-list cells go through FAB's ``formatters_columns``:
      an empty value is an em dash (never "None"), an enum its label, a
      date-time to the minute in UTC; a view's own formatter is kept and gets
      the non-empty values.  Exports write typed values instead (:mod:`app.views.export`).
    - Enum columns of the add, edit and search forms offer the enums' labels
      (:class:`~app.views.fields.LabelledEnumField`, through FAB's
      ``*_form_extra_fields``; a view's own entry wins).
    - Column labels FAB would make up from a column's name come from
      :data:`~app.views.labels.COLUMN_LABELS`, translatable (a view's own label wins).
    - Show pages offer Edit to a user who may edit the record (:class:`ShowWithEditWidget`).
    """

    show_widget = ShowWithEditWidget

    def __init__(self, **kwargs):
        self._default_labels()
        self._enum_fields()
        super().__init__(**kwargs)
        self.formatters_columns = dict(self.formatters_columns)
        shown = {*self.list_columns, *self.show_columns}
        for _title, fieldset in self.show_fieldsets or ():
            shown.update(fieldset.get("fields", ()))
        for col in shown:
            formatter = self.formatters_columns.get(col)
            if formatter is None and self.datamodel.is_datetime(col):
                formatter = format_datetime
            if formatter is None and self._enum_class(col):
                formatter = enum_label(self._enum_class(col))
            self.formatters_columns[col] = shown_with(formatter) if formatter else format_value

    def _default_labels(self) -> None:
        """Labels of :data:`~app.views.labels.COLUMN_LABELS` under the view's own, and the
        titles FAB would make up, translatable (run before any form field is built from
        them; twice is harmless)."""
        self.label_columns = {**COLUMN_LABELS, **(self.label_columns or {})}
        for attr, title in default_titles(self.datamodel.model_name).items():
            if not getattr(self, attr):
                setattr(self, attr, title)

    def _enum_class(self, col: str):
        """The Python enum of an enum column, or ``None``."""
        return self.datamodel.is_enum(col) and self.datamodel.list_columns[col].type.enum_class or None

    def _enum_fields(self) -> None:
        label_columns = self.label_columns or {}
        description_columns = self.description_columns or {}
        validators_columns = self.validators_columns or {}
        enums = [col for col in self.datamodel.list_columns if self._enum_class(col)]

        def field(col, search=False):
            col_type = self.datamodel.list_columns[col].type
            if search:
                checks = [validators.Optional()]
            else:
                presence = validators.Optional() if self.datamodel.is_nullable(col) else validators.InputRequired()
                checks = [presence, *validators_columns.get(col, [])]
            return LabelledEnumField(col_type.enum_class, col_type.enums, label_columns.get(col), checks,
                                     description="" if search else description_columns.get(col, ""),
                                     default=None if search else self.datamodel.get_col_default(col))

        self.add_form_extra_fields = {**{c: field(c) for c in enums}, **(self.add_form_extra_fields or {})}
        self.edit_form_extra_fields = {**{c: field(c) for c in enums}, **(self.edit_form_extra_fields or {})}
        self.search_form_extra_fields = {**{c: field(c, search=True) for c in enums},
                                         **(self.search_form_extra_fields or {})}


class ABPartsModelView(CheckedListArguments, ReadableValues, TextSearch, OnDemandChoices, LoadsShownRelations,
                       CheckedWrites, Exportable, ModelView):
    """A generated admin screen of one ABParts domain.

    - Permissions: ``class_permission_name`` is the domain, and FAB's methods
      collapse into ``read``/``add``/``edit``/``delete`` (:mod:`app.security.roles`).
    - Writes: the rule hooks run in ``pre_add``/``pre_update``/``pre_delete``
      (a checked flush), so a refused write flashes the rule's message, the
      session is rolled back and nothing is saved.  Database error text is never shown.
    - Rows: what a user sees is decided by :mod:`app.scoping`, not here.
    - Relations: form dropdowns and list filters offer rows on demand
      (:mod:`app.views.choices`); a list page loads the relations it prints
      with the page (:class:`~app.views.interface.LoadsShownRelations`).
    - Search: a view listing ``text_search_columns`` gets a search box (:mod:`app.views.search`).
    - Export: ``/export/`` as CSV or XLSX, logged (:mod:`app.views.export`).
    - List arguments: a bad page, page size, sort or filter index in the URL answers 400
      naming what it accepts, never 500 (:mod:`app.views.listargs`).
    """

    method_permission_name = METHOD_PERMISSIONS
    page_size = 25
    list_template = "abparts/list.html"
    #: FAB's add and edit pages, with the date pickers leaving typed text alone (``date_picker.html``).
    add_template = "abparts/add.html"
    edit_template = "abparts/edit.html"

    def show_page(self, pk, context):
        """FAB's show page of ``pk`` in the view's ``show_template``, with ``context(record)``
        (a dict) added: for show pages that print more than the record's fields.

        :raise 404: no such record for this user.
        """
        record = self.datamodel.get(pk, self._base_filters)
        if record is None:
            abort(404)
        return self.render_template(self.show_template, pk=pk, title=self.show_title, widgets=self._show(pk),
                                    related_views=self._related_views, **context(record))

    def __init__(self, **kwargs):
        self._default_labels()
        self._timestamp_fields()
        super().__init__(**kwargs)

    def _timestamp_fields(self) -> None:
        """Give every date-time column a :class:`~app.views.fields.TimestampField` in the add and edit forms.

        Through FAB's documented ``add_form_extra_fields``/``edit_form_extra_fields``
        (before FAB builds the forms); an extra field a view declares itself wins.
        Label, description and the view's validators are the column's, as FAB
        would give them; required unless the column is nullable or filled in by the rules.
        """
        label_columns = self.label_columns or {}
        description_columns = self.description_columns or {}
        validators_columns = self.validators_columns or {}

        def field(col):
            presence = validators.Optional() if self.datamodel.is_nullable(col) else validators.InputRequired()
            return TimestampField(label_columns.get(col), [presence, *validators_columns.get(col, [])],
                                  description=description_columns.get(col, ""),
                                  default=self.datamodel.get_col_default(col))

        columns = [col for col in self.datamodel.list_columns if self.datamodel.is_datetime(col)]
        self.add_form_extra_fields = {**{c: field(c) for c in columns}, **(self.add_form_extra_fields or {})}
        self.edit_form_extra_fields = {**{c: field(c) for c in columns}, **(self.edit_form_extra_fields or {})}

    def _may_act(self, name: str) -> bool:
        return name in self.actions and self.appbuilder.sm.has_access(
            self.get_action_permission_name(name), self.class_permission_name
        )

    def _visible_or_404(self, pk) -> None:
        if self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters) is None:
            abort(404)

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        """Run an action (e.g. reverse a transaction) on one row.

        FAB hands the action ``None`` for a row it cannot load; here that row is a 404.

        :raise 404: the row does not exist or belongs to another organization.
        """
        if self.is_get_mutation_allowed() and self._may_act(name):
            self._visible_or_404(pk)
        return super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        """Run an action on the rows ticked in the list (``rowid``).

        :raise 400: no row ticked.
        :raise 404: a row does not exist or belongs to another organization.
        """
        if self._may_act(request.form.get("action", "")):
            pks = request.form.getlist("rowid")
            if not pks:
                abort(400, description=lazy_gettext("Tick at least one row for this action."))
            for pk in pks:
                self._visible_or_404(pk)
        return super().action_post()


class ReadOnlyModelView(ABPartsModelView):
    """A screen of append-only records: list and show only, plus its own add form if any."""

    base_permissions = ["can_read"]
