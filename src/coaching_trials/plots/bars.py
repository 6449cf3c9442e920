"""Bar charts: per-arm percent change of means, and responder proportions."""

from __future__ import annotations

import textwrap
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from coaching_trials.plots._style import (
    NEUTRAL,
    arm_colors,
    check_columns,
    check_min_cell,
    count_label,
    italic_note,
    new_axes,
    percent_text,
    style_axes,
    suppressed,
    whiskers,
)

__all__ = ["nnt_sentence", "percent_change_table", "plot_percent_change", "plot_responders"]

_MINUS = "\N{MINUS SIGN}"


def _signed(x: float, digits: int = 1, suffix: str = "%") -> str:
    if not np.isfinite(x):
        return "NA"
    return f"{x:+.{digits}f}{suffix}".replace("-", _MINUS)


def _numbers(column: pd.Series) -> np.ndarray:
    """Numbers of a column; hidden cells of a released table (``"[hidden]"``) become NaN."""
    return pd.to_numeric(column, errors="coerce").to_numpy(float)


def _hidden(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Rows of a released table with a hidden cell among ``columns``."""
    from coaching_trials.release.core import is_hidden

    return frame[list(columns)].map(is_hidden).any(axis=1).to_numpy(bool)


def percent_change_table(
    descriptives: Any,
    *,
    outcomes: Sequence[str] | str | None = None,
    min_cell: int | None = None,
) -> pd.DataFrame:
    """The numbers behind :func:`plot_percent_change`: one row per outcome x arm.

    Accepts the ``descriptives`` table of :meth:`DelayedInterventionTrial.compare` (or the
    comparison itself), the ``per_arm`` table of :func:`coaching_trials.percent_change` (or
    the result itself). Returns ``outcome, arm, n, n_label, percent_change, conf_low,
    conf_high, suppressed``; ``n`` is the number of participants behind the percent change
    (paired complete cases); a suppressed row has its numbers blanked. A released table's
    hidden cells (``"[hidden]"``) are accepted: a row whose n or percent change is hidden is
    not drawn and its n is labelled ``"hidden"``.

    Examples
    --------
    >>> import pandas as pd
    >>> per_arm = pd.DataFrame({"arm": ["a", "b"], "n": [30, 4], "percent_change": [-20.0, 5.0],
    ...                         "conf_low": [-30.0, -8.0], "conf_high": [-10.0, 18.0]})
    >>> percent_change_table(per_arm, min_cell=5)[["arm", "n_label", "percent_change"]]
      arm n_label  percent_change
    0   a      30           -20.0
    1   b      <5             NaN
    """
    min_cell = check_min_cell(min_cell)
    outcome_name = None
    if hasattr(descriptives, "descriptives") and not isinstance(descriptives, pd.DataFrame):
        descriptives = descriptives.descriptives
    elif hasattr(descriptives, "per_arm") and not isinstance(descriptives, pd.DataFrame):
        outcome_name = getattr(descriptives, "outcome", None)
        descriptives = descriptives.per_arm
    if not isinstance(descriptives, pd.DataFrame):
        raise TypeError(
            "`descriptives` must be the `descriptives` table of DelayedInterventionTrial.compare "
            "or the `per_arm` table of percent_change (or those results); got "
            f"{type(descriptives).__name__}."
        )
    frame = descriptives
    if "percent_change_conf_low" in frame.columns:  # trial descriptives
        check_columns(
            frame,
            [
                "outcome",
                "arm",
                "percent_change",
                "percent_change_conf_low",
                "percent_change_conf_high",
            ],
            name="descriptives",
            expected="the descriptives table of DelayedInterventionTrial.compare",
        )
        ncol = "percent_change_n" if "percent_change_n" in frame.columns else "endpoint_n"
        if ncol not in frame.columns:
            raise ValueError(
                "`descriptives` needs the number of participants per arm: column "
                "'percent_change_n' (or 'endpoint_n')."
            )
        out = pd.DataFrame(
            {
                "outcome": frame["outcome"].astype(str).to_numpy(),
                "arm": frame["arm"].to_numpy(),
                "n": _numbers(frame[ncol]),
                "percent_change": _numbers(frame["percent_change"]),
                "conf_low": _numbers(frame["percent_change_conf_low"]),
                "conf_high": _numbers(frame["percent_change_conf_high"]),
            }
        )
        hidden = _hidden(frame, (ncol, "percent_change"))
    else:
        check_columns(
            frame,
            ["arm", "n", "percent_change", "conf_low", "conf_high"],
            name="descriptives",
            expected="the per_arm table of percent_change, or the compare() descriptives",
        )
        if "outcome" in frame.columns:
            name = frame["outcome"].astype(str).to_numpy()
        else:
            name = np.full(len(frame), str(outcome_name or "outcome"), dtype=object)
        out = pd.DataFrame(
            {
                "outcome": name,
                "arm": frame["arm"].to_numpy(),
                "n": _numbers(frame["n"]),
                "percent_change": _numbers(frame["percent_change"]),
                "conf_low": _numbers(frame["conf_low"]),
                "conf_high": _numbers(frame["conf_high"]),
            }
        )
        hidden = _hidden(frame, ("n", "percent_change"))
    out["_hidden"] = hidden
    if outcomes is not None:
        wanted = [outcomes] if isinstance(outcomes, str) else list(outcomes)
        unknown = [o for o in wanted if o not in set(out["outcome"])]
        if unknown:
            raise ValueError(
                f"`outcomes` {unknown} are not in the table; available: "
                f"{list(pd.unique(out['outcome']))}."
            )
        pos = {o: i for i, o in enumerate(wanted)}
        out = out[out["outcome"].isin(wanted)].copy()
        out["_o"] = out["outcome"].map(pos)
        out = out.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)
    released = out.pop("_hidden").to_numpy(bool)
    small = suppressed(out["n"], min_cell) | released
    out["suppressed"] = small
    out["n_label"] = [
        "hidden" if h else count_label(v, min_cell) for v, h in zip(out["n"], released, strict=True)
    ]
    out.loc[small, ["percent_change", "conf_low", "conf_high"]] = np.nan
    out["n"] = out["n"].astype("Int64").mask(small)
    cols = [
        "outcome",
        "arm",
        "n",
        "n_label",
        "percent_change",
        "conf_low",
        "conf_high",
        "suppressed",
    ]
    return out[cols].reset_index(drop=True)


def plot_percent_change(
    descriptives: Any,
    *,
    ax: Axes | None = None,
    outcomes: Sequence[str] | str | None = None,
    min_cell: int | None = None,
    colors: Mapping[Hashable, str] | None = None,
    end: str | None = None,
    labels: Mapping[str, str] | bool | None = None,
) -> Axes:
    """Grouped bars of each arm's percent change of the mean, with confidence intervals.

    Parameters
    ----------
    descriptives : pandas.DataFrame or result
        The ``descriptives`` of :meth:`DelayedInterventionTrial.compare` (or the comparison),
        or the ``per_arm`` table of :func:`coaching_trials.percent_change` (or its result).
    ax : matplotlib.axes.Axes, optional
    outcomes : sequence of str, optional
        Which outcomes to show and in what order (default: all, in table order).
    min_cell : int, optional
        Arms with fewer participants are not drawn; their n is shown as ``"<k"``.
    colors : mapping arm -> colour, optional
    end : str, optional
        The time point the change runs to, named on the axis ("baseline to month3"); default
        the wave of a :meth:`DelayedInterventionTrial.compare` result.
    labels : mapping, False or None
        Outcome labels: default the registry's short names for scored columns; a mapping
        column -> label overrides them; False keeps the column names.

    Returns
    -------
    matplotlib.axes.Axes
        With ``ax.ct_data``: the table of :func:`percent_change_table` that was drawn (and the
        bar positions ``x`` and display ``label``), and ``ax.ct_caption``: the note drawn under
        the figure saying the bars are descriptive.

    Notes
    -----
    Percent change is descriptive (``100 * (mean_end / mean_base - 1)`` per arm on paired
    complete cases); the randomized effect is the ANCOVA/MMRM difference (see
    :func:`plot_forest`). Each bar carries its value at the bar end and its n under the axis.

    Examples
    --------
    >>> import coaching_trials as ct
    >>> ex = ct.load_example("delayed_intervention")
    >>> trial = ct.DelayedInterventionTrial(ct.score(ex.responses, "pfi"), **ex.design)
    >>> res = trial.compare(["pfi_burnout", "pfi_pf"])
    >>> ax = plot_percent_change(res)
    >>> len(ax.patches)
    4
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    from coaching_trials.instruments.labels import outcome_info

    if end is None:
        eff = getattr(descriptives, "effects", None)
        if isinstance(eff, pd.DataFrame) and "wave" in eff.columns:
            waves = pd.unique(eff["wave"].dropna())
            end = str(waves[0]) if len(waves) == 1 else None
    if labels is not None and labels is not False and not isinstance(labels, Mapping):
        raise TypeError(f"`labels` must be a mapping, False or None; got {labels!r}.")
    table = percent_change_table(descriptives, outcomes=outcomes, min_cell=min_cell)
    given = dict(labels) if isinstance(labels, Mapping) else {}
    table["label"] = [
        given.get(o, o if labels is False else outcome_info(o)["short_label"])
        for o in table["outcome"]
    ]
    outs = list(pd.unique(table["outcome"]))
    arms = list(pd.unique(table["arm"]))
    palette = arm_colors(arms, colors)
    ax = new_axes(ax, figsize=(max(5.0, 1.6 * len(outs) + 2.5), 4.8))
    style_axes(ax)
    width = 0.8 / max(len(arms), 1)
    table["x"] = [
        outs.index(o) + (arms.index(a) - (len(arms) - 1) / 2) * width
        for o, a in zip(table["outcome"], table["arm"], strict=True)
    ]
    vals = table[["percent_change", "conf_low", "conf_high"]].to_numpy(float)
    finite = vals[np.isfinite(vals)]
    span = float(np.ptp(np.append(finite, 0.0))) or 10.0
    gap = 0.03 * span
    for a in arms:
        t = table[table["arm"] == a]
        pc = t["percent_change"].to_numpy(float)
        lo, hi = t["conf_low"].to_numpy(float), t["conf_high"].to_numpy(float)
        x = t["x"].to_numpy(float)
        drawn = np.isfinite(pc)
        ax.bar(x[drawn], pc[drawn], width=width * 0.92, color=palette[a], label=str(a), alpha=0.9)
        whiskers(ax, x, pc, lo, hi, drawn, capsize=3)
        for xi, v, l_, h_, nl, d in zip(x, pc, lo, hi, t["n_label"], drawn, strict=True):
            if d:
                tip = (h_ if np.isfinite(h_) else v) if v >= 0 else (l_ if np.isfinite(l_) else v)
                ax.text(
                    xi,
                    tip + (gap if v >= 0 else -gap),
                    _signed(v),
                    ha="center",
                    va="bottom" if v >= 0 else "top",
                    fontsize=8.5,
                    color=NEUTRAL,
                    gid="ct-value",
                )
            else:
                ax.text(
                    xi,
                    gap,
                    "not shown",
                    ha="center",
                    va="bottom",
                    fontsize=7.5,
                    color=NEUTRAL,
                    rotation=90,
                    gid="ct-value",
                )
            ax.annotate(
                f"n{nl}" if nl.startswith("<") else f"n={nl}",
                xy=(xi, 0),
                xycoords=("data", "axes fraction"),
                xytext=(0, -4),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=7.5,
                color=palette[a],
                gid="ct-n",
            )
    ax.axhline(0, color=NEUTRAL, linewidth=1)
    lo_y = min(finite.min() if finite.size else 0.0, 0.0) - 0.18 * span
    hi_y = max(finite.max() if finite.size else 0.0, 0.0) + 0.18 * span
    ax.set_ylim(lo_y, hi_y)
    shown = dict(zip(table["outcome"], table["label"], strict=True))
    ax.set_xticks(range(len(outs)), [shown[o] for o in outs])
    ax.set_xlim(-0.6, len(outs) - 0.4)
    ax.tick_params(axis="x", length=0, pad=16)
    span_text = f"baseline to {end}" if end else "from baseline"
    ax.set_ylabel(f"Percent change of the arm mean,\n{span_text} (%)")
    caption = (
        f"Each bar is one arm's own change ({span_text}): descriptive, not the effect of "
        "coaching (it includes change that happens without coaching). The effect is the "
        "randomized between-arm difference (forest plot)."
    )
    italic_note(
        ax,
        "\n".join(textwrap.wrap(caption, 80)),
        xy=(0, 0),
        xytext=(0, -34),
        va="top",
        gid="ct-caption",
    )
    ax.ct_caption = caption  # type: ignore[attr-defined]
    handles = [Patch(facecolor=palette[a], label=str(a)) for a in arms]
    ax.legend(
        handles=handles,
        title="arm (descriptive)",
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
    )
    ax.ct_data = table  # type: ignore[attr-defined]
    return ax


def responders_table(result: Any, *, min_cell: int | None = None) -> pd.DataFrame:
    """The numbers behind :func:`plot_responders`: one row per arm.

    ``arm, n, events, proportion, conf_low, conf_high, n_label, events_label, suppressed``.
    An arm is suppressed when its n, its number of events or of non-events is below
    ``min_cell`` (the proportion would reveal the small count).
    """
    min_cell = check_min_cell(min_cell)
    props = getattr(result, "proportions", None)
    if not isinstance(props, pd.DataFrame):
        raise TypeError(
            "`result` must be a responders result (coaching_trials.responders) with a "
            f"`proportions` table; got {type(result).__name__}."
        )
    check_columns(
        props,
        ["arm", "n", "events", "proportion", "conf_low", "conf_high"],
        name="result.proportions",
        expected="the per-arm table of a responders result",
    )
    out = props[["arm", "n", "events", "proportion", "conf_low", "conf_high"]].copy()
    n = out["n"].to_numpy(float)
    ev = out["events"].to_numpy(float)
    small = suppressed(n, min_cell) | suppressed(ev, min_cell) | suppressed(n - ev, min_cell)
    out["suppressed"] = small
    out["n_label"] = [count_label(v, min_cell) for v in n]
    out["events_label"] = [
        f"<{min_cell}" if s else count_label(v, min_cell) for v, s in zip(ev, small, strict=True)
    ]
    out.loc[small, ["proportion", "conf_low", "conf_high"]] = np.nan
    out["n"] = out["n"].astype("Int64").mask(suppressed(n, min_cell))
    out["events"] = out["events"].astype("Int64").mask(small)
    return out.reset_index(drop=True)


def _event_text(result: Any) -> str:
    """The responder event in words: the outcome column replaced by its display name."""
    from coaching_trials.instruments.labels import outcome_info

    event = str(getattr(result, "event", "the event")).replace("__", " at ")
    outcome = getattr(result, "outcome", None)
    if isinstance(outcome, str) and outcome in event:
        info = outcome_info(outcome)
        if info["kind"] == "score":
            event = event.replace(outcome, info["short_label"].lower() + " score")
    return event


def nnt_sentence(result: Any, *, who: str = "participants") -> str:
    """The number needed to treat in plain words (``""`` when it cannot be stated).

    E.g. "For about every 4 participants coached, 1 more has burnout score < 1.33 at
    month3 (NNTB 4.1, 95% CI NNTB 2.5 to 14.0)." followed by what NNTB means.
    """
    nnt = float(getattr(result, "nnt", np.nan))
    label = getattr(result, "nnt_label", None)
    est = float(getattr(result, "estimate", np.nan))
    if not (label and np.isfinite(nnt) and np.isfinite(est)) or est == 0:
        return ""
    k = max(1, int(round(nnt)))
    more = "more" if est > 0 else "fewer"
    level = percent_text(float(getattr(result, "conf_level", 0.95)))
    ci = getattr(result, "nnt_conf_text", "")
    stats_ = f"{label} {nnt:.1f}" + (f", {level} CI {ci}" if ci else "")
    meaning = (
        "NNTB: number needed to treat for one more participant to benefit"
        if label == "NNTB"
        else "NNTH: number needed to treat for one more participant to be harmed"
    )
    return (
        f"For about every {k} {who} coached, 1 {more} has {_event_text(result)} "
        f"than without coaching ({stats_}). {meaning}."
    )


def plot_responders(
    result: Any,
    *,
    ax: Axes | None = None,
    min_cell: int | None = None,
    colors: Mapping[Hashable, str] | None = None,
    who: str = "participants",
) -> Axes:
    """Proportion of responders per arm with Wilson intervals, annotated with the risk difference.

    Parameters
    ----------
    result : RespondersResult
        From :func:`coaching_trials.responders` or
        :meth:`DelayedInterventionTrial.responders`.
    ax : matplotlib.axes.Axes, optional
    min_cell : int, optional
        An arm whose n, events or non-events fall below it is not drawn; the risk difference
        is then not shown either.
    colors : mapping arm -> colour, optional
    who : str
        Who was coached, for the plain-language sentence ("physicians", "residents").

    Returns
    -------
    matplotlib.axes.Axes
        With ``ax.ct_data``: per-arm table (see :func:`responders_table`), ``ax.ct_rd``, the
        risk-difference annotation text, and ``ax.ct_nnt``, the number needed to treat in
        plain words ("For about every 4 physicians coached, 1 more ..."; both ``""`` when an
        arm is suppressed). The axis runs from 0% to 100%.

    Examples
    --------
    >>> import pandas as pd
    >>> import coaching_trials as ct
    >>> df = pd.DataFrame({"arm": ["a"] * 10 + ["b"] * 10,
    ...                    "y": [0, 1, 1, 0, 0, 0, 1, 0, 0, 0] + [1, 1, 0, 1, 1, 0, 1, 1, 0, 1]})
    >>> res = ct.responders(df, outcome="y", arm="arm", treated="a", cutpoint=1)
    >>> ax = plot_responders(res)
    >>> [round(float(p.get_height()), 2) for p in ax.patches]
    [0.3, 0.7]
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    table = responders_table(result, min_cell=min_cell)
    arms = list(table["arm"])
    palette = arm_colors(arms, colors)
    ax = new_axes(ax, figsize=(5.5, 4.8))
    style_axes(ax)
    x = np.arange(len(arms), dtype=float)
    table["x"] = x
    p = table["proportion"].to_numpy(float)
    lo, hi = table["conf_low"].to_numpy(float), table["conf_high"].to_numpy(float)
    drawn = np.isfinite(p)
    ax.bar(
        x[drawn], p[drawn], width=0.6, color=[palette[a] for a in np.array(arms)[drawn]], alpha=0.9
    )
    whiskers(ax, x, p, lo, hi, drawn, capsize=4)
    for xi, pi, hi_, d, ev, nl in zip(
        x, p, hi, drawn, table["events_label"], table["n_label"], strict=True
    ):
        if d:
            top = (hi_ if np.isfinite(hi_) else pi) + 0.02
            inside = top > 0.86  # no room above the whisker: write it inside the bar
            ax.text(
                xi + (0.0 if not inside else 0.0),
                top if not inside else min(pi, 0.97) - 0.03,
                f"{100 * pi:.0f}%\n({ev}/{nl})",
                ha="center",
                va="bottom" if not inside else "top",
                bbox=dict(facecolor="white", edgecolor="none", pad=1.0, alpha=0.85),
                fontsize=9,
                color=NEUTRAL,
                gid="ct-value",
            )
        else:
            ax.text(
                xi,
                0.02,
                f"suppressed\n(n<{min_cell})",
                ha="center",
                va="bottom",
                fontsize=8.5,
                color=NEUTRAL,
                gid="ct-value",
            )
    level = float(getattr(result, "conf_level", 0.95))
    rd_text = nnt_text = ""
    if drawn.all() and len(arms) == 2:
        est, l_, h_ = (float(getattr(result, k)) for k in ("estimate", "conf_low", "conf_high"))
        treated = getattr(result, "treated", arms[0])
        control = getattr(result, "control", arms[1])
        rd_text = (
            f"Risk difference ({treated} {_MINUS} {control}): {_signed(100 * est, 1, ' pp')}\n"
            f"{percent_text(level)} CI {_signed(100 * l_, 1, '')} to {_signed(100 * h_, 1, '')}"
        )
        nnt_label, nnt = getattr(result, "nnt_label", None), getattr(result, "nnt", np.nan)
        if nnt_label and np.isfinite(nnt):
            rd_text += f"; {nnt_label} {nnt:.1f}"
        nnt_text = nnt_sentence(result, who=who)
        ax.set_title(
            "\n".join(textwrap.wrap(nnt_text, 70) + [""] + rd_text.split("\n"))
            if nnt_text
            else rd_text,
            fontsize=9,
            color=NEUTRAL,
            loc="left",
            gid="ct-rd",
        )
    ax.set_ylim(0, 1.0)
    ax.set_yticks(np.linspace(0, 1, 6), [f"{v:.0%}" for v in np.linspace(0, 1, 6)])
    ax.set_xticks(x, [str(a) for a in arms])
    ax.set_xlim(-0.7, len(arms) - 0.3)
    ax.tick_params(axis="x", length=0)
    ax.set_ylabel(f"Proportion with {_event_text(result)}\n({percent_text(level)} Wilson CI)")
    ax.ct_data = table  # type: ignore[attr-defined]
    ax.ct_rd = rd_text  # type: ignore[attr-defined]
    ax.ct_nnt = nnt_text  # type: ignore[attr-defined]
    return ax
