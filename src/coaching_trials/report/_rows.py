"""Released tables as table blocks for the report page: one formatted cell at a time.

A cell is ``(text, css)``; ``css`` holds ``num`` for a numeric column and ``hidden`` for a cell
hidden by the release (drawn as a dash with a footnote). Nothing here computes a statistic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials.release.core import is_hidden
from coaching_trials.report.tables import format_cell

DASH = "\u2014"
Text = list[tuple[str, str]]
Cell = tuple[str, str]
HIDDEN_CELL = (DASH, "num hidden")


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


def _num(value: Any, digits: int = 2) -> Cell:
    if is_hidden(value):
        return HIDDEN_CELL
    return format_cell(value, digits), "num"


def _count(value: Any) -> Cell:
    if is_hidden(value):
        return HIDDEN_CELL
    return format_cell(value, 0, whole=True), "num"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _text(value: Any, fmt: Callable[[float], str]) -> Cell:
    """A number written by ``fmt``: the dash when hidden, empty when missing."""
    if is_hidden(value):
        return HIDDEN_CELL
    if _missing(value) or pd.isna(value):
        return "", "num"
    return fmt(float(value)), "num"


def _p(value: Any) -> Cell:
    return _text(value, lambda v: "<0.001" if v < 0.001 else f"{v:.3f}")


def _ci(lo: Any, hi: Any, digits: int = 2, pct: bool = False) -> Cell:
    if is_hidden(lo) or is_hidden(hi):
        return HIDDEN_CELL
    if _missing(lo) or _missing(hi):
        return "", "num"
    if pct:
        return f"{float(lo):+.1f}% to {float(hi):+.1f}%", "num"
    return f"{format_cell(lo, digits)} to {format_cell(hi, digits)}", "num"


def _mean_sd(m: Any, s: Any, digits: int = 2) -> Cell:
    if is_hidden(m):
        return HIDDEN_CELL
    if _missing(m):
        return "", "num"
    sd = DASH if is_hidden(s) else format_cell(s, digits)
    return f"{format_cell(m, digits)} ({sd})", "num"


def _estimate_cells(r: pd.Series, *counts: str, p: bool = True) -> list[Cell]:
    """The ``counts`` columns, then the estimate, its interval and (``p``) its p-value."""
    cells = [_count(r[c]) for c in counts]
    cells += [_num(r["estimate"]), _ci(r["conf_low"], r["conf_high"])]
    return [*cells, _p(r["p_value"])] if p else cells


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
                    cells.append(HIDDEN_CELL)
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
            *_estimate_cells(r, "n_treated", "n_control"),
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
        rows.append(
            [
                (_label(r["outcome"]), ""),
                (str(r["arm"]), ""),
                _count(r["percent_change_n"]),
                _num(r.get("paired_baseline_mean", np.nan), 3),
                _num(r.get("paired_endpoint_mean", np.nan), 3),
                _text(r["percent_change"], lambda v: f"{v:+.1f}%"),
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
                *_estimate_cells(r, "n_treated"),
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


def _responder_rows(props: pd.DataFrame, effects: pd.DataFrame | None, pct: str):
    rows = []
    for _, r in props.iterrows():
        rows.append(
            [
                (_label(r["outcome"]), ""),
                (str(r["event"]).replace(str(r["outcome"]), _label(r["outcome"]), 1), ""),
                (str(r["arm"]), ""),
                _count(r["n"]),
                _count(r["events"]),
                _text(r["proportion"], lambda v: f"{100 * v:.0f}%"),
            ]
        )
    table = _table(["Outcome", "Event", "Arm", "n", "With the event", "Share"], rows)
    blocks = [table]
    if effects is not None and len(effects):
        rd = effects[effects["analysis"] == "risk_difference"]
        eff_rows = []
        for _, r in rd.iterrows():
            eff_rows.append(
                [
                    (_label(r["outcome"]), ""),
                    _count(r["n_treated"]),
                    _count(r["n_control"]),
                    _text(r["estimate"], lambda v: f"{100 * v:+.1f} points"),
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


def _benefit_blocks(table: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for _, r in table.iterrows():
        rows.append(
            [
                (_label(r["outcome"]), ""),
                (str(r["prior"]), ""),
                _num(r["post_mean"]),
                _ci(r["post_low"], r["post_high"]),
                _text(r["p_benefit"], lambda v: f"{100 * v:.0f}%"),
                _text(r["p_harm"], lambda v: f"{100 * v:.1f}%"),
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
            est, ci = HIDDEN_CELL, HIDDEN_CELL
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
            *_estimate_cells(r, p=False),
            _num(r["weight"], 1),
        ]
        for _, r in table.iterrows()
    ]
    return [_table(["Study", "Difference", "95% interval", "Weight (%)"], rows)]
