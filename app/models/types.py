"""Column types and the shared declarative base of the ABParts schema."""
from __future__ import annotations

import datetime as dt
import decimal
import uuid

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.types import TypeDecorator

# Stable constraint names on both engines (and in the migrations).  FAB's own
# ab_* tables are declared before this runs and keep their names.
Model.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UUIDType(TypeDecorator):
    """A UUID column that also accepts its string form.

    Flask-AppBuilder passes primary keys around as strings (URLs, form
    choices, REST bodies); :class:`sqlalchemy.Uuid` accepts only
    :class:`uuid.UUID`.  A malformed string raises :class:`ValueError`
    (callers turn it into 404 or 422, see ``app.models.base.parse_uuid``).
    Stored natively on PostgreSQL and as CHAR(32) on SQLite.
    """

    impl = sa.Uuid
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or isinstance(value, uuid.UUID):
            return value
        return uuid.UUID(str(value))

    def process_literal_param(self, value, dialect):
        return self.process_bind_param(value, dialect)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.timezone.utc)


class TZDateTime(TypeDecorator):
    """``TIMESTAMP WITH TIME ZONE`` that always hands back aware UTC datetimes.

    SQLite keeps no zone; values are stored in UTC and read back as UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.timezone.utc)
            value = value.astimezone(dt.timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


#: What a date or date-time field accepts, said to whoever typed something else.
TIMESTAMP_HELP = (
    "Enter a date (2026-12-03, meaning 00:00 UTC that day) or a date and time "
    "(2026-12-03 14:05:00, in UTC)."
)


def parse_timestamp(text: str) -> dt.datetime:
    """Read a date or a date-time, as typed or picked in a form or sent in a payload.

    The one reading of every ``TZDateTime`` column's input (forms and REST API):
    FAB 5.3's date pickers fill in a date alone, people and clients type a date
    and a time.

    :param text: ``2026-12-03`` (that day at 00:00 UTC); ``2026-12-03 14:05:00``,
        ``2026-12-03 14:05`` or ``2026-12-03T14:05:00`` (UTC); ISO 8601 with an
        offset (``+02:00``, ``Z``), converted to UTC.  Surrounding blanks are ignored.
    :returns: a timezone-aware :class:`~datetime.datetime` in UTC.
    :raises ValueError: anything else, with :data:`TIMESTAMP_HELP` as the message.
    """
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except (AttributeError, TypeError, ValueError):
        raise ValueError(TIMESTAMP_HELP) from None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


class QuantityType(TypeDecorator):
    """``DECIMAL(10,3)``, exact on both engines.

    PostgreSQL keeps NUMERIC.  SQLite has no decimal type and would do the
    ledger's arithmetic (``current_stock + delta``, ``SUM``) in binary
    floating point, so there the value is stored as a whole number of
    thousandths and converted back to a :class:`~decimal.Decimal` on the way out.
    Values are Decimals in the part's unit of measure; the rules refuse more
    than 3 decimal places before anything is stored.
    """

    impl = sa.Numeric(10, 3, asdecimal=True)
    cache_ok = True
    SCALE = decimal.Decimal(1000)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Integer())
        return dialect.type_descriptor(sa.Numeric(10, 3, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        return int((decimal.Decimal(str(value)) * self.SCALE).to_integral_value(decimal.ROUND_HALF_EVEN))

    def process_result_value(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        return (decimal.Decimal(int(value)) / self.SCALE).quantize(decimal.Decimal("0.001"))


#: Quantities: DECIMAL(10,3), in the part's unit of measure (seed 001).
Quantity = QuantityType()
#: Money: DECIMAL(10,2), in the price currency.
Money = sa.Numeric(10, 2, asdecimal=True)


#: Column ``info`` of a NOT NULL column that the rules fill in when a form or
#: payload leaves it out (a transaction's date and unit of measure ...): forms
#: and the REST API do not require it.
FILLED_BY_RULES = {"filled_by_rules": True}


def pg_enum(enum_cls, name: str) -> sa.Enum:
    """A named enum type storing the members' values (``organization_type_enum`` ...)."""
    return sa.Enum(
        enum_cls,
        name=name,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
