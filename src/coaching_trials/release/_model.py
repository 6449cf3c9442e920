"""What a release receives: the published tables tied to the people each number describes.

A :class:`Publication` holds every table that will be published together and, for each count
cell, the set of participants it counts (a boolean mask over the randomized participants).
Identical sets printed in several tables are one *quantity*, so a count hidden in one table is
hidden wherever else it is printed. Statistics (means, SDs, percentages, effects) name the
quantities they need: a statistic is shown only when all of them are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["CountCell", "LinkageError", "Publication", "StatCell"]


class LinkageError(RuntimeError):
    """A printed count could not be tied to the people it counts, so nothing is released."""


@dataclass(frozen=True)
class CountCell:
    table: str
    row: int
    column: str
    quantity: int


@dataclass(frozen=True)
class StatCell:
    """Statistic cells of one row that describe one group of people.

    ``needs``: quantities that must be shown for these cells to be shown. ``family`` and
    ``mask``: statistics of the same variable over different groups (a mean per arm and
    overall) share a family; a hidden group's mean must not follow from the others (its mask
    must not be a linear combination of the shown masks). ``percent_of``: (numerator,
    denominator, scale) quantities when the cell is a percentage or proportion of counts.
    ``reveals_count``: the cell pins an exact count (a residual df, an exact interval of a
    proportion), so it goes whenever counts are rounded.
    """

    table: str
    row: int
    columns: tuple[str, ...]
    needs: tuple[int, ...] = ()
    family: str | None = None
    mask: np.ndarray | None = field(default=None, compare=False)
    percent_of: tuple[int, int, float] | None = None
    reveals_count: bool = False


class Publication:
    """Tables to publish together, with the participant set behind every count.

    Parameters
    ----------
    ids : sequence of str
        The randomized participants, in a fixed order (the columns of every mask).
    """

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids: tuple[str, ...] = tuple(str(i) for i in ids)
        self.tables: dict[str, pd.DataFrame] = {}
        self.counts: list[CountCell] = []
        self.stats: list[StatCell] = []
        self.groups: dict[int, set[int]] = {}
        self.weights: dict[int, int] = {}
        self._masks: list[np.ndarray] = []
        self._index: dict[bytes, int] = {}

    # -- building --------------------------------------------------------------------------
    def add_table(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        if name in self.tables:
            raise ValueError(f"table {name!r} is already in the publication.")
        frame = frame.reset_index(drop=True).copy()
        self.tables[name] = frame
        return frame

    def quantity(self, mask: np.ndarray) -> int:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (len(self.ids),):
            raise LinkageError(f"a mask has shape {mask.shape}; expected ({len(self.ids)},).")
        key = np.packbits(mask).tobytes()
        if key not in self._index:
            self._index[key] = len(self._masks)
            self._masks.append(mask.copy())
        return self._index[key]

    def count(
        self,
        table: str,
        row: int,
        column: str,
        mask: np.ndarray,
        *,
        groups: Sequence[int] = (),
        weight: int = 10,
    ) -> int:
        """Tie cell ``(row, column)`` of ``table`` to the participants of ``mask``.

        ``weight``: how much a reader loses when this count is hidden (arm totals most,
        breakdowns by reason least); complementary suppression hides the lightest counts
        first. Raises :class:`LinkageError` when the printed value is not the size of the set.
        """
        q = self.quantity(mask)
        value = self.tables[table].at[row, column]
        size = int(self._masks[q].sum())
        if pd.isna(value) or int(round(float(value))) != size or abs(float(value) - size) > 1e-9:
            raise LinkageError(
                f"table {table!r}, row {row}, column {column!r} prints {value!r} but counts "
                f"{size} participants; the release cannot vouch for it."
            )
        self.counts.append(CountCell(table, row, column, q))
        self.weights[q] = max(self.weights.get(q, 0), int(weight))
        if groups:
            self.groups.setdefault(q, set()).update(int(g) for g in groups if g != q)
        return q

    def stat(
        self,
        table: str,
        row: int,
        columns: Sequence[str],
        *,
        needs: Sequence[int] = (),
        family: str | None = None,
        mask: np.ndarray | None = None,
        percent_of: tuple[int, int, float] | None = None,
        reveals_count: bool = False,
    ) -> None:
        cols = tuple(c for c in columns if c in self.tables[table].columns)
        if not cols:
            return
        self.stats.append(
            StatCell(
                table,
                row,
                cols,
                tuple(needs),
                family,
                None if mask is None else np.asarray(mask, dtype=bool),
                percent_of,
                reveals_count,
            )
        )

    # -- reading ---------------------------------------------------------------------------
    @property
    def masks(self) -> np.ndarray:
        if not self._masks:
            return np.zeros((0, len(self.ids)), dtype=bool)
        return np.vstack(self._masks)

    @property
    def values(self) -> np.ndarray:
        return self.masks.sum(axis=1).astype(int)
