"""Copy-on-access for the tables carried by frozen result objects.

Kept free of heavy imports (only pandas) so that every layer can use it. It belongs with
``ResultMixin`` in ``coaching_trials._results``; it lives here until that module moves.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["FrameCopies"]


def _copy_on_write() -> bool:
    if int(pd.__version__.split(".")[0]) >= 3:
        return True  # always on; reading the option would raise a deprecation warning
    return bool(getattr(pd.options.mode, "copy_on_write", False) is True)


class FrameCopies:
    """Mixin for frozen result dataclasses: table attributes are handed out as copies.

    ``dataclass(frozen=True)`` stops rebinding an attribute but not ``result.table.loc[...] =``
    or ``result.table.drop(..., inplace=True)``, which would silently change what
    ``to_frame()``, ``summary()`` and later calls report. Every public DataFrame or Series
    attribute is therefore returned as a copy: under pandas copy-on-write (always on from
    pandas 3) a shallow copy that costs nothing until written to, otherwise a deep copy.
    Methods of the class read the same copies, so a result never changes after it is built.
    """

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if name[:1] != "_" and isinstance(value, (pd.DataFrame, pd.Series)):
            return value.copy(deep=not _copy_on_write())
        return value
