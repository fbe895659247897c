"""Errors whose text is written for the person who typed the command.

Services raise these; the command tree shows ``str(error)`` as is, ephemeral.
Keep the text short, say what was wrong and what to do instead. Nothing here
imports ``discord``.
"""

from __future__ import annotations


class UserError(Exception):
    """A refusal or a problem with the input, explained to the user."""


class InvalidInput(UserError):
    """What was typed cannot be used (bad format, out of range...)."""


class NotFound(UserError):
    """The thing named does not exist in this server."""


class PermissionDenied(UserError):
    """The user's roles do not allow this."""


class Conflict(UserError):
    """The request clashes with the current state (wrong status, duplicate...)."""


class ConfirmationNeeded(UserError):
    """The change is heavy or looks premature: say what will happen and ask for a Confirm.

    Not a refusal: the command answers with ``str(self)``, the ``warnings``
    and Confirm / Cancel buttons; Confirm runs the same request again with
    ``confirmed=True``.
    """

    def __init__(self, text: str, warnings: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__(text)
        self.warnings = tuple(warnings)
