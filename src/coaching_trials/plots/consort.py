"""CONSORT-style participant flow diagram drawn from the tidy flow table."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from coaching_trials._errors import format_values
from coaching_trials.plots._style import NEUTRAL, check_columns, check_min_cell, count_label

__all__ = ["consort_boxes", "plot_consort"]

FLOW_STAGES = ("randomized", "assessed", "not assessed", "analysed", "not analysed")
BOX_COLUMNS = ("box", "arm", "stage", "wave", "n_label", "text", "x", "y", "width", "height")

_FONT = 8.0
_LINE = 0.155  # inches per text line in a main box
_SIDE_LINE = 0.133  # inches per text line in a side box (smaller font)
_PAD = 0.16  # vertical padding inside a box (inches, total)
_GAP = 0.32  # vertical gap between rows (inches)
_MAIN_W, _SIDE_W, _INNER = 2.4, 2.55, 0.3
_WRAP = 34


def _n_text(n: Any, min_cell: int | None) -> str:
    lab = count_label(n, min_cell)
    return f"n {lab}" if lab.startswith("<") else f"n = {lab}"


def _reasons(rows: pd.DataFrame, min_cell: int | None) -> list[str]:
    lines = []
    for r, n in zip(rows["reason"], rows["n"], strict=True):
        label = "reason not given" if r is None or r != r else str(r)
        wrapped = textwrap.wrap(
            f"{label}: {count_label(n, min_cell)}", _WRAP, subsequent_indent="   "
        )
        lines += ["\N{BULLET} " + wrapped[0], *("  " + w for w in wrapped[1:])]
    return lines


def _as_flow(flow: Any) -> pd.DataFrame:
    if not isinstance(flow, pd.DataFrame) and callable(getattr(flow, "flow", None)):
        flow = flow.flow()
    check_columns(
        flow,
        ["arm", "stage", "wave", "reason", "n"],
        name="flow",
        expected="the table of DelayedInterventionTrial.flow()",
    )
    bad = ~flow["stage"].isin(FLOW_STAGES)
    if bad.any():
        raise ValueError(
            f"column 'stage' of `flow` has unknown value(s) "
            f"{format_values(pd.unique(flow.loc[bad, 'stage']))} in rows "
            f"{format_values(flow.index[bad])}; expected one of {list(FLOW_STAGES)}."
        )
    n = pd.to_numeric(flow["n"], errors="coerce")
    if n.isna().any() or (n < 0).any():
        rows = flow.index[n.isna() | (n < 0)]
        raise ValueError(
            f"column 'n' of `flow` must hold non-negative counts; rows {format_values(rows)} "
            f"have {format_values(flow.loc[rows, 'n'])}."
        )
    out = flow.copy()
    out["n"] = n.astype("int64")
    return out


def consort_boxes(flow: Any, *, min_cell: int | None = None) -> pd.DataFrame:
    """The boxes of :func:`plot_consort`: one row per box with its text and position (inches).

    Boxes, top to bottom: ``randomized`` (overall), then per arm ``allocated``, one
    ``assessed`` box per wave (with a side box ``not assessed`` listing the reasons when
    participants were missed), ``analysed`` (with a side box ``not analysed``). Counts below
    ``min_cell`` are written ``"<k"``.

    Examples
    --------
    >>> import coaching_trials as ct
    >>> ex = ct.load_example("delayed_intervention")
    >>> trial = ct.DelayedInterventionTrial(ct.score(ex.responses, "pfi"),
    ...                                     participants=ex.participants, **ex.design)
    >>> boxes = consort_boxes(trial.flow())
    >>> boxes.loc[boxes["box"] == "randomized", "n_label"].item()
    '138'
    """
    min_cell = check_min_cell(min_cell)
    table = _as_flow(flow)
    arms = [a for a in pd.unique(table["arm"]) if a != "overall"]
    if not arms:
        raise ValueError("`flow` has no arm other than 'overall'.")
    waves = [w for w in pd.unique(table.loc[table["stage"] == "assessed", "wave"]) if w == w]
    k = len(arms)
    mirror = k == 2
    if mirror:
        width = 2 * (_SIDE_W + _INNER + _MAIN_W) + 0.4 + 0.2
        mains = [0.1 + _SIDE_W + _INNER, 0.1 + _SIDE_W + _INNER + _MAIN_W + 0.4]
        sides = [0.1, mains[1] + _MAIN_W + _INNER]
    else:
        slot = _MAIN_W + _INNER + _SIDE_W + 0.4
        width = k * slot + 0.2
        mains = [0.1 + i * slot for i in range(k)]
        sides = [m + _MAIN_W + _INNER for m in mains]

    def height(box: str, text: str) -> float:
        per_line = _SIDE_LINE if box.startswith("not") else _LINE
        return (text.count("\n") + 1) * per_line + _PAD

    boxes: list[dict[str, Any]] = []
    overall = table[(table["arm"] == "overall") & (table["stage"] == "randomized")]
    n_rand = (
        overall["n"].sum()
        if len(overall)
        else table.loc[(table["stage"] == "randomized") & (table["arm"] != "overall"), "n"].sum()
    )
    txt = f"Randomized\n{_n_text(n_rand, min_cell)}"
    boxes.append(
        dict(
            box="randomized",
            arm="overall",
            stage="randomized",
            wave=None,
            n_label=count_label(n_rand, min_cell),
            text=txt,
            x=width / 2 - _MAIN_W / 2,
            width=_MAIN_W,
            row=0,
        )
    )

    def arm_rows(a: Any, stage: str, wave: Any = None) -> pd.DataFrame:
        m = (table["arm"] == a) & (table["stage"] == stage)
        if wave is not None:
            m &= table["wave"] == wave
        return table[m]

    for i, a in enumerate(arms):
        n_a = arm_rows(a, "randomized")["n"].sum()
        boxes.append(
            dict(
                box="allocated",
                arm=a,
                stage="randomized",
                wave=None,
                n_label=count_label(n_a, min_cell),
                text=f"Allocated to {a}\n{_n_text(n_a, min_cell)}",
                x=mains[i],
                width=_MAIN_W,
                row=1,
            )
        )
        for j, w in enumerate(waves):
            n_w = arm_rows(a, "assessed", w)["n"].sum()
            boxes.append(
                dict(
                    box="assessed",
                    arm=a,
                    stage="assessed",
                    wave=w,
                    n_label=count_label(n_w, min_cell),
                    text=f"Assessed at {w}\n{_n_text(n_w, min_cell)}",
                    x=mains[i],
                    width=_MAIN_W,
                    row=2 + j,
                )
            )
            lost = arm_rows(a, "not assessed", w)
            if len(lost):
                n_l = lost["n"].sum()
                boxes.append(
                    dict(
                        box="not assessed",
                        arm=a,
                        stage="not assessed",
                        wave=w,
                        n_label=count_label(n_l, min_cell),
                        text="\n".join(
                            [
                                f"Not assessed at {w} ({_n_text(n_l, min_cell)})",
                                *_reasons(lost, min_cell),
                            ]
                        ),
                        x=sides[i],
                        width=_SIDE_W,
                        row=2 + j,
                    )
                )
        done = arm_rows(a, "analysed")
        n_d = done["n"].sum()
        end = next((w for w in done["wave"] if w == w and w is not None), None)
        head = f"Analysed at {end}" if end is not None else "Analysed"
        if len(done):
            boxes.append(
                dict(
                    box="analysed",
                    arm=a,
                    stage="analysed",
                    wave=end,
                    n_label=count_label(n_d, min_cell),
                    text=f"{head}\n{_n_text(n_d, min_cell)}",
                    x=mains[i],
                    width=_MAIN_W,
                    row=2 + len(waves),
                )
            )
        out = arm_rows(a, "not analysed")
        if len(out):
            n_o = out["n"].sum()
            boxes.append(
                dict(
                    box="not analysed",
                    arm=a,
                    stage="not analysed",
                    wave=end,
                    n_label=count_label(n_o, min_cell),
                    text="\n".join(
                        [f"Not analysed ({_n_text(n_o, min_cell)})", *_reasons(out, min_cell)]
                    ),
                    x=sides[i],
                    width=_SIDE_W,
                    row=2 + len(waves),
                )
            )
    frame = pd.DataFrame(boxes)
    frame["height"] = [height(b, t) for b, t in zip(frame["box"], frame["text"], strict=True)]
    row_h = frame.groupby("row")["height"].max()
    tops = -np.concatenate([[0.1], 0.1 + np.cumsum(row_h.to_numpy() + _GAP)[:-1]])
    row_top = dict(zip(row_h.index, tops, strict=True))
    main_h = frame[~frame["box"].str.startswith("not")].groupby("row")["height"].max()
    # main boxes centred on their row; side boxes aligned to the row top
    frame["y"] = [
        row_top[r] - (row_h[r] - main_h.get(r, h)) / 2 - h
        if not b.startswith("not")
        else row_top[r] - h
        for b, r, h in zip(frame["box"], frame["row"], frame["height"], strict=True)
    ]
    frame.attrs["size"] = (float(width), float(-(tops[-1] - row_h.iloc[-1]) + 0.1))
    frame.attrs["mirror"] = mirror
    return frame[[*BOX_COLUMNS, "row"]]


def plot_consort(flow: Any, *, ax: Axes | None = None, min_cell: int | None = None) -> Axes:
    """CONSORT-style flow diagram: randomized, allocated, assessed per wave, analysed.

    Parameters
    ----------
    flow : pandas.DataFrame or DelayedInterventionTrial
        The table of :meth:`DelayedInterventionTrial.flow` (``arm, stage, wave, reason, n``),
        or the trial itself.
    ax : matplotlib.axes.Axes, optional
        Where to draw (its axis is switched off). A new figure sized to the diagram otherwise;
        the diagram is laid out in inches, so a supplied Axes should be about
        ``ax.ct_data.attrs["size"]`` (width, height) inches.
    min_cell : int, optional
        Counts below it are shown as ``"<k"``.

    Returns
    -------
    matplotlib.axes.Axes
        With ``ax.ct_data``: the table of :func:`consort_boxes` (one row per box drawn).

    Notes
    -----
    Drawn with matplotlib patches and text only. Losses at a wave are counted against the
    randomized arm (a participant missed at month 3 may be back at month 6), as in the flow
    table. Boxes carry the gid ``"ct-box"``.

    Examples
    --------
    >>> import coaching_trials as ct
    >>> ex = ct.load_example("delayed_intervention")
    >>> trial = ct.DelayedInterventionTrial(ct.score(ex.responses, "pfi"),
    ...                                     participants=ex.participants, **ex.design)
    >>> ax = plot_consort(trial.flow(), min_cell=5)
    >>> n_boxes = sum(p.get_gid() == "ct-box" for p in ax.patches)
    >>> n_boxes == len(ax.ct_data)
    True
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    boxes = consort_boxes(flow, min_cell=min_cell)
    width, height = boxes.attrs["size"]
    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(width, height))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    elif not isinstance(ax, Axes):
        raise TypeError(f"`ax` must be a matplotlib Axes or None; got {type(ax).__name__}.")
    ax.set_xlim(0, width)
    ax.set_ylim(-height, 0)
    ax.set_axis_off()
    for b in boxes.itertuples(index=False):
        side = b.box.startswith("not")
        ax.add_patch(
            FancyBboxPatch(
                (b.x, b.y),
                b.width,
                b.height,
                boxstyle="round,pad=0,rounding_size=0.06",
                facecolor="#F7F7F7" if side else "white",
                edgecolor=NEUTRAL,
                linewidth=1.0,
                gid="ct-box",
            )
        )
        lines = b.text.split("\n")
        if side:
            ax.text(
                b.x + 0.1,
                b.y + b.height - _PAD / 2,
                b.text,
                ha="left",
                va="top",
                fontsize=_FONT - 0.5,
                color=NEUTRAL,
                linespacing=1.25,
            )
        else:
            ax.text(
                b.x + b.width / 2,
                b.y + b.height / 2,
                "\n".join(lines),
                ha="center",
                va="center",
                fontsize=_FONT + 0.5,
                color="black",
                linespacing=1.25,
            )

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        ax.add_patch(
            FancyArrowPatch(
                (x0, y0),
                (x1, y1),
                arrowstyle="-|>",
                mutation_scale=9,
                color=NEUTRAL,
                linewidth=1.0,
                shrinkA=0,
                shrinkB=0,
                gid="ct-arrow",
            )
        )

    main = boxes[~boxes["box"].str.startswith("not")]
    rand = main[main["box"] == "randomized"].iloc[0]
    alloc = main[main["box"] == "allocated"]
    mid_y = (rand["y"] + alloc["y"].add(alloc["height"]).max()) / 2
    xs = alloc["x"] + alloc["width"] / 2
    ax.plot([rand["x"] + rand["width"] / 2] * 2, [rand["y"], mid_y], color=NEUTRAL, lw=1.0)
    ax.plot([xs.min(), xs.max()], [mid_y, mid_y], color=NEUTRAL, lw=1.0)
    for x, top in zip(xs, alloc["y"] + alloc["height"], strict=True):
        arrow(x, mid_y, x, top)
    for a in alloc["arm"]:
        col = main[main["arm"] == a].sort_values("row")
        for (_, upper), (_, lower) in zip(
            col.iloc[:-1].iterrows(), col.iloc[1:].iterrows(), strict=True
        ):
            x = upper["x"] + upper["width"] / 2
            arrow(x, upper["y"], x, lower["y"] + lower["height"])
        for _, s in boxes[(boxes["arm"] == a) & boxes["box"].str.startswith("not")].iterrows():
            same_row = col[col["row"] == s["row"]]
            if same_row.empty:  # losses without a main box in their row
                continue
            m = same_row.iloc[0]
            y = m["y"] + m["height"] / 2
            if s["x"] > m["x"]:
                arrow(m["x"] + m["width"], y, s["x"], y)
            else:
                arrow(m["x"], y, s["x"] + s["width"], y)
    ax.ct_data = boxes  # type: ignore[attr-defined]
    return ax
