"""The house vocabulary for public signatures, and the one way to retire an old name.

Every public function names the same things the same way:

========== ==========================================================
name       what it is
========== ==========================================================
data       the input frame (long or wide; the docstring says which)
subject    the column holding the participant id
arm        the column holding the randomized arm
wave       the column holding the survey wave (time point, visit)
outcome    the column (or scored outcome name) being analysed
conf_level the confidence level of intervals (0.95)
seed       the seed of any random draw (an int or a numpy Generator)
========== ==========================================================

``SYNONYMS`` lists the names these replaced; ``tests/test_vocabulary.py`` walks every public
signature and fails on any of them (bar the documented exceptions it lists).

:func:`renamed` keeps an old keyword working for one release: the call is forwarded to the new
name with a :class:`FutureWarning` that says what to write instead. ``quiet=True`` forwards
without a warning, for aliases that a published contract keeps (``mmrm(visit=)``, fixed in
DESIGN.md).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["HOUSE", "SYNONYMS", "renamed"]

HOUSE = ("data", "subject", "arm", "wave", "outcome", "conf_level", "seed")

#: old or competing name -> the house name that replaces it
SYNONYMS = {
    "df": "data",
    "long_df": "data",
    "wide": "data",
    "long": "data",
    "frame": "data",
    "id_col": "subject",
    "subject_col": "subject",
    "participant_col": "subject",
    "arm_col": "arm",
    "wave_col": "wave",
    "visit": "wave",
    "time_col": "wave",
    "outcome_col": "outcome",
    "ci_level": "conf_level",
    "level": "conf_level",
    "confidence": "conf_level",
    "random_state": "seed",
    "rng": "seed",
}

F = TypeVar("F", bound=Callable[..., Any])


def renamed(quiet: bool = False, **old_to_new: str) -> Callable[[F], F]:
    """Accept retired keyword names, forwarding them to their house names.

    Parameters
    ----------
    quiet : bool
        Forward without a warning (for aliases a published contract keeps).
    **old_to_new : str
        ``old="new"`` pairs.

    Examples
    --------
    >>> import warnings
    >>> @renamed(long_df="data")
    ... def f(data=None):
    ...     return data
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(long_df=3), str(w[0].message)
    (3, 'f(long_df=...) is now f(data=...); the old name will be removed in a future release')
    """

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(
                        f"{func.__name__}() got both {old}= and {new}=; "
                        f"{old} is the old name of {new}, give only {new}="
                    )
                kwargs[new] = kwargs.pop(old)
                if not quiet:
                    warnings.warn(
                        f"{func.__name__}({old}=...) is now {func.__name__}({new}=...); "
                        "the old name will be removed in a future release",
                        FutureWarning,
                        stacklevel=2,
                    )
            return func(*args, **kwargs)

        inner.__renamed__ = dict(old_to_new)  # type: ignore[attr-defined]
        return inner  # type: ignore[return-value]

    return wrap
