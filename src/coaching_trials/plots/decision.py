"""Figures of the decision layer: posterior densities, tornado, meta-analysis forest plot."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from scipy import stats

from coaching_trials.plots._style import NEUTRAL, OKABE_ITO, new_axes, percent_text, style_axes

__all__ = ["plot_meta_forest", "plot_posterior", "plot_tornado"]


def _result_table(result: Any, cls_name: str, attribute: str = "table") -> pd.DataFrame:
    if type(result).__name__ != cls_name:
        raise TypeError(f"`result` must be a {cls_name}; got {type(result).__name__}.")
    return getattr(result, attribute)


def plot_posterior(
    result: Any,
    *,
    outcome: str | None = None,
    ax: Axes | None = None,
    n_points: int = 401,
) -> Axes:
    """Posterior densities of one outcome under each prior, with no effect and the MID marked.

    Parameters
    ----------
    result : BenefitResult
        From :func:`coaching_trials.probability_of_benefit`.
    outcome : str, optional
        The outcome to draw (default: the first in the result).
    ax : matplotlib.axes.Axes, optional
    n_points : int
        Grid points per curve.

    Returns
    -------
    matplotlib.axes.Axes
        With ``ax.ct_data``: one row per prior (``prior, post_mean, post_sd, p_benefit, p_mid,
        mid_at``; ``mid_at`` is the MID's position on the effect axis, on the side of benefit).

    Examples
    --------
    >>> import coaching_trials as ct
    >>> res = ct.probability_of_benefit({"outcome": "pfi_burnout", "estimate": -0.79,
    ...     "std_error": 0.24}, prior=["skeptical", "reference"], mid=0.5, large=1.0)
    >>> ax = ct.plot_posterior(res)
    >>> ax.ct_data["prior"].tolist(), float(ax.ct_data["mid_at"].iloc[0])
    (['skeptical', 'reference'], -0.5)
    >>> ax.get_xlabel()
    'Effect of coaching on burnout, item mean (0-4): coaching − comparison'
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    table = _result_table(result, "BenefitResult")
    if outcome is None:
        outcome = table["outcome"].iloc[0]
    part = table[(table["outcome"] == outcome) & np.isfinite(table["post_sd"])]
    if part.empty:
        raise ValueError(
            f"No computed posterior for outcome {outcome!r}; outcomes: "
            f"{sorted(map(str, table['outcome'].unique()))}."
        )
    ax = new_axes(ax, figsize=(7.0, 4.0))
    style_axes(ax, grid_axis="x")
    lo = float((part["post_mean"] - 4.5 * part["post_sd"]).min())
    hi = float((part["post_mean"] + 4.5 * part["post_sd"]).max())
    sign = np.where(part["higher_is_better"].astype(bool), 1.0, -1.0)
    mid_at = sign * part["mid"].to_numpy(float)
    finite_mid = mid_at[np.isfinite(mid_at)]
    lo, hi = min(lo, 0.0, *finite_mid), max(hi, 0.0, *finite_mid)
    x = np.linspace(lo, hi, n_points)
    for i, r in enumerate(part.itertuples(index=False)):
        ax.plot(
            x,
            stats.norm.pdf(x, r.post_mean, r.post_sd),
            color=OKABE_ITO[i % len(OKABE_ITO)],
            linewidth=2,
            label=f"{r.prior}: P(benefit) {100 * r.p_benefit:.0f}%",
        )
    ax.axvline(0.0, color=NEUTRAL, linewidth=1, linestyle="--", label="no effect")
    if finite_mid.size:
        ax.axvline(finite_mid[0], color=NEUTRAL, linewidth=1, linestyle=":", label="MID")
    from coaching_trials.instruments.labels import outcome_info

    info = outcome_info(str(outcome))
    name = f"{info['short_label'].lower()}, {info['unit']}" if info["kind"] else str(outcome)
    ax.set_xlabel(f"Effect of coaching on {name}: coaching \N{MINUS SIGN} comparison")
    ax.set_ylabel("Posterior density")
    ax.legend(frameon=False, fontsize=8)
    data = part[["prior", "post_mean", "post_sd", "p_benefit", "p_mid"]].reset_index(drop=True)
    data["mid_at"] = mid_at
    ax.ct_data = data  # type: ignore[attr-defined]
    return ax


def plot_tornado(result: Any, *, ax: Axes | None = None) -> Axes:
    """Tornado plot: net benefit when each uncertain input moves to its low and high value.

    Parameters
    ----------
    result : BusinessCaseResult
        From :func:`coaching_trials.business_case`.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        With ``ax.ct_data``: the result's ``tornado`` table (largest swing at the top) and
        ``y`` (the bar's row, 0 at the top).

    Examples
    --------
    >>> import coaching_trials as ct
    >>> res = ct.business_case(-0.10, effect_se=0.04, n_physicians=200,
    ...                        cost_per_participant=3000, seed=1)
    >>> ax = ct.plot_tornado(res)
    >>> ax.ct_data["input"].iloc[0]
    'effect'
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    tornado = _result_table(result, "BusinessCaseResult", "tornado").copy()
    centre = float(result.table.set_index("quantity").loc["net_benefit", "estimate"])
    ax = new_axes(ax, figsize=(7.0, 1.2 + 0.5 * max(len(tornado), 1)))
    style_axes(ax, grid_axis="x")
    tornado["y"] = np.arange(len(tornado), dtype=float)
    for r in tornado.itertuples(index=False):
        for value, colour in (
            (r.net_benefit_low, OKABE_ITO[1]),
            (r.net_benefit_high, OKABE_ITO[0]),
        ):
            ax.barh(r.y, value - centre, left=centre, color=colour, height=0.6)
    ax.axvline(centre, color=NEUTRAL, linewidth=1)
    ax.axvline(0.0, color=NEUTRAL, linewidth=1, linestyle="--")
    ax.set_yticks(tornado["y"].to_numpy(), tornado["input"].str.replace("_", " ").tolist())
    ax.set_ylim(len(tornado) - 0.5, -0.5)
    ax.set_xlabel("Net benefit (dollars); vermillion: input at its low value, blue: high")
    ax.ct_data = tornado  # type: ignore[attr-defined]
    return ax


def plot_meta_forest(
    result: Any,
    *,
    highlight: str | None = None,
    ax: Axes | None = None,
    digits: int = 2,
) -> Axes:
    """Forest plot of a meta-analysis: studies, the pooled diamond and the prediction interval.

    Parameters
    ----------
    result : MetaAnalysisResult
        From :func:`coaching_trials.meta_analysis`.
    highlight : str, optional
        Label of the user's own trial, drawn in colour and bold.
    ax : matplotlib.axes.Axes, optional
    digits : int
        Decimals of the text column.

    Returns
    -------
    matplotlib.axes.Axes
        With ``ax.ct_data``: one row per study then the pooled row (``label, estimate,
        conf_low, conf_high, weight, highlighted, y, text``; the pooled row also carries
        ``pi_low``/``pi_high``).

    Examples
    --------
    >>> import pandas as pd
    >>> import coaching_trials as ct
    >>> trials = pd.DataFrame({"study": ["A", "B", "Ours"], "estimate": [-0.9, -0.4, -0.7],
    ...                        "std_error": [0.25, 0.30, 0.20]})
    >>> ax = ct.plot_meta_forest(ct.meta_analysis(trials), highlight="Ours")
    >>> ax.ct_data["highlighted"].tolist()
    [False, False, True, False]
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    studies = _result_table(result, "MetaAnalysisResult", "studies")
    if highlight is not None and highlight not in set(studies["study"]):
        raise ValueError(
            f"`highlight` {highlight!r} is not a study of the meta-analysis; studies: "
            f"{studies['study'].tolist()}."
        )
    k = len(studies)
    table = pd.DataFrame(
        {
            "label": studies["study"],
            "estimate": studies["estimate"],
            "conf_low": studies["conf_low"],
            "conf_high": studies["conf_high"],
            "weight": studies["weight"],
            "highlighted": studies["study"] == highlight,
            "y": np.arange(k, dtype=float),
            "pi_low": np.nan,
            "pi_high": np.nan,
        }
    )
    pooled = pd.DataFrame(
        [
            {
                "label": f"Random effects ({result.method}, {result.test})",
                "estimate": result.estimate,
                "conf_low": result.conf_low,
                "conf_high": result.conf_high,
                "weight": 100.0,
                "highlighted": False,
                "y": k + 0.5,
                "pi_low": result.pi_low,
                "pi_high": result.pi_high,
            }
        ]
    )
    table = pd.concat([table, pooled], ignore_index=True)
    table["text"] = [
        f"{e:.{digits}f} ({lo:.{digits}f} to {hi:.{digits}f})".replace("-", "\N{MINUS SIGN}")
        for e, lo, hi in zip(table["estimate"], table["conf_low"], table["conf_high"], strict=True)
    ]
    ax = new_axes(ax, figsize=(8.5, 1.6 + 0.35 * (k + 2)))
    style_axes(ax, grid_axis="x")
    ax.spines["left"].set_visible(False)
    rows = table.iloc[:k]
    for r in rows.itertuples(index=False):
        colour = OKABE_ITO[1] if r.highlighted else NEUTRAL
        ax.hlines(r.y, r.conf_low, r.conf_high, color=colour, linewidth=1.6)
        size = 4 + 8 * np.sqrt(r.weight / 100)
        ax.plot(r.estimate, r.y, marker="s", markersize=size, color=colour, linestyle="none")
    p = table.iloc[k]
    ax.fill(
        [p.conf_low, p.estimate, p.conf_high, p.estimate],
        [p.y, p.y - 0.3, p.y, p.y + 0.3],
        color=OKABE_ITO[0],
    )
    ax.hlines(p.y, p.pi_low, p.pi_high, color=OKABE_ITO[0], linewidth=1, linestyle=(0, (2, 2)))
    ax.axvline(0.0, color=NEUTRAL, linewidth=1, linestyle="--", zorder=1)
    ax.set_yticks(table["y"].to_numpy(), table["label"].tolist())
    for tick, hl in zip(ax.get_yticklabels(), table["highlighted"], strict=True):
        if hl:
            tick.set_fontweight("bold")
            tick.set_color(OKABE_ITO[1])
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(k + 1.2, -0.8)
    level = percent_text(result.conf_level)
    ax.annotate(
        f"Estimate ({level} CI)",
        xy=(1, -0.8),
        xycoords=("axes fraction", "data"),
        xytext=(10, 0),
        textcoords="offset points",
        fontsize=9,
        fontweight="bold",
        va="center",
        annotation_clip=False,
    )
    for y, text in zip(table["y"], table["text"], strict=True):
        ax.annotate(
            text,
            xy=(1, y),
            xycoords=("axes fraction", "data"),
            xytext=(10, 0),
            textcoords="offset points",
            fontsize=9,
            va="center",
            annotation_clip=False,
        )
    ax.set_xlabel(
        f"Effect; dashed line under the diamond: {level} prediction interval "
        f"(tau\N{SUPERSCRIPT TWO} = {result.tau2:.3g}, I\N{SUPERSCRIPT TWO} = {result.i2:.0f}%)"
    )
    ax.ct_data = table  # type: ignore[attr-defined]
    return ax
