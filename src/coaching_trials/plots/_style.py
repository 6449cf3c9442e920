"""Shared look and checks of the plots layer: palette, arm colours, axes, small-cell labels.

Colours are the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), which stays
distinguishable under the common colour-vision deficiencies. Arms take the palette in the
order the plotting function knows them (the design order: the immediate / treated arm first),
so the same trial gets the same arm colours in every figure.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from coaching_trials.analysis._common import check_conf_level  # same check as the estimators

__all__ = [
    "OKABE_ITO",
    "NEUTRAL",
    "arm_colors",
    "check_columns",
    "check_conf_level",
    "check_min_cell",
    "count_label",
    "new_axes",
    "percent_text",
    "style_axes",
    "suppressed",
    "italic_note",
    "whiskers",
]

OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)
NEUTRAL = "#333333"
GRID = "#DDDDDD"


def arm_colors(
    arms: Sequence[Hashable], colors: Mapping[Hashable, str] | None = None
) -> dict[Hashable, str]:
    """Colour per arm: ``colors`` where given, else the Okabe-Ito palette in ``arms`` order.

    Examples
    --------
    >>> arm_colors(["immediate", "delayed"])
    {'immediate': '#0072B2', 'delayed': '#D55E00'}
    """
    if colors is not None and not isinstance(colors, Mapping):
        raise TypeError(f"`colors` must be a mapping arm -> colour or None; got {colors!r}.")
    given = dict(colors or {})
    out: dict[Hashable, str] = {}
    for i, a in enumerate(arms):
        out[a] = given.get(a, OKABE_ITO[i % len(OKABE_ITO)])
    return out


def check_min_cell(min_cell: Any) -> int | None:
    """``None`` (no suppression) or a positive integer."""
    if min_cell is None:
        return None
    if isinstance(min_cell, bool) or not isinstance(min_cell, Integral) or min_cell < 1:
        raise ValueError(f"`min_cell` must be None or a positive integer; got {min_cell!r}.")
    return int(min_cell)


def check_columns(frame: Any, columns: Sequence[str], *, name: str, expected: str) -> None:
    """``frame`` is a DataFrame holding every one of ``columns``."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"`{name}` must be a pandas DataFrame ({expected}); got {type(frame)!r}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"`{name}` is missing column(s) {missing} ({expected}); it has "
            f"{list(map(str, frame.columns))[:20]}."
        )


def suppressed(n: Any, min_cell: int | None) -> np.ndarray:
    """Boolean array: counts below ``min_cell`` (never True when ``min_cell`` is None)."""
    arr = np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(n)), errors="coerce"), dtype=float)
    if min_cell is None:
        return np.zeros(arr.shape, dtype=bool)
    return np.isfinite(arr) & (arr < min_cell)


def count_label(n: Any, min_cell: int | None) -> str:
    """A count as text, ``"<k"`` when it is below ``min_cell``.

    Examples
    --------
    >>> count_label(61, None), count_label(3, 5), count_label(5, 5)
    ('61', '<5', '5')
    """
    if n is None or (isinstance(n, float) and not np.isfinite(n)) or n is pd.NA:
        return "NA"
    if min_cell is not None and n < min_cell:
        return f"<{min_cell}"
    return f"{int(n)}"


def percent_text(level: float) -> str:
    """``0.95`` -> ``"95%"`` (no trailing zeros)."""
    return f"{100 * level:g}%"


def new_axes(ax: Any, *, figsize: tuple[float, float]) -> Axes:
    """The given Axes, or a new one on a new pyplot figure (so Jupyter shows it inline)."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize, layout="constrained")
        return ax
    if not isinstance(ax, Axes):
        raise TypeError(f"`ax` must be a matplotlib Axes or None; got {type(ax).__name__}.")
    return ax


def style_axes(ax: Axes, *, grid_axis: str = "y") -> None:
    """Light grid, no top/right spines."""
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, axis=grid_axis, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def whiskers(
    ax: Axes,
    x: np.ndarray,
    y: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    drawn: np.ndarray | None = None,
    *,
    capsize: float,
    color: str = NEUTRAL,
    linewidth: float = 1.2,
    **kwargs: Any,
) -> None:
    """Interval whiskers ``lo``-``hi`` at ``(x, y)`` where both bounds are finite (and
    ``drawn``)."""
    ok = np.isfinite(lo) & np.isfinite(hi)
    if drawn is not None:
        ok &= drawn
    ax.errorbar(
        x[ok],
        y[ok],
        yerr=np.vstack([y[ok] - lo[ok], hi[ok] - y[ok]]),
        fmt="none",
        ecolor=color,
        elinewidth=linewidth,
        capsize=capsize,
        **kwargs,
    )


def italic_note(
    ax: Axes, text: str, *, xy: tuple[float, float], xytext: tuple[float, float], **kwargs: Any
) -> None:
    """A small italic note in the plots' neutral colour, placed in axes fraction (+ points)."""
    ax.annotate(
        text,
        xy=xy,
        xycoords="axes fraction",
        xytext=xytext,
        textcoords="offset points",
        ha="left",
        fontsize=8,
        style="italic",
        color=NEUTRAL,
        **kwargs,
    )
