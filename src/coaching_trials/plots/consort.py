"""CONSORT-style participant flow diagram drawn from the tidy flow table."""

from __future__ import annotations

import re
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
COMPLEMENT_MARKER = "\N{EM DASH}"
BOX_COLUMNS = ("box", "arm", "stage", "wave", "n_label", "text", "x", "y", "width", "height")

_FONT = 8.0
_LINE = 0.155  # inches per text line in a main box
_SIDE_LINE = 0.133  # inches per text line in a side box (smaller font)
_PAD = 0.16  # vertical padding inside a box (inches, total)
_GAP = 0.32  # vertical gap between rows (inches)
_MAIN_W, _SIDE_W, _INNER = 2.4, 2.55, 0.3
_WRAP = 34


def _label(n: Any, min_cell: int | None) -> str:
    """A count as drawn: a marker of an already-suppressed table as given, else the number
    (``"<k"`` when it is below ``min_cell``)."""
    return n if isinstance(n, str) else count_label(n, min_cell)


def _n_text(n: Any, min_cell: int | None) -> str:
    lab = _label(n, min_cell)
    return f"n {lab}" if lab.startswith("<") else f"n = {lab}"


def _sum(values: Any) -> int | None:
    """The sum of shown counts, or None when one of them is hidden (a marker)."""
    values = list(values)
    if not values or any(isinstance(v, str) for v in values):
        return None
    return int(sum(values))


def _reasons(rows: pd.DataFrame, min_cell: int | None) -> list[str]:
    lines = []
    for r, n in zip(rows["reason"], rows["n"], strict=True):
        label = "reason not given" if r is None or r != r else str(r)
        wrapped = textwrap.wrap(f"{label}: {_label(n, min_cell)}", _WRAP, subsequent_indent="   ")
        lines += ["\N{BULLET} " + wrapped[0], *("  " + w for w in wrapped[1:])]
    return lines


def _parse_count(value: Any) -> Any:
    """A whole number (int), a marker (str) or None when the value is not a count."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+", text):
            return int(text)
        return text or None
    if value is None or value is pd.NA or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    if not np.isfinite(x) or x < 0 or x != round(x):
        return None
    return int(x)


def _as_flow(flow: Any, suppressed: Any = None, min_cell: int | None = None) -> pd.DataFrame:
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
    out = flow.copy()
    if pd.api.types.is_numeric_dtype(flow["n"]) and not pd.api.types.is_bool_dtype(flow["n"]):
        n = pd.to_numeric(flow["n"], errors="coerce")
        if n.isna().any() or (n < 0).any():
            rows = flow.index[n.isna() | (n < 0)]
            raise ValueError(
                f"column 'n' of `flow` must hold non-negative counts; rows "
                f"{format_values(rows)} have {format_values(flow.loc[rows, 'n'])}."
            )
        out["n"] = n.astype("int64")
    else:  # an already-suppressed table: whole numbers and markers such as "<5" or "—"
        parsed = [_parse_count(v) for v in flow["n"].tolist()]
        bad_rows = [i for i, v in zip(flow.index, parsed, strict=True) if v is None]
        if bad_rows:
            raise ValueError(
                f"column 'n' of `flow` must hold non-negative counts or the markers of a "
                f"suppressed table (e.g. '<5', '—'); rows {format_values(bad_rows)} have "
                f"{format_values(flow.loc[bad_rows, 'n'])}."
            )
        out["n"] = pd.Series(parsed, index=flow.index, dtype=object)
    if suppressed is not None:
        mask = _as_mask(suppressed, flow)
        if mask.any():
            marks = [
                (f"<{min_cell}" if min_cell is not None and v < min_cell else COMPLEMENT_MARKER)
                if m and not isinstance(v, str)
                else v
                for v, m in zip(out["n"].tolist(), mask, strict=True)
            ]
            out["n"] = pd.Series(marks, index=flow.index, dtype=object)
    return out


def _as_mask(suppressed: Any, flow: pd.DataFrame) -> np.ndarray:
    if isinstance(suppressed, pd.Series):
        if not suppressed.index.equals(flow.index):
            raise ValueError(
                "`suppressed` must have the same index as `flow` (one flag per row); got index "
                f"{format_values(suppressed.index)}, expected {format_values(flow.index)}."
            )
        values = suppressed.to_numpy()
    else:
        values = np.asarray(suppressed)
    flags = pd.api.types.is_bool_dtype(values) or (
        values.dtype == object and all(isinstance(v, (bool, np.bool_)) for v in values)
    )
    if values.shape != (len(flow),) or not flags:
        raise ValueError(
            f"`suppressed` must be {len(flow)} True/False flags, one per row of `flow`; got "
            f"{format_values(np.ravel(values))} (shape {values.shape})."
        )
    return values.astype(bool)


def _count(values: pd.Series) -> Any:
    """The count of a box: its one row as given (number or marker), else the sum of shown
    counts (None when one of them is hidden)."""
    return values.iloc[0] if len(values) == 1 else _sum(values)


def _loss_total(reasons: pd.Series, before: Any, after: Any) -> Any:
    """Participants lost at a stage: the sum of the reasons when they are all shown, else the
    difference of the two shown counts around the loss (None when neither is possible)."""
    total = _sum(reasons)
    if total is None and len(reasons) == 1:
        total = reasons.iloc[0]
    if total is None and not isinstance(before, (str, type(None))):
        if not isinstance(after, (str, type(None))):
            total = int(before) - int(after)
    return total


def _box_label(n: Any, min_cell: int | None) -> str:
    return "" if n is None else _label(n, min_cell)


def _box_text(head: str, n: Any, min_cell: int | None) -> str:
    return head if n is None else f"{head}\n{_n_text(n, min_cell)}"


def _side_head(head: str, n: Any, min_cell: int | None) -> str:
    return head if n is None else f"{head} ({_n_text(n, min_cell)})"


_ANALYSED = object()  # the row key of the analysed boxes


def _columns(k: int) -> tuple[float, list[float], list[float]]:
    """Diagram width and the x of each arm's main and side column (two arms: mirrored, the
    side boxes outside)."""
    if k == 2:
        width = 2 * (_SIDE_W + _INNER + _MAIN_W) + 0.4 + 0.2
        mains = [0.1 + _SIDE_W + _INNER, 0.1 + _SIDE_W + _INNER + _MAIN_W + 0.4]
        return width, mains, [0.1, mains[1] + _MAIN_W + _INNER]
    slot = _MAIN_W + _INNER + _SIDE_W + 0.4
    mains = [0.1 + i * slot for i in range(k)]
    return k * slot + 0.2, mains, [m + _MAIN_W + _INNER for m in mains]


def _box(
    box: str, arm: Any, wave: Any, n: Any, text: str, *, x: float, row: int, min_cell: int | None
) -> dict[str, Any]:
    """One box: a main box (``_MAIN_W`` wide) or, for losses (``not ...``), a side box."""
    side = box.startswith("not")
    return dict(
        box=box,
        arm=arm,
        stage="randomized" if box == "allocated" else box,
        wave=wave,
        n_label=_box_label(n, min_cell),
        text=text,
        x=x,
        width=_SIDE_W if side else _MAIN_W,
        row=row,
    )


def _arm_boxes(
    table: pd.DataFrame,
    a: Any,
    waves: list[Any],
    rows: dict[Any, int],
    *,
    x: tuple[float, float],
    min_cell: int | None,
) -> list[dict[str, Any]]:
    """One arm's column: allocated, assessed at each wave (with who was not), analysed (with
    who was not)."""

    def arm_rows(stage: str, wave: Any = None) -> pd.DataFrame:
        m = (table["arm"] == a) & (table["stage"] == stage)
        if wave is not None:
            m &= table["wave"] == wave
        return table[m]

    def losses(kind: str, head: str, lost: pd.DataFrame, before: Any, after: Any, wave: Any,
               row: int) -> list[dict[str, Any]]:  # fmt: skip
        if not len(lost):
            return []
        n = _loss_total(lost["n"], before, after)
        text = "\n".join([_side_head(head, n, min_cell), *_reasons(lost, min_cell)])
        return [_box(kind, a, wave, n, text, x=x[1], row=row, min_cell=min_cell)]

    n_a = _count(arm_rows("randomized")["n"])
    text = _box_text(f"Allocated to {a}", n_a, min_cell)
    boxes = [_box("allocated", a, None, n_a, text, x=x[0], row=1, min_cell=min_cell)]
    for w in waves:
        n_w = _count(arm_rows("assessed", w)["n"])
        text = _box_text(f"Assessed at {w}", n_w, min_cell)
        boxes.append(_box("assessed", a, w, n_w, text, x=x[0], row=rows[w], min_cell=min_cell))
        lost = arm_rows("not assessed", w)
        boxes += losses("not assessed", f"Not assessed at {w}", lost, n_a, n_w, w, rows[w])
    done = arm_rows("analysed")
    n_d = _count(done["n"])
    end = next((w for w in done["wave"] if w == w and w is not None), None)
    row = rows[_ANALYSED]
    if len(done):
        text = _box_text(f"Analysed at {end}" if end is not None else "Analysed", n_d, min_cell)
        boxes.append(_box("analysed", a, end, n_d, text, x=x[0], row=row, min_cell=min_cell))
    boxes += losses("not analysed", "Not analysed", arm_rows("not analysed"), n_a, n_d, end, row)
    return boxes


def _place_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Box heights and tops: main boxes centred on their row, side boxes aligned to its top.
    ``attrs["tops"]`` is the bottom of the last row."""
    side = frame["box"].str.startswith("not")
    per_line = np.where(side, _SIDE_LINE, _LINE)
    frame["height"] = [
        (t.count("\n") + 1) * pl + _PAD for t, pl in zip(frame["text"], per_line, strict=True)
    ]
    row_h = frame.groupby("row")["height"].max()
    tops = -np.concatenate([[0.1], 0.1 + np.cumsum(row_h.to_numpy() + _GAP)[:-1]])
    row_top = dict(zip(row_h.index, tops, strict=True))
    main_h = frame[~side].groupby("row")["height"].max()
    frame["y"] = [
        row_top[r] - (row_h[r] - main_h.get(r, h)) / 2 - h if not b.startswith("not")
        else row_top[r] - h
        for b, r, h in zip(frame["box"], frame["row"], frame["height"], strict=True)
    ]  # fmt: skip
    frame.attrs["tops"] = tops[-1] - row_h.iloc[-1]
    return frame


def consort_boxes(
    flow: Any, *, min_cell: int | None = None, suppressed: Any = None
) -> pd.DataFrame:
    """The boxes of :func:`plot_consort`: one row per box with its text and position (inches).

    Boxes, top to bottom in time order: ``randomized`` (overall), then per arm
    ``allocated``, one ``assessed`` box per wave (with a side box ``not assessed`` listing the
    reasons when participants were missed) up to the analysed wave, ``analysed`` (with a side
    box ``not analysed``), then the ``assessed`` boxes of later (follow-up) waves. Counts below
    ``min_cell`` are written ``"<k"``; for an already-suppressed table (or with ``suppressed``)
    see :func:`plot_consort`. ``n_label`` is ``""`` for a box whose count is not drawn.

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
    table = _as_flow(flow, suppressed, min_cell)
    arms = [a for a in pd.unique(table["arm"]) if a != "overall"]
    if not arms:
        raise ValueError("`flow` has no arm other than 'overall'.")
    waves = [w for w in pd.unique(table.loc[table["stage"] == "assessed", "wave"]) if w == w]
    # rows in time order: the analysed box sits right under the wave it analyses, so waves
    # assessed later (follow-up) come below it ("Analysed at month3" before "Assessed at month6")
    ends = table.loc[table["stage"] == "analysed", "wave"]
    end_wave = next((w for w in ends if w == w and w is not None), None)
    cut = waves.index(end_wave) + 1 if end_wave in waves else len(waves)
    rows = {w: 2 + j + (1 if j >= cut else 0) for j, w in enumerate(waves)}
    rows[_ANALYSED] = 2 + cut
    width, mains, sides = _columns(len(arms))

    overall = table[(table["arm"] == "overall") & (table["stage"] == "randomized")]
    if len(overall) == 1:
        n_rand = overall["n"].iloc[0]
    else:
        n_rand = _sum(
            overall["n"]
            if len(overall)
            else table.loc[(table["stage"] == "randomized") & (table["arm"] != "overall"), "n"]
        )
    boxes = [
        _box(
            "randomized",
            "overall",
            None,
            n_rand,
            _box_text("Randomized", n_rand, min_cell),
            x=width / 2 - _MAIN_W / 2,
            row=0,
            min_cell=min_cell,
        )  # fmt: skip
    ]
    for i, a in enumerate(arms):
        boxes += _arm_boxes(table, a, waves, rows, x=(mains[i], sides[i]), min_cell=min_cell)
    frame = _place_rows(pd.DataFrame(boxes))
    tops = frame.attrs.pop("tops")
    frame.attrs["size"] = (float(width), float(-tops + 0.1))
    frame.attrs["mirror"] = len(arms) == 2
    return frame[[*BOX_COLUMNS, "row"]]


def plot_consort(
    flow: Any,
    *,
    ax: Axes | None = None,
    min_cell: int | None = None,
    suppressed: Any = None,
) -> Axes:
    """CONSORT-style flow diagram: randomized, allocated, assessed per wave, analysed.

    Parameters
    ----------
    flow : pandas.DataFrame or DelayedInterventionTrial
        The table of :meth:`DelayedInterventionTrial.flow` (``arm, stage, wave, reason, n``),
        or the trial itself. ``n`` may also be the counts of an already-suppressed table
        (e.g. from :func:`~coaching_trials.report.suppress_small_cells`): whole numbers and
        markers such as ``"<5"`` or ``"—"`` (any text that is not a number), drawn as given.
    ax : matplotlib.axes.Axes, optional
        Where to draw (its axis is switched off). A new figure sized to the diagram otherwise;
        the diagram is laid out in inches, so a supplied Axes should be about
        ``ax.ct_data.attrs["size"]`` (width, height) inches.
    min_cell : int, optional
        Counts below it are shown as ``"<k"``.
    suppressed : array-like of bool or pandas.Series, optional
        One flag per row of ``flow`` (a Series must share its index): flagged counts are drawn
        as ``"<min_cell"`` when below ``min_cell``, else as ``"—"`` (hidden to protect another
        count), like a table suppressed by
        :func:`~coaching_trials.report.suppress_small_cells`.

    Returns
    -------
    matplotlib.axes.Axes
        With ``ax.ct_data``: the table of :func:`consort_boxes` (one row per box drawn).

    Notes
    -----
    Drawn with matplotlib patches and text only. Losses at a wave are counted against the
    randomized arm (a participant missed at month 3 may be back at month 6), as in the flow
    table. Boxes carry the gid ``"ct-box"``.

    With hidden counts (markers in ``n``, or ``suppressed``), no number is drawn that the table
    does not show or that cannot be worked out from the numbers it shows: a box made of one row
    shows that row as given; a box total (the losses of a side box) is the sum of its reasons
    when they are all shown, else the difference of the two shown counts around the loss
    (e.g. allocated minus assessed), else no number. So a diagram drawn from a table after
    complementary suppression reveals nothing the table hides. Raw tables are drawn as
    before: every total is the sum of its rows, and only counts below ``min_cell`` are
    hidden.

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

    An already-suppressed table is drawn as given:

    >>> flow = trial.flow()
    >>> shown = flow.assign(n=[str(v) if v >= 5 else "<5" for v in flow["n"]])
    >>> boxes = plot_consort(shown).ct_data
    >>> boxes.loc[boxes["box"] == "not assessed", "text"].iloc[0].splitlines()[:2]
    ['Not assessed at month3 (n = 6)', '• left institution: <5']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    boxes = consort_boxes(flow, min_cell=min_cell, suppressed=suppressed)
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
