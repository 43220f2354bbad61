"""User-facing errors.

Every problem caused by input (a file, a request, a command line) is a ``SuirenError``
with a stable machine-readable ``code`` and a message that says what happened and how to
fix it. Programmer errors are not ``SuirenError``: they fail a check that survives ``-O``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


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


@dataclass(frozen=True, slots=True)
class ParameterProblem:
    """One problem of a parameter or scenario file, as a record (Beancount style).

    ``file`` and ``line`` say where to look, ``parameter`` which parameter (dotted path) and
    ``start`` which dated value, where they are known; ``message`` says what is wrong and
    how to fix it.
    """

    file: str
    line: int | None
    parameter: str | None
    start: date | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}" if where else self.message


class ParameterError(SuirenError):
    """Parameter or scenario files are malformed or implausible.

    ``problems`` lists every problem found (the loader does not stop at the first); the
    message has one line per problem, each naming the file and line.
    """

    code = "parameter-error"

    def __init__(
        self,
        message: str,
        field: str | None = None,
        problems: Sequence[ParameterProblem] = (),
    ) -> None:
        super().__init__(message, field)
        self.problems: tuple[ParameterProblem, ...] = tuple(problems) or (
            ParameterProblem("", None, None, None, message),
        )

    @classmethod
    def of(cls, problems: Sequence[ParameterProblem]) -> ParameterError:
        """One error carrying every problem; its message lists them, one per line."""
        require(bool(problems), "ParameterError.of needs at least one problem")
        if len(problems) == 1:
            return cls(str(problems[0]), problems=problems)
        lines = "\n".join(f"  {p}" for p in problems)
        return cls(f"{len(problems)} problems in the parameters:\n{lines}", problems=problems)


class ParameterNotFound(SuirenError):
    """A parameter was looked up that has no value for the date or region asked."""

    code = "parameter-not-found"


def require(condition: bool, message: str) -> None:
    """Check a programmer invariant. Unlike ``assert`` it survives ``python -O``."""
    if not condition:
        raise AssertionError(message)
