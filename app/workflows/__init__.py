"""The workflows layer: explicit commands with their state machines (issue 8).

Screens and REST APIs call these commands and nothing else to move a document
through its states; the rule hooks of :mod:`app.rules` stay the last wall for
every write.  One module per workflow: :mod:`.transfers` (stock transfers).
"""
from .base import StateMachine, Who, command, unit_of_work  # noqa: F401
