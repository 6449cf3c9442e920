"""Power curves: simulated power against arm size, one line per design and analysis."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from coaching_trials.analysis._common import normal_interval
from coaching_trials.plots._style import (
    NEUTRAL,
    OKABE_ITO,
    check_columns,
    check_conf_level,
    new_axes,
    style_axes,
)

__all__ = ["plot_power_curve", "power_curve_table"]

_LINE_KEYS = ("analysis", "standardized_effect", "dropout", "icc")
_LINESTYLES = ("-", "--", ":", "-.")


def power_curve_table(grid: Any, *, x: str = "n_per_arm", conf_level: float = 0.95) -> pd.DataFrame:
    """The numbers behind :func:`plot_power_curve`: one row per point drawn.

    Columns ``line`` (the label of the line: the design columns that vary in the grid),
    ``x``, ``power``, ``mc_std_error``, ``conf_low``, ``conf_high`` (power +- z Monte Carlo
    SEs, clipped to [0, 1]) and the design columns.

    Examples
    --------
    >>> import pandas as pd
    >>> grid = pd.DataFrame({"analysis": "ancova", "n_per_arm": [30, 60],
    ...     "standardized_effect": 0.5, "dropout": 0.1, "icc": 0.0, "power": [0.6, 0.9],
    ...     "mc_std_error": [0.02, 0.01]})
    >>> power_curve_table(grid)[["line", "x", "power"]]
         line   x  power
    0  ancova  30    0.6
    1  ancova  60    0.9
    """
    table = grid.to_frame() if hasattr(grid, "to_frame") else grid
    check_columns(table, [x, "power", "mc_std_error"], name="grid", expected="a power_grid table")
    check_conf_level(conf_level)
    keys = [k for k in _LINE_KEYS if k in table.columns and k != x]
    varying = [k for k in keys if table[k].nunique(dropna=False) > 1] or keys[:1]

    def label(row: pd.Series) -> str:
        parts = []
        for k in varying:
            v = row[k]
            if k == "analysis":
                parts.append(str(v))
            elif k == "standardized_effect":
                parts.append(f"d = {v:.2g}")
            else:
                parts.append(f"{k} = {v:g}")
        return ", ".join(parts) if parts else "power"

    out = table.copy()
    out.insert(0, "line", out.apply(label, axis=1) if len(out) else pd.Series(dtype=object))
    out.insert(1, "x", out[x])
    low, high = normal_interval(out["power"], out["mc_std_error"], conf_level)
    out["conf_low"], out["conf_high"] = np.clip(low, 0, 1), np.clip(high, 0, 1)
    order = list(dict.fromkeys(out["line"]))
    out["_line"] = out["line"].map({k: i for i, k in enumerate(order)})
    out = out.sort_values(["_line", "x"], kind="stable").drop(columns="_line")
    return out.reset_index(drop=True)


def plot_power_curve(
    grid: Any,
    *,
    x: str = "n_per_arm",
    target: float | None = 0.8,
    conf_level: float = 0.95,
    ax: Axes | None = None,
) -> Axes:
    """Power against arm size (or another grid column), with Monte Carlo intervals.

    Parameters
    ----------
    grid : PowerGridResult or pandas.DataFrame
        A :func:`~coaching_trials.power_grid` result or its table.
    x : str, default "n_per_arm"
        Column on the horizontal axis.
    target : float or None, default 0.8
        Draw a horizontal line at this power.
    conf_level : float
        Level of the Monte Carlo interval drawn around each point (``power +- z SE``).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        With ``ax.ct_data``: the table of :func:`power_curve_table` that was drawn.

    Examples
    --------
    >>> from coaching_trials.simulate.grid import power_grid
    >>> grid = power_grid(n_per_arm=[20, 40], standardized_effect=0.5,
    ...                   analysis=["change", "ancova"], n_sims=100, seed=1)
    >>> ax = plot_power_curve(grid)
    >>> sorted(ax.ct_data["line"].unique())
    ['ancova', 'change']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if target is not None and (
        isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 < target < 1
    ):
        raise ValueError(
            f"`target` must be None or a power strictly between 0 and 1; got {target!r}."
        )
    table = power_curve_table(grid, x=x, conf_level=conf_level)
    ax = new_axes(ax, figsize=(6.5, 4.2))
    style_axes(ax, grid_axis="both")
    analyses = list(dict.fromkeys(table.get("analysis", pd.Series(["power"]))))
    for i, (line, rows) in enumerate(table.groupby("line", sort=False)):
        a = rows["analysis"].iloc[0] if "analysis" in rows else "power"
        colour = OKABE_ITO[analyses.index(a) % len(OKABE_ITO)]
        style = _LINESTYLES[(i // max(len(analyses), 1)) % len(_LINESTYLES)]
        ax.plot(rows["x"], rows["power"], marker="o", ms=4, color=colour, ls=style, label=line)
        ax.fill_between(rows["x"], rows["conf_low"], rows["conf_high"], color=colour, alpha=0.15,
                        lw=0)  # fmt: skip
    if target is not None:
        ax.axhline(target, color=NEUTRAL, lw=0.9, ls=":")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("participants per arm" if x == "n_per_arm" else x)
    ax.set_ylabel("power")
    if table["line"].nunique() > 1:
        ax.legend(frameon=False, fontsize="small")
    ax.ct_data = table  # type: ignore[attr-defined]
    return ax
