"""What a pending change will write: helpers the rules share."""
from __future__ import annotations

from sqlalchemy import inspect


def related(session, obj, relationship: str, column: str, model):
    """The row ``obj`` will refer to after the flush, through ``relationship`` or its ``column``.

    Before a flush the two can disagree: a relationship set to ``None`` leaves the
    old foreign key in the column until the flush, and a column set directly leaves
    a stale relationship loaded.  SQLAlchemy writes the relationship when it was
    changed, the column otherwise; so does this.

    :param session: the flushing session (pending rows are looked up there too).
    :param obj: the object whose reference is checked.
    :param relationship: name of the many-to-one relationship (``"organization"``).
    :param column: name of its foreign-key column (``"organization_id"``).
    :param model: the mapped class the reference points to.
    :returns: the related object, or ``None`` when there is none.
    """
    if inspect(obj).attrs[relationship].history.has_changes():
        return getattr(obj, relationship)
    key = getattr(obj, column)
    if key is None:
        return None
    for pending in session.new:
        if isinstance(pending, model) and pending.id == key:
            return pending
    return session.get(model, key)


def related_id(obj, relationship: str, column: str):
    """The id :func:`related` would find, without loading the row (``None`` when there is none)."""
    if inspect(obj).attrs[relationship].history.has_changes():
        target = getattr(obj, relationship)
        return None if target is None else target.id
    return getattr(obj, column)
