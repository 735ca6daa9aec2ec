"""Append-only records outside the ledger: refused when changed or deleted through the ORM.

The stock ledger has its own guard (:func:`app.rules.ledger.guard_books`); the
records here are bookkeeping that no screen or API edits, written by one module
each with Core statements.  :data:`APPEND_ONLY` maps each model to the message
naming its rule.
"""
from __future__ import annotations

from .. import models as m
from ..errors import RuleViolation

#: model -> why it is never changed or deleted.
APPEND_ONLY = {
    m.ExportLog: "The export log is append-only: an export's record is never changed or deleted.",
}


def _refuse(cls) -> None:
    for model, message in APPEND_ONLY.items():
        if issubclass(cls, model):
            raise RuleViolation(message)


def guard_append_only(session) -> None:
    """Refuse a flush that changes or deletes an append-only record (a before-flush hook).

    :raises RuleViolation: naming the record's rule.
    """
    for obj in session.deleted:
        _refuse(type(obj))
    for obj in session.dirty:
        if session.is_modified(obj):
            _refuse(type(obj))


def refuse_bulk_changes(state) -> None:
    """Refuse an ORM bulk ``UPDATE`` or ``DELETE`` of an append-only model (a ``do_orm_execute`` hook).

    :raises RuleViolation: naming the record's rule.
    """
    if state.is_update or state.is_delete:
        for mapper in state.all_mappers:
            _refuse(mapper.class_)
