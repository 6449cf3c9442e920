"""The self-contained HTML report of a delayed-intervention trial, for leadership.

One file: inline CSS, figures as base64 PNG, no scripts, no external resources. Every count
below ``min_cell`` is hidden together with the statistics computed from it (and with the
complementary counts that would reveal it), and no participant identifier is written.
"""

from __future__ import annotations

import html
import json
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import format_values, one_of
from coaching_trials.report.suppress import (
    DEFAULT_COMPLEMENT_MARKER,
    SUPPRESSION_LOG_COLUMNS,
    suppress_small_cells,
)
from coaching_trials.report.tables import format_cell, html_table

__all__ = ["ReportResult", "SuppressedFlow", "build_report", "suppressed_flow", "REPORT_SECTIONS"]

REPORT_SECTIONS = ("flow", "baseline", "effects", "percent_change", "nonrandomized", "figures")
_METHODS = ("ancova", "change", "mmrm")
_EFFECT_STATS = (
    "estimate",
    "std_error",
    "df",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
    "p_adjusted",
    "d_ppc2",
    "d_conf_low",
    "d_conf_high",
)
_CSS = """
body{font-family:"Segoe UI",Helvetica,Arial,sans-serif;color:#1d1d1f;max-width:980px;
margin:2em auto;padding:0 1em;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:2px solid #0072B2;
padding-bottom:.15em;margin-top:1.8em}h3{font-size:1.05em}
.subtitle{color:#555}.notice{background:#fff4e0;border-left:5px solid #E69F00;padding:.6em 1em}
.summary{background:#eef6fc;border-left:5px solid #0072B2;padding:.6em 1em}
.nonrandomized{background:#f6f0f6;border-left:5px solid #CC79A7;padding:.6em 1em}
table.ct-table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
table.ct-table th{border-bottom:2px solid #444;text-align:left;padding:3px 8px}
table.ct-table td{border-bottom:1px solid #ddd;padding:3px 8px}
table.ct-table td.num,table.ct-table th.num{text-align:right}
table.ct-table td.num{white-space:nowrap}
img{max-width:100%;height:auto}figure{margin:1em 0}figcaption{font-size:.85em;color:#555}
.note{font-size:.85em;color:#444}footer{margin-top:3em;font-size:.8em;color:#666;
border-top:1px solid #ccc;padding-top:.6em}code{font-size:.95em}
"""


# ---------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, repr=False)
class ReportResult:
    """What :func:`build_report` wrote.

    Attributes
    ----------
    path : pathlib.Path
        The HTML file.
    tables : Mapping[str, pandas.DataFrame]
        The tables shown in the report, after suppression (read-only mapping of copies):
        ``flow``, ``baseline``, ``effects``, ``descriptives``, ``nonrandomized``,
        ``exclusions`` (those included).
    suppression_log : pandas.DataFrame
        One row per hidden count: ``table`` and the columns of
        :func:`~coaching_trials.report.suppress_small_cells`'s log (never the hidden values).
    config : Mapping[str, Any]
        The options the report was built with (also printed in its footer).
    """

    path: Path
    tables: Mapping[str, pd.DataFrame] = field(default_factory=lambda: MappingProxyType({}))
    suppression_log: pd.DataFrame = field(default_factory=pd.DataFrame)
    config: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_frame(self) -> pd.DataFrame:
        """The suppression log (a copy)."""
        return self.suppression_log.copy()

    def summary(self) -> str:
        n_hidden = len(self.suppression_log)
        return (
            f"Report written to {self.path}\n"
            f"tables: {', '.join(self.tables)}\n"
            f"cells hidden (min_cell={self.config.get('min_cell')}): {n_hidden}"
        )

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _outcome_info(column: str) -> dict[str, Any]:
    """Name, direction and score range of a scored column from the instrument registry."""
    try:
        from coaching_trials.instruments.registry import get_instrument, list_instruments

        for ins_id in list_instruments()["id"].tolist():
            ins = get_instrument(ins_id)
            for sub_id, col in ins.subscale_columns().items():
                if col == column:
                    sub = ins.subscales[sub_id]
                    try:
                        lo, hi = ins.score_range(sub_id)
                    except Exception:  # pragma: no cover - range is informative only
                        lo, hi = (math.nan, math.nan)
                    return dict(
                        label=sub.name or column,
                        instrument=ins.name,
                        higher_is=sub.higher_is,
                        low=lo,
                        high=hi,
                    )
    except Exception:  # pragma: no cover - registry problems must not stop a report
        pass
    return dict(label=column, instrument=None, higher_is=None, low=math.nan, high=math.nan)


def _fmt(x: Any, digits: int = 2) -> str:
    return format_cell(x, digits)


def _fmt_p(p: Any) -> str:
    if p is None or (isinstance(p, float) and not math.isfinite(p)):
        return ""
    p = float(p)
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _ci_text(lo: Any, hi: Any, digits: int = 2) -> str:
    if any(v is None or (isinstance(v, float) and not math.isfinite(v)) for v in (lo, hi)):
        return ""
    return f"{_fmt(lo, digits)} to {_fmt(hi, digits)}"


def _is_synthetic(trial: Any) -> bool:
    """True when the trial's participants and responses are those of ``load_example``."""
    try:
        from coaching_trials.datasets import load_example

        ex = load_example("delayed_intervention")
    except Exception:  # pragma: no cover
        return False
    d = trial.design
    part = trial.participants
    if d["subject"] not in part.columns:
        return False
    mine = part[[d["subject"], d["arm"]]].astype("string")
    theirs = ex.participants[["participant_id", "arm"]].astype("string")
    theirs.columns = [d["subject"], d["arm"]]
    key = [d["subject"], d["arm"]]
    if len(mine) != len(theirs) or not mine.sort_values(key).reset_index(drop=True).equals(
        theirs.sort_values(key).reset_index(drop=True)
    ):
        return False
    resp = trial.responses
    items = [c for c in ex.responses.columns[4:] if c in resp.columns]
    if not items:
        return True
    a = resp[[d["subject"], d["wave"], *items]].astype({d["wave"]: "string"})
    b = ex.responses[["participant_id", "wave", *items]].astype({"wave": "string"})
    b.columns = [d["subject"], d["wave"], *items]
    a = a.sort_values([d["subject"], d["wave"]]).reset_index(drop=True)
    b = b.sort_values([d["subject"], d["wave"]]).reset_index(drop=True)
    if a.shape != b.shape:
        return False
    return bool(
        np.allclose(a[items].to_numpy(dtype=float), b[items].to_numpy(dtype=float), equal_nan=True)
    )


# ---------------------------------------------------------------------------------------------
# tables (numeric, then suppressed, then formatted)
# ---------------------------------------------------------------------------------------------
def _flow_labels(flow: pd.DataFrame) -> list[str]:
    """The row label of the report's flow table for each row of ``trial.flow()``."""

    def label(stage: Any, wave: Any, reason: Any) -> str:
        if stage == "randomized":
            return "Randomized"
        if stage == "assessed":
            return f"Assessed at {wave}"
        if stage == "not assessed":
            return f"Not assessed at {wave}: {reason}"
        if stage == "analysed":
            return f"Analysed at {wave} (primary outcome)"
        return f"Not analysed: {reason}"

    return [
        label(st, w, r)
        for st, w, r in zip(flow["stage"], flow["wave"], flow["reason"], strict=True)
    ]


def _flow_table(
    trial: Any, outcome: str, min_cell: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The flow table as shown (with loss totals), its log, and the tidy flow as shown.

    The tidy flow (``arm, stage, wave, reason, n`` with ``n`` as printed in the table: whole
    numbers or markers) feeds the CONSORT diagram, so the diagram shows exactly the table's
    counts.
    """
    flow = trial.flow(outcome).reset_index(drop=True)
    imm, dly = trial.arms
    flow = flow.assign(row=_flow_labels(flow))
    wide = flow.pivot_table(index="row", columns="arm", values="n", aggfunc="sum")
    wide = wide.reindex(columns=[imm, dly, "overall"]).fillna(0).astype("int64")
    # rows in CONSORT order: each loss total right above its reasons
    overall_rows = list(pd.unique(flow.loc[flow["arm"] == "overall", "row"]))
    rows = overall_rows + [r for r in pd.unique(flow["row"]) if r not in overall_rows]
    order: list[str] = []
    totals: list[tuple[str, list[str]]] = []
    for r in rows:
        if r in order:
            continue
        head = r.split(":")[0] if r.startswith(("Not assessed at ", "Not analysed:")) else None
        if head is None:
            order.append(r)
            continue
        comps = [x for x in rows if x.split(":")[0] == head and ":" in x]
        order += [head, *comps]
        totals.append((head, comps))
    for head, comps in totals:
        wide.loc[head] = wide.loc[comps].sum(axis=0)
    wide = wide.reindex(index=order)
    wide.index.name = "Stage"
    # margins: per wave, randomized = assessed + not assessed, and not assessed = its reasons;
    # randomized = analysed + not analysed, and not analysed = its reasons
    groups: list[tuple[str, list[str]]] = []
    for head, comps in totals:
        groups.append((head, comps))
        if head.startswith("Not assessed at "):
            wave = head[len("Not assessed at ") :]
            if f"Assessed at {wave}" in wide.index:
                groups.append(("Randomized", [f"Assessed at {wave}", head]))
        else:
            done = [r for r in order if r.startswith("Analysed at ")]
            groups.append(("Randomized", [*done, head]))
    values = wide.to_numpy()
    rpos = {r: i for i, r in enumerate(order)}
    groups = [
        (t, c)
        for t, c in groups
        if t in rpos and np.array_equal(values[rpos[t]], values[[rpos[x] for x in c]].sum(axis=0))
    ]
    row_totals = (
        {"overall": [imm, dly]} if np.array_equal(values[:, 2], values[:, 0] + values[:, 1]) else {}
    )
    shown, log = suppress_small_cells(
        wide,
        min_cell=min_cell,
        count_columns=[imm, dly, "overall"],
        row_totals=row_totals,
        column_totals=groups,
    )
    tidy = flow[["arm", "stage", "wave", "reason"]].copy()
    tidy["n"] = pd.Series(
        [shown.loc[r, a] for r, a in zip(flow["row"], flow["arm"], strict=True)],
        index=tidy.index,
        dtype=object,
    )
    return shown, log, tidy


def _flow_display(shown: pd.DataFrame) -> pd.DataFrame:
    """Reason rows indented under their total (em spaces survive HTML whitespace rules)."""
    labels = [
        "\u2003\u2003" + r.split(": ", 1)[1] if r.startswith("Not a") and ": " in r else r
        for r in shown.index
    ]
    out = shown.reset_index(drop=True)
    out.insert(0, "Stage", labels)
    return out


def _baseline_table(
    trial: Any, variables: Sequence[str] | None, min_cell: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    imm, dly = trial.arms
    arms = (imm, dly, "overall")
    part = trial.participants
    n_subjects = len(part)
    bt = trial.baseline_table(variables)
    tidy = bt.table
    dropped: list[str] = []
    rows: list[dict[str, Any]] = []
    sizes = part[trial.design["arm"]].astype("string").value_counts()
    first = {"Characteristic": "Participants randomized", "Level": ""}
    for a in arms:
        first[f"n_{a}"] = n_subjects if a == "overall" else int(sizes.get(a, 0))
    rows.append(first)
    blocks: list[tuple[str, list[str], bool]] = []
    for var in pd.unique(tidy["variable"]):
        t = tidy[tidy["variable"] == var]
        kind = t["kind"].iloc[0]
        labels = []
        if kind == "categorical":
            levels = list(pd.unique(t["level"]))
            if len(levels) > max(20, n_subjects // 2):  # identifier-like: one level per person
                dropped.append(str(var))
                continue
            for lev in levels:
                r = {"Characteristic": str(var), "Level": str(lev)}
                for a in arms:
                    x = t[(t["level"] == lev) & (t["arm"] == a)]
                    r[f"n_{a}"] = float(x["count"].iloc[0]) if len(x) else 0.0
                    r[f"pct_{a}"] = float(x["percent"].iloc[0]) if len(x) else math.nan
                r["smd"] = float(t.loc[t["level"] == lev, "smd"].iloc[0])
                rows.append(r)
                labels.append(f"{var} | {lev}")
        else:
            r = {"Characteristic": str(var), "Level": "mean (SD)"}
            for a in arms:
                x = t[t["arm"] == a]
                r[f"n_{a}"] = float(x["n"].iloc[0])
                r[f"mean_{a}"] = float(x["mean"].iloc[0])
                r[f"sd_{a}"] = float(x["sd"].iloc[0])
            r["smd"] = float(t["smd"].iloc[0])
            rows.append(r)
            labels.append(f"{var} | mean (SD)")
        miss = {a: float(t.loc[t["arm"] == a, "n_missing"].iloc[0]) for a in arms}
        if any(v > 0 for v in miss.values()):
            r = {"Characteristic": str(var), "Level": "missing"}
            r.update({f"n_{a}": miss[a] for a in arms})
            rows.append(r)
            labels.append(f"{var} | missing")
        blocks.append((str(var), labels, kind == "categorical"))
    frame = pd.DataFrame(rows)
    for a in arms:
        for stat in ("pct", "mean", "sd"):
            if f"{stat}_{a}" not in frame.columns:
                frame[f"{stat}_{a}"] = np.nan
    if "smd" not in frame.columns:
        frame["smd"] = np.nan
    frame.index = [
        "Participants randomized" if i == 0 else f"{c} | {lev}"
        for i, (c, lev) in enumerate(zip(frame["Characteristic"], frame["Level"], strict=True))
    ]
    counts = [f"n_{a}" for a in arms]
    values = frame[counts].to_numpy(dtype=float)
    rpos = {lab: i for i, lab in enumerate(frame.index)}
    col_totals = [
        ("Participants randomized", labels)
        for _, labels, _ in blocks
        if np.allclose(values[0], values[[rpos[x] for x in labels]].sum(axis=0))
    ]
    # statistics (mean, SD, SMD of a mean) are blanked only when their own count is below
    # min_cell; percentages give their count away, so they go with every hidden count
    shown, log = suppress_small_cells(
        frame,
        min_cell=min_cell,
        count_columns=counts,
        dependent_columns={f"n_{a}": [f"mean_{a}", f"sd_{a}", "smd"] for a in arms},
        proportion_columns={f"n_{a}": [f"pct_{a}"] for a in arms},
        row_totals={"n_overall": ["n_" + imm, "n_" + dly]},
        column_totals=col_totals,
    )
    hidden = log.groupby("row")["column"].apply(list).to_dict() if len(log) else {}
    for var, labels, categorical in blocks:
        if not categorical:
            continue
        # the percentages of a block are "of those answering": when the block's missing count
        # is hidden, a percentage of a shown count would give the denominator and hence the
        # hidden missing count, so that arm's percentages of the block go
        miss = f"{var} | missing"
        for a in arms:
            if miss in hidden and f"n_{a}" in hidden[miss]:
                shown.loc[labels, f"pct_{a}"] = np.nan
        # the SMD of a category is computed from the two arms' proportions: it gives away a
        # hidden count of either arm
        for lab in labels:
            if lab != miss and any(c in hidden.get(lab, []) for c in counts[:2]):
                shown.loc[lab, "smd"] = np.nan
    return shown, log, dropped


@dataclass(frozen=True, eq=False, repr=False)
class SuppressedFlow:
    """The participant flow as the report prints it (see :func:`suppressed_flow`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per stage (loss totals above their reasons), one column per arm and
        ``overall``; counts as printed (whole numbers and markers).
    flow : pandas.DataFrame
        The tidy flow (``arm, stage, wave, reason, n``) with ``n`` as printed in ``table``:
        give it to :func:`~coaching_trials.plots.plot_consort` for a diagram that shows exactly
        the table's counts.
    log : pandas.DataFrame
        The suppression log of ``table``.
    """

    table: pd.DataFrame
    flow: pd.DataFrame
    log: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The table as printed (a copy)."""
        return self.table.copy()

    def __repr__(self) -> str:
        return f"SuppressedFlow({len(self.log)} hidden counts)\n{self.table.to_string()}"


def suppressed_flow(trial: Any, outcome: str, *, min_cell: int = 5) -> SuppressedFlow:
    """The participant flow of a trial with small cells hidden, as a table and a tidy flow.

    Parameters
    ----------
    trial : DelayedInterventionTrial
    outcome : str
        The outcome whose analysis set is counted (the report's primary outcome).
    min_cell : int, default 5
        Counts below it are hidden, with complementary counts (see
        :func:`~coaching_trials.report.suppress_small_cells`).

    Returns
    -------
    SuppressedFlow
        ``table`` (as printed in the report), ``flow`` (tidy, for
        :func:`~coaching_trials.plots.plot_consort`) and ``log``.

    Examples
    --------
    >>> import coaching_trials as ct
    >>> from coaching_trials.report import suppressed_flow
    >>> ex = ct.load_example("delayed_intervention")
    >>> trial = ct.DelayedInterventionTrial(
    ...     ct.score(ex.responses, "pfi"), participants=ex.participants, **ex.design)
    >>> sf = suppressed_flow(trial, "pfi_burnout", min_cell=5)
    >>> sf.table.loc["Not assessed at month6: reason not given"].tolist()
    ['<5', '—', 7]
    >>> ax = ct.plot_consort(sf.flow, min_cell=5)  # the same counts, hidden the same way
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    from coaching_trials.design.delayed import DelayedInterventionTrial

    if not isinstance(trial, DelayedInterventionTrial):
        raise TypeError(f"`trial` must be a DelayedInterventionTrial; got {type(trial).__name__}.")
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)) or min_cell < 1:
        raise ValueError(f"`min_cell` must be a positive integer; got {min_cell!r}.")
    table, log, flow = _flow_table(trial, outcome, int(min_cell))
    return SuppressedFlow(table=table, flow=flow, log=log)


def _label(column: Any) -> str:
    """A reader's name for a column: the instrument's subscale name, else the column name
    with underscores as spaces and a capital first letter (``years_in_practice`` ->
    ``Years in practice``)."""
    info = _outcome_info(str(column))
    if info["instrument"] is not None:
        return str(info["label"])
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _short_label(column: Any) -> str:
    """:func:`_label` without a trailing explanation in brackets when it is long (for axes):
    ``Burnout (work exhaustion + interpersonal disengagement)`` -> ``Burnout``."""
    text = _label(column)
    if len(text) > 28 and text.endswith(")") and " (" in text:
        text = text[: text.index(" (")]
    return text


def _axis_label(column: Any) -> str:
    """:func:`_short_label` wrapped on lines of about 14 characters (category axes)."""
    return "\n".join(textwrap.wrap(_short_label(column), 14)) or str(column)


def _nonrandomized_label(estimand: Any) -> str:
    """The estimand without its ``non-randomized:`` prefix (the section says so), arrows
    as arrows."""
    text = str(estimand)
    if text.lower().startswith("non-randomized:"):
        text = text.split(":", 1)[1].strip()
    text = text.replace("->", "\u2192")
    return text[:1].upper() + text[1:]


def _exclusions_display(shown: pd.DataFrame) -> pd.DataFrame:
    """``compare[pfi_pf]`` steps as outcome names; reasons and counts as they are."""
    outcome = [
        _label(m.group(1)) if (m := re.fullmatch(r"compare\[(.+)\]", str(st))) else str(st)
        for st in shown["step"]
    ]
    return pd.DataFrame(
        {
            "Outcome": outcome,
            "Reason": shown["reason"].astype(object).tolist(),
            "n": pd.Series(shown["n_rows"].tolist(), dtype=object),
        }
    )


def _baseline_display(shown: pd.DataFrame, arms: Sequence[str], min_cell: int) -> pd.DataFrame:
    """Table 1 as printed: the characteristic named once per block, counts with percentages
    (whole percent) or mean (SD) (2 decimals for scores, 1 otherwise)."""
    chars = shown["Characteristic"].tolist()
    levels = shown["Level"].tolist()
    digits = {c: (2 if _outcome_info(c)["instrument"] is not None else 1) for c in set(chars)}
    names = [
        ("" if i > 0 and c == chars[i - 1] else (c if i == 0 else _label(c)))
        for i, c in enumerate(chars)
    ]
    out = pd.DataFrame({"Characteristic": names, "": levels})
    for a in arms:
        cells = []
        for _, r in shown.iterrows():
            n = r[f"n_{a}"]
            if r["Level"] == "mean (SD)":
                m, sd = r[f"mean_{a}"], r[f"sd_{a}"]
                k = digits[r["Characteristic"]]
                if pd.notna(m):
                    cells.append(f"{_fmt(m, k)} ({_fmt(sd, k)})")
                else:
                    cells.append(n if isinstance(n, str) else "")
            elif isinstance(n, str):
                cells.append(n)
            elif pd.notna(r[f"pct_{a}"]):
                cells.append(f"{format_cell(n, whole=True)} ({r[f'pct_{a}']:.0f}%)")
            else:
                cells.append(format_cell(n, whole=True))
        out[str(a)] = cells
    out["SMD"] = [_fmt(v) for v in shown["smd"].tolist()]
    return out


def _suppression_footnote(cells: pd.DataFrame, min_cell: int) -> str:
    """What the markers in a displayed table mean (only those that occur)."""
    values = {str(v) for v in np.ravel(cells.to_numpy())}
    parts = []
    if f"<{min_cell}" in values:
        parts.append(
            f"&lsquo;&lt;{min_cell}&rsquo; = fewer than {min_cell} people: the number is hidden, "
            "with the statistics computed from it"
        )
    if DEFAULT_COMPLEMENT_MARKER in values:
        parts.append(
            f"&lsquo;{DEFAULT_COMPLEMENT_MARKER}&rsquo; = hidden so that a small count cannot "
            f"be worked out from the totals (the hidden number is {min_cell} or more)"
        )
    return f'<p class="note">{"; ".join(parts)}.</p>' if parts else ""


def _effects_table(comparison: Any, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    eff = comparison.to_frame()
    std = comparison.standardized
    if len(std):
        std = std.set_index("outcome")
        eff["d_ppc2"] = eff["outcome"].map(std["estimate"])
        eff["d_conf_low"] = eff["outcome"].map(std["conf_low"])
        eff["d_conf_high"] = eff["outcome"].map(std["conf_high"])
    else:
        eff["d_ppc2"] = eff["d_conf_low"] = eff["d_conf_high"] = np.nan
    keep = ["outcome", "wave", "n_treated", "n_control", *_EFFECT_STATS]
    eff = eff[keep].reset_index(drop=True)
    return suppress_small_cells(
        eff,
        min_cell=min_cell,
        count_columns=["n_treated", "n_control"],
        dependent_columns={"n_treated": list(_EFFECT_STATS), "n_control": list(_EFFECT_STATS)},
    )


def _effects_display(shown: pd.DataFrame, arms: Sequence[str], conf_level: float) -> pd.DataFrame:
    pct = f"{round(conf_level * 100)}% CI"
    return pd.DataFrame(
        {
            "Outcome": [_label(o) for o in shown["outcome"]],
            "Wave": shown["wave"].tolist(),
            f"n {arms[0]}": [format_cell(v) for v in shown["n_treated"]],
            f"n {arms[1]}": [format_cell(v) for v in shown["n_control"]],
            f"Difference ({arms[0]} - {arms[1]})": [_fmt(v) for v in shown["estimate"]],
            pct: [
                _ci_text(lo, hi)
                for lo, hi in zip(shown["conf_low"], shown["conf_high"], strict=True)
            ],
            "p": [_fmt_p(v) for v in shown["p_value"]],
            "p (adjusted)": [_fmt_p(v) for v in shown["p_adjusted"]],
            "Standardized d": [_fmt(v) for v in shown["d_ppc2"]],
            f"d {pct}": [
                _ci_text(lo, hi)
                for lo, hi in zip(shown["d_conf_low"], shown["d_conf_high"], strict=True)
            ],
        }
    )


def _descriptives_table(comparison: Any, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    desc = comparison.descriptives.reset_index(drop=True)
    cols = [
        "outcome",
        "arm",
        "baseline_n",
        "baseline_mean",
        "baseline_sd",
        "endpoint_n",
        "endpoint_mean",
        "endpoint_sd",
        "percent_change_n",
        "percent_change",
        "percent_change_conf_low",
        "percent_change_conf_high",
    ]
    desc = desc.reindex(columns=cols)
    return suppress_small_cells(
        desc,
        min_cell=min_cell,
        count_columns=["baseline_n", "endpoint_n", "percent_change_n"],
        dependent_columns={
            "baseline_n": ["baseline_mean", "baseline_sd"],
            "endpoint_n": ["endpoint_mean", "endpoint_sd"],
            "percent_change_n": [
                "percent_change",
                "percent_change_conf_low",
                "percent_change_conf_high",
            ],
        },
    )


def _descriptives_display(shown: pd.DataFrame, conf_level: float) -> pd.DataFrame:
    pct = f"{round(conf_level * 100)}% CI"
    return pd.DataFrame(
        {
            "Outcome": [_label(o) for o in shown["outcome"]],
            "Arm": shown["arm"].tolist(),
            "Baseline n": [format_cell(v) for v in shown["baseline_n"]],
            "Baseline mean (SD)": [
                f"{_fmt(m)} ({_fmt(s)})" if pd.notna(m) else ""
                for m, s in zip(shown["baseline_mean"], shown["baseline_sd"], strict=True)
            ],
            "Endpoint n": [format_cell(v) for v in shown["endpoint_n"]],
            "Endpoint mean (SD)": [
                f"{_fmt(m)} ({_fmt(s)})" if pd.notna(m) else ""
                for m, s in zip(shown["endpoint_mean"], shown["endpoint_sd"], strict=True)
            ],
            "Paired n": [format_cell(v) for v in shown["percent_change_n"]],
            "Percent change": [
                f"{v:+.1f}%" if pd.notna(v) else "" for v in shown["percent_change"]
            ],
            pct: [
                f"{lo:+.1f}% to {hi:+.1f}%" if pd.notna(lo) and pd.notna(hi) else ""
                for lo, hi in zip(
                    shown["percent_change_conf_low"],
                    shown["percent_change_conf_high"],
                    strict=True,
                )
            ],
        }
    )


def _nonrandomized_table(
    trial: Any, outcomes: Sequence[str], conf_level: float, min_cell: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    parts = [
        trial.delayed_arm_prepost(list(outcomes), conf_level=conf_level).to_frame(),
        trial.pooled_prepost(list(outcomes), conf_level=conf_level).to_frame(),
    ]
    eff = pd.concat(parts, ignore_index=True)
    eff = eff[
        [
            "estimand",
            "outcome",
            "contrast",
            "n_treated",
            "estimate",
            "conf_low",
            "conf_high",
            "p_value",
            "df",
        ]
    ]
    return suppress_small_cells(
        eff,
        min_cell=min_cell,
        count_columns=["n_treated"],
        dependent_columns={"n_treated": ["estimate", "conf_low", "conf_high", "p_value", "df"]},
    )


def _nonrandomized_display(shown: pd.DataFrame, conf_level: float) -> pd.DataFrame:
    """Rows grouped by what is estimated (named once per group; the waves are in the name)."""
    pct = f"{round(conf_level * 100)}% CI"
    first = {e: i for i, e in reversed(list(enumerate(shown["estimand"].tolist())))}
    order = sorted(range(len(shown)), key=lambda i: (first[shown["estimand"].iloc[i]], i))
    rows = shown.iloc[order]
    estimands = rows["estimand"].tolist()
    return pd.DataFrame(
        {
            "What is estimated (NON-RANDOMIZED)": [
                "" if i > 0 and e == estimands[i - 1] else _nonrandomized_label(e)
                for i, e in enumerate(estimands)
            ],
            "Outcome": [_label(o) for o in rows["outcome"]],
            "People": pd.Series(rows["n_treated"].tolist(), dtype=object),
            "Mean change": [_fmt(v) for v in rows["estimate"]],
            pct: [
                _ci_text(lo, hi) for lo, hi in zip(rows["conf_low"], rows["conf_high"], strict=True)
            ],
            "p": [_fmt_p(v) for v in rows["p_value"]],
        }
    )


def _exclusions_table(comparison: Any, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    audit = comparison.audit[["step", "reason", "n_rows"]].reset_index(drop=True)
    return suppress_small_cells(audit, min_cell=min_cell, count_columns=["n_rows"])


# ---------------------------------------------------------------------------------------------
# text
# ---------------------------------------------------------------------------------------------
def _plain_summary(
    row: pd.Series,
    desc: pd.DataFrame,
    *,
    primary: str,
    arms: Sequence[str],
    design: Mapping[str, Any],
    method: str,
    conf_level: float,
    min_cell: int,
) -> str:
    info = _outcome_info(primary)
    imm, dly = arms
    base, end = design["baseline_wave"], design["endpoint_wave"]
    pct = f"{round(conf_level * 100)}%"
    label = html.escape(info["label"])
    adjust = {
        "ancova": f"taking each person's {base} score into account",
        "change": f"comparing each group's change from {base}",
        "mmrm": f"using every visit up to {end} and each person's {base} score",
    }[method]
    what = (
        f"<p><strong>What was compared.</strong> {label} (<code>{html.escape(primary)}</code>"
        + (f", {html.escape(info['instrument'])}" if info["instrument"] else "")
        + f") at <strong>{html.escape(str(end))}</strong> between participants who were coached "
        f"first (<em>{html.escape(imm)}</em>) and participants who were still waiting for "
        f"coaching (<em>{html.escape(dly)}</em>), {adjust}. Who was coached first was decided "
        "at random, so this comparison shows the effect of coaching.</p>"
    )
    est, lo, hi, p = row["estimate"], row["conf_low"], row["conf_high"], row["p_value"]
    if not (isinstance(est, float) and math.isfinite(est)):
        return what + (
            "<p><strong>Result.</strong> Not shown: a group in this comparison has fewer than "
            f"{min_cell} participants with data.</p>"
        )
    direction = "lower" if est < 0 else "higher"
    scale = ""
    if math.isfinite(info["low"]) and math.isfinite(info["high"]):
        scale = f" (the scale runs from {_fmt(info['low'], 2)} to {_fmt(info['high'], 2)})"
    text = (
        f"<p><strong>Result.</strong> At {html.escape(str(end))}, the average {label} score of "
        f"the coached group was <strong>{abs(est):.2f} points {direction}</strong> than that of "
        f"the waiting group{scale}. The {pct} confidence interval, the range of differences "
        f"compatible with the data, runs from {lo:.2f} to {hi:.2f}.</p>"
    )
    if info["higher_is"] in ("better", "worse"):
        good = (est < 0) == (info["higher_is"] == "worse")
        text += (
            f"<p><strong>Direction.</strong> On this measure higher scores are "
            f"{info['higher_is']}, so the difference "
            + ("favours coaching." if good else "favours the waiting group (no coaching).")
            + "</p>"
        )
    excludes = (lo > 0) or (hi < 0)
    text += (
        "<p><strong>How sure can we be?</strong> "
        + (
            f"The interval does not include zero (p {'&lt; 0.001' if p < 0.001 else f'= {p:.3f}'}):"
            " a difference this large would be unlikely if coaching made no difference."
            if excludes
            else f"The interval includes zero (p = {p:.3f}): the data are compatible with no "
            "difference, as well as with the differences in the interval."
        )
        + "</p>"
    )
    d = desc[desc["outcome"] == primary].set_index("arm")
    if all(a in d.index for a in arms):
        pcs = [d.loc[a, "percent_change"] for a in arms]
        if all(isinstance(v, float) and math.isfinite(v) for v in pcs):
            text += (
                f"<p>Over the same period the average score changed by {pcs[0]:+.1f}% in the "
                f"coached group and by {pcs[1]:+.1f}% in the waiting group (descriptive, "
                "participants with both scores).</p>"
            )
    return what + text


def _methods_notes(
    *,
    method: str,
    comparison: Any,
    conf_level: float,
    min_cell: int,
    n_hidden: int,
    n_unprotected: int,
    synthetic: bool,
    covariates: Sequence[str] = (),
    dropped: list[str],
    design: Mapping[str, Any],
    has_followup: bool,
) -> str:
    pct = f"{round(conf_level * 100)}%"
    eff = comparison.to_frame()
    dfs = sorted({format_cell(v, 1, whole=True) for v in eff["df"] if pd.notna(v)})
    est = {
        "ancova": (
            "Analysis of covariance (ANCOVA): the endpoint score regressed on arm and the "
            "baseline score by ordinary least squares; the difference is the baseline-adjusted "
            f"mean difference ({design['immediate']} minus {design['delayed']}) with a t-based "
            f"{pct} confidence interval on the residual degrees of freedom"
        ),
        "change": (
            "Difference in mean change from baseline between arms (two-sample t with pooled "
            f"variance) with a t-based {pct} confidence interval"
        ),
        "mmrm": (
            "Mixed model for repeated measures (all post-baseline visits up to the endpoint, "
            "baseline and baseline-by-visit adjusted, unstructured covariance, Satterthwaite "
            f"degrees of freedom); one row per visit with a {pct} confidence interval"
        ),
    }[method]
    if covariates:
        est += f", also adjusted for {html.escape(', '.join(covariates))}"
    adjust = comparison.adjust
    primary = comparison.primary
    adjust_name = {
        "holm": "Holm",
        "hochberg": "Hochberg",
        "bh": "Benjamini-Hochberg (false discovery rate)",
        "bonferroni": "Bonferroni",
        "fixed_sequence": "fixed-sequence (hierarchical testing)",
    }.get(adjust or "", str(adjust))
    mult = (
        "No multiplicity adjustment."
        if adjust is None
        else f"Secondary outcomes' p-values are adjusted with the {adjust_name} method "
        + (
            f"(the primary outcome, {_label(primary)}, keeps its unadjusted p)."
            if primary
            else "(all outcomes as one family)."
        )
    )
    items = [
        f"<li><strong>Estimator.</strong> {est} (df: {', '.join(dfs) or 'n/a'}). Standardized "
        "effect: Morris (2008) d<sub>ppc2</sub>, the difference in mean change over the pooled "
        "baseline SD, small-sample corrected.</li>",
        f"<li><strong>Multiplicity.</strong> {html.escape(mult)}</li>",
        "<li><strong>Missing data.</strong> The randomized comparison uses participants with "
        "both the baseline and the endpoint score (complete cases"
        + ("; the MMRM also uses participants with some visits missing" if method == "mmrm" else "")
        + "); those left out are counted, by reason and arm, in the flow and exclusions "
        "tables. Complete-case estimates assume that missingness does not depend on the "
        "unobserved score given the baseline score and arm.</li>",
        "<li><strong>Percent change</strong> is descriptive: 100 &times; (endpoint mean / "
        "baseline mean &minus; 1) per arm on participants with both scores.</li>",
    ]
    if has_followup:
        items.append(
            "<li><strong>Non-randomized estimates</strong> (the delayed arm before and after its "
            "coaching; both arms pooled, aligned to the start of coaching) have no concurrent "
            "control group: they can reflect regression to the mean, secular trends or the "
            "effect of waiting, and are shown for context only.</li>"
        )
    items.append(
        f"<li><strong>Small cells.</strong> Counts below {min_cell} are shown as "
        f"&lsquo;&lt;{min_cell}&rsquo;, and a statistic (mean, SD, difference, percent change) "
        f"is left blank when fewer than {min_cell} people contribute to it. "
        f"&lsquo;{DEFAULT_COMPLEMENT_MARKER}&rsquo; marks a count of {min_cell} or more hidden "
        "so that a small count cannot be worked out from the totals; this hides the count "
        "only, so a mean or SD of that group is still shown (it describes many people and "
        "reveals no small count), while percentages, which would give the count away, are "
        f"not. Counts hidden in this report: {n_hidden}. Figures do not draw groups below "
        f"{min_cell}, and the participant-flow diagram shows exactly the counts of the flow "
        "table. No participant identifier appears.</li>"
    )
    if n_unprotected:
        items.append(
            f"<li><strong>Caution.</strong> {n_unprotected} hidden count(s) could still be "
            "worked out from the totals, because every count around them is also small; "
            "consider a larger grouping before sharing.</li>"
        )
    if dropped:
        items.append(
            "<li>Not shown in Table 1 (one category per participant, could identify people): "
            + html.escape(", ".join(dropped))
            + ".</li>"
        )
    if synthetic:
        items.append(
            "<li><strong>Synthetic data.</strong> The data are the package's example trial "
            "(<code>coaching_trials.load_example</code>), generated by simulation: the numbers "
            "describe no real participants.</li>"
        )
    return "<ul>" + "".join(items) + "</ul>"


def _section(title: str, body: str, anchor: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>\n{body}\n</section>'


def _figure(uri: str, caption: str) -> str:
    return (
        f'<figure><img alt="{html.escape(caption)}" src="{uri}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


# ---------------------------------------------------------------------------------------------
# public
# ---------------------------------------------------------------------------------------------
def build_report(
    trial: Any,
    *,
    outcomes: str | Sequence[str],
    primary: str,
    out: str | Path,
    title: str = "Coaching trial report",
    min_cell: int = 5,
    method: str = "ancova",
    include: Sequence[str] = REPORT_SECTIONS,
    conf_level: float = 0.95,
    figures: bool = True,
    adjust: str | None = "holm",
    baseline_variables: Sequence[str] | None = None,
    synthetic: bool | None = None,
    covariates: Sequence[str] = (),
) -> ReportResult:
    """Write a self-contained HTML report of a delayed-intervention trial for leadership.

    Parameters
    ----------
    trial : DelayedInterventionTrial
        The trial, with scored outcome columns.
    outcomes : str or sequence of str
        Scored outcome columns to report (the primary first is conventional).
    primary : str
        The primary outcome (one of ``outcomes``): it gets the plain-language summary and keeps
        its unadjusted p-value.
    out : str or pathlib.Path
        The HTML file to write (``.html``), or an existing folder (``report.html`` inside).
    title : str
        Heading of the report.
    min_cell : int, default 5
        Counts below this are hidden, with every statistic computed from them and the
        complementary counts that would reveal them (see
        :func:`~coaching_trials.report.suppress_small_cells`).
    method : {"ancova", "change", "mmrm"}
        The randomized estimator (:meth:`DelayedInterventionTrial.compare`).
    include : sequence of str
        Sections among ``"flow"``, ``"baseline"``, ``"effects"``, ``"percent_change"``,
        ``"nonrandomized"``, ``"figures"`` (outcome trajectories). The summary, methods notes
        and footer are always written.
    conf_level : float
        Confidence level of every interval.
    figures : bool, default True
        Draw figures (trajectories, forest plot, percent change); ``False`` writes tables only.
    adjust : str or None, default "holm"
        Multiplicity adjustment of the secondary outcomes (see ``compare``).
    baseline_variables : sequence of str, optional
        Variables of Table 1 (default: those chosen by ``trial.baseline_table()``).
        Categorical variables with about one category per participant are left out.
    synthetic : bool, optional
        Whether to print the synthetic-data notice. Default: detected (the trial holds the
        participants and item responses of ``load_example("delayed_intervention")``).
    covariates : sequence of str
        Extra adjustment covariates of the randomized comparison (see ``compare``).

    Returns
    -------
    ReportResult
        ``path``, ``tables`` (as shown, after suppression), ``suppression_log``, ``config``.

    Notes
    -----
    The file has inline CSS, figures as base64 PNG ``<img>`` and no scripts or external
    links, so it can be e-mailed. The same input gives the same bytes (no timestamps; PNGs
    written without metadata). Identifiers: the report is built from aggregate tables only;
    as a last check the HTML is searched for every participant id of the trial (ids of two
    or more characters containing a letter) and a ``RuntimeError`` is raised if one is found.
    Non-randomized estimates (``delayed_arm_prepost``, ``pooled_prepost``) need a follow-up
    wave; without one that section says so.

    Figures come from :mod:`coaching_trials.plots` (a minimal figure is drawn if a plotting
    function is missing or fails, with a ``RuntimeWarning``). Counts printed by the trajectory
    plot are removed (they could reveal a count hidden in the flow table). The CONSORT diagram
    is drawn from the flow table AFTER suppression (:func:`~coaching_trials.plots.plot_consort`
    with the counts as printed), so it shows the table's numbers and markers and cannot
    reveal a count the table hides.

    Small cells: a statistic (mean, SD, estimate) is blanked only when the count of people it
    describes is below ``min_cell``; counts hidden only to protect another one (``—``) keep
    their statistics, while percentages, which give their count away, go with every hidden
    count.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import coaching_trials as ct
    >>> from coaching_trials.report import build_report
    >>> ex = ct.load_example("delayed_intervention")
    >>> trial = ct.DelayedInterventionTrial(
    ...     ct.score(ex.responses, "pfi"), participants=ex.participants, **ex.design)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     rep = build_report(trial, outcomes=["pfi_burnout", "pfi_pf"], primary="pfi_burnout",
    ...                        out=pathlib.Path(d) / "report.html", figures=False)
    ...     text = rep.path.read_text(encoding="utf-8")
    >>> "Synthetic data" in text and "<script" not in text
    True
    >>> sorted(rep.tables)
    ['baseline', 'descriptives', 'effects', 'exclusions', 'flow', 'nonrandomized']
    """
    from coaching_trials import __version__
    from coaching_trials.design.delayed import DelayedInterventionTrial

    if not isinstance(trial, DelayedInterventionTrial):
        raise TypeError(f"`trial` must be a DelayedInterventionTrial; got {type(trial).__name__}.")
    outs = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    if not outs or not all(isinstance(o, str) for o in outs):
        raise ValueError(f"`outcomes` must name at least one scored column; got {outcomes!r}.")
    if primary not in outs:
        raise ValueError(f"`primary` must be one of the outcomes {outs}; got {primary!r}.")
    if method not in _METHODS:
        raise one_of("method", method, _METHODS)
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)) or min_cell < 1:
        raise ValueError(f"`min_cell` must be a positive integer; got {min_cell!r}.")
    include = (include,) if isinstance(include, str) else tuple(include)
    bad = [s for s in include if s not in REPORT_SECTIONS]
    if bad:
        raise one_of("include", bad[0], REPORT_SECTIONS)
    if not isinstance(figures, bool):
        raise TypeError(f"`figures` must be True or False; got {figures!r}.")
    if not isinstance(title, str):
        raise TypeError(f"`title` must be a string; got {type(title).__name__}.")
    path = Path(out)
    if path.is_dir():
        path = path / "report.html"
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"`out` must be an .html file or an existing folder; got {str(out)!r}.")
    if not path.parent.exists():
        raise FileNotFoundError(f"the folder of `out` does not exist: {str(path.parent)!r}.")

    design = trial.design
    arms = trial.arms
    has_followup = bool(design["followup_waves"])
    if synthetic is None:
        synthetic = _is_synthetic(trial)
    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    comparison = trial.compare(
        outs,
        method=method,
        adjust=adjust,
        primary=primary,
        conf_level=conf_level,
        covariates=covariates,
    )

    tables: dict[str, pd.DataFrame] = {}
    logs: list[pd.DataFrame] = []

    def keep(name: str, shown: pd.DataFrame, log: pd.DataFrame) -> None:
        tables[name] = shown
        logs.append(log.assign(table=name))

    sections: list[str] = []

    # effects (always computed: the summary needs the primary row)
    eff_shown, eff_log = _effects_table(comparison, min_cell)
    desc_shown, desc_log = _descriptives_table(comparison, min_cell)
    end = design["endpoint_wave"]
    prim_rows = eff_shown[(eff_shown["outcome"] == primary) & (eff_shown["wave"] == end)]
    prim_row = prim_rows.iloc[0] if len(prim_rows) else eff_shown.iloc[0]
    summary = _plain_summary(
        prim_row,
        desc_shown,
        primary=primary,
        arms=arms,
        design=design,
        method=method,
        conf_level=conf_level,
        min_cell=min_cell,
    )

    if "flow" in include:
        flow_shown, flow_log, flow_tidy = _flow_table(trial, primary, min_cell)
        keep("flow", flow_shown, flow_log)
        flow_cells = _flow_display(flow_shown)
        body = (
            "<p>Participants randomized, assessed at each wave and analysed for the primary "
            f"outcome ({html.escape(_label(primary))}), by arm. Participants missed at one wave "
            "may be back at the next.</p>"
            + html_table(flow_cells)
            + _suppression_footnote(flow_cells, min_cell)
        )
        if figures:
            body += _figure(
                _consort(flow_tidy, min_cell),
                "Participant flow (CONSORT diagram), drawn from the table above: it shows the "
                "same counts, hidden the same way.",
            )
        sections.append(_section("Participant flow", body, "flow"))
    dropped: list[str] = []
    if "baseline" in include:
        base_shown, base_log, dropped = _baseline_table(trial, baseline_variables, min_cell)
        keep("baseline", base_shown, base_log)
        display = _baseline_display(base_shown, (*arms, "overall"), min_cell)
        sections.append(
            _section(
                "Table 1. Baseline characteristics",
                "<p>Number of participants (percent of those answering) or mean (SD). SMD: "
                f"standardized mean difference, {html.escape(arms[0])} minus "
                f"{html.escape(arms[1])}; values near 0 mean the arms were alike (no p-values: "
                "differences at baseline are due to chance under randomization).</p>"
                + html_table(display)
                + _suppression_footnote(display, min_cell),
                "baseline",
            )
        )
    if "effects" in include:
        keep("effects", eff_shown, eff_log)
        body = (
            "<p>The randomized comparison: difference between arms at the end of the waiting "
            f"period ({html.escape(str(end))}), estimated by {method.upper()}.</p>"
            + html_table(_effects_display(eff_shown, arms, conf_level))
        )
        if figures:
            plot_eff = comparison.to_frame()
            plot_eff = plot_eff[eff_shown["estimate"].notna().to_numpy()]
            plot_eff = plot_eff.assign(outcome=[_short_label(o) for o in plot_eff["outcome"]])
            if len(plot_eff):
                body += _figure(
                    _forest(plot_eff, min_cell),
                    f"Randomized differences ({arms[0]} - {arms[1]}) with "
                    f"{round(conf_level * 100)}% confidence intervals.",
                )
        excl_shown, excl_log = _exclusions_table(comparison, min_cell)
        keep("exclusions", excl_shown, excl_log)
        if len(excl_shown):
            excl_cells = _exclusions_display(excl_shown)
            body += (
                "<h3>Participants not in the comparison</h3>"
                + html_table(excl_cells)
                + _suppression_footnote(excl_cells, min_cell)
            )
        sections.append(_section("Effect of coaching (randomized comparison)", body, "effects"))
    if "percent_change" in include:
        keep("descriptives", desc_shown, desc_log)
        body = (
            "<p>Each arm's scores at baseline and at the endpoint, and the percent change of "
            "the arm mean (descriptive; not a randomized comparison).</p>"
            + html_table(_descriptives_display(desc_shown, conf_level))
        )
        if figures:
            body += _figure(
                _percent(
                    comparison.descriptives.assign(
                        outcome=[_axis_label(o) for o in comparison.descriptives["outcome"]]
                    ),
                    [_axis_label(o) for o in outs],
                    min_cell,
                ),
                "Percent change of each arm's mean from baseline to the endpoint.",
            )
        sections.append(_section("Change within each arm", body, "percent-change"))
    if "nonrandomized" in include:
        if has_followup:
            nr_shown, nr_log = _nonrandomized_table(trial, outs, conf_level, min_cell)
            keep("nonrandomized", nr_shown, nr_log)
            body = (
                '<div class="nonrandomized"><strong>Non-randomized estimates.</strong> These '
                "compare participants with themselves before and after coaching, without a "
                "randomized control group. They can be biased (regression to the mean, changes "
                "over time, the effect of waiting) and do not replace the randomized comparison "
                "above.</div>" + html_table(_nonrandomized_display(nr_shown, conf_level))
            )
        else:
            body = (
                "<p>Not available: the design has no follow-up wave after the delayed arm's "
                "coaching.</p>"
            )
        sections.append(
            _section("Non-randomized estimates (for context only)", body, "nonrandomized")
        )
    if "figures" in include and figures:
        body = "<p>Average score per arm at each wave, with confidence intervals.</p>"
        for o in outs:
            info = _outcome_info(o)
            body += _figure(
                _trajectory(trial, o, info["label"], min_cell, conf_level),
                f"{info['label']}: mean per arm at each wave.",
            )
        sections.append(_section("Outcomes over time", body, "figures"))

    log = (
        pd.concat(logs, ignore_index=True)
        if logs
        else pd.DataFrame(columns=["table", *SUPPRESSION_LOG_COLUMNS])
    )
    log = log[["table", *SUPPRESSION_LOG_COLUMNS]]
    notes = _methods_notes(
        method=method,
        comparison=comparison,
        conf_level=conf_level,
        min_cell=min_cell,
        n_hidden=len(log),
        n_unprotected=int((~log["protected"].astype(bool)).sum()),
        covariates=covariates,
        synthetic=synthetic,
        dropped=dropped,
        design=design,
        has_followup=has_followup,
    )
    config = {
        "title": title,
        "outcomes": outs,
        "primary": primary,
        "method": method,
        "adjust": adjust,
        "conf_level": conf_level,
        "min_cell": int(min_cell),
        "include": list(include),
        "figures": figures,
        "baseline_variables": None if baseline_variables is None else list(baseline_variables),
        "covariates": list(covariates),
        "design": {k: (list(v) if isinstance(v, tuple) else v) for k, v in design.items()},
        "synthetic": synthetic,
    }
    n_part = len(trial.participants)
    notice = (
        '<p class="notice"><strong>Synthetic data.</strong> This report was produced from '
        "the simulated example trial shipped with coaching_trials; it describes no real "
        "people.</p>"
        if synthetic
        else ""
    )
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            f"<h1>{html.escape(title)}</h1>",
            f'<p class="subtitle">Randomized delayed-intervention trial: '
            f"{html.escape(arms[0])} (coached first) vs {html.escape(arms[1])} (wait-list, "
            "coached after the waiting period), "
            f"{n_part if n_part >= min_cell else f'&lt;{min_cell}'} participants randomized; "
            f"waves {html.escape(', '.join(map(str, trial.waves)))}.</p>",
            notice,
            _section(
                "Summary of the primary result", f'<div class="summary">{summary}</div>', "summary"
            ),
            *sections,
            _section("Methods notes", notes, "methods"),
            f"<footer>Generated by coaching_trials {html.escape(__version__)} with "
            f"<code>{html.escape(json.dumps(config, sort_keys=True, default=str))}</code></footer>",
            "</body>",
            "</html>",
            "",
        ]
    )
    _check_no_ids(page, trial)
    path.write_bytes(page.encode("utf-8"))
    return ReportResult(
        path=path,
        tables=MappingProxyType({k: v.copy() for k, v in tables.items()}),
        suppression_log=log.reset_index(drop=True),
        config=MappingProxyType(config),
    )


def _check_no_ids(page: str, trial: Any) -> None:
    subject = trial.design["subject"]
    ids = trial.participants[subject].astype("string").dropna().unique()
    ids = [i for i in ids if len(i) >= 2 and re.search(r"[A-Za-z]", i)]
    if not ids:
        return
    text = html.unescape(re.sub(r'src="data:[^"]*"', 'src=""', page))
    words = set(re.findall(r"\w+", text))
    found = [
        i
        for i in ids
        if (i in words)
        or (not re.fullmatch(r"\w+", i) and re.search(rf"(?<!\w){re.escape(i)}(?!\w)", text))
    ]
    if found:
        raise RuntimeError(
            f"the report would show participant identifier(s) {format_values(found)}; it was "
            "not written. Rename the category or column that carries them."
        )


def _consort(flow: pd.DataFrame, min_cell: int) -> str:
    from coaching_trials.report._figures import consort_figure

    return consort_figure(flow, min_cell=min_cell)


def _forest(effects: pd.DataFrame, min_cell: int) -> str:
    from coaching_trials.report._figures import forest_figure

    return forest_figure(effects, min_cell=min_cell)


def _percent(descriptives: pd.DataFrame, outcomes: Sequence[str], min_cell: int) -> str:
    from coaching_trials.report._figures import percent_change_figure

    return percent_change_figure(descriptives, outcomes=outcomes, min_cell=min_cell)


def _trajectory(trial: Any, outcome: str, label: str, min_cell: int, conf_level: float) -> str:
    from coaching_trials.report._figures import trajectory_figure

    return trajectory_figure(trial, outcome, label, min_cell=min_cell, conf_level=conf_level)
