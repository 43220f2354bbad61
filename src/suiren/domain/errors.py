"""User-facing errors.

Every problem caused by input (a file, a request, a command line) is a ``SuirenError``
with a stable machine-readable ``code`` and a message that says what happened and how to
fix it. Programmer errors are not ``SuirenError``: they fail a check that survives ``-O``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from suiren.domain.messages import Text, one_line


class SuirenError(Exception):
    """Base class of all user errors. ``code`` is stable; ``message`` is for people.

    Raised with a ``messages.Text`` (the catalogue's zh-CN and English), ``message`` is the
    English and ``message_zh`` the Chinese; raised with a plain string (a message not in the
    catalogue yet), ``message_zh`` is None."""

    code = "suiren-error"

    def __init__(self, message: str | Text, field: str | None = None) -> None:
        self.message: str = message.en if isinstance(message, Text) else message
        # a Text without Chinese (``said`` of an error in English alone) is English alone
        self.message_zh: str | None = message.zh if isinstance(message, Text) else None
        self.message_zh = self.message_zh or None
        super().__init__(self.message_both)  # str(error), as a log shows it: both languages
        self.field = field  # the input at fault, where one is (an option, a column, a key)

    @property
    def text(self) -> Text | None:
        """Both languages, where the message has a Chinese one."""
        return None if self.message_zh is None else Text(self.message_zh, self.message)

    @property
    def said(self) -> Text:
        """The message as a ``Text``: for one not in the catalogue yet, the Chinese is empty
        (``RowError`` reports it as no ``reason_zh``)."""
        return Text(self.message_zh or "", self.message)

    @property
    def message_both(self) -> str:
        """The message in one line for a single text field (a file's refused-row reason):
        Chinese / English where it has both."""
        return one_line(self.message if self.text is None else self.text)

    def to_json(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "field": self.field,
            "message": self.message,
            "message_zh": self.message_zh,
        }


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
