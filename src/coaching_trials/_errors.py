"""Errors and warnings shared by every layer.

Data problems are collected, not raised one at a time: a validator appends every problem it
finds to a :class:`ProblemLog` and raises one :class:`DataValidationError` whose
``failure_cases`` table lists them all (column, row labels, offending values, what was expected,
and a reason code).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = [
    "ConvergenceWarning",
    "DataValidationError",
    "EstimationError",
    "DataValidationWarning",
    "FileFormatError",
    "ProblemLog",
    "format_values",
    "one_of",
]

FAILURE_COLUMNS = ("check", "column", "rows", "values", "expected", "n")


class DataValidationWarning(UserWarning):
    """A data problem that was handled (and recorded in an audit table) rather than raised."""


class ConvergenceWarning(UserWarning):
    """An iterative fit (REML/ML) stopped before meeting its convergence criterion, or at a
    boundary of the parameter space; the result carries a convergence report."""


class DataValidationError(ValueError):
    """Raised when input data break one or more rules.

    Attributes
    ----------
    failure_cases : pandas.DataFrame
        One row per problem with columns ``check`` (a reason code), ``column``, ``rows``
        (row labels, truncated), ``values`` (offending values, truncated), ``expected`` and
        ``n`` (how many rows are affected).
    """

    def __init__(self, message: str, failure_cases: pd.DataFrame | None = None) -> None:
        super().__init__(message)
        if failure_cases is None:
            failure_cases = pd.DataFrame(columns=list(FAILURE_COLUMNS))
        self.failure_cases = failure_cases


class EstimationError(DataValidationError):
    """The data do not allow the estimate: too few complete rows, a design not of full rank,
    no residual variance, a zero denominator (e.g. a baseline mean of 0 for percent change).

    Raised by the estimators for problems of the data given (not of the arguments); the
    message names the columns and says what would make the estimate possible. A
    :class:`DataValidationError`, so also a ``ValueError``.
    """


class FileFormatError(DataValidationError):
    """A file could not be read as asked (encoding, separator, header row, sheet, empty file).

    The message names the file and the reader option that fixes it (``encoding=``, ``sep=``,
    ``decimal=``, ``skiprows=``, ``sheet_name=``). A :class:`DataValidationError`, so also a
    ``ValueError``.
    """


def format_values(values: Iterable[Any], limit: int = 5) -> str:
    """Render up to ``limit`` values as a readable list, saying how many were left out."""
    vals = list(values)
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in vals[:limit])
    if len(vals) > limit:
        shown += f", ... ({len(vals) - limit} more)"
    return "[" + shown + "]"


def did_you_mean(value: Any, options: Iterable[Any]) -> str:
    """``" Did you mean 'X'?"`` for a case mismatch or a close spelling among ``options``.

    Returns ``""`` when nothing is close.

    Examples
    --------
    >>> did_you_mean("coaching", ["Coaching", "Wait-list"])
    " Did you mean 'Coaching'?"
    >>> did_you_mean("xyz", ["Coaching"])
    ''
    """
    import difflib

    opts = [o for o in dict.fromkeys(options) if o is not None and o == o]
    text = str(value).strip().casefold()
    same = [o for o in opts if str(o).strip().casefold() == text and o != value]
    if not same:
        folded = {str(o).casefold(): o for o in opts}
        close = difflib.get_close_matches(text, list(folded), n=1, cutoff=0.75)
        same = [folded[c] for c in close if folded[c] != value]
    return f" Did you mean {same[0]!r}?" if same else ""


def one_of(name: str, value: Any, allowed: Sequence[Any]) -> ValueError:
    """The package's single error template for a bad option value."""
    options = ", ".join(repr(a) for a in allowed)
    return ValueError(f"`{name}` must be one of {options}; got {value!r}.")


@dataclass
class ProblemLog:
    """Collects every problem found in a frame so they can be reported together."""

    context: str = "data"
    problems: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        check: str,
        message: str,
        *,
        column: str | None = None,
        rows: Sequence[Any] = (),
        values: Sequence[Any] = (),
        expected: str = "",
    ) -> None:
        rows = list(rows)
        self.problems.append(
            {
                "check": check,
                "column": column,
                "rows": rows,
                "values": list(values),
                "expected": expected,
                "n": len(rows),
                "message": message,
            }
        )

    def __bool__(self) -> bool:
        return bool(self.problems)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.problems, columns=[*FAILURE_COLUMNS, "message"])

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        lines = [f"{len(self.problems)} problem(s) found in {self.context}:"]
        lines += [f"  - {p['message']}" for p in self.problems]
        raise DataValidationError("\n".join(lines), self.to_frame())
