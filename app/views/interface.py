"""FAB's SQLAlchemy interface, adapted once for the ABParts schema."""
from __future__ import annotations

import decimal

from dateutil import parser as date_parser
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterIn,
    FilterNotEqual,
    FilterNotIn,
    SQLAFilterConverter,
)
from flask_appbuilder.exceptions import DatabaseException
from flask_appbuilder.models.sqla.interface import SQLAInterface
import sqlalchemy as sa
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased, selectinload
from werkzeug.exceptions import BadRequest

from ..models.base import parse_uuid
from ..models.types import UUIDType
from ..scoping import sees_every_organization, system


def load_with_str(attr, depth: int = 3):
    """``selectinload(attr)``, plus the relations that ``str()`` of the related rows reads.

    :param attr: a relationship attribute, e.g. ``Transaction.from_warehouse``.
    :param depth: how many relations deep to follow ``str_relations``.
    """
    nested = str_loads(attr.property.mapper.class_, depth - 1)
    return selectinload(attr).options(*nested) if nested else selectinload(attr)


def str_loads(model: type, depth: int = 3) -> list:
    """Loader options for the relations that ``str(row)`` of ``model`` reads (``str_relations``).

    A model lists, in its ``str_relations`` class attribute, the relations its
    ``__str__`` follows (``Warehouse``: its organization), so a page of rows is
    printed from the page's own queries instead of one lazy load per row.

    :returns: ``selectinload`` options, nested up to ``depth`` relations deep.
    """
    if depth <= 0:
        return []
    return [load_with_str(getattr(model, name), depth) for name in getattr(model, "str_relations", ())]


#: What a boolean filter accepts (FAB's search form sends ``y``), and what it means.
BOOLEAN_VALUES = {"y": True, "yes": True, "true": True, "1": True, "n": False, "no": False, "false": False, "0": False}


def checked_filter_value(datamodel, column: str, value):
    """A list or export filter's value, checked against its column's type (issue 11).

    FAB hands a filter's value to the database as typed in the URL: an unknown
    enum value (``_flt_0_transaction_type=teleport``), text for a number or an
    unknown boolean answered 500.  Here they answer 400 naming what the filter
    accepts.  Every filter of the screens, their exports and the REST API meets it
    (:meth:`ABPartsInterface.apply_filters`).

    :param datamodel: the view's or API's :class:`ABPartsInterface`.
    :param column: the filtered column's name.
    :param value: the value from the request (a list for ``in``/``not in``).
    :returns: the value as FAB's filter takes it: a boolean for a boolean column,
        a number for a number column (``None``, "no value", for an empty one),
        else unchanged.
    :raises werkzeug.exceptions.BadRequest: the value does not fit the column.
    """
    if isinstance(value, (list, tuple)):
        return [checked_filter_value(datamodel, column, item) for item in value]
    if not isinstance(value, str):
        return value  # a view's own base filter (True, 0, ...), not a request's text
    text = value.strip()
    if datamodel.is_enum(column):
        allowed = list(datamodel.list_columns[column].type.enums)
        if text not in allowed:
            raise BadRequest(f"Unknown value {value!r} for the {column} filter; allowed: {', '.join(allowed)}.")
        return text
    if datamodel.is_boolean(column):
        if text.lower() not in BOOLEAN_VALUES:
            raise BadRequest(f"Unknown value {value!r} for the {column} filter; allowed: y, n.")
        return BOOLEAN_VALUES[text.lower()]
    if datamodel.is_integer(column) or datamodel.is_numeric(column) or datamodel.is_float(column):
        if not text:
            return None
        try:
            number = decimal.Decimal(text)
        except decimal.InvalidOperation:
            number = None
        if number is None or not number.is_finite() or (datamodel.is_integer(column) and number % 1):
            kind = "a whole number" if datamodel.is_integer(column) else "a number"
            raise BadRequest(f"Invalid value {value!r} for the {column} filter: expected {kind}.")
        return int(number) if datamodel.is_integer(column) else number
    if (datamodel.is_date(column) or datamodel.is_datetime(column)) and text:
        try:
            date_parser.parse(text)
        except (ValueError, OverflowError):
            raise BadRequest(f"Invalid value {value!r} for the {column} filter: "
                             "expected a date such as 2026-12-03 or 2026-12-03 14:05.") from None
        return value
    if getattr(datamodel, "is_uuid", lambda _col: False)(column) and parse_uuid(text) is None:
        raise BadRequest(f"Invalid value {value!r} for the {column} filter: expected an id.")
    return value


class ABPartsFilterConverter(SQLAFilterConverter):
    """FAB's filters, plus equality filters on UUID columns (ids and foreign keys), plus
    the filters a screen adds to a column (:attr:`ABPartsInterface.extra_filters`)."""

    conversion_table = (("is_uuid", [FilterEqual, FilterNotEqual, FilterIn, FilterNotIn]),
                        *SQLAFilterConverter.conversion_table)

    def convert(self, col_name):
        """FAB's filters of ``col_name``, then the datamodel's extra ones (after FAB's, so the
        indexes of FAB's own filters in list URLs, ``_flt_<index>_<column>``, stay the same)."""
        found = super().convert(col_name) or []
        kinds = getattr(self.datamodel, "extra_filters", {}).get(col_name, ())
        extra = [kind(col_name, self.datamodel) for kind in kinds]
        return found + extra or None


class FilterWarehouseKind(BaseFilter):
    """Rows whose warehouse (the filter's column, e.g. ``warehouse_id``) is a transit
    location (value ``True``) or a real warehouse (``False``): for ``base_filters``.

    Stock in transit belongs to no warehouse's stock on hand (issue 8), so the
    stock levels list shows real warehouses and the "In transit" list the rest.
    """

    name = "Warehouse kind"
    arg_name = "wk"

    def apply(self, query, value):
        from ..models import Warehouse

        column = getattr(self.model, self.column_name)
        transit = sa.select(Warehouse.id).where(Warehouse.id == column, Warehouse.is_transit.is_(True)).exists()
        return query.filter(transit if value else ~transit)


class FilterHiddenFromBlindCounters(BaseFilter):
    """Hides the stock rows of warehouses where the signed-in user counts a **blind**
    stocktake that is planned or being counted (issue 9: counters never see the book
    quantity, on any path).  For ``base_filters`` of every stock screen and API;
    the filter's column is the warehouse (``warehouse_id``), its value is ignored.
    """

    name = "Hidden from blind counters"
    arg_name = "hbc"

    def apply(self, query, value):
        from ..models import Stocktake, StocktakeCounter, StocktakeStatus
        from ..scoping import current_actor

        actor = current_actor()
        if actor is None or actor.user_id is None:
            return query
        column = getattr(self.model, self.column_name)
        counting = sa.select(Stocktake.id).join(StocktakeCounter, StocktakeCounter.stocktake_id == Stocktake.id).where(
            Stocktake.warehouse_id == column, Stocktake.is_blind.is_(True),
            Stocktake.status.in_([StocktakeStatus.planned, StocktakeStatus.counting]),
            StocktakeCounter.user_id == actor.user_id).exists()
        return query.filter(~counting)


class ABPartsInterface(SQLAInterface):
    """:class:`SQLAInterface` that treats a malformed UUID key as "not found".

    FAB hands primary keys over as strings; a string that is not a UUID must
    answer 404 (views and APIs), never a database error.
    """

    filter_converter_class = ABPartsFilterConverter
    #: Whether :meth:`query_count` may answer the planner's estimate (list screens, not the REST API).
    estimates_counts = False

    def __init__(self, obj, session=None, extra_filters: dict | None = None):
        """:param extra_filters: ``{column: [filter class, ...]}``: filters on something other than
            the column's own value (a stock line's status, its organization), offered under the
            column's name in the list's search and its URLs; a filter class with a
            ``checked_value(value)`` method checks its own values (:meth:`apply_filters`)."""
        self.extra_filters = extra_filters or {}
        super().__init__(obj, session)
        self._shown_relations: set[str] = set()
        # A model's ``hybrid_columns`` (e.g. ``Inventory.status``): FAB sees only mapped
        # properties.  Listed with their SQL expression, they are read-only computed
        # columns that filter like their SQL type and sort by their ``info["order_by"]``.
        for name in getattr(obj, "hybrid_columns", ()):
            self.list_columns[name] = getattr(obj, name)

    def get_columns_list(self) -> list[str]:
        """FAB's columns (mapped properties), plus the model's ``hybrid_columns``:
        the columns a URL filter (``_flt_0_status=low``) may name."""
        return [*super().get_columns_list(), *getattr(self.obj, "hybrid_columns", ())]

    def get_property_first_col(self, col_name: str):
        """FAB's first column of a property; for a hybrid column, a bare column of its name."""
        if col_name in getattr(self.obj, "hybrid_columns", ()):
            return sa.column(col_name)
        return super().get_property_first_col(col_name)

    def show_relations(self, columns) -> None:
        """Load the relations among ``columns`` with every page of rows (:meth:`apply_all`).

        A list prints each related row with ``str()``; loaded lazily that is a
        query per row shown (and per warehouse, one more for its organization).
        Loaded here, a page costs the same number of queries however many rows
        it shows.  Views sharing this interface add to the set.

        :param columns: column names; ``relation.column`` counts as ``relation``.
        """
        for col in columns:
            root = col.partition(".")[0]
            if self.is_relation(root):
                self._shown_relations.add(root)

    def relation_loads(self) -> list:
        """Loader options for the shown relations and the relations their ``str()`` reads."""
        return [load_with_str(getattr(self.obj, name)) for name in sorted(self._shown_relations)]

    def apply_filters(self, query, filters):
        """FAB's filters, each value checked against its column first (:func:`checked_filter_value`).

        :raises werkzeug.exceptions.BadRequest: a value that does not fit its column.
        """
        if filters:
            filters = filters.copy()
            filters.values = [flt.checked_value(value) if hasattr(flt, "checked_value")
                              else checked_filter_value(flt.datamodel, flt.column_name, value)
                              for flt, value in zip(filters.filters, filters.values)]
        return super().apply_filters(query, filters)

    def apply_all(self, query, filters=None, order_column: str = "", order_direction: str = "", page=None,
                  page_size=None, select_columns=None, outer_default_load: bool = False):
        """FAB's filters, order and page, with the shown relations loaded (:meth:`show_relations`).

        A page after the first of a model with computed columns (``column_property``
        subqueries, e.g. the ledger's warehouse labels) is chosen by its keys first
        (:meth:`page_by_keys`), so only the rows shown are computed.
        """
        loaded = query.options(*self.relation_loads()) if self._shown_relations else query
        if page_size and not select_columns and self._nullable_label(order_column) is not None \
                and sees_every_organization():
            return self.page_by_label(query, loaded, filters, order_column, order_direction, page, page_size)
        if page and page_size and not select_columns and self._computed_columns():
            return self.page_by_keys(query, loaded, filters, order_column, order_direction, page, page_size)
        return super().apply_all(loaded, filters, order_column, order_direction, page, page_size,
                                 select_columns, outer_default_load)

    def page_by_keys(self, query, loaded, filters, order_column, order_direction, page, page_size):
        """One page as ``rows JOIN (SELECT id ... ORDER BY ... LIMIT n OFFSET k)``: a "deferred join".

        PostgreSQL computes a row's select list before ``OFFSET`` drops it, so page
        100 of the ledger evaluated its two warehouse-label subqueries for the
        10,000 rows it skips (about 100 ms at 750,000 rows, issue 15).  Here the
        inner query reads only the keys in the list's order, the outer one the
        page's rows by primary key, in the same order (FAB's own inner/outer split,
        :meth:`get_outer_query_from_inner_query`).

        :param query: the list's query, without loader options (the inner query selects keys only).
        :param loaded: the same query with the page's loader options.
        :returns: the query of the page's rows.
        """
        aliases: dict = {}
        inner = self._apply_inner_all(query, filters, order_column, order_direction, page, page_size,
                                      aliases_mapping=aliases)
        outer = self.get_outer_query_from_inner_query(loaded, inner)
        return self.apply_order_by(outer, order_column, order_direction, add_pk=True)

    def page_by_label(self, query, loaded, filters, order_column, order_direction, page, page_size):
        """One page sorted by a label of a nullable column (the ledger by its From or To warehouse).

        Sorted in one piece, every row of the list is joined to its warehouse and
        organization and the whole list sorted: 450 ms at 676,000 ledger rows for a
        super admin (issue 15).  The same order is two ordered parts: the rows whose
        column is set, walked in the label's order (the few warehouses sorted by
        name, each one's rows through the index on the column), and the rows where it
        is empty, through the same index; each part reads at most the rows up to the
        end of the page, and the empty ones come last ascending, first descending, as
        PostgreSQL sorts NULLs.  Both parts are ORM queries of the model, so
        organization scoping applies to each; used for a user who sees every
        organization (a scoped user's rows come through the organization indexes, and
        a plain sort of those is cheaper than walking every warehouse's rows).

        :returns: the query of the page's rows (loaded with the page's options), in the list's order.
        """
        column = self._nullable_label(order_column)
        direction = sa.asc if order_direction == "asc" else sa.desc
        ranked = self.obj.__mapper__.all_orm_descriptors[order_column].info["ranked"](direction)
        keys = [c for c in ranked.c if c.name != "id"]
        pk = self.get_pk()
        filtered = self.apply_filters(query, self.get_inner_filters(filters))
        end = ((page or 0) + 1) * page_size
        # ``part`` puts the labelled rows first ascending, last descending (NULLs sort high).
        labelled = (filtered.join(ranked, ranked.c.id == column)
                    .with_entities(pk.label("key"), sa.literal(0 if direction is sa.asc else 1).label("part"),
                                   *(key.label(f"k{i}") for i, key in enumerate(keys)))
                    .order_by(*(direction(key) for key in (*keys, ranked.c.id, pk))).limit(end).subquery())
        empty = (filtered.filter(column.is_(None))
                 .with_entities(pk.label("key"), sa.literal(1 if direction is sa.asc else 0).label("part"),
                                *(sa.null().label(f"k{i}") for i in range(len(keys))))
                 .order_by(direction(column), direction(pk)).limit(end).subquery())
        both = sa.union_all(sa.select(labelled), sa.select(empty)).subquery()
        page_keys = (sa.select(both.c.key)
                     .order_by(both.c.part, *(direction(both.c[f"k{i}"]) for i in range(len(keys))), direction(both.c.key))
                     .limit(page_size).offset((page or 0) * page_size).subquery())
        outer = loaded.join(page_keys, pk == page_keys.c.key)
        return self.apply_order_by(outer, order_column, order_direction, add_pk=True)

    def _nullable_label(self, col_name: str):
        """The nullable column a sortable label names, when the label ranks its rows
        (``info["labelled"]``, ``info["ranked"]``: :func:`app.models.base.label_property`), or ``None``."""
        if not col_name or "." in col_name or self._label_order(col_name) is None:
            return None
        info = self.obj.__mapper__.all_orm_descriptors[col_name].info
        column = info.get("labelled")
        return column if info.get("ranked") and column is not None and column.nullable else None

    def _computed_columns(self) -> bool:
        """Whether the model has ``column_property`` expressions (read-only computed columns)."""
        return any(self.is_expression(name) for name in self.list_columns)

    def query_count(self, query, filters=None, select_columns=None) -> int:
        """The count of FAB's list: the planner's "about N" above ``LIST_EXACT_COUNT_LIMIT``
        when :attr:`estimates_counts` (:func:`app.views.counting.list_count`), else exact."""
        if not self.estimates_counts:
            return super().query_count(query, filters, select_columns)
        from .counting import list_count

        counted = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        return list_count(self.session, counted)

    def is_uuid(self, col_name: str) -> bool:
        """Whether ``col_name`` is a UUID column."""
        column = self.list_columns.get(col_name)
        return column is not None and isinstance(column.type, UUIDType)

    def is_sortable(self, col_name: str) -> bool:
        """What SQL can order by: a real column, a ``@renders`` method, ``relation.column``,
        a many-to-one relation whose model names its ``sort_columns`` (the name it is shown
        by), or a label (``column_property``) that declares its order
        (:func:`app.models.base.label_property`)."""
        if "." in col_name:
            root, _, leaf = col_name.partition(".")
            return self.is_relation(root) and leaf in SQLAInterface(self.get_related_model(root)).list_columns
        if self.is_relation(col_name):
            return self.is_relation_many_to_one(col_name) and \
                bool(getattr(self.get_related_model(col_name), "sort_columns", ()))
        if col_name in self.list_columns:
            # Any other expression would be ordered by computing it for every row: not offered.
            return not self.is_expression(col_name) or self._label_order(col_name) is not None
        return hasattr(getattr(self.obj, col_name, None), "_col_name")

    def get_order_columns_list(self, list_columns=None):
        """The list's columns a user may sort by (:meth:`is_sortable`): FAB's ``order_columns``."""
        return [c for c in (list_columns or self.get_columns_list()) if self.is_sortable(c)]

    def apply_order_by(self, query, order_column, order_direction, aliases_mapping=None,
                       bypass_many_to_many=False, add_pk=False):
        """FAB's order, plus relations and labels by their names (:meth:`order_by_names`);
        the primary key breaks ties, so pages never overlap."""
        # An order on anything else (a crafted URL) falls back to the default order.
        if order_column and not self.is_sortable(order_column):
            order_column = ""
        named = self.order_by_names(query, order_column) if order_column and "." not in order_column else None
        if named is None:
            return super().apply_order_by(query, order_column, order_direction, aliases_mapping,
                                          bypass_many_to_many, add_pk)
        query, keys = named
        # Empty names sort as PostgreSQL sorts NULLs (last ascending, first descending) on
        # SQLite too, as the two-part page of a long list does (:meth:`page_by_label`).
        if order_direction == "asc":
            ordered = [sa.asc(key).nulls_last() for key in keys] + [sa.asc(self.get_pk())]
        else:
            ordered = [sa.desc(key).nulls_first() for key in keys] + [sa.desc(self.get_pk())]
        return query.order_by(*ordered)

    def order_by_names(self, query, col_name: str):
        """The joins and keys that sort by a relation's name or a label, as the list shows them.

        - A many-to-one relation: its model's ``sort_columns`` (a part's number, a
          warehouse's name), joined through the mapped class, so organization
          scoping applies as on the page (a row naming what the user may not see
          keeps its place, sorted as empty).  An inner join where the foreign key is
          required and the user sees every organization: the database may then walk
          the related table's index in order instead of sorting the whole list (the
          ledger by part at 750,000 rows: 1 ms instead of 400).  A scoped user's rows
          are few and come through the organization indexes: an outer join keeps the
          planner from walking every part in order to find them (a customer's ledger
          by part at 10x: 12.9 ms that way, 1 ms read first and sorted).
        - A label: the joins and keys its ``info["order_by"]`` gives.

        :returns: ``(query, keys)``, or ``None`` for a column FAB orders by itself.
        """
        if self.is_relation(col_name):
            relation = getattr(self.obj, col_name)
            model = self.get_related_model(col_name)
            target = aliased(model)
            required = all(not column.nullable for column in relation.property.local_columns)
            inner = required and sees_every_organization()
            query = query.join(relation.of_type(target), isouter=not inner)
            return query, [getattr(target, name) for name in model.sort_columns]
        order = self._label_order(col_name)
        if order is None:
            return None
        joins, keys = order()
        for table, onclause in joins:
            query = query.outerjoin(table, onclause)
        return query, keys

    def _label_order(self, col_name: str):
        """The ``order_by`` a label property (:func:`app.models.base.label_property`) or a hybrid
        column (``Inventory.status``) declares in its ``info``, or ``None``."""
        descriptors = self.obj.__mapper__.all_orm_descriptors
        return descriptors[col_name].info.get("order_by") if col_name in descriptors else None

    def _uuid_key(self) -> bool:
        pk = self.obj.__mapper__.primary_key
        return len(pk) == 1 and isinstance(pk[0].type, UUIDType)

    def get_related_obj(self, col_name: str, value):
        """The related row a relation filter names (FAB's ``rel_o_m`` / ``rel_m_m``).

        :raises werkzeug.exceptions.BadRequest: the value is not a valid id of the
            related table (FAB would answer 500 with the driver's error).
        """
        if isinstance(value, (list, tuple)) and len(value) == 1:
            # FAB reads a URL filter as a list of values (``request.args.getlist``): the
            # add form of an order's "lines" tab (``?_flt_0_customer_order=<id>``) names one.
            value = value[0]
        rel_model = self.get_related_model(col_name)
        pk = rel_model.__mapper__.primary_key
        if len(pk) == 1 and isinstance(pk[0].type, UUIDType):
            key = parse_uuid(value)
        else:
            key = int(value) if isinstance(value, int) or str(value).lstrip("-").isdigit() else None
        if key is None or isinstance(value, bool):
            raise BadRequest(f"{value!r} is not a valid id for the {col_name} filter.")
        # Read across organizations: the list itself stays scoped, so a filter on a row
        # out of the user's scope (Oraseas staff filtering orders by customer) selects
        # only visible rows that refer to it, and reveals nothing they could not see.
        with system():
            return self.session.get(rel_model, key)

    def get(self, id, filters=None, select_columns=None, outer_default_load=False):
        if self._uuid_key():
            id = parse_uuid(id)
            if id is None:
                return None
        elif isinstance(id, str):
            if not id.lstrip("-").isdigit():
                return None
        return super().get(id, filters, select_columns, outer_default_load)

    def is_unique(self, col_name: str) -> bool:
        """``False``: the forms leave uniqueness to the database and its rule message.

        FAB's form check compares the raw text and says only "Already exists.";
        it misses normalised collisions (`` con-1 `` is ``CON-1``) and does not
        name the rule.  The unique constraints refuse every duplicate, and
        :func:`app.errors.translate_db_error` names the rule they enforce
        ("Part numbers must be unique.").
        """
        return False

    def is_nullable(self, col_name: str) -> bool:
        """Whether a form may leave ``col_name`` empty.

        A check box always has a value (unticked is ``False``), so a ``NOT NULL``
        boolean is never "required": FAB would otherwise refuse every unticked box
        ("This field is required."), e.g. a part that is not proprietary.  Nor is
        a column the rules fill in (a transaction's date defaults to now).
        """
        if self.is_boolean(col_name) or self.is_filled_by_rules(col_name) or self.is_expression(col_name):
            return True
        return super().is_nullable(col_name)

    def is_expression(self, col_name: str) -> bool:
        """A read-only ``column_property`` (a SQL expression, e.g. a transfer's warehouse label)."""
        column = self.list_columns.get(col_name)
        return column is not None and not isinstance(column, sa.Column)

    def get_col_default(self, col_name: str):
        # A form leaves such a column empty (the rules fill it in at save time)
        # rather than prefilling a value the form could not read back.
        if self.is_filled_by_rules(col_name) or self.is_expression(col_name):
            return None
        return super().get_col_default(col_name)

    def is_filled_by_rules(self, col_name: str) -> bool:
        """A NOT NULL column the rules fill in when left empty (``FILLED_BY_RULES``)."""
        column = self.list_columns.get(col_name)
        # A column_property's expression (a label) has no ``info``: it is never filled by rules.
        return column is not None and isinstance(column, sa.Column) and bool(column.info.get("filled_by_rules"))

    def delete(self, item, commit: bool = True) -> None:
        """Delete ``item``; when the checked ``pre_delete`` already flushed the deletion, just commit.

        Deleting a flushed-deleted row again would emit a second DELETE (for a
        user, of its ``ab_user_role`` rows, which fails with ``StaleDataError``).
        """
        if sa_inspect(item).deleted:
            if commit:
                try:
                    self.session.commit()
                except SQLAlchemyError as ex:
                    self.session.rollback()
                    raise DatabaseException from ex
            return
        super().delete(item, commit)


class LoadsShownRelations:
    """View mixin: a list page loads the relations it prints with the page, not one query per row."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.datamodel.show_relations(self.list_columns)
        # A screen's list may show "about N" rows (app/views/counting.py); the REST API counts exactly.
        self.datamodel.estimates_counts = True


class CheckedWrites:
    """FAB's ``pre_add``/``pre_update``/``pre_delete`` hooks, for views and APIs alike.

    Each flushes the change first, so the rule hooks of :mod:`app.rules` run
    before FAB commits; a refused write raises the rule's
    :class:`~app.errors.DomainError` with the session rolled back.
    """

    def _checked(self, item, delete: bool = False) -> None:
        from ..errors import flush_checked

        session = self.datamodel.session
        if delete:
            session.delete(item)
        else:
            session.add(item)
        flush_checked(session)

    # Each hook runs the next class's hook first (FAB's user view hashes the
    # password in ``pre_add`` and stamps ``changed_on`` in ``pre_update``).

    def pre_add(self, item):
        super().pre_add(item)
        self._checked(item)

    def pre_update(self, item):
        super().pre_update(item)
        self._checked(item)

    def pre_delete(self, item):
        super().pre_delete(item)
        self._checked(item, delete=True)
