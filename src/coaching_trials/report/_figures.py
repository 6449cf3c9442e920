"""Figures for the report, embedded as base64 PNG (private helpers of :mod:`report.html`).

The figures come from :mod:`coaching_trials.plots` when it provides the function; otherwise (or
if it fails) a minimal matplotlib figure is drawn here. Counts printed by a figure are either
the same as a table's (already suppressed the same way) or removed.
"""

from __future__ import annotations

import base64
import io
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "png_data_uri",
    "trajectory_figure",
    "forest_figure",
    "percent_change_figure",
    "consort_figure",
]

_RC = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "svg.hashsalt": "coaching_trials",
    "path.simplify": True,
}
_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")  # Okabe-Ito
_COUNT_TEXT = re.compile(r"^\s*(n\s.*|n=.*|<\d+|\d+|hidden)\s*$")


def _plots_function(name: str) -> Callable[..., Any] | None:
    try:
        import importlib

        module = importlib.import_module("coaching_trials.plots")
        fn = getattr(module, name, None)
        if fn is None:
            for sub in ("trajectories", "forest", "bars", "consort"):
                try:
                    fn = getattr(importlib.import_module(f"coaching_trials.plots.{sub}"), name)
                    break
                except (ImportError, AttributeError):
                    continue
        return fn
    except ImportError:
        return None


@contextmanager
def clean_rc(rc: dict[str, Any]) -> Iterator[None]:
    """matplotlib's defaults plus ``rc``, whatever the caller's session changed (so the same
    tables give the same PNG bytes in a notebook, a test run or the command line); the
    caller's settings are restored on exit."""
    import matplotlib

    with matplotlib.rc_context():
        backend = matplotlib.rcParams["backend"]
        matplotlib.rcdefaults()
        matplotlib.rcParams["backend"] = backend
        matplotlib.rcParams.update(rc)
        yield


def png_data_uri(draw: Callable[[Any], Any], *, figsize: tuple[float, float]) -> str:
    """Draw on a fresh figure and return it as a ``data:image/png;base64,...`` URI.

    The PNG carries no software/date metadata, so the bytes are the same for the same input.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    with clean_rc(_RC):
        fig, ax = plt.subplots(figsize=figsize)
        try:
            draw(ax)
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", metadata={"Software": None})
        finally:
            plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _try_plots(name: str, *args: Any, **kwargs: Any) -> bool:
    fn = _plots_function(name)
    if fn is None:
        return False
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # a plots bug must not lose the whole report
        warnings.warn(
            f"coaching_trials.plots.{name} failed ({type(exc).__name__}: {exc}); the report "
            "uses a simpler figure instead.",
            RuntimeWarning,
            stacklevel=3,
        )
        kwargs["ax"].clear()
        return False
    return True


def _strip_counts(ax: Any) -> None:
    """Remove printed counts (``n ...``, ``<5``, bare integers) from an axes' texts."""
    for text in list(ax.texts):
        if _COUNT_TEXT.match(text.get_text()):
            text.remove()


def trajectory_figure(
    released: pd.DataFrame,
    outcome: str,
    label: str,
    *,
    crossover: Any,
    conf_level: float,
) -> str:
    """Mean outcome per arm at each wave from the RELEASED trajectories table (hidden cells
    are not drawn; no counts are printed)."""
    from coaching_trials.plots.trajectories import plot_trajectories

    def draw(ax: Any) -> None:
        plot_trajectories(
            released, outcome=outcome, conf_level=conf_level, ax=ax, crossover=crossover
        )
        _strip_counts(ax)
        ax.xaxis.labelpad = 4.0  # the counts under the axis are gone
        ax.set_title(label, fontsize=10)

    return png_data_uri(draw, figsize=(6.4, 3.8))


def forest_figure(effects: pd.DataFrame, *, min_cell: int) -> str:
    """Effects with their confidence intervals; rows with hidden counts are not drawn."""

    def draw(ax: Any) -> None:
        if _try_plots("plot_forest", effects, ax=ax, min_cell=min_cell):
            return
        rows = effects.dropna(subset=["estimate", "conf_low", "conf_high"])
        y = np.arange(len(rows))[::-1]
        est = rows["estimate"].to_numpy(float)
        ax.errorbar(
            est,
            y,
            xerr=np.vstack(
                [est - rows["conf_low"].to_numpy(float), rows["conf_high"].to_numpy(float) - est]
            ),
            fmt="s",
            color=_COLORS[0],
            capsize=3,
        )
        ax.axvline(0, color="#555555", lw=1)
        ax.set_yticks(y, rows["outcome"].astype(str).tolist())
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlabel("Difference (immediate - delayed) with CI")
        ax.grid(axis="x", alpha=0.3)

    height = 1.2 + 0.45 * max(len(effects), 1)
    return png_data_uri(draw, figsize=(9.0, height))


def percent_change_figure(
    descriptives: pd.DataFrame, *, outcomes: Sequence[str], min_cell: int
) -> str:
    """Each arm's percent change of the mean with CI; arms below ``min_cell`` not drawn."""

    def draw(ax: Any) -> None:
        if _try_plots(
            "plot_percent_change", descriptives, ax=ax, outcomes=list(outcomes), min_cell=min_cell
        ):
            return
        arms = list(pd.unique(descriptives["arm"]))
        width = 0.8 / max(len(arms), 1)
        for k, arm_label in enumerate(arms):
            t = descriptives[descriptives["arm"] == arm_label].set_index("outcome")
            t = t.reindex(list(outcomes))
            n = pd.to_numeric(t["percent_change_n"], errors="coerce").to_numpy(float)
            pc = np.where(n >= min_cell, t["percent_change"].to_numpy(float), np.nan)
            lo = t["percent_change_conf_low"].to_numpy(float)
            hi = t["percent_change_conf_high"].to_numpy(float)
            x = np.arange(len(outcomes)) + (k - (len(arms) - 1) / 2) * width
            ok = np.isfinite(pc)
            ax.bar(x[ok], pc[ok], width=width * 0.9, color=_COLORS[k % 4], label=str(arm_label))
            ax.errorbar(
                x[ok],
                pc[ok],
                yerr=np.vstack([pc[ok] - lo[ok], hi[ok] - pc[ok]]),
                fmt="none",
                ecolor="#333333",
                capsize=3,
            )
        ax.axhline(0, color="#555555", lw=1)
        ax.set_xticks(range(len(outcomes)), list(outcomes))
        ax.set_ylabel("Percent change of the arm mean (%)")
        ax.legend(frameon=False)

    return png_data_uri(draw, figsize=(max(5.0, 1.6 * len(outcomes) + 2.5), 4.2))


def consort_figure(flow: pd.DataFrame, *, min_cell: int) -> str:
    """The CONSORT diagram of a flow table AS SHOWN (counts and markers after suppression).

    The diagram is laid out in inches, so the figure takes the size the layout asks for and
    is saved without ``tight_layout``.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from coaching_trials.plots.consort import consort_boxes, plot_consort

    width, height = consort_boxes(flow, min_cell=min_cell).attrs["size"]
    with clean_rc(_RC):
        fig = plt.figure(figsize=(width, height))
        try:
            ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
            plot_consort(flow, ax=ax, min_cell=min_cell)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", metadata={"Software": None})
        finally:
            plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
