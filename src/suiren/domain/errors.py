"""User-facing errors.

Every problem caused by input (a file, a request, a command line) is a ``SuirenError``
with a stable machine-readable ``code`` and a message that says what happened and how to
fix it. Programmer errors are not ``SuirenError``: they fail a check that survives ``-O``.
"""

from __future__ import annotations


class SuirenError(Exception):
    """Base class of all user errors. ``code`` is stable; ``message`` is for people."""

    code = "suiren-error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the input at fault, where one is (an option, a column, a key)

    def to_json(self) -> dict[str, str | None]:
        return {"code": self.code, "field": self.field, "message": self.message}


class Retry(SuirenError):
    """A concurrent change made the request stale; nothing was written and sending it again
    is safe (the edges retry it a few times before giving up)."""

    code = "retry"


class InvalidInput(SuirenError):
    """A value given from outside is malformed or out of range."""

    code = "invalid-input"


class InvalidAmount(InvalidInput):
    code = "invalid-amount"


class InvalidMonth(InvalidInput):
    code = "invalid-month"


class InvalidResidentId(InvalidInput):
    code = "invalid-resident-id"


class InvalidCreditCode(InvalidInput):
    code = "invalid-credit-code"


class UnknownRegion(InvalidInput):
    code = "unknown-region"


class ParameterError(SuirenError):
    """A parameter file or scenario is malformed; the message names the file and line."""

    code = "parameter-error"


class ParameterNotFound(SuirenError):
    """A parameter was looked up that has no value for the date or region asked."""

    code = "parameter-not-found"


def require(condition: bool, message: str) -> None:
    """Check a programmer invariant. Unlike ``assert`` it survives ``python -O``."""
    if not condition:
        raise AssertionError(message)
