"""The one base class of the REST API: UUID routes, error mapping, exact decimals."""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from flask import request
from flask_appbuilder.api import (
    ModelRestApi,
    expose,
    get_item_schema,
    merge_response_func,
    rison,
    safe,
)
from flask_appbuilder.api.convert import Model2SchemaConverter
from flask_appbuilder.const import (
    API_DESCRIPTION_COLUMNS_RIS_KEY,
    API_LABEL_COLUMNS_RIS_KEY,
    API_SHOW_COLUMNS_RIS_KEY,
    API_SHOW_TITLE_RIS_KEY,
)
from flask_appbuilder.security.decorators import permission_name, protect
from marshmallow import ValidationError, fields
from marshmallow_sqlalchemy.fields import Related, RelatedList
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadRequest

from ..errors import DomainError, translate_db_error
from ..models.base import parse_uuid
from ..models.types import TIMESTAMP_HELP, UUIDType, parse_timestamp
from ..rules.users import own_organization_columns
from ..scoping import current_actor
from ..security.roles import METHOD_PERMISSIONS
from ..views.interface import CheckedWrites
from ..workflows import unit_of_work
from . import idempotency
from .guard import InputGuard, check_filter_values
from ..i18n import _, localize_messages


#: Largest row offset (``page * page_size``) a list request may ask for.
MAX_OFFSET = 2**31 - 1


class ExistingRelated(Related):
    """A related row named by its id in a payload: it must exist and be visible.

    marshmallow-sqlalchemy builds a new, empty related object for an unknown
    id (which then trips over an unrelated rule, or is inserted); here an
    unknown, malformed or out-of-scope id is refused with the field named.
    The lookup runs through the scoped session, so another organization's row
    is "not found", exactly like a missing one - unless the field is unscoped or
    the row is among the field's ``choices``.
    """

    #: A function listing rows this field accepts beyond the visible ones
    #: (see ``ABPartsRestApi.related_choices``).
    choices: Callable[[], list] | None = None

    def _key(self, value):
        column = self.related_keys[0].columns[0]
        if isinstance(column.type, UUIDType):
            return parse_uuid(value)
        if isinstance(value, bool):
            return None
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            number = int(value)
            return number if number <= MAX_OFFSET else None
        return None

    def _deserialize(self, value, *args, **kwargs):
        if len(self.related_keys) != 1:
            return super()._deserialize(value, *args, **kwargs)
        if isinstance(value, dict):
            value = value.get(self.related_keys[0].key)
        name = self.related_model.__name__
        key = self._key(value)
        if key is None:
            raise ValidationError(_("%(value)s is not a valid %(name)s id.", value=repr(value), name=name))
        obj = self.session.get(self.related_model, key)
        if obj is None and self.choices is not None:
            obj = next((row for row in self.choices() if row.id == key), None)
        if obj is None:
            raise ValidationError(_("There is no %(name)s with id %(value)s.", name=name, value=value))
        return obj


def _strict_related(field):
    """Swap marshmallow-sqlalchemy's lenient related fields for :class:`ExistingRelated`."""
    if isinstance(field, RelatedList) and type(field.inner) is Related:
        field.inner.__class__ = ExistingRelated
    elif type(field) is Related:
        field.__class__ = ExistingRelated
    return field


class Timestamp(fields.DateTime):
    """A date-time in a payload; a date alone is that day at 00:00 UTC.

    Reads what the screens' :class:`~app.views.fields.TimestampField` reads
    (:func:`app.models.types.parse_timestamp`), so a client and a form agree;
    anything else is refused with :data:`~app.models.types.TIMESTAMP_HELP`.
    Loads an aware UTC datetime; dumps ISO 8601 with the offset, as before.
    """

    def _deserialize(self, value, attr, data, **kwargs) -> dt.datetime:
        if not isinstance(value, str):
            raise ValidationError(TIMESTAMP_HELP)
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class ExactDecimalConverter(Model2SchemaConverter):
    """Quantities and money are exact Decimals, sent as strings; never rounded;
    date-times are :class:`Timestamp` fields.

    marshmallow's ``Decimal(places=3)`` would round 1.0005 to 1.000 silently;
    here the value reaches the rules untouched and one with more places than
    its column is refused with the rule's message.
    """

    def _column2field(self, datamodel, column, nested=True, parent_schema_name=None):
        field = super()._column2field(datamodel, column, nested, parent_schema_name)
        if isinstance(field, fields.Decimal):
            exact = fields.Decimal(
                as_string=True,
                allow_nan=False,
                required=field.required,
                allow_none=field.allow_none,
                dump_only=field.dump_only,
                load_default=field.load_default,
            )
            exact.unique = getattr(field, "unique", False)
            return exact
        if type(field) is fields.DateTime:
            field.__class__ = Timestamp  # keeps what FAB set: required, allow_none, dump_only
        return _strict_related(field)


    def _meta_schema_factory(self, columns, model, class_mixin, parent_schema_name=None):
        # Foreign-key columns (``warehouse_id`` ...) are part of the API's shapes.
        schema = super()._meta_schema_factory(columns, model, class_mixin, parent_schema_name)

        class Meta(schema.Meta):
            include_fk = True

        return type(schema.__name__, (schema,), {"Meta": Meta})


_ID_PARAMETER = {"in": "path", "name": "pk", "schema": {"type": "string", "format": "uuid"}}


class LocalizedAnswers:
    """API mixin: FAB's JSON answers with our messages in them (a rule's message, a 422's
    field errors, a 400's reason) in the request's language (:func:`app.i18n.localize_messages`)."""

    def response(self, code, **kwargs):
        return super().response(code, **localize_messages(kwargs))


class ABPartsRestApi(LocalizedAnswers, InputGuard, CheckedWrites, ModelRestApi):
    """Base of every domain API.

    - ``GET /<pk>`` routes any key (FAB's is ``/<int:pk>``): UUIDs work, a
      malformed id is a 404.
    - Domain errors answer 422 with the rule's message (404 for out-of-scope
      rows); database errors are translated, never shown.
    - A negative page, a page size below 1, a page beyond any list, a ``q``
      that is not a Rison or JSON object, an unknown filter operator, a filter
      value that does not fit its column, a malformed id in a relation filter
      and a lone surrogate anywhere are 400s (:mod:`app.apis.guard`); a body
      that is not a JSON object is a 400.
    - A related id in a payload must name a row the user can see
      (:class:`ExistingRelated`), else 422 naming the field.
    - An organization-bound user's new rows land in its own organization,
      whatever the payload says (:meth:`_own_organization_in_payload`).
    """

    method_permission_name = METHOD_PERMISSIONS
    #: FAB documents ids as integers; ours are UUIDs (FAB's documented override hook).
    openapi_spec_methods = {
        "get": {"get": {"parameters": [_ID_PARAMETER, {
            "in": "query", "name": "q",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/get_item_schema"}}}}]}},
        "put": {"put": {"parameters": [_ID_PARAMETER]}},
        "delete": {"delete": {"parameters": [_ID_PARAMETER]}},
    }
    model2schemaconverter = ExactDecimalConverter
    allow_browser_login = True
    page_size = 25
    #: Related fields that also accept the rows a function lists, out of scope or
    #: not, and offer those in ``/_info``: the function of the screen's dropdown
    #: (a customer order's customer: ``rules.orders.orderable_customers``).  The
    #: rule hooks still decide whether the write is allowed.
    related_choices: dict[str, Callable[[], list]] = {}

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        # Columns the rule hooks fill in when a payload leaves them out
        # (``FILLED_BY_RULES``: a transaction's unit of measure comes from its part).
        for name, field in self.add_model_schema.fields.items():
            if self.datamodel.is_filled_by_rules(name):
                field.required = False
        for name, choices in self.related_choices.items():
            for schema in (self.add_model_schema, self.edit_model_schema):
                field = schema.fields.get(name)
                if isinstance(field, ExistingRelated):
                    field.choices = choices

    @expose("/<pk>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    @rison(get_item_schema)
    @merge_response_func(ModelRestApi.merge_show_label_columns, API_LABEL_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_show_columns, API_SHOW_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_description_columns, API_DESCRIPTION_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_show_title, API_SHOW_TITLE_RIS_KEY)
    def get(self, pk: str, **kwargs: Any):
        return self.get_headless(pk, **kwargs)

    # FAB's documentation of the route; ``openapi_spec_methods`` corrects its id.
    get.__doc__ = ModelRestApi.get.__doc__

    def _handle_page_args(self, rison_args):
        page = rison_args.get("page", 0)
        page_size = rison_args.get("page_size", self.page_size)
        if not isinstance(page, int) or page < 0:
            raise BadRequest(_("page must be a whole number, 0 or more."))
        if not isinstance(page_size, int) or (page_size < 1 and page_size != -1):
            raise BadRequest(_("page_size must be a whole number, 1 or more."))
        page, page_size = super()._handle_page_args(rison_args)
        if page and page_size and page * page_size > MAX_OFFSET:
            raise BadRequest(_("page is too large: it starts beyond any list this API serves."))
        return page, page_size

    def _handle_filters_args(self, rison_args):
        # FAB silently drops a filter whose operator it does not know (the list
        # would come back unfiltered): refuse it instead.
        check_filter_values(self.datamodel, rison_args.get("filters", []))
        search_filters = self._filters._search_filters
        for item in rison_args.get("filters", []):
            col, opr = item.get("col"), item.get("opr")
            known = {f.arg_name for f in search_filters.get(col, [])}
            if col in search_filters and opr not in known:
                raise BadRequest(
                    _("Unknown filter operator %(opr)s for column %(col)s; use one of %(known)s.",
                      opr=repr(opr), col=repr(col), known=sorted(known))
                )
        return super()._handle_filters_args(rison_args)

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None):
        info = super()._get_field_info(field, filter_rel_field, page=page, page_size=page_size)
        if isinstance(field, ExistingRelated):
            info["type"] = "Related"  # ``/_info`` keeps FAB's type name for clients
        return info

    def _get_list_related_field(self, field, filter_rel_field, page=None, page_size=None):
        # A field with its own choices offers them, in FAB's shape, all on one page.
        if isinstance(field, ExistingRelated) and field.choices is not None:
            rows = field.choices()
            return len(rows), [{"id": str(row.id), "value": str(row)} for row in rows]
        return super()._get_list_related_field(field, filter_rel_field, page=page, page_size=page_size)

    def _json_body_error(self):
        """A 400 response when the body claims to be JSON but is not a JSON object; else ``None``."""
        if not request.is_json:
            return None  # FAB answers "Request is not JSON"
        try:
            body = request.get_json()
        except BadRequest:
            return self.response_400(message=_("The request body is not valid JSON."))
        if not isinstance(body, dict):
            return self.response_400(message=_("The request body must be a JSON object."))
        return None

    def _own_organization_in_payload(self) -> None:
        """New records of an organization-bound user land in its own organization,
        whatever the payload says: the payload's organization fields are replaced
        before they are loaded (the rule hook ``assign_own_organization`` does the
        same for every other path)."""
        actor = current_actor()
        if actor is None or not actor.is_restricted or actor.organization_id is None:
            return
        body = request.get_json(silent=True)
        for column in own_organization_columns(self.datamodel.obj, actor):
            for key in (column, column[: -len("_id")]):
                if key in body:
                    body[key] = str(actor.organization_id)

    def _error_response(self, exc):
        """The answer to a refused request: the error's status and the rule's message."""
        error = translate_db_error(exc)
        if error.status == 404:
            return self.response_404()
        return self.response(error.status, message=str(error))

    def _mapped(self, call, *args, **kwargs):
        session = self.datamodel.session
        try:
            return call(*args, **kwargs)
        except (DomainError, SQLAlchemyError) as exc:
            session.rollback()
            idempotency.forget_claim(session)
            return self._error_response(exc)

    def document_json(self, document) -> dict:
        """The answer body of a workflow step: ``{"id", "result"}``, the record as ``GET /<id>`` shows it."""
        return {"id": str(self.datamodel.get_pk_value(document)),
                "result": self.show_model_schema.dump(document, many=False)}

    def run_action(self, step, status: int = 200):
        """Run a workflow step for the REST API: one transaction, errors mapped, safe retries.

        :param step: a callable running the command(s) and returning the record to answer
            with (:meth:`document_json`).
        :param status: the status of a successful answer (201 when something was created).
        :returns: the response; with an ``Idempotency-Key`` a retry gets the first answer.
        """
        session = self.datamodel.session
        malformed = self._json_body_error()
        if malformed is not None:
            return malformed
        try:
            answered = idempotency.replay(session)
            if answered is not None:
                return answered
            with unit_of_work(session):
                idempotency.claim(session)
                body = self.document_json(step())
                idempotency.record(session, status, body)
        except idempotency.AlreadyAnswered:
            return idempotency.replay(session)
        except (DomainError, SQLAlchemyError) as exc:
            session.rollback()
            idempotency.forget_claim(session)
            return self._error_response(exc)
        return self.response(status, **body)

    def pre_add(self, item):
        super().pre_add(item)
        # FAB answers a POST with this body after its commit; stored now, it commits with the row.
        # Expired first, the row is read back as FAB will read it after the commit ("5.000", not "5").
        if idempotency.claimed(self.datamodel.session):
            self.datamodel.session.expire(item)
        idempotency.record(session=self.datamodel.session, status=201, body={
            "id": self.datamodel.get_pk_value(item), "result": self.add_model_schema.dump(item, many=False)})

    def get_headless(self, pk, **kwargs):
        return self._mapped(super().get_headless, pk, **kwargs)

    def get_list_headless(self, **kwargs):
        return self._mapped(super().get_list_headless, **kwargs)

    def post_headless(self):
        error = self._json_body_error()
        if error is not None:
            return error
        if request.is_json:
            self._own_organization_in_payload()
        session = self.datamodel.session
        try:
            answered = idempotency.replay(session)
            if answered is not None:
                return answered
            idempotency.claim(session)
        except idempotency.AlreadyAnswered:
            return idempotency.replay(session)
        except DomainError as exc:
            return self._error_response(exc)
        response = self._mapped(super().post_headless)
        if response.status_code >= 300:
            # FAB refused the payload before anything was written: drop the claimed key too.
            session.rollback()
            idempotency.forget_claim(session)
        return response

    def put_headless(self, pk):
        return self._json_body_error() or self._mapped(super().put_headless, pk)

    def delete_headless(self, pk):
        return self._mapped(super().delete_headless, pk)
