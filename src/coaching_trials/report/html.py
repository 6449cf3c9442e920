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

__all__ = ["ReportResult", "build_report", "REPORT_SECTIONS"]

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
def _flow_table(trial: Any, outcome: str, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    flow = trial.flow(outcome)
    imm, dly = trial.arms

    def label(r: pd.Series) -> str:
        stage, wave, reason = r["stage"], r["wave"], r["reason"]
        if stage == "randomized":
            return "Randomized"
        if stage == "assessed":
            return f"Assessed at {wave}"
        if stage == "not assessed":
            return f"  not assessed at {wave}: {reason}"
        if stage == "analysed":
            return f"Analysed ({outcome} at {wave})"
        return f"  not analysed: {reason}"

    flow = flow.assign(row=[label(r) for _, r in flow.iterrows()])
    # row order of the "overall" block, which lists every stage and reason
    order = list(pd.unique(flow.loc[flow["arm"] == "overall", "row"]))
    order += [r for r in pd.unique(flow["row"]) if r not in order]
    wide = flow.pivot_table(index="row", columns="arm", values="n", aggfunc="sum")
    wide = wide.reindex(index=order, columns=[imm, dly, "overall"]).fillna(0).astype("int64")
    wide.index.name = "Stage"
    # margins: each wave's assessed + not assessed rows, and analysed + not analysed, add up
    # to the randomized row
    groups: list[tuple[str, list[str]]] = []
    for wave in trial.waves:
        comps = [
            r
            for r in order
            if r == f"Assessed at {wave}" or r.startswith(f"  not assessed at {wave}:")
        ]
        if comps:
            groups.append(("Randomized", comps))
    comps = [r for r in order if r.startswith(("Analysed (", "  not analysed:"))]
    if comps:
        groups.append(("Randomized", comps))
    values = wide.to_numpy()
    rpos = {r: i for i, r in enumerate(order)}
    groups = [
        (t, c)
        for t, c in groups
        if np.array_equal(values[rpos[t]], values[[rpos[x] for x in c]].sum(axis=0))
    ]
    row_totals = (
        {"overall": [imm, dly]} if np.array_equal(values[:, 2], values[:, 0] + values[:, 1]) else {}
    )
    return suppress_small_cells(
        wide,
        min_cell=min_cell,
        count_columns=[imm, dly, "overall"],
        row_totals=row_totals,
        column_totals=groups,
    )


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
    shown, log = suppress_small_cells(
        frame,
        min_cell=min_cell,
        count_columns=counts,
        dependent_columns={f"n_{a}": [f"pct_{a}", f"mean_{a}", f"sd_{a}", "smd"] for a in arms},
        row_totals={"n_overall": ["n_" + imm, "n_" + dly]},
        column_totals=col_totals,
    )
    # a hidden count in a block hides that arm's percentages of the block (they would give
    # the block's denominator, hence the hidden count)
    hidden = log.groupby("row")["column"].apply(list).to_dict() if len(log) else {}
    for _, labels, _ in blocks:
        for a in arms:
            if any(f"n_{a}" in hidden.get(lab, []) for lab in labels):
                shown.loc[labels, f"pct_{a}"] = np.nan
    return shown, log, dropped


def _baseline_display(shown: pd.DataFrame, arms: Sequence[str], min_cell: int) -> pd.DataFrame:
    out = pd.DataFrame(
        {"Characteristic": shown["Characteristic"].tolist(), "Level": shown["Level"].tolist()}
    )
    for a in arms:
        cells = []
        for _, r in shown.iterrows():
            n = r[f"n_{a}"]
            if isinstance(n, str):
                cells.append(n)
            elif r["Level"] == "mean (SD)":
                m, s = r[f"mean_{a}"], r[f"sd_{a}"]
                cells.append(f"{_fmt(m)} ({_fmt(s)})" if pd.notna(m) else "")
            elif pd.notna(r[f"pct_{a}"]):
                cells.append(f"{format_cell(n)} ({r[f'pct_{a}']:.1f}%)")
            else:
                cells.append(format_cell(n))
        out[str(a)] = cells
    out["SMD"] = [_fmt(v) for v in shown["smd"].tolist()]
    return out


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
            "Outcome": [_outcome_info(o)["label"] + f" ({o})" for o in shown["outcome"]],
            "Wave": shown["wave"].tolist(),
            f"n {arms[0]}": [format_cell(v) for v in shown["n_treated"]],
            f"n {arms[1]}": [format_cell(v) for v in shown["n_control"]],
            f"Difference ({arms[0]} - {arms[1]})": [_fmt(v) for v in shown["estimate"]],
            pct: [
                _ci_text(lo, hi)
                for lo, hi in zip(shown["conf_low"], shown["conf_high"], strict=True)
            ],
            "df": [format_cell(v, 1, whole=True) for v in shown["df"]],
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
            "Outcome": shown["outcome"].tolist(),
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
    pct = f"{round(conf_level * 100)}% CI"
    return pd.DataFrame(
        {
            "Estimate of (NON-RANDOMIZED)": shown["estimand"].tolist(),
            "Outcome": shown["outcome"].tolist(),
            "Contrast": shown["contrast"].tolist(),
            "n (pairs)": [format_cell(v) for v in shown["n_treated"]],
            "Mean change": [_fmt(v) for v in shown["estimate"]],
            pct: [
                _ci_text(lo, hi)
                for lo, hi in zip(shown["conf_low"], shown["conf_high"], strict=True)
            ],
            "p": [_fmt_p(v) for v in shown["p_value"]],
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
            f"The interval does not include zero (p {'< 0.001' if p < 0.001 else f'= {p:.3f}'}):"
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
            f"(the primary outcome, {primary}, keeps its unadjusted p)."
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
        f"&lsquo;&lt;{min_cell}&rsquo; and the statistics computed from them are left blank; "
        f"&lsquo;{DEFAULT_COMPLEMENT_MARKER}&rsquo; marks a count hidden so that a small count "
        f"cannot be worked out from a total. Cells hidden in this report: {n_hidden}. Figures "
        f"do not draw groups below {min_cell}. No participant identifier appears.</li>"
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
    plot are removed (they could reveal a count hidden in the flow table), and no CONSORT
    diagram is drawn: the flow table carries those counts with complementary suppression,
    which a figure suppressing only small cells would undo.

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
        flow_shown, flow_log = _flow_table(trial, primary, min_cell)
        keep("flow", flow_shown, flow_log)
        sections.append(
            _section(
                "Participant flow",
                "<p>Participants randomized, assessed at each wave and analysed for the primary "
                "outcome, by arm.</p>" + html_table(flow_shown.rename_axis("Stage")),
                "flow",
            )
        )
    dropped: list[str] = []
    if "baseline" in include:
        base_shown, base_log, dropped = _baseline_table(trial, baseline_variables, min_cell)
        keep("baseline", base_shown, base_log)
        display = _baseline_display(base_shown, (*arms, "overall"), min_cell)
        sections.append(
            _section(
                "Table 1. Baseline characteristics",
                "<p>Counts (percent of those answering) or mean (SD). SMD: standardized mean "
                f"difference, {html.escape(arms[0])} minus {html.escape(arms[1])} (no p-values: "
                "differences at baseline are due to chance under randomization).</p>"
                + html_table(display),
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
            if len(plot_eff):
                body += _figure(
                    _forest(plot_eff, min_cell),
                    f"Randomized differences ({arms[0]} - {arms[1]}) with "
                    f"{round(conf_level * 100)}% confidence intervals.",
                )
        excl_shown, excl_log = _exclusions_table(comparison, min_cell)
        keep("exclusions", excl_shown, excl_log)
        if len(excl_shown):
            body += "<h3>Participants not in the comparison</h3>" + html_table(
                excl_shown.rename(columns={"n_rows": "n"})
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
                _percent(comparison.descriptives, outs, min_cell),
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
                f"{info['label']} ({o}): mean per arm and wave.",
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
            f"{html.escape(arms[0])} coaching vs {html.escape(arms[1])} coaching (wait-list), "
            f"{n_part if n_part >= min_cell else f'<{min_cell}'} participants randomized; "
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


def _forest(effects: pd.DataFrame, min_cell: int) -> str:
    from coaching_trials.report._figures import forest_figure

    return forest_figure(effects, min_cell=min_cell)


def _percent(descriptives: pd.DataFrame, outcomes: Sequence[str], min_cell: int) -> str:
    from coaching_trials.report._figures import percent_change_figure

    return percent_change_figure(descriptives, outcomes=outcomes, min_cell=min_cell)


def _trajectory(trial: Any, outcome: str, label: str, min_cell: int, conf_level: float) -> str:
    from coaching_trials.report._figures import trajectory_figure

    return trajectory_figure(trial, outcome, label, min_cell=min_cell, conf_level=conf_level)
