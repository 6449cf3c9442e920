"""Render released tables: the leadership report page (Jinja2, autoescaped) and its figures.

Nothing here sees participant data or computes a statistic: numbers come from the released
tables as they are, formatted to text; hidden cells are drawn as a dash with a footnote.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials.release.core import Release, is_hidden
from coaching_trials.report.tables import format_cell

__all__ = ["outcome_info", "render_report"]

DASH = "\u2014"
Text = list[tuple[str, str]]

_CSS = """
body{font-family:"Segoe UI",Helvetica,Arial,sans-serif;color:#1d1d1f;max-width:980px;
margin:2em auto;padding:0 1em;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:2px solid #0072B2;
padding-bottom:.15em;margin-top:1.8em}h3{font-size:1.05em}
.headline{font-size:1.15em;font-weight:600;margin:.3em 0}.subtitle{color:#555}
.notice{background:#fff4e0;border-left:5px solid #E69F00;padding:.6em 1em}
.summary{background:#eef6fc;border-left:5px solid #0072B2;padding:.6em 1em}
.nonrandomized{background:#f6f0f6;border-left:5px solid #CC79A7;padding:.6em 1em}
.table-wrap{overflow-x:auto;max-width:100%}
table.ct-table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
table.ct-table th{border-bottom:2px solid #444;text-align:left;padding:3px 8px}
table.ct-table td{border-bottom:1px solid #ddd;padding:3px 8px}
table.ct-table td.num,table.ct-table th.num{text-align:right}
table.ct-table td.num{white-space:nowrap}td.hidden{color:#777}
img{max-width:min(100%,760px);height:auto}figure{margin:1em 0;overflow-x:auto}
figcaption{font-size:.85em;color:#555}
.note{font-size:.85em;color:#444}footer{margin-top:3em;font-size:.8em;color:#666;
border-top:1px solid #ccc;padding-top:.6em}code{font-size:.95em}
details.appendix{margin-top:2em;font-size:.85em}
@media (max-width:600px){figure img{max-width:none;width:600px}}
@media print{body{max-width:none;margin:0;font-size:10pt}section{break-inside:auto}
h2,h3{break-after:avoid}tr,figure,img{break-inside:avoid}thead{display:table-header-group}
.table-wrap,figure{overflow:visible}table.ct-table{font-size:7.5pt;width:100%}
table.ct-table td.num{white-space:normal}figure img{max-width:100%;width:auto}
details.appendix{display:none}}
"""


def outcome_info(column: str) -> dict[str, Any]:
    """Display name, instrument, direction and score range of a scored column (the package's
    one label system, :func:`coaching_trials.outcome_info`)."""
    from coaching_trials.instruments.labels import outcome_info as info

    return dict(info(column))


def _label(column: Any) -> str:
    """The registry's display name; other columns (demographics) in words: ``age_band`` ->
    ``Age band``."""
    info = outcome_info(str(column))
    if info.get("instrument") is None and str(info["label"]) == str(column):
        words = str(column).replace("_", " ").strip()
        return words[:1].upper() + words[1:]
    return str(info["label"])


def _num(value: Any, digits: int = 2) -> tuple[str, str]:
    if is_hidden(value):
        return DASH, "num hidden"
    return format_cell(value, digits), "num"


def _count(value: Any) -> tuple[str, str]:
    if is_hidden(value):
        return DASH, "num hidden"
    return format_cell(value, 0, whole=True), "num"


def _p(value: Any) -> tuple[str, str]:
    if is_hidden(value):
        return DASH, "num hidden"
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "", "num"
    return ("<0.001" if float(value) < 0.001 else f"{float(value):.3f}"), "num"


def _ci(lo: Any, hi: Any, digits: int = 2, pct: bool = False) -> tuple[str, str]:
    if is_hidden(lo) or is_hidden(hi):
        return DASH, "num hidden"
    if any(v is None or (isinstance(v, float) and not math.isfinite(v)) for v in (lo, hi)):
        return "", "num"
    if pct:
        return f"{float(lo):+.1f}% to {float(hi):+.1f}%", "num"
    return f"{format_cell(lo, digits)} to {format_cell(hi, digits)}", "num"


def _mean_sd(m: Any, s: Any, digits: int = 2) -> tuple[str, str]:
    if is_hidden(m):
        return DASH, "num hidden"
    if m is None or (isinstance(m, float) and not math.isfinite(m)):
        return "", "num"
    sd = DASH if is_hidden(s) else format_cell(s, digits)
    return f"{format_cell(m, digits)} ({sd})", "num"


def _table(
    columns: Sequence[str], rows: list[list[tuple[str, str]]], *, heading: str = ""
) -> dict[str, Any]:
    numeric = [bool(rows) and all("num" in r[i][1] for r in rows) for i in range(len(columns))]
    hidden = any("hidden" in css for r in rows for _, css in r)
    note = (
        f"{DASH} hidden to protect privacy: a count of very few people, a statistic of such a "
        "group, or a number from which one could be worked out."
        if hidden
        else ""
    )
    return dict(
        kind="table", heading=heading, columns=list(columns), rows=rows, numeric=numeric, note=note
    )


# ---------------------------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------------------------
def _key(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _flow_rows(flow: pd.DataFrame, arms: Sequence[str]) -> tuple[list[str], list[list]]:
    keys: list[tuple[Any, Any, Any]] = []
    wave_key = [_key(w) for w in flow["wave"]]
    reason_key = [_key(r) for r in flow["reason"]]
    for st, w, r in zip(flow["stage"], wave_key, reason_key, strict=True):
        if (st, w, r) not in keys:
            keys.append((st, w, r))
    rows = []
    for st, w, r in keys:
        if st == "randomized":
            label = "Randomized"
        elif st == "assessed":
            label = f"Assessed at {w}"
        elif st == "not assessed":
            label = f"\u2003Not assessed at {w}: {r}"
        elif st == "analysed":
            label = f"Analysed at {w} (primary outcome)"
        else:
            label = f"\u2003Not analysed: {r}"
        row: list[tuple[str, str]] = [(label, "")]
        for a in (*arms, "overall"):
            sel = flow[
                (flow["arm"] == a)
                & (flow["stage"] == st)
                & (pd.Series(wave_key, index=flow.index) == w)
                & (pd.Series(reason_key, index=flow.index) == r)
            ]
            row.append(_count(sel["n"].iloc[0]) if len(sel) else ("0", "num"))
        rows.append(row)
    return ["Stage", *arms, "Overall"], rows


def _baseline_rows(base: pd.DataFrame, arms: Sequence[str]) -> tuple[list[str], list[list]]:
    groups = [*arms, "overall"]
    rows = []
    last = None
    for (var, level), part in base.groupby(["variable", "level"], sort=False, dropna=False):
        by = part.set_index("arm")
        first = by.iloc[0]
        name = "" if var == last else _label(var)
        last = var
        if first["kind"] == "continuous":
            cells = [_mean_sd(by.at[g, "mean"], by.at[g, "sd"]) for g in groups]
            rows.append([(name, ""), ("mean (SD)", ""), *cells, _num(first["smd"])])
            miss = [by.at[g, "n_missing"] for g in groups]
            if any(is_hidden(v) or (not pd.isna(v) and v > 0) for v in miss):
                rows.append([("", ""), ("missing", ""), *[_count(v) for v in miss], ("", "num")])
        else:
            cells = []
            for g in groups:
                c, p = by.at[g, "count"], by.at[g, "percent"]
                if is_hidden(c):
                    cells.append((DASH, "num hidden"))
                elif is_hidden(p) or pd.isna(p):
                    cells.append(_count(c))
                else:
                    cells.append((f"{format_cell(c, 0, whole=True)} ({float(p):.0f}%)", "num"))
            rows.append([(name, ""), (str(level), ""), *cells, _num(first["smd"])])
    return ["Characteristic", "", *groups[:2], "Overall", "SMD"], rows


def _effects_rows(eff: pd.DataFrame, std: pd.DataFrame | None, arms: Sequence[str], pct: str):
    d = std.set_index("outcome") if std is not None and len(std) else None
    rows = []
    for _, r in eff.iterrows():
        row = [
            (_label(r["outcome"]), ""),
            (str(r["wave"]) if not pd.isna(r["wave"]) else "", ""),
            _count(r["n_treated"]),
            _count(r["n_control"]),
            _num(r["estimate"]),
            _ci(r["conf_low"], r["conf_high"]),
            _p(r["p_value"]),
            _p(r["p_adjusted"]),
        ]
        if d is not None and r["outcome"] in d.index:
            s = d.loc[r["outcome"]]
            row += [_num(s["estimate"]), _ci(s["conf_low"], s["conf_high"])]
        else:
            row += [("", "num"), ("", "num")]
        rows.append(row)
    cols = [
        "Outcome",
        "Wave",
        f"n {arms[0]}",
        f"n {arms[1]}",
        f"Difference ({arms[0]} - {arms[1]})",
        pct,
        "p",
        "p (adjusted)",
        "Standardized d",
        f"d {pct}",
    ]
    return cols, rows


def _descriptives_rows(desc: pd.DataFrame, pct: str):
    """Each arm's change among the participants with both scores: the paired n, the two means
    the percent change is computed from (3 decimals, so the row reconciles), the change."""
    rows = []
    for _, r in desc.iterrows():
        pc = r["percent_change"]
        pc_text = (
            (DASH, "num hidden")
            if is_hidden(pc)
            else ((f"{float(pc):+.1f}%", "num") if not pd.isna(pc) else ("", "num"))
        )
        rows.append(
            [
                (_label(r["outcome"]), ""),
                (str(r["arm"]), ""),
                _count(r["percent_change_n"]),
                _num(r.get("paired_baseline_mean", np.nan), 3),
                _num(r.get("paired_endpoint_mean", np.nan), 3),
                pc_text,
                _ci(r["percent_change_conf_low"], r["percent_change_conf_high"], pct=True),
            ]
        )
    cols = [
        "Outcome",
        "Arm",
        "n with both scores",
        "Baseline mean",
        "Endpoint mean",
        "Percent change",
        pct,
    ]
    return cols, rows


def _nonrandomized_rows(nr: pd.DataFrame, pct: str):
    rows = []
    last = None
    for _, r in nr.iterrows():
        text = str(r["estimand"])
        if text.lower().startswith("non-randomized:"):
            text = text.split(":", 1)[1].strip()
        text = text.replace("->", "\u2192")
        text = text[:1].upper() + text[1:]
        rows.append(
            [
                ("" if text == last else text, ""),
                (_label(r["outcome"]), ""),
                _count(r["n_treated"]),
                _num(r["estimate"]),
                _ci(r["conf_low"], r["conf_high"]),
                _p(r["p_value"]),
            ]
        )
        last = text
    return [
        "What is estimated (NON-RANDOMIZED)",
        "Outcome",
        "People",
        "Mean change",
        pct,
        "p",
    ], rows


def _exclusion_rows(ex: pd.DataFrame):
    rows = [
        [(_label(r["outcome"]), ""), (str(r["arm"]), ""), (str(r["reason"]), ""), _count(r["n"])]
        for _, r in ex.iterrows()
    ]
    return ["Outcome", "Arm", "Reason", "n"], rows


def _primary_row(rel: Release, meta: Mapping[str, Any]) -> pd.Series | None:
    eff = rel.tables.get("effects")
    if eff is None:
        return None
    rows = eff[eff["outcome"] == meta["primary"]]
    at_end = rows[rows["wave"].astype(str) == str(meta["endpoint_wave"])]
    rows = at_end if len(at_end) else rows
    return rows.iloc[0] if len(rows) else None


def headline(rel: Release, meta: Mapping[str, Any]) -> str:
    """One line for the top of the page: the primary randomized result in plain words."""
    row = _primary_row(rel, meta)
    info = outcome_info(meta["primary"])
    name = str(info["label"])
    if row is None or is_hidden(row["estimate"]) or pd.isna(row["estimate"]):
        return f"{name}: the randomized result cannot be shown (a group is too small to report)."
    est, lo, hi = (float(row[c]) for c in ("estimate", "conf_low", "conf_high"))
    direction = "lower" if est < 0 else "higher"
    verdict = ""
    if info["higher_is"] in ("better", "worse"):
        good = (est < 0) == (info["higher_is"] == "worse")
        clear = lo > 0 or hi < 0
        verdict = (
            " (favours coaching)"
            if good and clear
            else " (compatible with no difference)"
            if not clear
            else " (favours waiting)"
        )
    return (
        f"At {meta['endpoint_wave']}, {name} was {abs(est):.2f} points {direction} with "
        f"coaching than while waiting ({meta['pct']} CI {lo:.2f} to {hi:.2f}){verdict}."
    )


def _responder_rows(props: pd.DataFrame, effects: pd.DataFrame | None, pct: str):
    rows = []
    for _, r in props.iterrows():
        p = r["proportion"]
        share = (
            (DASH, "num hidden")
            if is_hidden(p)
            else ((f"{100 * float(p):.0f}%", "num") if not pd.isna(p) else ("", "num"))
        )
        rows.append(
            [
                (_label(r["outcome"]), ""),
                (str(r["event"]).replace(str(r["outcome"]), _label(r["outcome"]), 1), ""),
                (str(r["arm"]), ""),
                _count(r["n"]),
                _count(r["events"]),
                share,
            ]
        )
    table = _table(["Outcome", "Event", "Arm", "n", "With the event", "Share"], rows)
    blocks = [table]
    if effects is not None and len(effects):
        rd = effects[effects["analysis"] == "risk_difference"]
        eff_rows = []
        for _, r in rd.iterrows():
            est = r["estimate"]
            eff_rows.append(
                [
                    (_label(r["outcome"]), ""),
                    _count(r["n_treated"]),
                    _count(r["n_control"]),
                    (DASH, "num hidden")
                    if is_hidden(est)
                    else (f"{100 * float(est):+.1f} points", "num"),
                    _ci(
                        *(
                            v if is_hidden(v) else 100 * float(v)
                            for v in (r["conf_low"], r["conf_high"])
                        ),
                        digits=1,
                    ),
                    _p(r["p_value"]),
                ]
            )
        blocks.append(
            _table(
                ["Outcome", "n coached", "n waiting", "Risk difference", pct, "p"],
                eff_rows,
                heading="Difference in the share with the event (randomized)",
            )
        )
    return blocks


def _reliability_rows(rel_table: pd.DataFrame):
    rows = []
    for _, r in rel_table.iterrows():
        rows.append(
            [
                (str(r["instrument"]).upper(), ""),
                (str(r["subscale"]), ""),
                (str(r["wave"]), ""),
                _count(r["n"]),
                _num(r["alpha"]),
                _ci(r["alpha_conf_low"], r["alpha_conf_high"]),
                _num(r["omega"]),
            ]
        )
    return ["Instrument", "Subscale", "Wave", "n", "Cronbach's alpha", "alpha CI", "Omega"], rows


def _summary_text(rel: Release, meta: Mapping[str, Any]) -> list[Text]:
    primary, arms = meta["primary"], meta["arms"]
    info = outcome_info(primary)
    end, base = meta["endpoint_wave"], meta["baseline_wave"]
    adjust = {
        "ancova": f"taking each person's {base} score into account",
        "change": f"comparing each group's change from {base}",
        "mmrm": f"using every visit up to {end} and each person's {base} score",
    }[meta["method"]]
    what: Text = [
        ("strong", "What was compared. "),
        ("", f"{info['label']} ("),
        ("code", primary),
        ("", (f", {info['instrument']}" if info["instrument"] else "") + ") at "),
        ("strong", str(end)),
        ("", " between participants who were coached first ("),
        ("em", arms[0]),
        ("", ") and participants who were still waiting for coaching ("),
        ("em", arms[1]),
        (
            "",
            f"), {adjust}. Who was coached first was decided at random, so this comparison "
            "shows the effect of coaching.",
        ),
    ]
    eff = rel.tables.get("effects")
    rows = eff[(eff["outcome"] == primary)] if eff is not None else pd.DataFrame()
    if len(rows) and "wave" in rows:
        at_end = rows[rows["wave"].astype(str) == str(end)]
        rows = at_end if len(at_end) else rows
    if not len(rows) or is_hidden(rows.iloc[0]["estimate"]):
        return [
            what,
            [
                ("strong", "Result. "),
                ("", "Not shown: a group in this comparison is too small to report."),
            ],
        ]
    r = rows.iloc[0]
    est, lo, hi, p = (float(r[c]) for c in ("estimate", "conf_low", "conf_high", "p_value"))
    scale = ""
    if math.isfinite(info["low"]) and math.isfinite(info["high"]):
        scale = f" (the scale runs from {format_cell(info['low'])} to {format_cell(info['high'])})"
    out = [
        what,
        [
            ("strong", "Result. "),
            ("", f"At {end}, the average {info['label']} score of the coached group was "),
            ("strong", f"{abs(est):.2f} points {'lower' if est < 0 else 'higher'}"),
            (
                "",
                f" than that of the waiting group{scale}. The {meta['pct']} confidence "
                f"interval, the range of differences compatible with the data, runs from "
                f"{lo:.2f} to {hi:.2f}.",
            ),
        ],
    ]
    if info["higher_is"] in ("better", "worse"):
        good = (est < 0) == (info["higher_is"] == "worse")
        out.append(
            [
                ("strong", "Direction. "),
                (
                    "",
                    f"On this measure higher scores are {info['higher_is']}, so the difference "
                    + ("favours coaching." if good else "favours the waiting group (no coaching)."),
                ),
            ]
        )
    if lo > 0 or hi < 0:
        sure = (
            f"The interval does not include zero (p {'< 0.001' if p < 0.001 else f'= {p:.3f}'}): "
            "a difference this large would be unlikely if coaching made no difference."
        )
    else:
        sure = (
            f"The interval includes zero (p = {p:.3f}): the data are compatible with no "
            "difference, as well as with the differences in the interval."
        )
    out.append([("strong", "How sure can we be? "), ("", sure)])
    return out


def _methods(rel: Release, meta: Mapping[str, Any]) -> list[Text]:
    pct = meta["pct"]
    d = meta
    est = {
        "ancova": "Analysis of covariance (ANCOVA): the endpoint score regressed on arm and the "
        "baseline score by ordinary least squares; the baseline-adjusted mean difference "
        f"({d['arms'][0]} minus {d['arms'][1]}) with a t-based {pct} confidence interval",
        "change": "Difference in mean change from baseline between arms (two-sample t with "
        f"pooled variance) with a t-based {pct} confidence interval",
        "mmrm": "Mixed model for repeated measures (all post-baseline visits up to the "
        "endpoint, baseline and baseline-by-visit adjusted, unstructured covariance, "
        f"Satterthwaite degrees of freedom); one row per visit with a {pct} confidence interval",
    }[d["method"]]
    if d["covariates"]:
        est += ", also adjusted for " + ", ".join(d["covariates"])
    adjust = d["adjust"]
    names = {
        "holm": "Holm",
        "hochberg": "Hochberg",
        "bh": "Benjamini-Hochberg (false discovery rate)",
        "bonferroni": "Bonferroni",
        "fixed_sequence": "fixed-sequence (hierarchical testing)",
    }
    mult = (
        "No multiplicity adjustment."
        if adjust is None
        else f"Secondary outcomes' p-values are adjusted with the {names.get(adjust, adjust)} "
        f"method (the primary outcome, {_label(d['primary'])}, keeps its unadjusted p)."
    )
    items: list[Text] = [
        [
            ("strong", "Estimator. "),
            (
                "",
                est + ". Standardized effect: Morris (2008) d_ppc2, the difference in mean "
                "change over the pooled baseline SD, small-sample corrected.",
            ),
        ],
        [("strong", "Multiplicity. "), ("", mult)],
        [
            ("strong", "Missing data. "),
            (
                "",
                "The randomized comparison uses participants with both the baseline and the "
                "endpoint score (complete cases); those left out are counted, by reason and arm, "
                "in the flow and exclusions tables. Complete-case estimates assume that "
                "missingness does not depend on the unobserved score given the baseline score "
                "and arm.",
            ),
        ],
        [
            ("strong", "Percent change "),
            (
                "",
                "is descriptive: 100 x (endpoint mean / baseline mean - 1) per arm on "
                "participants with both scores.",
            ),
        ],
    ]
    if "nonrandomized" in rel.tables:
        items.append(
            [
                ("strong", "Non-randomized estimates "),
                (
                    "",
                    "(the delayed arm before and after its coaching; both arms pooled, aligned "
                    "to the start of coaching; durability in the immediate arm) have no "
                    "concurrent control group: they can reflect regression to the mean, secular "
                    "trends or the effect of waiting, and are shown for context only.",
                ),
            ]
        )
    n_hidden = int((rel.log["rule"] != "rounded").sum()) if len(rel.log) else 0
    items.append(
        [
            ("strong", "Privacy. "),
            (
                "",
                f"Every number in this report passed one disclosure check ({rel.policy.describe()}"
                f"), applied to all tables together so that a hidden number cannot be worked "
                f"out from the others. Cells hidden: {n_hidden}. Figures are drawn from the same "
                "released tables. No participant identifier appears.",
            ),
        ]
    )
    missing = [
        name
        for key, name in (
            ("responder_proportions", "responder analyses (no cut-point was pre-specified)"),
            ("reliability", "reliability (no item-level data in this report)"),
        )
        if key not in rel.tables
    ]
    if missing:
        items.append([("strong", "Left out of this report: "), ("", "; ".join(missing) + ".")])
    if d.get("synthetic"):
        items.append(
            [
                ("strong", "Synthetic data. "),
                (
                    "",
                    "The data are the package's example trial (coaching_trials.load_example), "
                    "generated by simulation: the numbers describe no real participants.",
                ),
            ]
        )
    return items


_MODEL_NOTE = (
    "A model, not a measurement: the numbers below combine the randomized result with stated "
    "assumptions. They are separated from the randomized results on purpose; change the "
    "assumptions and they change."
)


def _benefit_blocks(table: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for _, r in table.iterrows():
        rows.append(
            [
                (_label(r["outcome"]), ""),
                (str(r["prior"]), ""),
                _num(r["post_mean"]),
                _ci(r["post_low"], r["post_high"]),
                (DASH, "num hidden")
                if is_hidden(r["p_benefit"])
                else (f"{100 * float(r['p_benefit']):.0f}%", "num"),
                (DASH, "num hidden")
                if is_hidden(r["p_harm"])
                else (f"{100 * float(r['p_harm']):.1f}%", "num"),
            ]
        )
    sentences = [
        [("", str(s))] for s in table["sentence"] if isinstance(s, str) and not is_hidden(s)
    ]
    blocks: list[dict[str, Any]] = []
    if sentences:
        blocks.append(dict(kind="list", entries=sentences))
    blocks.append(
        _table(
            ["Outcome", "Prior", "Posterior mean", "Credible interval", "P(benefit)", "P(harm)"],
            rows,
        )
    )
    return blocks


def _business_blocks(case: pd.DataFrame, assumptions: pd.DataFrame | None) -> list[dict]:
    names = {
        "turnover_avoided": "Physician departures avoided",
        "savings": "Turnover costs saved",
        "program_cost": "Programme cost",
        "net_benefit": "Net benefit",
        "roi": "Return on investment (net benefit / cost)",
        "break_even_cost": "Break-even cost per participant",
        "attributable_turnover": "Annual turnover attributable to burnout",
    }

    def money(v: Any, unit: str) -> str:
        v = float(v)
        if unit.startswith("dollars"):
            return f"-${abs(v):,.0f}" if v < 0 else f"${v:,.0f}"
        if unit.startswith("ratio"):
            return f"{100 * v:.0f}%"
        if unit.startswith("annual proportion"):
            return f"{100 * v:.1f}%"
        return f"{v:.1f}"

    rows = []
    for _, r in case.iterrows():
        unit = str(r["unit"])
        cells = [r["estimate"], r["conf_low"], r["conf_high"]]
        if any(is_hidden(v) for v in cells):
            est, ci = (DASH, "num hidden"), (DASH, "num hidden")
        else:
            est = (money(cells[0], unit), "num")
            ci = (f"{money(cells[1], unit)} to {money(cells[2], unit)}", "num")
        unit_text = unit.split(" (")[0] if unit.startswith("ratio") else unit
        rows.append([(names.get(str(r["quantity"]), str(r["quantity"])), ""), est, ci,
                     (unit_text, "")])  # fmt: skip
    blocks = [_table(["Quantity", "Estimate", "Interval", "Unit"], rows)]
    if assumptions is not None:
        arows = [
            [
                (str(r["input"]), ""),
                _num(r["value"], 3),
                _ci(r["low"], r["high"], digits=3),
                (str(r["source"])[:160], ""),
            ]
            for _, r in assumptions.iterrows()
        ]
        blocks.append(
            _table(["Input", "Value", "Range", "Source"], arows, heading="Assumptions and sources")
        )
    return blocks


def _evidence_blocks(table: pd.DataFrame) -> list[dict]:
    rows = [
        [
            (str(r["study"]), ""),
            _num(r["estimate"]),
            _ci(r["conf_low"], r["conf_high"]),
            _num(r["weight"], 1),
        ]
        for _, r in table.iterrows()
    ]
    return [_table(["Study", "Difference", "95% interval", "Weight (%)"], rows)]


def render_report(
    rel: Release, meta: Mapping[str, Any], figures: Mapping[str, str] | None = None
) -> str:
    """The report page (HTML text) from released tables, plain-text facts and figure URIs."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from coaching_trials import __version__

    figures = dict(figures or {})
    arms, pct = list(meta["arms"]), f"{meta['pct']} CI"
    t = rel.tables
    sections: list[dict[str, Any]] = [
        dict(
            anchor="summary",
            title="Summary of the primary result",
            box="summary",
            paragraphs=_summary_text(rel, meta),
            blocks=[],
        )
    ]
    include = meta["include"]

    def add(anchor: str, title: str, paragraphs: list[Text], blocks: list[dict], box: str = ""):
        sections.append(
            dict(anchor=anchor, title=title, paragraphs=paragraphs, blocks=blocks, box=box)
        )

    if "flow" in include and "flow" in t:
        cols, rows = _flow_rows(t["flow"], arms)
        blocks = [_table(cols, rows)]
        if "consort" in figures:
            blocks.append(
                dict(
                    kind="figure",
                    uri=figures["consort"],
                    caption="Participant flow (CONSORT diagram), drawn from the released table "
                    "above: the same counts, hidden the same way.",
                )
            )
        add(
            "flow",
            "Participant flow",
            [
                [
                    (
                        "",
                        "Participants randomized, assessed at each wave and analysed for the "
                        f"primary outcome ({_label(meta['primary'])}), by arm. Participants "
                        "missed at one wave may be back at the next.",
                    )
                ]
            ],
            blocks,
        )
    if "baseline" in include and "baseline" in t:
        cols, rows = _baseline_rows(t["baseline"], arms)
        add(
            "baseline",
            "Table 1. Baseline characteristics",
            [
                [
                    (
                        "",
                        "Number of participants (percent of those answering) or mean (SD). SMD: "
                        f"standardized mean difference, {arms[0]} minus {arms[1]}; values near "
                        "0 mean the arms were alike (no p-values: differences at baseline are "
                        "due to chance under randomization).",
                    )
                ]
            ],
            [_table(cols, rows)],
        )
    if "effects" in include and "effects" in t:
        cols, rows = _effects_rows(t["effects"], t.get("standardized"), arms, pct)
        blocks = [_table(cols, rows)]
        if "forest" in figures:
            blocks.append(
                dict(
                    kind="figure",
                    uri=figures["forest"],
                    caption=f"Randomized differences ({arms[0]} - {arms[1]}) with {meta['pct']} "
                    "confidence intervals.",
                )
            )
        if "exclusions" in t and len(t["exclusions"]):
            cols, rows = _exclusion_rows(t["exclusions"])
            blocks.append(_table(cols, rows, heading="Participants not in the comparison"))
        add(
            "effects",
            "Effect of coaching (randomized comparison)",
            [
                [
                    (
                        "",
                        "The randomized comparison: difference between arms at the end of the "
                        f"waiting period ({meta['endpoint_wave']}), estimated by "
                        f"{meta['method'].upper()}.",
                    )
                ]
            ],
            blocks,
        )
    if "percent_change" in include and "descriptives" in t:
        cols, rows = _descriptives_rows(t["descriptives"], pct)
        blocks = [_table(cols, rows)]
        if "percent_change" in figures:
            blocks.append(
                dict(
                    kind="figure",
                    uri=figures["percent_change"],
                    caption="Percent change of each arm's mean from baseline to "
                    f"{meta['endpoint_wave']} (descriptive, not the effect of coaching).",
                )
            )
        add(
            "percent-change",
            "Change within each arm",
            [
                [
                    (
                        "",
                        "Each arm's mean at baseline and at the endpoint among the participants "
                        "with both scores, and the percent change between the two (descriptive; "
                        "not a randomized comparison: the effect of coaching is the difference "
                        "between arms above).",
                    )
                ]
            ],
            blocks,
        )
    if "nonrandomized" in include:
        if "nonrandomized" in t:
            cols, rows = _nonrandomized_rows(t["nonrandomized"], pct)
            add(
                "nonrandomized",
                "Non-randomized estimates (for context only)",
                [
                    [
                        ("strong", "Non-randomized estimates. "),
                        (
                            "",
                            "These compare participants with themselves before and after "
                            "coaching, without a randomized control group. They can be biased "
                            "(regression to the mean, changes over time, the effect of waiting) "
                            "and do not replace the randomized comparison above.",
                        ),
                    ]
                ],
                [_table(cols, rows)]
                + (
                    [
                        dict(
                            kind="figure",
                            uri=figures["forest_nonrandomized"],
                            caption="Non-randomized estimates with "
                            f"{meta['pct']} confidence intervals (no control group).",
                        )
                    ]
                    if "forest_nonrandomized" in figures
                    else []
                ),
                box="nonrandomized",
            )
        else:
            add(
                "nonrandomized",
                "Non-randomized estimates (for context only)",
                [
                    [
                        (
                            "",
                            "Not available: the design has no follow-up wave after the delayed "
                            "arm's coaching.",
                        )
                    ]
                ],
                [],
            )
    if "responder_proportions" in t:
        blocks = _responder_rows(t["responder_proportions"], t.get("responders"), pct)
        blocks += [
            dict(
                kind="figure",
                uri=figures[k],
                caption="Share of each arm with the event "
                f"({meta['pct']} Wilson confidence intervals).",
            )
            for k in figures
            if k.startswith("responders:")
        ]
        add(
            "responders",
            "Responders: who crossed a cut-point",
            [
                [
                    (
                        "",
                        "The share of each arm above or below a pre-specified cut-point at the "
                        "endpoint, among participants with both scores, and the randomized "
                        "difference between arms.",
                    )
                ]
            ],
            blocks,
        )
    if "reliability" in t:
        cols, rows = _reliability_rows(t["reliability"])
        add(
            "reliability",
            "Reliability of the scales",
            [
                [
                    (
                        "",
                        "Internal consistency of each subscale at each wave (respondents who "
                        "answered every item): Cronbach's alpha with its interval and "
                        "McDonald's omega. Values of about 0.8 or more are usually considered "
                        "good.",
                    )
                ]
            ],
            [_table(cols, rows)],
        )
    model_box = [[("strong", "Models. "), ("", _MODEL_NOTE)]]
    if "benefit" in t:
        blocks = _benefit_blocks(t["benefit"])
        if "posterior" in figures:
            blocks.append(
                dict(
                    kind="figure",
                    uri=figures["posterior"],
                    caption="Posterior distribution of the primary effect under each prior.",
                )
            )
        add(
            "benefit",
            "How probable is a benefit? (model)",
            [
                *model_box,
                [
                    (
                        "",
                        "Each randomized effect combined with named, pre-specified priors "
                        "(normal approximation): the probability that coaching helps, and that "
                        "it harms.",
                    )
                ],
            ],
            blocks,
            box="nonrandomized",
        )
    if "business_case" in t:
        blocks = _business_blocks(t["business_case"], t.get("business_assumptions"))
        if "tornado" in figures:
            blocks.append(
                dict(
                    kind="figure",
                    uri=figures["tornado"],
                    caption="Which assumption moves the net benefit most (each input over its "
                    "stated range).",
                )
            )
        add(
            "business-case",
            "The business case (model)",
            [
                *model_box,
                [
                    (
                        "",
                        "A turnover-cost model in the form of Shanafelt, Goh & Sinsky (JAMA "
                        "Intern Med 2017), driven by the trial's effect on the share of "
                        "physicians above the burnout cut-point; every input is listed with its "
                        "source.",
                    )
                ],
            ],
            blocks,
            box="nonrandomized",
        )
    if "evidence" in t:
        blocks = _evidence_blocks(t["evidence"])
        if "meta_forest" in figures:
            blocks.append(
                dict(
                    kind="figure",
                    uri=figures["meta_forest"],
                    caption="This trial among published coaching trials (random effects).",
                )
            )
        add(
            "evidence",
            "The trial among the evidence",
            [
                [
                    (
                        "",
                        "This trial's primary effect next to published coaching trials (only "
                        "figures checked against their source), pooled by random-effects "
                        "meta-analysis. Trials differ in populations and programmes; read the "
                        "pooled estimate with its prediction interval.",
                    )
                ]
            ],
            blocks,
        )
    traj = [k for k in figures if k.startswith("trajectory:")]
    if "figures" in include and traj:
        blocks = [
            dict(
                kind="figure",
                uri=figures[k],
                caption=f"{_label(k.split(':', 1)[1])}: mean per arm at each wave with "
                f"{meta['pct']} confidence intervals.",
            )
            for k in traj
        ]
        add(
            "figures",
            "Outcomes over time",
            [[("", "Average score per arm at each wave, with confidence intervals.")]],
            blocks,
        )
    add("methods", "Methods notes", [], [dict(kind="list", entries=_methods(rel, meta))])

    env = Environment(
        loader=PackageLoader("coaching_trials.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )
    template = env.get_template("report.html.j2")
    n = meta.get("n_randomized")
    subtitle: Text = [
        (
            "",
            f"Randomized delayed-intervention trial: {arms[0]} (coached first) vs {arms[1]} "
            "(wait-list, coached after the waiting period), "
            + (f"{n} participants randomized" if n is not None else "participants randomized")
            + f"; waves {', '.join(map(str, meta['waves']))}.",
        )
    ]
    return template.render(
        title=meta["title"],
        headline=headline(rel, meta),
        subtitle=subtitle,
        synthetic=bool(meta.get("synthetic")),
        sections=sections,
        css=_CSS,
        options=sorted((str(k), str(v)) for k, v in meta.get("options", {}).items()),
        version=__version__,
        policy=rel.policy.describe(),
    )
