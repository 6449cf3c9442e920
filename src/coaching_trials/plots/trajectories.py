"""Mean trajectories per arm across waves, with the coaching periods of a delayed design."""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from coaching_trials._errors import did_you_mean, format_values
from coaching_trials.analysis._common import t_interval
from coaching_trials.plots._style import (
    NEUTRAL,
    arm_colors,
    check_columns,
    check_conf_level,
    check_min_cell,
    count_label,
    italic_note,
    new_axes,
    percent_text,
    style_axes,
    suppressed,
    whiskers,
)

__all__ = ["plot_trajectories", "trajectory_table"]

_STRIP_H, _STRIP_GAP, _STRIP_TOP = 0.06, 0.015, 0.985

TRAJECTORY_COLUMNS = (
    "arm",
    "wave",
    "x",
    "n",
    "n_label",
    "mean",
    "conf_low",
    "conf_high",
    "suppressed",
    "statistic",
)


def _is_mmrm(obj: Any) -> bool:
    return hasattr(obj, "lsmeans") and hasattr(obj, "visits") and hasattr(obj, "treated")


def _is_trial(obj: Any) -> bool:
    return hasattr(obj, "responses") and hasattr(obj, "design") and hasattr(obj, "arms")


def _natural_key(value: Hashable) -> tuple[Any, ...]:
    """Sort key that puts "month3" before "month12"."""
    parts = re.split(r"(\d+)", str(value))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def _order(series: pd.Series, first: Sequence[Hashable] = ()) -> list[Hashable]:
    """Categories of a categorical column (those present), else natural sort order.

    Never the order of appearance, so that shuffling the rows changes nothing.
    """
    present = pd.unique(series.dropna())
    if isinstance(series.dtype, pd.CategoricalDtype):
        seen = set(present)
        levels = [c for c in series.cat.categories if c in seen]
    else:
        levels = sorted(present, key=_natural_key)
    head = [f for f in first if f in levels]
    return head + [lv for lv in levels if lv not in head]


def _unknown_outcome(outcome: Any, columns: Sequence[Any]) -> str:
    """Message for an outcome that is not a column: suggest the scored outcome columns."""
    from coaching_trials.instruments.labels import scored_columns, suggest_outcome

    hint = suggest_outcome(str(outcome), columns)
    scored = scored_columns(columns)
    msg = f"`outcome` {outcome!r} is not a column of the data."
    if hint:
        msg += f" Did you mean {hint[0]!r}?"
    if scored:
        msg += f" Scored outcome columns: {scored}."
    else:
        msg += (
            " The data has no scored outcome columns; score the items first, e.g. "
            "ct.score(data, 'pfi')."
        )
    return msg


def _raw_table(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    wave: str,
    subject: str | None,
    conf_level: float,
    first_arms: Sequence[Hashable],
) -> tuple[pd.DataFrame, list[Hashable], list[Hashable]]:
    cols = [outcome, arm, wave] + ([subject] if subject is not None else [])
    if isinstance(data, pd.DataFrame) and outcome not in data.columns:
        raise ValueError(_unknown_outcome(outcome, list(data.columns)))
    check_columns(data, cols, name="data", expected="long responses, one row per subject x wave")
    bad = data[arm].isna() | data[wave].isna()
    if bad.any():
        raise ValueError(
            f"columns {arm!r}/{wave!r} are missing in rows {format_values(data.index[bad])}; "
            "every response row needs an arm and a wave."
        )
    y = data[outcome]
    if not (pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)):
        raise TypeError(f"column {outcome!r} must be numeric (a scored outcome); got {y.dtype}.")
    if subject is not None:
        dup = data.duplicated([subject, wave], keep=False)
        if dup.any():
            raise ValueError(
                f"{int(dup.sum())} rows share a {subject!r} x {wave!r} pair (rows "
                f"{format_values(data.index[dup])}); expected one row per participant x wave."
            )
    arms = _order(data[arm], first_arms)
    waves = _order(data[wave])
    frame = pd.DataFrame(
        {"arm": data[arm].to_numpy(), "wave": data[wave].to_numpy(), "y": y.to_numpy(float)}
    )
    agg = frame.groupby(["arm", "wave"], observed=True, sort=False)["y"].agg(
        n="count", mean="mean", sd="std"
    )
    grid = pd.MultiIndex.from_product([arms, waves], names=["arm", "wave"])
    agg = agg.reindex(grid)
    n = agg["n"].fillna(0).to_numpy(dtype=float)
    mean = agg["mean"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = t_interval(mean, agg["sd"].to_numpy(float) / np.sqrt(n), n - 1, conf_level)
    table = agg.reset_index()[["arm", "wave"]]
    table["n"] = n
    table["mean"] = mean
    table["conf_low"] = low
    table["conf_high"] = high
    table["statistic"] = "mean"
    return table, arms, waves


def _mmrm_table(result: Any, first_arms: Sequence[Hashable]) -> tuple[pd.DataFrame, list, list]:
    ls = result.lsmeans
    check_columns(
        ls,
        ["arm", "visit", "estimate", "conf_low", "conf_high", "n_obs"],
        name="result.lsmeans",
        expected="the adjusted means of an MmrmResult",
    )
    arms = [a for a in first_arms if a in set(ls["arm"])]
    arms += [a for a in (result.treated, result.control) if a not in arms]
    waves = list(result.visits)
    table = pd.DataFrame(
        {
            "arm": ls["arm"].to_numpy(),
            "wave": ls["visit"].to_numpy(),
            "n": ls["n_obs"].to_numpy(dtype=float),
            "mean": ls["estimate"].to_numpy(dtype=float),
            "conf_low": ls["conf_low"].to_numpy(dtype=float),
            "conf_high": ls["conf_high"].to_numpy(dtype=float),
        }
    )
    table["statistic"] = "adjusted mean (MMRM)"
    grid = pd.MultiIndex.from_product([arms, waves], names=["arm", "wave"])
    table = table.set_index(["arm", "wave"]).reindex(grid).reset_index()
    table["n"] = table["n"].fillna(0)
    table["statistic"] = "adjusted mean (MMRM)"
    return table, arms, waves


def _check_crossover(
    crossover: Any, arms: Sequence[Hashable], waves: Sequence[Hashable]
) -> dict[Hashable, tuple[Hashable, Hashable]]:
    if crossover is None:
        return {}
    if not isinstance(crossover, Mapping):
        raise TypeError(
            "`crossover` must be a mapping arm -> (start_wave, end_wave), e.g. "
            "{'immediate': ('baseline', 'month3'), 'delayed': ('month3', 'month6')}; "
            f"got {crossover!r}."
        )
    out: dict[Hashable, tuple[Hashable, Hashable]] = {}
    for a, span in crossover.items():
        if a not in arms:
            raise ValueError(
                f"`crossover` names arm {a!r}, which is not in the data; arms: {list(arms)}."
                + did_you_mean(a, arms)
            )
        if isinstance(span, str) or not isinstance(span, Sequence) or len(span) != 2:
            raise TypeError(
                f"`crossover[{a!r}]` must be a pair (start_wave, end_wave); got {span!r}."
            )
        start, end = span
        for w in (start, end):
            if w not in waves:
                raise ValueError(
                    f"`crossover[{a!r}]` names wave {w!r}, which is not in the data; "
                    f"waves: {list(waves)}."
                )
        if list(waves).index(start) >= list(waves).index(end):
            raise ValueError(
                f"`crossover[{a!r}]` = {span!r}: the start wave must come before the end wave "
                f"(wave order {list(waves)})."
            )
        out[a] = (start, end)
    return out


_SUMMARY_COLUMNS = ("outcome", "arm", "wave", "n", "mean", "conf_low", "conf_high")


def _is_summary(data: Any, subject: str | None) -> bool:
    """A table of means already computed (and released): one row per outcome x arm x wave."""
    return (
        isinstance(data, pd.DataFrame)
        and all(c in data.columns for c in _SUMMARY_COLUMNS)
        and (subject is None or subject not in data.columns)
    )


def _summary_table(
    data: pd.DataFrame, outcome: str | None, arm_order: Sequence[Hashable]
) -> tuple[pd.DataFrame, list[Any], list[Any]]:
    from coaching_trials.release.core import is_hidden

    if outcome is None:
        outs = list(pd.unique(data["outcome"]))
        if len(outs) != 1:
            raise ValueError(f"`outcome` must name one of {outs}.")
        outcome = outs[0]
    part = data[data["outcome"] == outcome]
    if not len(part):
        outs = [str(o) for o in pd.unique(data["outcome"])]
        raise ValueError(
            f"`outcome` {outcome!r} has no rows; the table has {outs}."
            + did_you_mean(outcome, outs)
        )
    arms = [a for a in arm_order if a in set(part["arm"])]
    arms += [a for a in pd.unique(part["arm"]) if a not in arms]
    waves = list(pd.unique(part["wave"]))
    hidden = part[["n", "mean"]].map(is_hidden).any(axis=1)
    table = pd.DataFrame(
        {
            "arm": part["arm"].to_numpy(),
            "wave": part["wave"].to_numpy(),
            "n": pd.to_numeric(part["n"].where(~hidden), errors="coerce").to_numpy(),
            "mean": pd.to_numeric(part["mean"].where(~hidden), errors="coerce").to_numpy(),
            "conf_low": pd.to_numeric(part["conf_low"].where(~hidden), errors="coerce").to_numpy(),
            "conf_high": pd.to_numeric(
                part["conf_high"].where(~hidden), errors="coerce"
            ).to_numpy(),
            "statistic": "mean",
            "_hidden": hidden.to_numpy(),
        }
    )
    order = {a: i for i, a in enumerate(arms)}
    table = table.sort_values("arm", key=lambda s: s.map(order), kind="stable")
    table = table.reset_index(drop=True)
    table["_hidden"] = table["_hidden"].astype(bool)
    return table, arms, waves


def trajectory_table(
    data: Any,
    *,
    outcome: str | None = None,
    arm: str = "arm",
    wave: str = "wave",
    subject: str | None = "participant_id",
    conf_level: float = 0.95,
    min_cell: int | None = None,
    arm_order: Sequence[Hashable] = (),
) -> pd.DataFrame:
    """The numbers behind :func:`plot_trajectories`: one row per arm x wave.

    Columns ``arm, wave, x, n, n_label, mean, conf_low, conf_high, suppressed, statistic``.
    Means use every non-missing value at the wave (all available data); the interval is
    ``mean +/- t(conf, n - 1) * sd / sqrt(n)``. A cell with ``n < min_cell`` is marked
    ``suppressed`` and its ``n``, mean and interval are blanked (``n_label`` ``"<k"``).
    ``data`` may be long responses, a :class:`~coaching_trials.DelayedInterventionTrial` or an
    :class:`~coaching_trials.MmrmResult` (its ``lsmeans``: adjusted means, ``n`` = observations).
    ``arm_order`` lists arms to put first (the rest follow in categorical / sorted order).

    Examples
    --------
    >>> import coaching_trials as ct
    >>> ex = ct.load_example("delayed_intervention")
    >>> scored = ct.score(ex.responses, "pfi")
    >>> tab = trajectory_table(scored, outcome="pfi_burnout", arm_order=["immediate"])
    >>> tab[["arm", "wave", "n"]].head(3)
             arm      wave   n
    0  immediate  baseline  67
    1  immediate    month3  61
    2  immediate    month6  60
    """
    conf_level = check_conf_level(conf_level)
    min_cell = check_min_cell(min_cell)
    if _is_mmrm(data):
        table, arms, waves = _mmrm_table(data, arm_order)
    elif _is_summary(data, subject):
        table, arms, waves = _summary_table(data, outcome, arm_order)
    else:
        if _is_trial(data):
            design = data.design
            arm, wave, subject = design["arm"], design["wave"], design["subject"]
            arm_order = list(arm_order) or list(data.arms)
            data = data.responses
        if not isinstance(outcome, str):
            raise TypeError(f"`outcome` must be a column name (str); got {outcome!r}.")
        table, arms, waves = _raw_table(
            data,
            outcome=outcome,
            arm=arm,
            wave=wave,
            subject=subject,
            conf_level=conf_level,
            first_arms=arm_order,
        )
    n_arms = len(arms)
    offsets = {a: (i - (n_arms - 1) / 2) * 0.08 for i, a in enumerate(arms)}
    table["x"] = [
        waves.index(w) + offsets[a] for a, w in zip(table["arm"], table["wave"], strict=True)
    ]
    released = table.pop("_hidden") if "_hidden" in table else None
    hide = suppressed(table["n"], min_cell) | (table["n"].to_numpy() == 0)
    table["suppressed"] = suppressed(table["n"], min_cell)
    table["n_label"] = [count_label(v, min_cell) for v in table["n"]]
    if released is not None:  # a released table: its hidden cells stay hidden
        hide = hide | released.to_numpy()
        table["suppressed"] = table["suppressed"] | released.to_numpy()
        table.loc[released.to_numpy(), "n_label"] = "hidden"
    table.loc[hide, ["mean", "conf_low", "conf_high"]] = np.nan
    n = table["n"].astype("Int64")
    table["n"] = n.mask(table["suppressed"])
    return table[list(TRAJECTORY_COLUMNS)].reset_index(drop=True)


def _default_crossover(data: Any) -> dict[Hashable, tuple[Hashable, Hashable]] | None:
    """A trial's coaching periods: the immediate arm from baseline to the endpoint, the
    delayed arm from the endpoint to the first follow-up."""
    default_cross = None
    if _is_trial(data):
        d = data.design
        fus = tuple(d.get("followup_waves") or ())
        default_cross = {d["immediate"]: (d["baseline_wave"], d["endpoint_wave"])}
        if fus:
            default_cross[d["delayed"]] = (d["endpoint_wave"], fus[0])
    return default_cross


def _set_y_range(
    ax: Axes, table: pd.DataFrame, full: tuple[float, float], *, zoom: bool, n_strips: int
) -> tuple[tuple[float, float], bool]:
    """The instrument's whole range (or the data, zoomed) below the coaching strips; returns
    the data range drawn and whether it is zoomed."""
    vals = table[["mean", "conf_low", "conf_high"]].to_numpy(float)
    vals = vals[np.isfinite(vals)]
    zoomed = bool(zoom) or not all(np.isfinite(full))
    if zoomed:
        lo_y, hi_y = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 1.0)
        pad = 0.08 * (hi_y - lo_y or 1.0)
        lo_y, hi_y = lo_y - pad, hi_y + pad
        ylim = (lo_y, hi_y)
    else:
        lo_y, hi_y = float(full[0]), float(full[1])
        ylim = (lo_y, hi_y)
        ax.set_yticks(np.linspace(lo_y, hi_y, 5))
    if n_strips:
        frac = _STRIP_TOP - n_strips * (_STRIP_H + _STRIP_GAP) - 0.02
        hi_y = lo_y + (hi_y - lo_y) / frac
    ax.set_ylim(lo_y, hi_y)
    if zoomed and all(np.isfinite(full)):
        italic_note(
            ax,
            f"y axis zoomed (full range {full[0]:g}\N{EN DASH}{full[1]:g})",
            xy=(0, 1),
            xytext=(0, 4),
            va="bottom",
            gid="ct-zoomed",
        )
    return ylim, zoomed


def _draw_coaching_strips(
    ax: Axes,
    spans: Mapping[Hashable, tuple[Hashable, Hashable]],
    waves: list[Hashable],
    palette: Mapping[Hashable, str],
) -> None:
    """Each arm's coaching period: a shaded band and a labelled strip at the top."""
    for i, (a, (start, end)) in enumerate(spans.items()):
        x0, x1 = waves.index(start), waves.index(end)
        y1 = _STRIP_TOP - i * (_STRIP_H + _STRIP_GAP)
        ax.axvspan(x0, x1, color=palette[a], alpha=0.07, linewidth=0, zorder=0)
        ax.axvspan(x0, x1, ymin=y1 - _STRIP_H, ymax=y1, color=palette[a], alpha=0.25, lw=0)
        ax.text(
            (x0 + x1) / 2,
            y1 - _STRIP_H / 2,
            f"{a} arm coached",
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="center",
            fontsize=8.5,
            color=NEUTRAL,
        )


def _draw_counts(
    ax: Axes,
    table: pd.DataFrame,
    arms: list[Hashable],
    waves: list[Hashable],
    palette: Mapping[Hashable, str],
) -> None:
    """The n per point, as a "numbers observed" table under the wave labels."""
    for i, a in enumerate(arms):
        t = table[table["arm"] == a]
        dy = -24 - 12 * i
        ax.annotate(
            f"n {a}",
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(-6, dy),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=8,
            color=palette[a],
        )
        for w, lab in zip(t["wave"], t["n_label"], strict=True):
            ax.annotate(
                lab,
                xy=(waves.index(w), 0),
                xycoords=("data", "axes fraction"),
                xytext=(0, dy),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=8,
                color=palette[a],
            )


def plot_trajectories(
    data: Any,
    *,
    outcome: str | None = None,
    arm: str = "arm",
    wave: str = "wave",
    subject: str | None = "participant_id",
    conf_level: float = 0.95,
    ax: Axes | None = None,
    min_cell: int | None = None,
    crossover: Mapping[Hashable, tuple[Hashable, Hashable]] | None = None,
    colors: Mapping[Hashable, str] | None = None,
    zoom: bool = False,
    label: str | None = None,
) -> Axes:
    """Mean outcome per arm at each wave, with confidence intervals and coaching periods.

    Parameters
    ----------
    data : pandas.DataFrame, DelayedInterventionTrial or MmrmResult
        Long responses (one row per participant x wave), a trial (its responses, columns and
        coaching periods are used), or an MMRM result (its adjusted means are drawn).
    outcome : str
        Scored outcome column (not needed for an MmrmResult).
    arm, wave, subject : str
        Column names; ``subject`` is only used to check for duplicate participant x wave rows
        (``None`` skips the check). Waves are drawn in their categorical order (else in
        natural sort order: ``month3`` before ``month12``); arms in the order of
        ``crossover`` (or the trial's design), then in categorical / sorted order. Make the
        columns ordered Categoricals to control the order, and with it the arm colours.
    conf_level : float
        Level of the t-based interval of each mean.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure otherwise.
    min_cell : int, optional
        Cells with fewer observations are not drawn and their n is shown as ``"<k"``.
    crossover : mapping arm -> (start_wave, end_wave), optional
        When each arm is coached; drawn as a labelled strip and a light band. For a trial the
        default is the design (immediate: baseline -> endpoint; delayed: endpoint -> first
        follow-up); pass ``{}`` to draw none.
    colors : mapping arm -> colour, optional
        Override the Okabe-Ito arm colours.
    zoom : bool
        False (default): the y axis spans the instrument's whole score range (from the
        registry, e.g. 0-4 for a PFI item mean), so a small change looks small. True: the
        axis spans the data, and the figure says "y axis zoomed". Outcomes the registry does
        not know are always drawn on the data's range.
    label : str, optional
        The y-axis name; default the outcome's display name and scale from the registry
        (:func:`coaching_trials.outcome_info`), else the column name.

    Returns
    -------
    matplotlib.axes.Axes
        With ``ax.ct_data``: the table of :func:`trajectory_table` that was drawn, and
        ``ax.ct_ylim``: ``(low, high, zoomed)``.

    Examples
    --------
    >>> import coaching_trials as ct
    >>> ex = ct.load_example("delayed_intervention")
    >>> scored = ct.score(ex.responses, "pfi")
    >>> ax = plot_trajectories(scored, outcome="pfi_burnout",
    ...     crossover={"immediate": ("baseline", "month3"), "delayed": ("month3", "month6")})
    >>> [ln.get_label() for ln in ax.lines if not ln.get_label().startswith("_")]
    ['immediate', 'delayed']
    >>> int(ax.ct_data["suppressed"].sum())
    0
    >>> ax.get_ylabel().splitlines()[0], ax.ct_ylim
    ('Burnout, item mean (0-4)', (0.0, 4.0, False))
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if crossover is None:
        crossover = _default_crossover(data)
    first = list(crossover) if isinstance(crossover, Mapping) else []
    table = trajectory_table(
        data,
        outcome=outcome,
        arm=arm,
        wave=wave,
        subject=subject,
        conf_level=conf_level,
        min_cell=min_cell,
        arm_order=first,
    )
    arms = list(pd.unique(table["arm"]))
    waves = list(pd.unique(table["wave"]))
    spans = _check_crossover(crossover, arms, waves)
    palette = arm_colors(arms, colors)
    ax = new_axes(ax, figsize=(7.5, 4.8))
    style_axes(ax)

    for a in arms:
        t = table[table["arm"] == a]
        x, m = t["x"].to_numpy(float), t["mean"].to_numpy(float)
        lo, hi = t["conf_low"].to_numpy(float), t["conf_high"].to_numpy(float)
        ax.plot(x, m, marker="o", color=palette[a], label=str(a), linewidth=2, markersize=6)
        whiskers(ax, x, m, lo, hi, capsize=4, color=palette[a], linewidth=1.5, label="_nolegend_")

    from coaching_trials.instruments.labels import outcome_info

    name = outcome if outcome is not None else getattr(data, "outcome", "")
    info = outcome_info(str(name))
    ylim, zoomed = _set_y_range(
        ax, table, (info["low"], info["high"]), zoom=zoom, n_strips=len(spans)
    )
    _draw_coaching_strips(ax, spans, waves, palette)

    _draw_counts(ax, table, arms, waves, palette)
    ax.set_xticks(range(len(waves)), [str(w) for w in waves])
    ax.set_xlim(-0.5, len(waves) - 0.5)
    ax.set_xlabel(str(wave if not _is_mmrm(data) else "visit"), labelpad=14 + 12 * len(arms))
    kind = table["statistic"].iloc[0] if len(table) else "mean"
    if label is None:
        label = f"{info['short_label']}, {info['unit']}" if info["kind"] == "score" else str(name)
    better = {"better": "; higher is better", "worse": "; lower is better"}.get(
        str(info["higher_is"]), ""
    )
    ci = percent_text(check_conf_level(conf_level))
    ax.set_ylabel(f"{label}\n{kind} ({ci} CI){better}")
    ax.ct_ylim = (*ylim, zoomed)  # type: ignore[attr-defined]
    ax.legend(title=str(arm), loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.ct_data = table  # type: ignore[attr-defined]
    return ax
