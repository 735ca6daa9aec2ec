"""Form fields of the generated screens, where FAB's own do not fit the ABParts schema."""
from __future__ import annotations

from flask_appbuilder.fields import EnumField
from flask_appbuilder.fieldwidgets import DateTimePickerWidget, Select2Widget
from wtforms import Field

from ..models.types import parse_timestamp

#: How a stored date-time is written back into a form (UTC, as the lists show it).
DISPLAY_FORMAT = "%Y-%m-%d %H:%M:%S"


class TimestampField(Field):
    """A date-time form field that also takes a date alone.

    FAB 5.3 gives ``TZDateTime`` columns WTForms' ``DateTimeField``
    (``%Y-%m-%d %H:%M:%S`` only) with the ``DateTimePickerWidget``, but its
    script (``ab.js``) starts bootstrap-datepicker on that widget with the format
    ``yyyy-mm-dd``: a picked value is ``2026-12-03``, which ``DateTimeField``
    refuses ("Not a valid datetime value."), so no order could be saved from the
    browser.  This field reads what the picker sends and what people type
    (:func:`app.models.types.parse_timestamp`).

    ``data``: a timezone-aware datetime in UTC, or ``None`` for an empty input
    (``InputRequired``/``Optional`` decide whether that is allowed).
    The widget stays FAB's picker.  (Not a subclass of ``DateTimeField``, which
    WTForms 3.3 deprecates.)
    """

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("widget", DateTimePickerWidget())
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime(DISPLAY_FORMAT) if self.data else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        self.data = None
        if text:
            # ValueError becomes the field's error message (WTForms' contract).
            self.data = parse_timestamp(text)


class LabelledEnumField(EnumField):
    """FAB's select of an enum column, offering the enum's labels ("Bulk material").

    FAB's :class:`~flask_appbuilder.fields.EnumField` shows each member's stored
    value ("bulk_material"); the value sent stays the member name, as FAB's.
    """

    def __init__(self, enum_class, enums, label=None, validators=None, default=None, **kwargs):
        kwargs.setdefault("widget", Select2Widget())
        super().__init__(enum_class, enums, label, validators, default, **kwargs)
        self.choices = [(name, str(enum_class.__members__[name])) for name in enums]
        fab_coerce = self.coerce

        def coerce(value):
            # FAB's coerce raises KeyError for a name that is no member (a forged POST, an
            # import's cell): a ValueError is WTForms' "not a valid choice" for the field.
            try:
                return fab_coerce(value)
            except KeyError:
                raise ValueError(f"{value!r} is not one of the choices") from None

        self.coerce = coerce
