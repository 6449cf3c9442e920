"""The report's sentences: the headline, the plain-language summary and the methods notes.

Written from the released tables and the analysis facts (``meta``) only; every number is read
from a released table as it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from coaching_trials.release.core import Release, is_hidden
from coaching_trials.report._rows import Text, _label, outcome_info
from coaching_trials.report.tables import format_cell


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
    r = _primary_row(rel, meta)
    if r is None or is_hidden(r["estimate"]):
        return [
            what,
            [
                ("strong", "Result. "),
                ("", "Not shown: a group in this comparison is too small to report."),
            ],
        ]
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
