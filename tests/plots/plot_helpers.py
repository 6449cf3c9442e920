"""Helpers shared by the plots tests: read back what an Axes shows."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.text import Text

#: Outcomes compared in the plot fixtures (shared by conftest.py and the tests).
OUTCOMES = ["pfi_burnout", "pfi_pf", "pfi_we", "pfi_id"]


def all_texts(ax: Axes) -> list[str]:
    """Every visible non-empty text on the Axes' figure (titles, ticks, legend, annotations)."""
    return [t.get_text() for t in ax.figure.findobj(Text) if t.get_text() and t.get_visible()]


def _segments(ax: Axes, along: int) -> list[tuple[float, float, float]]:
    """(position, low, high) of the line-collection segments parallel to axis ``along``.

    ``along`` is 0 for horizontal segments (position = y) and 1 for vertical ones (x).
    """
    across = 1 - along
    out = []
    for coll in ax.collections:
        if not isinstance(coll, LineCollection):
            continue
        for seg in coll.get_segments():
            seg = np.asarray(seg)
            if len(seg) == 2 and np.isclose(seg[0, across], seg[1, across]):
                lo, hi = sorted(seg[:, along])
                out.append((float(seg[0, across]), float(lo), float(hi)))
    return sorted(out)


def errorbar_segments(ax: Axes) -> list[tuple[float, float, float]]:
    """(x, low, high) of every vertical segment in the Axes' line collections."""
    return _segments(ax, along=1)


def horizontal_segments(ax: Axes) -> list[tuple[float, float, float]]:
    """(y, low, high) of every horizontal segment in the Axes' line collections."""
    return _segments(ax, along=0)
