"""The one base class of the REST API: UUID routes, error mapping, exact decimals."""
from __future__ import annotations

from typing import Any

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
from marshmallow import fields
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadRequest

from ..errors import DomainError, translate_db_error
from ..security.roles import METHOD_PERMISSIONS
from ..views.interface import CheckedWrites


class ExactDecimalConverter(Model2SchemaConverter):
    """Quantities and money are exact Decimals, sent as strings; never rounded.

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
        return field


    def _meta_schema_factory(self, columns, model, class_mixin, parent_schema_name=None):
        # Foreign-key columns (``warehouse_id`` ...) are part of the API's shapes.
        schema = super()._meta_schema_factory(columns, model, class_mixin, parent_schema_name)

        class Meta(schema.Meta):
            include_fk = True

        return type(schema.__name__, (schema,), {"Meta": Meta})


class ABPartsRestApi(CheckedWrites, ModelRestApi):
    """Base of every domain API.

    - ``GET /<pk>`` routes any key (FAB's is ``/<int:pk>``): UUIDs work, a
      malformed id is a 404.
    - Domain errors answer 422 with the rule's message (404 for out-of-scope
      rows); database errors are translated, never shown.
    - A negative page, or a page size below 1, is a 400.
    """

    method_permission_name = METHOD_PERMISSIONS
    model2schemaconverter = ExactDecimalConverter
    allow_browser_login = True
    page_size = 25

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
        """Get one item by its id (a UUID for the ABParts tables).
        ---
        get:
          parameters:
          - in: path
            schema:
              type: string
            name: pk
          responses:
            200:
              description: Item from Model
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id:
                        type: string
                      result:
                        $ref: '#/components/schemas/{{self.__class__.__name__}}.get'
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
        return self.get_headless(pk, **kwargs)

    def _handle_page_args(self, rison_args):
        page = rison_args.get("page", 0)
        page_size = rison_args.get("page_size", self.page_size)
        if not isinstance(page, int) or page < 0:
            raise BadRequest("page must be a whole number, 0 or more.")
        if not isinstance(page_size, int) or (page_size < 1 and page_size != -1):
            raise BadRequest("page_size must be a whole number, 1 or more.")
        return super()._handle_page_args(rison_args)

    def _mapped(self, call, *args, **kwargs):
        session = self.datamodel.session
        try:
            return call(*args, **kwargs)
        except (DomainError, SQLAlchemyError) as exc:
            session.rollback()
            error = translate_db_error(exc)
            if error.status == 404:
                return self.response_404()
            return self.response_422(message=str(error))

    def get_headless(self, pk, **kwargs):
        return self._mapped(super().get_headless, pk, **kwargs)

    def get_list_headless(self, **kwargs):
        return self._mapped(super().get_list_headless, **kwargs)

    def post_headless(self):
        return self._mapped(super().post_headless)

    def put_headless(self, pk):
        return self._mapped(super().put_headless, pk)

    def delete_headless(self, pk):
        return self._mapped(super().delete_headless, pk)
