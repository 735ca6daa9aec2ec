"""Relation choices on demand: dropdowns and relation filters that never load a whole table.

FAB renders every many-to-one field of a form (and every relation filter of a
list's search form) as a ``<select>`` holding *all* rows of the related table.
Here such a field renders only its current value; the browser asks
``<view route>/choices/<form>/<column>?q=<typed text>&page=<n>`` for at most
:data:`PAGE_SIZE` matching rows as the user types (``app/static/abparts/choices.js``,
Select2's AJAX mode).

- :class:`ChoiceSource`: which rows a field may offer (the related table,
  narrowed by the view's ``*_form_query_rel_fields``), found through the ORM
  session, so :mod:`app.scoping` applies, unless the view declares the column
  unscoped (:attr:`OnDemandChoices.unscoped_rel_fields`).
- :class:`RelationChoiceField`: the WTForms field.  It posts back the related
  row's primary key and hands FAB the row, as FAB's ``QuerySelectField`` does,
  so FAB's add/edit and the rule hooks are unchanged.  A posted id the source
  does not offer is "Not a valid choice", as before.
- :class:`OnDemandChoices`: the view mixin that gives every many-to-one column
  of ``add_columns``, ``edit_columns`` and ``search_columns`` such a field
  (through FAB's ``*_form_extra_fields``) and serves the choices endpoint.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from flask import abort, jsonify, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.widgets import SearchWidget
from flask_babel import lazy_gettext
from markupsafe import Markup, escape
from wtforms import validators as wtf_validators
from wtforms.fields import Field
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import html_params

from .. import models as m
from ..models.base import parse_uuid
from ..models.types import UUIDType
from ..scoping import system
from .interface import str_loads

#: Choices per answer of the endpoint (Select2 asks for the next page when ``more``).
PAGE_SIZE = 20
#: Longest typed text looked for; longer text is cut (no name is that long).
MAX_TERM = 100
#: Deepest page asked for: beyond it, typing more text is the way on.
MAX_PAGE = 500
#: The forms a view builds, as named in the endpoint's URL.
FORM_KINDS = ("add", "edit", "search")


@dataclass(frozen=True)
class ChoiceText:
    """How a model's rows are found by typed text and ordered in a dropdown.

    :ivar match: columns compared with the typed text (case-insensitive
        substring); ``"relation.column"`` matches a related row's column.
    :ivar order: columns to order by (``"relation.column"`` too); ``"-column"`` is descending.
    """

    match: tuple[str, ...]
    order: tuple[str, ...]


#: The natural names of the tables that forms and filters refer to.
CHOICE_TEXT: dict[type, ChoiceText] = {
    m.Part: ChoiceText(("part_number", "name"), ("part_number",)),
    m.Warehouse: ChoiceText(("name", "organization.name"), ("name", "organization.name")),
    m.Organization: ChoiceText(("name",), ("name",)),
    m.Machine: ChoiceText(("name", "serial_number"), ("name",)),
    m.PortalUser: ChoiceText(("username", "first_name", "last_name", "email"), ("username",)),
    m.Inventory: ChoiceText(("part.part_number", "part.name", "warehouse.name"),
                            ("part.part_number", "warehouse.name")),
    m.Transaction: ChoiceText(("reference_number", "part.part_number", "part.name"), ("-transaction_date",)),
    m.CustomerOrder: ChoiceText(("customer_organization.name", "notes"), ("-order_date",)),
    m.SupplierOrder: ChoiceText(("supplier_name", "notes"), ("-order_date",)),
}


def choice_text(model: type) -> ChoiceText:
    """The :class:`ChoiceText` of ``model``: declared in :data:`CHOICE_TEXT`, else its string columns.

    A model without a declaration is matched on every string column and ordered
    by the first (or by primary key when it has none), so a new screen works
    before anyone declares its names.
    """
    declared = CHOICE_TEXT.get(model)
    if declared is not None:
        return declared
    strings = tuple(c.key for c in model.__mapper__.column_attrs
                    if isinstance(c.columns[0].type, sa.String) and not isinstance(c.columns[0].type, sa.Enum))
    return ChoiceText(strings, strings[:1])


class ChoiceSource:
    """The rows one relation field may offer, found by typed text.

    :param interface: the FAB interface of the related model
        (``datamodel.get_related_interface(column)``).
    :param filter_list: FAB's ``[[column, FilterClass, value], ...]`` narrowing
        (a view's ``*_form_query_rel_fields`` entry), or ``None``.
    :param unscoped: look across organizations (``app.scoping`` does not apply).
    :param criterion: a function returning a SQL criterion on the related model,
        evaluated per request (it may depend on the acting user): the rule of
        which rows the field offers, when FAB's static filters cannot say it.
    """

    def __init__(self, interface, filter_list=None, unscoped: bool = False,
                 criterion: Callable[[], Any] | None = None):
        self.interface = interface
        self.model = interface.obj
        self.filter_list = filter_list or []
        self.unscoped = unscoped
        self.criterion = criterion
        self.text = choice_text(self.model)

    def _scope(self):
        return system() if self.unscoped else contextlib.nullcontext()

    def _query(self):
        # Through the interface's ORM session: the scoping listener sees it.
        query = self.interface.session.query(self.model).options(*str_loads(self.model))
        if self.filter_list:
            query = self.interface.get_filters().add_filter_list(self.filter_list).apply_all(query)
        if self.criterion is not None:
            query = query.filter(self.criterion())
        return query

    def _column(self, path: str):
        if "." in path:
            relation, _, column = path.partition(".")
            attr = getattr(self.model, relation)
            return attr, getattr(attr.property.mapper.class_, column)
        return None, getattr(self.model, path)

    def _matching(self, term: str):
        clauses = []
        for path in self.text.match:
            relation, column = self._column(path)
            clause = column.icontains(term, autoescape=True)
            clauses.append(relation.has(clause) if relation is not None else clause)
        return sa.or_(*clauses)

    def _ordering(self) -> list:
        order = []
        for name in self.text.order:
            relation, column = self._column(name.lstrip("-"))
            if relation is not None:
                # The related row's column, as a correlated subquery: no join to disturb the page.
                pairs = relation.property.local_remote_pairs
                column = sa.select(column).where(*[remote == local for local, remote in pairs]).scalar_subquery()
            order.append(column.desc() if name.startswith("-") else column.asc())
        return order + [getattr(self.model, key.key) for key in self.model.__mapper__.primary_key]

    def search(self, term: str = "", page: int = 1, page_size: int = PAGE_SIZE) -> tuple[list, bool]:
        """One page of the rows matching ``term``, ordered by name.

        :param term: typed text; empty matches every row.
        :param page: 1-based page number.
        :returns: ``(rows, more)``: at most ``page_size`` rows, and whether a next page exists.
        """
        query = self._query()
        if term and self.text.match:
            query = query.filter(self._matching(term))
        query = query.order_by(*self._ordering()).offset((page - 1) * page_size).limit(page_size + 1)
        with self._scope():
            rows = query.all()
        return rows[:page_size], len(rows) > page_size

    def get(self, pk) -> Any | None:
        """The offered row with primary key ``pk`` (a string from a form), or ``None``.

        ``None`` too for a malformed id, a row out of the user's scope, or one the
        narrowing excludes: a form may post only what the field could offer.
        """
        pk_columns = self.model.__mapper__.primary_key
        if len(pk_columns) != 1:
            return None
        column = pk_columns[0]
        if isinstance(column.type, UUIDType):
            key = parse_uuid(pk)
        else:
            key = int(pk) if str(pk).lstrip("-").isdigit() else None
        if key is None:
            return None
        attr = getattr(self.model, self.model.__mapper__.get_property_by_column(column).key)
        with self._scope():
            return self._query().filter(attr == key).one_or_none()

    def pk(self, row) -> str:
        """The primary key of ``row`` as the form posts it."""
        return str(self.interface.get_pk_value(row))


class OnDemandSelectWidget:
    """A ``<select>`` holding only the chosen row (and rows a filter names); the rest come on demand.

    ``app/static/abparts/choices.js`` turns every ``select.abparts-choices`` into a
    Select2 box that asks ``data-choices-url`` as the user types.
    """

    def __call__(self, field: "RelationChoiceField", **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        classes = ["form-control", "abparts-choices", kwargs.pop("class_", "") or kwargs.pop("class", "")]
        params = html_params(name=field.name, class_=" ".join(c for c in classes if c),
                             data_choices_url=field.url(), data_allow_clear="true" if field.allow_blank else "false",
                             data_placeholder=field.placeholder, **kwargs)
        options = ['<option value=""></option>']
        for value, label, selected in field.iter_choices():
            options.append(f'<option {html_params(value=value, selected=selected)}>{escape(label)}</option>')
        return Markup(f"<select {params}>{''.join(options)}</select>")


class RelationChoiceField(Field):
    """A many-to-one field whose choices come from a :class:`ChoiceSource` on demand.

    Posts and reads the related row's primary key; ``data`` is the related row
    (or ``None``), as with FAB's ``QuerySelectField``.  Not FAB's
    ``AJAXSelectField``: that one resolves the posted id without the view's
    narrowing or scoping rule, and FAB's ``Select2AJAXWidget`` script fetches
    every row at once.

    :param source: the rows the field may offer.
    :param url: called at render time, returns the choices endpoint's URL.
    :param allow_blank: whether "nothing" is a valid answer.
    :raises wtforms.validators.ValidationError: (on validation) "Not a valid
        choice" for a posted id the source does not offer.
    """

    widget = OnDemandSelectWidget()
    placeholder = lazy_gettext("Type to search")

    def __init__(self, label=None, validators=None, source: ChoiceSource | None = None,
                 url: Callable[[], str] | None = None, allow_blank: bool = True, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.source = source
        self.url = url or (lambda: "")
        self.allow_blank = allow_blank
        self._data = None
        self._formdata: str | None = None
        self._invalid = False
        self._offered: list = []

    def _get_data(self):
        if self._formdata is not None:
            self._data = self.source.get(self._formdata)
            self._invalid = self._data is None
            self._formdata = None
        return self._data

    def _set_data(self, value):
        self._data = value
        self._formdata = None
        self._invalid = False

    data = property(_get_data, _set_data)

    def process_data(self, value):
        """The row the form is built with (an edit form's current value).

        A required field left empty whose source offers exactly one row starts with
        that row chosen (a customer's user ordering for its own organization).
        """
        if value is None and not self.allow_blank and self.source is not None:
            rows, more = self.source.search(page_size=1)
            if len(rows) == 1 and not more:
                value = rows[0]
        self.data = value

    def process_formdata(self, valuelist):
        """A posted primary key; looked up (and checked) when ``data`` is first read."""
        if valuelist:
            raw = valuelist[0]
            if raw in ("", "__None"):
                self.data = None
            else:
                self._data = None
                self._formdata = raw

    def pre_validate(self, form):
        if self.data is None and self._invalid:
            # Stop here: ``DataRequired`` would replace this with "This field is required."
            raise StopValidation(self.gettext("Not a valid choice"))
        if self.data is None and not self.allow_blank:
            raise ValidationError(self.gettext("Not a valid choice"))

    def offer(self, pk) -> None:
        """Also render the row ``pk`` as an option (an active list filter's value), if offered."""
        row = self.source.get(pk)
        if row is not None and row not in self._offered:
            self._offered.append(row)

    def iter_choices(self) -> Iterable[tuple[str, str, bool]]:
        """``(value, label, selected)`` of the rows rendered into the page: the chosen one and the offered ones."""
        data = self.data
        rows = ([data] if data is not None else []) + [r for r in self._offered if r is not data]
        for row in rows:
            yield self.source.pk(row), str(row), row is data

    def _value(self):
        data = self.data
        return self.source.pk(data) if data is not None else ""


class ChoicesSearchWidget(SearchWidget):
    """FAB's search widget, whose relation filters show the rows the active filters name.

    FAB's filter script sets each active filter's ``<select>`` to the URL's
    value; an on-demand select holds no rows, so each named row is offered first.
    """

    def __call__(self, **kwargs):
        form = self.template_args["form"]
        for flt, value in self.filters.get_filters_values():
            field = form._fields.get(flt.column_name)
            if isinstance(field, RelationChoiceField):
                for one in value if isinstance(value, list) else [value]:
                    field.offer(one)
        return super().__call__(**kwargs)


class OnDemandChoices:
    """View mixin: every many-to-one column of the add, edit and search forms chooses on demand.

    Applied through FAB's ``add_form_extra_fields``, ``edit_form_extra_fields``
    and ``search_form_extra_fields``, filled in before FAB builds the forms.
    Opting out: a view's own entry in those dicts wins (any field class), and
    ``full_choice_columns`` keeps FAB's full dropdown for the columns it names.

    The endpoint, ``GET <route_base>/choices/<add|edit|search>/<column>?q=<text>&page=<n>``,
    answers ``{"results": [{"id": "<pk>", "text": "<str(row)>"}], "more": <bool>}``
    with the view's ``read`` permission.
    """

    search_widget = ChoicesSearchWidget
    #: Columns that keep FAB's full dropdown (small tables, or a view's own reason).
    full_choice_columns: tuple[str, ...] = ()
    #: ``{form kind: [column, ...]}``: choices offered across organizations (the
    #: organization scoping does not apply); a view's narrowing still does.
    unscoped_rel_fields: dict[str, Iterable[str]] = {}
    #: ``{column: function}``: a per-request SQL criterion on the related rows a
    #: column offers (see :class:`ChoiceSource`), in every form.
    rel_choice_criteria: dict[str, Callable[[], Any]] = {}

    def _init_forms(self):
        # After FAB settled the columns and before it builds the forms: the one
        # point where the documented ``*_form_extra_fields`` can still be filled in.
        self._choice_sources: dict[tuple[str, str], ChoiceSource] = {}
        self.search_form_extra_fields = self._on_demand_fields(
            "search", self.search_columns, self.search_form_extra_fields, self.search_form_query_rel_fields)
        self.add_form_extra_fields = self._on_demand_fields(
            "add", self.add_columns, self.add_form_extra_fields, self.add_form_query_rel_fields)
        self.edit_form_extra_fields = self._on_demand_fields(
            "edit", self.edit_columns, self.edit_form_extra_fields, self.edit_form_query_rel_fields)
        super()._init_forms()

    def _on_demand_fields(self, kind: str, columns, extra_fields, rel_filters) -> dict:
        fields = dict(extra_fields or {})
        rel_filters = rel_filters or {}
        unscoped = set(self.unscoped_rel_fields.get(kind, ()))
        for col in columns or ():
            if col in fields or col in self.full_choice_columns or not self.datamodel.is_relation(col):
                continue
            if not (self.datamodel.is_relation_many_to_one(col) or self.datamodel.is_relation_one_to_one(col)):
                continue
            source = ChoiceSource(self.datamodel.get_related_interface(col), rel_filters.get(col),
                                  unscoped=col in unscoped, criterion=self.rel_choice_criteria.get(col))
            self._choice_sources[(kind, col)] = source
            fields[col] = self._choice_field(kind, col, source)
        return fields

    def _choice_field(self, kind: str, col: str, source: ChoiceSource):
        nullable = kind == "search" or self.datamodel.is_nullable(col)
        checks = [] if kind == "search" else list((self.validators_columns or {}).get(col, []))
        checks.append(wtf_validators.Optional() if nullable else wtf_validators.DataRequired())
        description = "" if kind == "search" else (self.description_columns or {}).get(col, "")
        return RelationChoiceField(
            self.label_columns.get(col, col), checks, source=source, allow_blank=nullable,
            description=description, url=lambda: url_for(f"{self.endpoint}.choices", kind=kind, col_name=col),
        )

    def _serves_form(self, kind: str) -> bool:
        # FAB builds an edit form even for a view without an edit screen (the ledger).
        if kind == "search":
            return True
        return kind not in (self.exclude_route_methods or ()) and f"can_{kind}" in (self.base_permissions or ())

    @expose("/choices/<kind>/<col_name>")
    @has_access
    def choices(self, kind, col_name):
        """The rows a relation field offers that match the typed text, one page at a time.

        Query arguments: ``q`` (typed text; empty for the first rows) and ``page``
        (1-based).  Rows are those the user may see (organization scoping) and the
        view's narrowing allows, ordered by name.

        :returns: JSON ``{"results": [{"id": str, "text": str}, ...], "more": bool}``,
            at most :data:`PAGE_SIZE` results.
        :raise 404: no on-demand field ``col_name`` in form ``kind``, or the view has no such form.
        """
        source = self._choice_sources.get((kind, col_name))
        if source is None or not self._serves_form(kind):
            abort(404)
        term = request.args.get("q", "", type=str).strip()[:MAX_TERM]
        page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
        rows, more = source.search(term, page)
        return jsonify(results=[{"id": source.pk(row), "text": str(row)} for row in rows], more=more)
