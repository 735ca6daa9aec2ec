"""Ledger steps taken by people: reversing a transaction, deciding on an approval.

Thin commands over the ledger rules (:mod:`app.rules.ledger`), so that screens
and REST actions take these steps the same way, one database transaction each.
"""
from __future__ import annotations

from .. import models as m
from ..errors import IllegalTransition
from ..rules.ledger import reversal_of
from .base import Who, command, load_visible
from ..i18n import _


@command
def reverse_transaction(session, who: Who, transaction_id, notes: str | None = None) -> m.Transaction:
    """Post the reversal of a posted transaction: the opposite movement, linked to it, at most once.

    :returns: the reversal (a new :class:`~app.models.Transaction`).
    :raises OutOfScope: (404) the actor does not see the transaction.
    :raises IllegalTransition: (409) it was reversed already.
    :raises RuleViolation: (422) it is a reversal, pending, rejected or a stock transfer's posting.
    """
    original = load_visible(session, m.Transaction, transaction_id, "transaction")
    reversal = reversal_of(original, who.user.id, notes)
    session.add(reversal)
    return reversal


@command
def decide_transaction(session, who: Who, transaction_id, status: m.ApprovalStatus,
                       notes: str | None = None) -> m.TransactionApproval:
    """Approve (posts it) or reject a transaction pending approval.

    :param status: :attr:`~app.models.ApprovalStatus.approved` or ``rejected``.
    :returns: the recorded :class:`~app.models.TransactionApproval`.
    :raises OutOfScope: (404) not visible; :raises Forbidden: (403) the performer, or
        not an admin of the stock's organization (nor Oraseas staff);
    :raises IllegalTransition: (409) not pending (decided already, or never needed approval).
    """
    txn = load_visible(session, m.Transaction, transaction_id, "transaction")
    if not txn.requires_approval:
        raise IllegalTransition(_("This transaction does not require approval."))
    approval = m.TransactionApproval(transaction_id=txn.id, approver_id=who.user.id, status=status, notes=notes)
    session.add(approval)
    return approval
