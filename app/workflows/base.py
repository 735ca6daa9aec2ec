"""What every workflow shares: state machines, commands, and who is acting.

A workflow step is a *command*: a plain function whose name says its intent
(``dispatch_transfer``), decorated with :func:`command`.  It checks who may
take the step and in which state (:class:`StateMachine`), builds the document
changes and ledger rows, and the rule hooks of :mod:`app.rules` check and post
them.  One command is one database transaction: it commits on success and
rolls back on any refusal, so nothing is half-written.  A caller that must
add its own rows to the same transaction (the REST API stores the answer of an
idempotent request with it) opens :func:`unit_of_work` around the call.

Layering: screens and REST APIs call commands; commands call the rules
(through the session) and read with :mod:`app.scoping` in force, so a document
the actor cannot see is "not found".
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import enum
import functools
from dataclasses import dataclass
from typing import Callable, Iterator

from .. import models as m
from ..errors import DomainError, Forbidden, IllegalTransition, OutOfScope, flush_checked
from ..extensions import db
from ..models.types import utcnow
from ..scoping import ADMIN, SUPER_ADMIN, Actor, current_actor, system
from ..i18n import Joined, Lower, _

_UNIT_OF_WORK = "abparts_unit_of_work"
_clock: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("abparts_workflow_clock", default=None)


def now() -> dt.datetime:
    """The time a command records for its step: now (aware UTC), or the time set by :func:`recorded_at`."""
    return _clock.get() or utcnow()


@contextlib.contextmanager
def recorded_at(when: dt.datetime) -> Iterator[None]:
    """Commands inside record ``when`` (aware UTC) as the time of their steps and postings.

    For history entered after the fact: the demo's year of shipments, an import.
    """
    token = _clock.set(when)
    try:
        yield
    finally:
        _clock.reset(token)


def state_name(state: enum.Enum | str) -> str:
    """A state (member or stored value) as words: ``received with discrepancy``; a member's
    words are its label, shown in the request's language ("παραλήφθηκε με απόκλιση")."""
    if hasattr(state, "label"):
        return Lower(state.label)
    return str(getattr(state, "value", state)).replace("_", " ")


#: Every workflow step as a message names it ("Cannot ship ...", "Over-receive refused"), one
#: msgid each (the order page's history shows the same words).
STEP_LABELS = {
    "submit": _("submit"), "approve": _("approve"), "ship": _("ship"), "receive": _("receive"),
    "cancel": _("cancel"), "dispatch": _("dispatch"), "resolve": _("resolve"), "start": _("start"),
    "count": _("count"), "complete": _("complete"),
}


def step_name(step: str) -> str:
    """A step (``ship``) as messages name it, in the request's language; an unknown one as it is."""
    return STEP_LABELS.get(step, step)


class StateMachine:
    """The allowed transitions of one kind of document, as one table.

    :param document: what the documents are called in messages (``_("transfer")``, a :class:`~app.i18n.Message`).
    :param steps: step name -> (states it starts from, states it may end in).
    """

    def __init__(self, document: str, steps: dict[str, tuple[frozenset, frozenset]]):
        self.document = document
        self.steps = steps

    def check(self, step: str, current: enum.Enum, reference: str = "") -> None:
        """Refuse ``step`` unless the document's ``current`` state allows it.

        :raises IllegalTransition: (409) naming the current state and the step.
        """
        starts, _ends = self.steps[step]
        if current not in starts:
            allowed = Joined(_(" or "), sorted((state_name(s) for s in starts), key=str.__str__))
            name = Joined(" ", [self.document, reference]) if reference else self.document
            raise IllegalTransition(
                _("Cannot %(step)s %(name)s: it is %(value)s; %(step)s needs a %(document)s that is "
                  "%(allowed)s.",
                  step=step_name(step), name=name, value=state_name(current), document=self.document,
                  allowed=allowed)
            )

    def move(self, document, step: str, new_state: enum.Enum) -> None:
        """Set ``document.status`` to ``new_state`` after :meth:`check`.

        :raises IllegalTransition: from the current state; :raises ValueError: when
            ``new_state`` is not an end state of ``step`` (a programming error).
        """
        self.check(step, document.status, getattr(document, "reference_number", ""))
        if new_state not in self.steps[step][1]:
            raise ValueError(f"{step} cannot end in {new_state}")
        document.status = new_state

    def allowed_steps(self, current: enum.Enum) -> list[str]:
        """The steps the state machine allows from ``current`` (who may take them is separate)."""
        return [step for step, (starts, _) in self.steps.items() if current in starts]


@dataclass(frozen=True)
class Who:
    """The acting user of a command, resolved once.

    :ivar actor: the scoping :class:`~app.scoping.Actor`.
    :ivar user: the ``ab_user`` row.
    :ivar organization: the user's organization.
    """

    actor: Actor
    user: m.PortalUser
    organization: m.Organization

    @property
    def is_super_admin(self) -> bool:
        return SUPER_ADMIN in self.actor.roles

    @property
    def is_admin(self) -> bool:
        """An organization admin (or a Super Admin)."""
        return bool(self.actor.roles & {ADMIN, SUPER_ADMIN})

    @property
    def is_oraseas_staff(self) -> bool:
        """A Super Admin or a user of Oraseas EE: may act for any organization it sees (issue 8)."""
        return self.is_super_admin or self.actor.is_oraseas_staff

    def acts_for(self, organization_id) -> bool:
        """Whether this user acts for ``organization_id``: its own, or any as Oraseas staff.
        Auditors act for nobody."""
        if self.actor.is_read_only:
            return False
        return self.is_oraseas_staff or self.organization.id == organization_id


def acting_user(session, reading: bool = False) -> Who:
    """The user the current command runs as (or, with ``reading``, who is looking).

    :raises Forbidden: when nobody is acting (commands always run as a user:
        a request's, or one given with :func:`app.scoping.acting_as`), or an
        Auditor would take a step.
    """
    actor = current_actor()
    if actor is None or actor.user_id is None:
        raise Forbidden(_("A workflow step is always taken by a signed-in user."))
    if actor.is_read_only and not reading:
        raise Forbidden(_("Auditors read and export; they change nothing."))
    with system():
        user = session.get(m.PortalUser, actor.user_id)
        organization = session.get(m.Organization, user.organization_id)
    return Who(actor, user, organization)


def load_visible(session, model, key, what: str, for_update: bool = False):
    """The document ``key`` of ``model`` as the actor sees it (organization scoping applies).

    :param for_update: lock the row until the end of the transaction
        (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write lock is taken at
        ``BEGIN``), so that a concurrent second step waits and then sees the state
        the first one left: two simultaneous dispatches post once.
    :raises OutOfScope: (404) no such document for this actor (or a malformed id).
    """
    key = m.parse_uuid(key)
    options = {"with_for_update": True, "populate_existing": True} if for_update else {}
    document = None if key is None else session.get(model, key, **options)
    if document is None:
        raise OutOfScope(_("There is no %(what)s with this id.", what=what))
    return document


@contextlib.contextmanager
def unit_of_work(session=None) -> Iterator:
    """One database transaction around several commands (and the caller's own rows).

    Commands inside do not commit; the block commits once at its end, or rolls
    everything back when anything in it raises.
    """
    session = session or db.session
    outer = session.info.get(_UNIT_OF_WORK, False)
    session.info[_UNIT_OF_WORK] = True
    try:
        yield session
        if not outer:
            flush_checked(session)
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info[_UNIT_OF_WORK] = outer


def command(func: Callable) -> Callable:
    """Make ``func(session, who, *args, **kwargs)`` a workflow command called as ``func(*args, **kwargs)``.

    The command runs as :func:`acting_user`, its changes are flushed through the
    rule hooks and committed (unless inside :func:`unit_of_work`).

    :raises DomainError: the refusal of the command or of a rule; the session is
        rolled back.
    """

    @functools.wraps(func)
    def run(*args, **kwargs):
        session = db.session
        try:
            result = func(session, acting_user(session), *args, **kwargs)
            flush_checked(session)
        except DomainError:
            session.rollback()
            raise
        if not session.info.get(_UNIT_OF_WORK):
            session.commit()
        return result

    return run


def require(condition: bool, message: str) -> None:
    """Refuse a step the acting user may not take.

    :raises Forbidden: (403) with ``message`` when ``condition`` is false.
    """
    if not condition:
        raise Forbidden(message)
