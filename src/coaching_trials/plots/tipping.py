"""The tipping-point curve of a delta-adjusted sensitivity analysis, with its Monte Carlo band."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from coaching_trials.analysis._common import normal_interval
from coaching_trials.plots._style import NEUTRAL, OKABE_ITO, check_conf_level, new_axes, style_axes

__all__ = ["plot_tipping_point", "tipping_curve"]


def _example_result() -> Any:
    """The small tipping-point analysis the Examples draw: 60 simulated participants, a
    quarter of the outcomes missing, delta from 0 to 2 in steps of 0.25 (m = 20)."""
    from coaching_trials.analysis.imputation import tipping_point

    rng = np.random.default_rng(1)
    arm = np.where(np.arange(60) % 2 == 0, "coached", "waitlist")
    base = rng.normal(2.0, 0.7, 60)
    y = 0.6 * base - 0.5 * (arm == "coached") + rng.normal(0, 0.5, 60)
    y[rng.random(60) < 0.25] = np.nan
    data = pd.DataFrame({"arm": arm, "b": base, "y": y})
    return tipping_point(data, outcome="y", baseline="b", arm="arm", treated="coached",
                         deltas=np.arange(0, 2.01, 0.25), seed=2)  # fmt: skip


def tipping_curve(result: Any, *, band_level: float = 0.95) -> pd.DataFrame:
    """The numbers :func:`plot_tipping_point` draws: one row per delta.

    Columns ``delta, p_value, p_value_mcse, band_low, band_high, significant``; the band is
    ``p_value +/- z * p_value_mcse`` (``z`` the normal quantile of ``band_level``) clipped to
    [0, 1]. ``attrs`` carry ``alpha``, ``tipping_delta``, ``tipping_delta_mcse``,
    ``tipping_low``, ``tipping_high`` (the same band around the tipping delta) and ``m``.

    Examples
    --------
    >>> from coaching_trials.plots.tipping import _example_result
    >>> tp = _example_result()  # see its source: tipping_point() on 60 simulated people
    >>> curve = tipping_curve(tp)
    >>> bool((curve["band_low"] <= curve["p_value"]).all())
    True
    """
    table = getattr(result, "table", None)
    if not isinstance(table, pd.DataFrame) or "p_value_mcse" not in table.columns:
        raise TypeError(
            "`result` must be a TippingPointResult from tipping_point(); got "
            f"{type(result).__name__}."
        )
    level = check_conf_level(band_level)
    order = np.argsort(table["delta"].to_numpy(), kind="stable")
    tab = table.iloc[order]
    p = tab["p_value"].to_numpy(dtype=float)
    se = tab["p_value_mcse"].to_numpy(dtype=float)
    band_low, band_high = normal_interval(p, se, level)
    curve = pd.DataFrame(
        {
            "delta": tab["delta"].to_numpy(dtype=float),
            "p_value": p,
            "p_value_mcse": se,
            "band_low": np.clip(band_low, 0.0, 1.0),
            "band_high": np.clip(band_high, 0.0, 1.0),
            "significant": tab["significant"].to_numpy(dtype=bool),
        }
    )
    tip, tip_se = float(result.tipping_delta), float(result.tipping_delta_mcse)
    tip_low, tip_high = normal_interval(tip, tip_se, level)
    curve.attrs.update(
        alpha=1.0 - float(result.conf_level),
        band_level=level,
        tipping_delta=tip,
        tipping_delta_mcse=tip_se,
        tipping_low=float(tip_low),
        tipping_high=float(tip_high),
        m=int(result.m),
    )
    return curve


def plot_tipping_point(
    result: Any,
    *,
    band_level: float = 0.95,
    ax: Axes | None = None,
) -> Axes:
    """Pooled p-value against delta, its Monte Carlo band, the threshold and the tipping delta.

    Parameters
    ----------
    result : TippingPointResult
        From :func:`coaching_trials.analysis.imputation.tipping_point`.
    band_level : float, default 0.95
        Coverage of the Monte Carlo bands (around the p-value curve and around the tipping
        delta), from the jackknife MC standard errors of the result.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        With ``ax.ct_data``: the table of :func:`tipping_curve` (its ``attrs`` hold the
        tipping delta, its MC SE and band).

    Examples
    --------
    >>> from coaching_trials.plots.tipping import _example_result
    >>> tp = _example_result()  # see its source: tipping_point() on 60 simulated people
    >>> ax = plot_tipping_point(tp)
    >>> len(ax.ct_data), ax.ct_data.attrs["m"]
    (9, 20)
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    curve = tipping_curve(result, band_level=band_level)
    ax = new_axes(ax, figsize=(6.0, 4.2))
    style_axes(ax, grid_axis="both")
    attrs = curve.attrs
    pct = f"{attrs['band_level']:.0%}"
    ax.fill_between(
        curve["delta"],
        curve["band_low"],
        curve["band_high"],
        color=OKABE_ITO[0],
        alpha=0.2,
        linewidth=0,
        label=f"{pct} Monte Carlo band (m = {attrs['m']})",
    )
    ax.plot(curve["delta"], curve["p_value"], color=OKABE_ITO[0], marker="o", label="pooled p")
    ax.axhline(attrs["alpha"], color=NEUTRAL, linestyle="--", linewidth=1.0)
    ax.annotate(
        f"p = {attrs['alpha']:g}",
        (1.0, attrs["alpha"]),
        xycoords=("axes fraction", "data"),
        ha="right",
        va="bottom",
        fontsize=8,
        color=NEUTRAL,
    )
    tip = attrs["tipping_delta"]
    if np.isfinite(tip):
        if np.isfinite(attrs["tipping_delta_mcse"]):
            ax.axvspan(attrs["tipping_low"], attrs["tipping_high"], color=OKABE_ITO[1], alpha=0.15)
        ax.axvline(
            tip,
            color=OKABE_ITO[1],
            linewidth=1.5,
            label=f"tipping delta {tip:.2f} (MC SE {attrs['tipping_delta_mcse']:.2f})",
        )
    from coaching_trials.instruments.labels import outcome_info

    info = outcome_info(str(result.outcome))
    name = f"{info['short_label'].lower()}, {info['unit']}" if info["kind"] else result.outcome
    ax.set_xlabel(f"delta added to imputed {name} ({result._shifted()})")
    ax.set_ylabel("pooled p-value")
    ax.set_ylim(0.0, max(1.0, float(curve["band_high"].max())))
    ax.legend(frameon=False, fontsize=8, loc="best")
    ax.ct_data = curve  # type: ignore[attr-defined]
    return ax
