"""CONSORT flow counts and the baseline table (private helpers of :mod:`design.delayed`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "flow_table",
    "baseline_summary",
    "natural_level_order",
    "FLOW_COLUMNS",
    "BASELINE_COLUMNS",
]

FLOW_COLUMNS = ("arm", "stage", "wave", "reason", "n")
BASELINE_COLUMNS = (
    "variable",
    "kind",
    "level",
    "arm",
    "n",
    "n_missing",
    "mean",
    "sd",
    "median",
    "q1",
    "q3",
    "count",
    "percent",
    "smd",
)
NOT_GIVEN = "reason not given"


def observed_matrix(
    responses: pd.DataFrame,
    ids: pd.Index,
    *,
    subject: str,
    wave: str,
    waves: Sequence[str],
    outcome: str | None,
) -> pd.DataFrame:
    """Boolean participant x wave matrix: a row at that wave (with a non-missing ``outcome``)."""
    present = (
        responses[outcome].notna() if outcome is not None else pd.Series(True, responses.index)
    )
    frame = pd.DataFrame(
        {"_id": responses[subject].to_numpy(), "_w": responses[wave].astype("string").to_numpy()}
    )
    frame["_o"] = present.to_numpy()
    mat = frame.pivot_table(index="_id", columns="_w", values="_o", aggfunc="any")
    mat = mat.reindex(index=ids, columns=list(waves))
    return mat.fillna(False).astype(bool)


def flow_table(
    participants: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    subject: str,
    arm: str,
    wave: str,
    arms: Sequence[str],
    waves: Sequence[str],
    baseline_wave: str,
    endpoint_wave: str,
    outcome: str | None = None,
    reason: str | None = None,
) -> pd.DataFrame:
    """Tidy CONSORT counts (see :meth:`DelayedInterventionTrial.flow`)."""
    ids = pd.Index(participants[subject])
    obs = observed_matrix(responses, ids, subject=subject, wave=wave, waves=waves, outcome=outcome)
    has_row = observed_matrix(responses, ids, subject=subject, wave=wave, waves=waves, outcome=None)
    arm_of = participants[arm].astype("string").to_numpy()
    if reason is not None and reason in participants.columns:
        why = participants[reason].astype("string").fillna(NOT_GIVEN).to_numpy()
    else:
        why = np.full(len(ids), NOT_GIVEN, dtype=object)
    rows: list[dict[str, Any]] = []
    groups = [(a, arm_of == a) for a in arms] + [("overall", np.ones(len(ids), dtype=bool))]
    base = obs[baseline_wave].to_numpy()
    end = obs[endpoint_wave].to_numpy()
    for label, mask in groups:
        rows.append(dict(arm=label, stage="randomized", wave=None, reason=None, n=int(mask.sum())))
        for w in waves:
            seen = obs[w].to_numpy() & mask
            rows.append(dict(arm=label, stage="assessed", wave=w, reason=None, n=int(seen.sum())))
            lost = mask & ~obs[w].to_numpy()
            if lost.any():
                no_score = has_row[w].to_numpy()
                reason_w = np.where(no_score, f"{outcome} missing", why).astype(str)
                reasons, counts = np.unique(reason_w[lost], return_counts=True)
                for r, c in zip(reasons, counts, strict=True):
                    rows.append(dict(arm=label, stage="not assessed", wave=w, reason=r, n=int(c)))
        analysed = mask & base & end
        rows.append(
            dict(
                arm=label, stage="analysed", wave=endpoint_wave, reason=None, n=int(analysed.sum())
            )
        )
        for r, m in (
            (f"no data at {endpoint_wave}", mask & ~end),
            (f"no data at {baseline_wave} only", mask & end & ~base),
        ):
            if m.any():
                rows.append(
                    dict(
                        arm=label,
                        stage="not analysed",
                        wave=endpoint_wave,
                        reason=r,
                        n=int(m.sum()),
                    )
                )
    table = pd.DataFrame(rows, columns=list(FLOW_COLUMNS))
    for col in ("arm", "stage", "wave", "reason"):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    return table.astype({"n": "int64"})


def _smd_continuous(m1: float, s1: float, m2: float, s2: float) -> float:
    denom = np.sqrt((s1**2 + s2**2) / 2.0)
    return float((m1 - m2) / denom) if denom > 0 else float("nan")


def _smd_binary(p1: float, p2: float) -> float:
    denom = np.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2.0)
    return float((p1 - p2) / denom) if denom > 0 else float("nan")


def _smd_multinomial(p1: np.ndarray, p2: np.ndarray) -> float:
    """Yang & Dalton (2012) SMD for a k-level categorical variable (levels 2..k).

    ``sqrt((p1 - p2)' S^{-1} (p1 - p2))`` with ``S = (S1 + S2) / 2`` and
    ``S_j = diag(p_j) - p_j p_j'`` restricted to levels 2..k.
    """
    if len(p1) < 2:
        return float("nan")
    t, c = p1[1:], p2[1:]
    s = (np.diag(t) - np.outer(t, t) + np.diag(c) - np.outer(c, c)) / 2.0
    d = t - c
    try:
        val = float(d @ np.linalg.solve(s, d))
    except np.linalg.LinAlgError:
        return float("nan")
    return float(np.sqrt(max(val, 0.0)))


#: A level that starts with a number, optionally after a comparison sign: "<40", "40-49",
#: "60+", ">= 10", "1-5 years". Group 1 is the sign, group 2 the number.
_LEADING_NUMBER = re.compile(r"^\s*(<=|>=|\u2264|\u2265|<|>)?\s*([0-9]+(?:\.[0-9]+)?)")
#: Rank of the sign among levels starting with the same number: "<40" before "40-49" before
#: ">40".
_SIGN_RANK = {"<": 0, "<=": 0, "\u2264": 0, None: 1, ">=": 2, "\u2265": 2, ">": 2}


def natural_level_order(levels: Sequence[Any]) -> list[Any]:
    """Order the levels of a non-Categorical column for Table 1.

    When every level is text starting with a number (optionally after ``<``, ``<=``, ``>``,
    ``>=``, ``\u2264`` or ``\u2265``), the levels are ordered by that number, ``<`` first and
    ``>`` last among equal numbers, then alphabetically; otherwise alphabetically (numbers
    numerically, text by its characters).

    Examples
    --------
    >>> natural_level_order(["60+", "50-59", "<40", "40-49"])
    ['<40', '40-49', '50-59', '60+']
    >>> natural_level_order(["10+ years", "1-5 years", "6-9 years"])
    ['1-5 years', '6-9 years', '10+ years']
    >>> natural_level_order(["surgery", "medicine", "<40"])
    ['<40', 'medicine', 'surgery']
    """
    vals = list(levels)
    matches = [_LEADING_NUMBER.match(v) if isinstance(v, str) else None for v in vals]
    if vals and all(m is not None for m in matches):
        keyed = [
            ((float(m.group(2)), _SIGN_RANK[m.group(1)], v), v)
            for m, v in zip(matches, vals, strict=True)
            if m is not None
        ]
        return [v for _, v in sorted(keyed, key=lambda kv: kv[0])]
    return sorted(vals, key=lambda v: (str(type(v)), v))


def is_categorical(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


@dataclass(frozen=True)
class _Layout:
    """What every row of Table 1 shares: the groups (arms and overall), the options and the
    column headers of the display table."""

    groups: list[tuple[str, np.ndarray]]
    arms: tuple[str, ...]
    levels: Mapping[str, Sequence[Any]]
    continuous: str
    smd: bool
    col_names: Mapping[str, str]
    digits: int

    def fmt(self, x: float) -> str:
        return "NA" if not np.isfinite(x) else f"{x:.{self.digits}f}"


def baseline_summary(
    frame: pd.DataFrame,
    variables: Sequence[str],
    *,
    arm: str,
    arms: Sequence[str],
    continuous: str,
    smd: bool,
    categorical: Sequence[str] = (),
    levels: Mapping[str, Sequence[Any]] | None = None,
    digits: int = 2,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy and formatted Table 1 (see :meth:`DelayedInterventionTrial.baseline_table`).

    Level order of a categorical variable: ``levels[var]`` when given (already checked to
    cover every observed value), else a Categorical's own categories, else
    :func:`natural_level_order`.
    """
    levels = {} if levels is None else levels
    arm_vals = frame[arm].astype("string").to_numpy()
    groups = [(a, arm_vals == a) for a in arms] + [("overall", np.ones(len(frame), dtype=bool))]
    n_group = {g: int(m.sum()) for g, m in groups}
    col_names = {g: f"{g} (n={n_group[g]})" for g, _ in groups}
    layout = _Layout(groups, tuple(arms), levels, continuous, smd, col_names, digits)
    tidy: list[dict[str, Any]] = []
    pretty: list[dict[str, Any]] = []
    for var in variables:
        s = frame[var]
        cat = var in categorical or var in levels or is_categorical(s)
        rows, shown = (_categorical_rows if cat else _continuous_rows)(var, s, layout)
        tidy.extend(rows)
        pretty.extend(shown)
    table = pd.DataFrame(tidy, columns=list(BASELINE_COLUMNS))
    for col in ("variable", "kind", "level", "arm"):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    table = table.astype({"n": "int64", "n_missing": "int64"})
    cols = ["variable", "level", *col_names.values(), "SMD"]
    formatted = pd.DataFrame(pretty, columns=cols).fillna("")
    if not smd:
        formatted = formatted.drop(columns="SMD")
    return table, formatted


def _continuous_rows(
    var: str, s: pd.Series, layout: _Layout
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Tidy and display rows of one continuous variable of Table 1."""
    groups, arms, smd = layout.groups, layout.arms, layout.smd
    col_names, fmt, continuous = layout.col_names, layout.fmt, layout.continuous
    tidy: list[dict[str, Any]] = []
    pretty: list[dict[str, Any]] = []
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    stats = {}
    for g, m in groups:
        v = x[m]
        v = v[np.isfinite(v)]
        n = v.size
        stats[g] = dict(
            n=n,
            n_missing=int(m.sum()) - n,
            mean=float(v.mean()) if n else np.nan,
            sd=float(v.std(ddof=1)) if n > 1 else np.nan,
            median=float(np.median(v)) if n else np.nan,
            q1=float(np.percentile(v, 25)) if n else np.nan,
            q3=float(np.percentile(v, 75)) if n else np.nan,
        )
    a, b = arms
    d = (
        _smd_continuous(stats[a]["mean"], stats[a]["sd"], stats[b]["mean"], stats[b]["sd"])
        if smd
        else np.nan
    )
    for g, _ in groups:
        tidy.append(dict(variable=var, kind="continuous", level=None, arm=g, **stats[g], smd=d))
    label = "mean (SD)" if continuous == "mean_sd" else "median [IQR]"
    row = {"variable": var, "level": label}
    for g, _ in groups:
        st = stats[g]
        if continuous == "mean_sd":
            row[col_names[g]] = f"{fmt(st['mean'])} ({fmt(st['sd'])})"
        else:
            row[col_names[g]] = f"{fmt(st['median'])} [{fmt(st['q1'])}, {fmt(st['q3'])}]"
    row["SMD"] = fmt(d) if smd else ""
    pretty.append(row)
    if any(stats[g]["n_missing"] for g, _ in groups):
        pretty.append(
            {"variable": var, "level": "missing", "SMD": ""}
            | {col_names[g]: str(stats[g]["n_missing"]) for g, _ in groups}
        )
    return tidy, pretty


def _categorical_rows(
    var: str, s: pd.Series, layout: _Layout
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Tidy and display rows of one categorical variable of Table 1 (a row per level)."""
    groups, arms, levels, smd = layout.groups, layout.arms, layout.levels, layout.smd
    col_names, fmt = layout.col_names, layout.fmt
    tidy: list[dict[str, Any]] = []
    pretty: list[dict[str, Any]] = []
    if var in levels:
        var_levels = list(levels[var])
    elif isinstance(s.dtype, pd.CategoricalDtype):
        var_levels = list(s.cat.categories)
    else:
        var_levels = natural_level_order(s.dropna().unique())
    vals = s.to_numpy(dtype=object)
    notna = s.notna().to_numpy()
    counts: dict[str, np.ndarray] = {}
    n_ok: dict[str, int] = {}
    for g, m in groups:
        n_ok[g] = int((m & notna).sum())
        counts[g] = np.array([int((m & notna & (vals == lv)).sum()) for lv in var_levels])
    a, b = arms
    pa = counts[a] / n_ok[a] if n_ok[a] else np.full(len(var_levels), np.nan)
    pb = counts[b] / n_ok[b] if n_ok[b] else np.full(len(var_levels), np.nan)
    overall_smd = _smd_multinomial(pa, pb) if smd else np.nan
    level_smd = [_smd_binary(x, y) if smd else np.nan for x, y in zip(pa, pb, strict=True)]
    pretty.append(
        {"variable": var, "level": "n (%)", "SMD": fmt(overall_smd) if smd else ""}
        | {col_names[g]: "" for g, _ in groups}
    )
    for i, lv in enumerate(var_levels):
        row = {"variable": var, "level": str(lv), "SMD": fmt(level_smd[i]) if smd else ""}
        for g, m in groups:
            pct = 100.0 * counts[g][i] / n_ok[g] if n_ok[g] else np.nan
            row[col_names[g]] = f"{counts[g][i]} ({pct:.1f}%)"
            tidy.append(
                dict(
                    variable=var,
                    kind="categorical",
                    level=str(lv),
                    arm=g,
                    n=n_ok[g],
                    n_missing=int(m.sum()) - n_ok[g],
                    count=int(counts[g][i]),
                    percent=pct,
                    smd=level_smd[i],
                )
            )
        pretty.append(row)
    if any(int(m.sum()) - n_ok[g] for g, m in groups):
        pretty.append(
            {"variable": var, "level": "missing", "SMD": ""}
            | {col_names[g]: str(int(m.sum()) - n_ok[g]) for g, m in groups}
        )
    return tidy, pretty
