"""Forest plot of rows of the effects table."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

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


def _as_frame(effects: Any) -> pd.DataFrame:
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
) -> pd.DataFrame:
    """The rows drawn by :func:`plot_forest`, in drawing order (top first).

    Columns: ``group`` (the estimand), ``label``, ``estimate``, ``conf_low``, ``conf_high``,
    ``p_value``, ``p_adjusted``, ``text`` (``"est (low to high)"``), ``p_text``, ``drawn``,
    ``suppressed``, ``y`` (the row's position; group headers take rows of their own) and
    ``header`` (the wrapped estimand header drawn above the row that starts a group).
    Labels that repeat within a group get the ``outcome``, ``wave``, ``contrast`` or
    ``analysis`` that tells them apart appended.

    Examples
    --------
    >>> import pandas as pd
    >>> tab = forest_table(pd.DataFrame({"outcome": ["a", "b"], "estimate": [0.5, -0.2],
    ...                                  "conf_low": [0.1, -0.6], "conf_high": [0.9, 0.2]}))
    >>> tab["text"].tolist()
    ['0.50 (0.10 to 0.90)', '−0.20 (−0.60 to 0.20)']
    """
    frame = _as_frame(effects)
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
    out = pd.DataFrame(
        {
            "group": group.astype(str).to_numpy(),
            "label": frame[label].astype(str).to_numpy(),
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
    if isinstance(null, bool) or not isinstance(null, (int, float)) or not np.isfinite(null):
        raise TypeError(f"`null` must be a finite number; got {null!r}.")
    frame = _as_frame(effects)
    table = forest_table(frame, label=label, sort=sort, digits=digits, min_cell=min_cell)
    n_rows = int(table["y"].max()) + 1 if len(table) else 1
    ax = new_axes(ax, figsize=(9.0, 1.2 + 0.32 * n_rows))
    style_axes(ax, grid_axis="x")
    ax.spines["left"].set_visible(False)

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
    ax.axvline(null, color=NEUTRAL, linewidth=1, linestyle="--", zorder=1)

    # row labels on the y axis; estimand headers in bold inside the axes, above their rows
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
    # text columns to the right of the axes
    level = None
    if "conf_level" in frame.columns:
        lv = pd.to_numeric(frame["conf_level"], errors="coerce").dropna().unique()
        level = float(lv[0]) if len(lv) == 1 else None
    ci_head = f"Estimate ({percent_text(level)} CI)" if level else "Estimate (CI)"
    columns = [(10, ci_head, table["text"])]
    if show_p and np.isfinite(table["p_value"]).any():
        columns.append((150, "p", table["p_text"]))
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
    ax.set_xlabel("Estimate" if null == 0 else f"Estimate (no effect = {null:g})")
    ax.ct_data = table  # type: ignore[attr-defined]
    return ax
