"""Forest plot of rows of the effects table."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from coaching_trials._errors import one_of
from coaching_trials.plots._style import (
    NEUTRAL,
    OKABE_ITO,
    check_columns,
    check_min_cell,
    new_axes,
    percent_text,
    style_axes,
    suppressed,
)

__all__ = ["forest_table", "format_p", "plot_forest"]

_REQUIRED = ("estimate", "conf_low", "conf_high")
HEADER_WIDTH = 80
SCALES = ("raw", "standardized")
_MINUS = "\N{MINUS SIGN}"
_LEFT, _RIGHT = "\N{BLACK LEFT-POINTING TRIANGLE}", "\N{BLACK RIGHT-POINTING TRIANGLE}"


def _hidden_mask(frame: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """Rows of a released table with a hidden cell (``"[hidden]"``) among ``columns``."""
    from coaching_trials.release.core import is_hidden

    present = [c for c in columns if c in frame.columns]
    if not present:
        return np.zeros(len(frame), dtype=bool)
    return frame[present].map(is_hidden).any(axis=1).to_numpy()


def _row_labels(
    frame: pd.DataFrame, label: str, labels: Any, *, with_unit: bool = True
) -> tuple[list[str], list[Any], list[str]]:
    """Display label, direction (``higher_is``) and unit of each row.

    ``labels``: None (the registry's names for scored columns when ``label`` is
    ``"outcome"``), False (the column values as they are) or a mapping value -> label
    (values not in it get the registry's name).
    """
    from coaching_trials.instruments.labels import outcome_info

    values = frame[label].astype(str).tolist()
    outcomes = frame["outcome"].astype(str).tolist() if "outcome" in frame.columns else values
    infos = [outcome_info(o) for o in outcomes]
    direction = [i["higher_is"] for i in infos]
    units = [i["unit"] for i in infos]
    if labels is False or (labels is None and label != "outcome"):
        return values, direction, units
    if labels is not None and not isinstance(labels, Mapping):
        raise TypeError(
            f"`labels` must be a mapping value -> display label, False or None; got {labels!r}."
        )
    given = dict(labels or {})
    out = []
    for v, i in zip(values, infos, strict=True):
        if v in given:
            out.append(str(given[v]))
        elif i["kind"] == "score" and label == "outcome":
            out.append(f"{i['short_label']}, {i['unit']}" if with_unit else i["short_label"])
        else:
            out.append(v)
    return out, direction, units


def format_p(p: float) -> str:
    """p-value as text: 3 significant decimals, ``"<0.001"`` below 0.001, ``""`` when NaN.

    Examples
    --------
    >>> format_p(0.0412), format_p(0.00003), format_p(0.5)
    ('0.041', '<0.001', '0.50')
    """
    if p is None or not np.isfinite(p):
        return ""
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def _fmt(x: float, digits: int) -> str:
    return f"{x:.{digits}f}".replace("-", "\N{MINUS SIGN}") if np.isfinite(x) else "NA"


def _as_frame(effects: Any, scale: str = "raw") -> pd.DataFrame:
    if scale == "standardized":
        std = getattr(effects, "standardized", None)
        if isinstance(std, pd.DataFrame):
            std = std.copy()
            eff = getattr(effects, "effects", None)
            if "estimand" not in std.columns and isinstance(eff, pd.DataFrame):
                found = pd.unique(eff.get("estimand", pd.Series(dtype=object)).dropna())
                if len(found) == 1:  # one randomized comparison: d_ppc2 estimates the same
                    std["estimand"] = f"{found[0]} (Morris d_ppc2)"
            return std
        if not isinstance(effects, pd.DataFrame):
            raise TypeError(
                "`scale='standardized'` needs a table of standardized effects (e.g. "
                "`TrialComparison.standardized`: outcome, estimate, conf_low, conf_high) or a "
                f"result with a `standardized` table; got {type(effects).__name__}."
            )
    if isinstance(effects, pd.DataFrame):
        return effects.copy()
    to_frame = getattr(effects, "to_frame", None)
    if callable(to_frame):
        frame = to_frame()
        if isinstance(frame, pd.DataFrame):
            return frame
    raise TypeError(
        "`effects` must be an effects table (pandas DataFrame) or a result with `to_frame()`; "
        f"got {type(effects).__name__}."
    )


def forest_table(
    effects: Any,
    *,
    label: str = "outcome",
    sort: bool = False,
    digits: int = 2,
    min_cell: int | None = None,
    labels: Mapping[str, str] | bool | None = None,
    scale: str = "raw",
) -> pd.DataFrame:
    """The rows drawn by :func:`plot_forest`, in drawing order (top first).

    Columns: ``group`` (the estimand), ``label``, ``estimate``, ``conf_low``, ``conf_high``,
    ``p_value``, ``p_adjusted``, ``text`` (``"est (low to high)"``), ``p_text``, ``drawn``,
    ``suppressed``, ``y`` (the row's position; group headers take rows of their own) and
    ``header`` (the wrapped estimand header drawn above the row that starts a group),
    ``column`` (the value of the ``label`` column), ``higher_is`` and ``unit`` (from the
    instrument registry, None / ``""`` for unknown outcomes) and ``favours`` (which side of
    the null favours the treated arm: ``"lower"``, ``"higher"`` or ``""``).
    Scored outcome columns are labelled with their display names (see
    :func:`coaching_trials.outcome_info`) unless ``labels`` says otherwise.
    Labels that repeat within a group get the ``outcome``, ``wave``, ``contrast`` or
    ``analysis`` that tells them apart appended. Rows of a released table whose estimate or
    interval is hidden (``"[hidden]"``) are kept as "not shown".

    Examples
    --------
    >>> import pandas as pd
    >>> tab = forest_table(pd.DataFrame({"outcome": ["a", "b"], "estimate": [0.5, -0.2],
    ...                                  "conf_low": [0.1, -0.6], "conf_high": [0.9, 0.2]}))
    >>> tab["text"].tolist()
    ['0.50 (0.10 to 0.90)', '−0.20 (−0.60 to 0.20)']
    >>> forest_table(pd.DataFrame({"outcome": ["pfi_burnout"], "estimate": [-0.4],
    ...     "conf_low": [-0.6], "conf_high": [-0.2]}))[["label", "favours"]].iloc[0].tolist()
    ['Burnout, item mean (0-4)', 'lower']
    """
    if scale not in SCALES:
        raise one_of("scale", scale, SCALES)
    frame = _as_frame(effects, scale)
    check_columns(
        frame,
        [label, *_REQUIRED],
        name="effects",
        expected="an effects table: label, estimate, conf_low, conf_high",
    )
    min_cell = check_min_cell(min_cell)
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"`digits` must be a non-negative integer; got {digits!r}.")
    n = len(frame)
    col = lambda c: (  # noqa: E731
        pd.to_numeric(frame[c], errors="coerce").to_numpy(float)
        if c in frame.columns
        else np.full(n, np.nan)
    )
    if "estimand" in frame.columns:
        group = frame["estimand"].astype(object).where(frame["estimand"].notna(), "")
    else:
        group = pd.Series([""] * n, index=frame.index, dtype=object)
    shown, direction, units = _row_labels(frame, label, labels, with_unit=scale == "raw")
    if scale == "standardized":
        units = ["SD units"] * n
    hidden = _hidden_mask(frame, ("estimate", "conf_low", "conf_high"))
    out = pd.DataFrame(
        {
            "group": group.astype(str).to_numpy(),
            "label": shown,
            "column": frame[label].astype(str).to_numpy(),
            "higher_is": direction,
            "unit": units,
            "favours": [{"better": "higher", "worse": "lower"}.get(str(d), "") for d in direction],
            "estimate": col("estimate"),
            "conf_low": col("conf_low"),
            "conf_high": col("conf_high"),
            "p_value": col("p_value"),
            "p_adjusted": col("p_adjusted"),
        }
    )
    for extra in ("outcome", "wave", "contrast", "analysis"):
        dup = out.duplicated(["group", "label"], keep=False).to_numpy()
        if not dup.any() or extra == label or extra not in frame.columns:
            continue
        tag = frame[extra].astype(object).to_numpy()
        if len({str(t) for t in tag[dup]}) < 2:
            continue  # the same everywhere: would not tell the rows apart
        out.loc[dup, "label"] = [
            f"{lab} ({t})" if t is not None and t == t else lab
            for lab, t in zip(out.loc[dup, "label"], tag[dup], strict=True)
        ]
    small = suppressed(col("n_treated"), min_cell) | suppressed(col("n_control"), min_cell)
    out["suppressed"] = small
    out.loc[small, ["estimate", "conf_low", "conf_high", "p_value", "p_adjusted"]] = np.nan
    out["drawn"] = np.isfinite(out[["estimate", "conf_low", "conf_high"]]).all(axis=1)
    out["text"] = [
        f"{_fmt(e, digits)} ({_fmt(lo, digits)} to {_fmt(hi, digits)})"
        for e, lo, hi in zip(out["estimate"], out["conf_low"], out["conf_high"], strict=True)
    ]
    out.loc[small, "text"] = f"suppressed (n<{min_cell})"
    out.loc[~small & ~np.isfinite(out["estimate"]), "text"] = "not estimable"
    out.loc[hidden & ~small, "text"] = "not shown"
    out["suppressed"] = small | hidden
    p_txt = []
    for p, pa in zip(out["p_value"], out["p_adjusted"], strict=True):
        t = format_p(p)
        if np.isfinite(pa) and not np.isclose(pa, p):
            t = f"{t} (adj {format_p(pa)})"
        p_txt.append(t)
    out["p_text"] = p_txt
    # groups in order of first appearance; rows sorted within group if asked
    order = {g: i for i, g in enumerate(pd.unique(out["group"]))}
    out["_g"] = out["group"].map(order)
    out["_i"] = np.arange(n)
    keys = ["_g", "estimate", "_i"] if sort else ["_g", "_i"]
    out = out.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)
    has_headers = len(order) > 1 or (len(order) == 1 and next(iter(order)) != "")
    y, header, pos = [], [], 0
    prev = None
    for g in out["group"]:
        if has_headers and g != prev:
            text = "\n".join(textwrap.wrap(g, HEADER_WIDTH)) or g
            pos += text.count("\n") + 1  # header rows
            header.append(text)
            prev = g
        else:
            header.append("")
        y.append(pos)
        pos += 1
    out["y"] = np.asarray(y, dtype=float)
    out["header"] = header
    return out.drop(columns=["_g", "_i"])


def _check_arguments(null: Any, favours: Any, scale: str) -> None:
    if isinstance(null, bool) or not isinstance(null, (int, float)) or not np.isfinite(null):
        raise TypeError(f"`null` must be a finite number; got {null!r}.")
    if (
        not isinstance(favours, (tuple, list))
        or len(favours) != 2
        or not all(isinstance(f, str) for f in favours)
    ):
        raise TypeError(f"`favours` must be a pair of arm names (str, str); got {favours!r}.")
    if scale not in SCALES:
        raise one_of("scale", scale, SCALES)


def _draw_estimates(ax: Axes, table: pd.DataFrame) -> dict[str, str]:
    """Intervals and squares, one colour per estimand group (filled when randomized)."""
    groups = list(pd.unique(table["group"]))
    colours = {
        g: OKABE_ITO[i % len(OKABE_ITO)] if len(groups) > 1 else NEUTRAL
        for i, g in enumerate(groups)
    }
    for g in groups:
        t = table[(table["group"] == g) & table["drawn"]]
        filled = g.startswith("randomized")
        c = colours[g]
        ax.hlines(t["y"], t["conf_low"], t["conf_high"], color=c, linewidth=1.8)
        ax.plot(
            t["estimate"],
            t["y"],
            linestyle="none",
            marker="s",
            markersize=7,
            color=c,
            markerfacecolor=c if filled else "white",
            markeredgewidth=1.5,
            label=g or "estimate",
        )
    return colours


def _draw_row_labels(ax: Axes, table: pd.DataFrame, colours: dict[str, str], n_rows: int) -> None:
    """Row labels on the y axis; estimand headers in bold inside the axes, above their rows."""
    ax.set_yticks(table["y"].to_numpy(), table["label"].tolist())
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(n_rows - 0.4, -1.4)
    for g, text, y in zip(table["group"], table["header"], table["y"], strict=True):
        if text:
            k = text.count("\n") + 1
            ax.annotate(
                text,
                xy=(0, y - (k + 1) / 2),
                xycoords=("axes fraction", "data"),
                xytext=(4, 0),
                textcoords="offset points",
                fontweight="bold",
                fontsize=9,
                va="center",
                ha="left",
                color=colours[g],
                bbox=dict(facecolor="white", edgecolor="none", pad=1.0),
                gid="ct-header",
            )


def _draw_text_columns(
    ax: Axes, table: pd.DataFrame, frame: pd.DataFrame, *, show_p: bool, favours: Sequence[str]
) -> tuple[set[str], bool]:
    """Estimate (CI), p and "better if" columns right of the axes; returns the favoured sides
    and whether they are mixed."""
    # text columns to the right of the axes
    level = None
    if "conf_level" in frame.columns:
        lv = pd.to_numeric(frame["conf_level"], errors="coerce").dropna().unique()
        level = float(lv[0]) if len(lv) == 1 else None
    ci_head = f"Estimate ({percent_text(level)} CI)" if level else "Estimate (CI)"
    columns = [(10, ci_head, table["text"])]
    dx = 150
    if show_p and np.isfinite(table["p_value"]).any():
        columns.append((dx, "p", table["p_text"]))
        dx += 110
    sides = {f for f in table["favours"] if f}
    mixed = len(sides) > 1 or (sides and (table["favours"] == "").any())
    if mixed:
        arrows = {"lower": f"{_LEFT} lower", "higher": f"higher {_RIGHT}", "": ""}
        columns.append((dx, f"{favours[0].capitalize()} better if", table["favours"].map(arrows)))
    for dx, head, texts in columns:
        for y, txt, weight in [
            (-1.0, head, "bold"),
            *((y, t, "normal") for y, t in zip(table["y"], texts, strict=True)),
        ]:
            ax.annotate(
                txt,
                xy=(1, y),
                xycoords=("axes fraction", "data"),
                xytext=(dx, 0),
                textcoords="offset points",
                fontsize=9,
                fontweight=weight,
                va="center",
                ha="left",
                annotation_clip=False,
            )
    return sides, bool(mixed)


def _label_x_axis(
    ax: Axes,
    table: pd.DataFrame,
    *,
    scale: str,
    favours: Sequence[str],
    null: float,
    sides: set[str],
    mixed: bool,
) -> None:
    """The x label, the "favours" arrows under it and the note on mixed scales."""
    units = sorted({u for u in table["unit"] if u})
    if scale == "standardized":
        xlabel = f"Standardized difference, {favours[0]} {_MINUS} {favours[1]} (baseline SD units)"
    elif len(units) == 1:
        xlabel = f"Difference, {favours[0]} {_MINUS} {favours[1]} ({units[0]})"
    else:
        xlabel = "Estimate"
    if null != 0:
        xlabel += f"; no effect = {null:g}"
    ax.set_xlabel(xlabel, labelpad=14 if len(sides) == 1 and not mixed else 4)
    if len(sides) == 1 and not mixed:
        side = next(iter(sides))
        left, right = (favours[0], favours[1]) if side == "lower" else (favours[1], favours[0])
        for x, text, ha in (
            (0.0, f"{_LEFT} favours {left}", "left"),
            (1.0, f"favours {right} {_RIGHT}", "right"),
        ):
            ax.annotate(
                text,
                xy=(x, 0),
                xycoords="axes fraction",
                xytext=(0, -19),
                textcoords="offset points",
                ha=ha,
                va="top",
                fontsize=8.5,
                color=NEUTRAL,
                gid="ct-favours",
            )
    if scale == "raw" and len(units) > 1:
        ax.annotate(
            "\n".join(
                textwrap.wrap(
                    "Outcomes on different scales (" + "; ".join(units) + "): compare each "
                    "row with its own scale, or draw scale='standardized'.",
                    48,
                )
            ),
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(-150, -36),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=8,
            color=NEUTRAL,
            style="italic",
            gid="ct-scale-note",
        )


def plot_forest(
    effects: Any,
    *,
    ax: Axes | None = None,
    label: str = "outcome",
    null: float = 0.0,
    sort: bool = False,
    show_p: bool = True,
    digits: int = 2,
    min_cell: int | None = None,
    labels: Mapping[str, str] | bool | None = None,
    scale: str = "raw",
    favours: tuple[str, str] = ("coaching", "control"),
) -> Axes:
    """Forest plot: one row per effect with its confidence interval and a null line.

    Parameters
    ----------
    effects : pandas.DataFrame or result
        An effects table (``estimate``, ``conf_low``, ``conf_high`` and the ``label`` column;
        optionally ``estimand``, ``p_value``, ``p_adjusted``, ``conf_level``, ``wave``,
        ``n_treated``, ``n_control``) or any result with ``to_frame()``.
    ax : matplotlib.axes.Axes, optional
    label : str
        Column naming each row.
    null : float
        Position of the no-effect line (0 for differences, 1 for ratios).
    sort : bool
        Sort rows by estimate within each estimand group (default: table order).
    show_p : bool
        Add a p-value column (with the multiplicity-adjusted p where it differs).
    digits : int
        Decimals of the estimate text.
    min_cell : int, optional
        Rows with ``n_treated`` or ``n_control`` below it are not drawn ("suppressed").
    labels : mapping, False or None
        Row labels. Default: scored outcome columns get their display name and scale from
        the instrument registry (``"Burnout, item mean (0-4)"``); a mapping value -> label
        overrides them; ``False`` draws the column values as they are.
    scale : {"raw", "standardized"}
        ``"raw"``: the estimates in each outcome's own points. ``"standardized"``: Morris
        d_ppc2 (baseline SD units) from the ``standardized`` table of
        :meth:`DelayedInterventionTrial.compare` (pass the comparison, or that table), so
        outcomes on different scales (0-4, 0-16, 0-100) can share one axis.
    favours : (str, str)
        Names of the treated and the comparison arm in the "favours ..." labels.

    Returns
    -------
    matplotlib.axes.Axes
        With ``ax.ct_data``: the table of :func:`forest_table` that was drawn.

    Notes
    -----
    Rows are grouped under a header per ``estimand``, so randomized and non-randomized
    comparisons are never mixed without a label; randomized estimands get filled markers,
    all others open markers. Rows whose estimate is missing stay in the table as
    "not estimable".

    Estimates are treated minus control. Which side favours coaching follows each outcome's
    direction in the registry (``higher_is``): for burnout lower is better, for fulfillment
    higher. When all rows agree, the two sides of the axis are labelled "favours ...";
    when they do not, a column says per row whether lower or higher favours coaching.
    Raw estimates of outcomes on different scales are flagged on the figure (use
    ``scale="standardized"`` to compare them).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"outcome": ["pfi_burnout", "pfi_pf"], "estimate": [-0.44, 0.22],
    ...     "conf_low": [-0.63, -0.02], "conf_high": [-0.24, 0.47], "p_value": [3e-5, 0.076],
    ...     "estimand": "randomized: immediate vs delayed at month3"})
    >>> ax = plot_forest(table)
    >>> len(ax.lines) >= 1
    True
    >>> ax.ct_data["text"].tolist()
    ['−0.44 (−0.63 to −0.24)', '0.22 (−0.02 to 0.47)']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    _check_arguments(null, favours, scale)
    frame = _as_frame(effects, scale)
    table = forest_table(
        frame,
        label=label,
        sort=sort,
        digits=digits,
        min_cell=min_cell,
        labels=labels,
        scale=scale,
    )
    n_rows = int(table["y"].max()) + 1 if len(table) else 1
    ax = new_axes(ax, figsize=(9.0, 1.2 + 0.32 * n_rows))
    style_axes(ax, grid_axis="x")
    ax.spines["left"].set_visible(False)

    colours = _draw_estimates(ax, table)
    ax.axvline(null, color=NEUTRAL, linewidth=1, linestyle="--", zorder=1)

    _draw_row_labels(ax, table, colours, n_rows)
    sides, mixed = _draw_text_columns(ax, table, frame, show_p=show_p, favours=favours)
    _label_x_axis(ax, table, scale=scale, favours=favours, null=null, sides=sides, mixed=mixed)
    ax.ct_favours = (  # type: ignore[attr-defined]
        next(iter(sides)) if len(sides) == 1 and not mixed else ("mixed" if mixed else "")
    )
    ax.ct_data = table  # type: ignore[attr-defined]
    return ax
