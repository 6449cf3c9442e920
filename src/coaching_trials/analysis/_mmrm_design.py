"""Input checks, design matrices, Type 3 contrasts and LS-means of :func:`.mmrm.mmrm`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import ProblemLog, format_values
from coaching_trials._results import effects_frame

from . import _fit_checks
from ._mmrm_options import _visit_order
from ._mmrm_results import GlsFit, _readonly


def _levels(series: pd.Series) -> list[Any]:
    present = pd.unique(series.dropna())
    if isinstance(series.dtype, pd.CategoricalDtype):
        return [c for c in series.cat.categories if c in set(present)]
    return sorted(present.tolist())


def _sum_coding(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Sum-to-zero (effect) coding: column j is ``[level == j] - [level == last]``."""
    levels = np.arange(n_levels - 1)
    return (codes[:, None] == levels[None, :]).astype(float) - (codes == n_levels - 1)[
        :, None
    ].astype(float)


def _reference_differences(n_levels: int) -> np.ndarray:
    """Map sum-coded effects ``a_0..a_{K-2}`` (``a_{K-1} = -sum``) to ``a_j - a_0``, j >= 1.

    Level 0 is the reference, so the rows are "level j minus the reference level" of the
    equal-weighted marginal means: the rows of SAS's Type 3 estimable functions when SAS's
    reference (its last level) is this reference level.
    """
    k = n_levels - 1
    out = np.zeros((k, k))
    if k == 0:  # one level (e.g. a single post-baseline visit): the term has no contrast
        return out
    out[:, 0] = -1.0
    out[np.arange(k - 1), np.arange(1, k)] += 1.0
    out[k - 1] -= 1.0
    return out


def _type3_contrasts(
    xmat: np.ndarray, xsum: np.ndarray, terms: Sequence[tuple[str, np.ndarray]]
) -> tuple[tuple[str, np.ndarray], ...]:
    """SAS Type 3 contrast matrices in the coefficients of ``xmat``, one per non-intercept term.

    ``xsum`` is the same model with class variables in sum-to-zero coding (columns in the
    same term order); both span the same column space, so ``xsum = xmat A`` for an invertible
    ``A``, and the sum-coded coefficients are ``A^-1 beta``. The Type 3 hypothesis of a term
    is "its sum-coded coefficients are zero", i.e. the term's rows of ``A^-1``. Each term's
    matrix ``D`` (``terms``) then re-expresses these rows as differences from the reference
    level (products of such differences for interactions), the basis SAS prints for Type 3
    estimable functions. The hypothesis (and the F statistic) does not depend on the basis,
    but the Satterthwaite df of a multi-row test does (Fai & Cornelius 1996 is invariant only
    under orthogonal changes of basis), so SAS's basis is what reproduces SAS's df.
    """
    amat = _column_map(xmat, xsum)
    resid = float(np.max(np.abs(xmat @ amat - xsum))) if xsum.size else 0.0
    if resid > 1e-8 * max(1.0, float(np.max(np.abs(xsum)))):  # pragma: no cover - defensive
        raise RuntimeError("internal error: sum-coded design is not in the model's column space")
    ainv = np.linalg.inv(amat)
    ainv[np.abs(ainv) < 1e-12 * np.max(np.abs(ainv))] = 0.0
    out = []
    start = 0
    for name, dmat in terms:
        width = dmat.shape[0]
        if width and name != "(Intercept)":
            out.append((name, _readonly(dmat @ ainv[start : start + width] + 0.0)))
        start += width
    return tuple(out)


def _column_map(xmat: np.ndarray, xsum: np.ndarray) -> np.ndarray:
    """``A`` with ``xsum = xmat A`` (exact row by row), solved on few rows when that suffices.

    The relation holds for every row, so any subset of rows of full column rank determines
    ``A``; an evenly spaced subset of ~50 p rows is tried first (large data), all rows if that
    subset is rank deficient.
    """
    n, p = xmat.shape
    if n > 100 * p:
        sub = np.linspace(0, n - 1, 50 * p).astype(np.int64)
        if np.linalg.matrix_rank(xmat[sub]) == p:
            return np.linalg.lstsq(xmat[sub], xsum[sub], rcond=None)[0]
    return np.linalg.lstsq(xmat, xsum, rcond=None)[0]


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def category_codes(values: pd.Series, order: Sequence[Any]) -> np.ndarray:
    """Position of every value in ``order`` (-1 for a value not in it or missing)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = np.append(pd.Index(list(order)).get_indexer(uniques), -1)
    return lookup[codes].astype(np.int64)


# ----------------------------------------------------------------------------- input checks
def validate_input(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    wave: str,
    subject: str,
    treated: Any,
    baseline: str | None,
    covariates: tuple[str, ...],
    visits: Sequence[Any] | None,
) -> tuple[pd.DataFrame, list[Any], list[Any]]:
    """The analysed columns, the arm levels and the wave order, or every problem at once."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame; got {type(data).__name__}.")
    for name, val in (("outcome", outcome), ("arm", arm), ("wave", wave), ("subject", subject)):
        if not isinstance(val, str):
            raise TypeError(f"`{name}` must be a column name (str); got {val!r}.")
    log = ProblemLog("mmrm input")
    needed = [outcome, arm, wave, subject] + ([baseline] if baseline is not None else [])
    needed += list(covariates)
    missing_cols = [c for c in needed if c not in data.columns]
    if missing_cols:
        log.add(
            "missing_column",
            f"column(s) {format_values(missing_cols)} not found; "
            f"available: {format_values(list(data.columns), 10)}",
            values=missing_cols,
            expected="existing column names",
        )
        log.raise_if_any()
    if len(set(needed)) != len(needed):
        raise ValueError(f"Each column may play only one role; got {format_values(needed)}.")
    frame = data[needed].copy()
    _check_columns(log, frame, outcome, arm, wave, subject, baseline)
    arm_levels = _check_arm(log, frame, arm, treated)
    visit_order = _visit_order(frame[wave], visits, wave)
    _check_waves(log, frame, wave, subject, visit_order)
    if len(arm_levels) == 2:
        _check_arm_constant(log, frame, arm, subject)
    log.raise_if_any()
    return frame, arm_levels, visit_order


def _check_columns(
    log: ProblemLog,
    frame: pd.DataFrame,
    outcome: str,
    arm: str,
    wave: str,
    subject: str,
    baseline: str | None,
) -> None:
    for col in (outcome,) + ((baseline,) if baseline is not None else ()):
        if not _is_numeric(frame[col]):
            log.add(
                "not_numeric",
                f"column '{col}' must be numeric; got dtype {frame[col].dtype}",
                column=col,
                expected="numeric dtype",
            )
    for col in (subject, arm, wave):
        bad = frame.index[frame[col].isna()]
        if len(bad):
            log.add(
                "missing_value",
                f"column '{col}' is missing in {len(bad)} row(s) {format_values(bad)}",
                column=col,
                rows=list(bad),
                expected="no missing values",
            )


def _check_arm(log: ProblemLog, frame: pd.DataFrame, arm: str, treated: Any) -> list[Any]:
    arm_levels = _levels(frame[arm])
    if len(arm_levels) != 2:
        log.add(
            "arm_levels",
            f"column '{arm}' must have exactly 2 levels; found {format_values(arm_levels)}",
            column=arm,
            values=arm_levels,
            expected="2 levels",
        )
    elif treated not in arm_levels:
        log.add(
            "treated_level",
            f"`treated`={treated!r} is not a level of '{arm}' {format_values(arm_levels)}",
            column=arm,
            values=[treated],
            expected=f"one of {arm_levels}",
        )
    return arm_levels


def _check_waves(
    log: ProblemLog, frame: pd.DataFrame, wave: str, subject: str, visit_order: list[Any]
) -> None:
    unknown = frame.index[frame[wave].notna() & ~frame[wave].isin(visit_order)]
    if len(unknown):
        log.add(
            "unknown_visit",
            f"column '{wave}' has label(s) "
            f"{format_values(pd.unique(frame.loc[unknown, wave]))} not in `visits`",
            column=wave,
            rows=list(unknown),
            values=list(frame.loc[unknown, wave]),
            expected=f"one of {visit_order}",
        )
    dup = frame.index[frame.duplicated([subject, wave], keep=False) & frame[subject].notna()]
    if len(dup):
        log.add(
            "duplicate_visit",
            f"{len(dup)} rows share a {subject} x {wave} pair: rows {format_values(dup)}",
            rows=list(dup),
            values=list(frame.loc[dup, subject]),
            expected="one row per subject x visit",
        )


def _check_arm_constant(log: ProblemLog, frame: pd.DataFrame, arm: str, subject: str) -> None:
    per_subject = (
        frame.dropna(subset=[subject, arm])
        .groupby(subject, sort=False, observed=True)[arm]
        .nunique()
    )
    varying = per_subject.index[per_subject > 1]
    if len(varying):
        log.add(
            "arm_varies",
            f"'{arm}' changes within subject(s) {format_values(varying)}",
            column=arm,
            values=list(varying),
            expected="one arm per subject",
        )


def drop_incomplete(
    frame: pd.DataFrame,
    *,
    outcome: str,
    subject: str,
    baseline: str | None,
    covariates: tuple[str, ...],
) -> tuple[pd.DataFrame, list[dict[str, Any]], int]:
    """Rows with outcome, baseline and covariates present; the audit rows; subjects in input."""
    n_subjects_input = int(frame[subject].nunique())
    audit_rows: list[dict[str, Any]] = []
    keep = np.ones(len(frame), dtype=bool)
    checks = [(outcome, "missing outcome")] + ([(baseline, "missing baseline")] if baseline else [])
    checks += [(c, f"missing covariate '{c}'") for c in covariates]
    for col, reason in checks:
        miss = frame[col].isna().to_numpy() & keep
        if miss.any():
            audit_rows.append(
                {
                    "step": "mmrm",
                    "reason": reason,
                    "n_rows": int(miss.sum()),
                    "detail": f"rows with missing '{col}' excluded from the fit",
                }
            )
            keep &= ~miss
    analysed = frame.loc[keep] if not keep.all() else frame
    if analysed.empty:
        raise ValueError(
            f"No rows left to fit after dropping missing values in '{outcome}' / covariates."
        )
    n_lost = n_subjects_input - int(analysed[subject].nunique())
    if n_lost:
        audit_rows.append(
            {
                "step": "mmrm",
                "reason": "subject without usable rows",
                "n_rows": 0,
                "detail": f"{n_lost} subject(s) have no complete row and do not contribute",
            }
        )
    return analysed, audit_rows, n_subjects_input


# ----------------------------------------------------------------------------- design
@dataclass(frozen=True)
class Design:
    """The MMRM mean model of :func:`build_design`."""

    xmat: np.ndarray  # (n, p) reference-coded design
    names: list[str]
    xsum: np.ndarray  # (n, p) the same model, sum-to-zero coded
    terms: list[tuple[str, np.ndarray]]  # Type 3 term -> reference-difference basis
    vis_code: np.ndarray
    adj_means: list[np.ndarray]  # LS-mean averages of the adjustment columns
    adj_visit_interaction: list[bool]


def build_design(
    data: pd.DataFrame,
    *,
    arm: str,
    wave: str,
    treated: Any,
    baseline: str | None,
    covariates: tuple[str, ...],
    visit_order: list[Any],
) -> Design:
    """``intercept + arm + wave + arm:wave (+ baseline + baseline:wave) + covariates``."""
    vis_code = category_codes(data[wave], visit_order)
    n_vis = len(visit_order)
    is_trt = (data[arm] == treated).to_numpy(dtype=float)
    vis_dummies = (vis_code[:, None] == np.arange(1, n_vis)[None, :]).astype(float)
    cols = [np.ones(len(data)), is_trt[:, None], vis_dummies, is_trt[:, None] * vis_dummies]
    # the same model in sum-to-zero coding, term by term (for the Type 3 hypotheses)
    arm_sum = _sum_coding(is_trt.astype(np.int64), 2)  # control is level 0 (reference)
    vis_sum = _sum_coding(vis_code, n_vis)
    sum_cols = [np.ones((len(data), 1)), arm_sum, vis_sum, arm_sum * vis_sum]
    arm_diff, vis_diff = _reference_differences(2), _reference_differences(n_vis)
    terms = [
        ("(Intercept)", np.eye(1)),
        (arm, arm_diff),
        (wave, vis_diff),
        (f"{arm}:{wave}", np.kron(arm_diff, vis_diff)),
    ]
    names = ["Intercept", f"{arm}[{treated}]"]
    names += [f"{wave}[{v}]" for v in visit_order[1:]]
    names += [f"{arm}[{treated}]:{wave}[{v}]" for v in visit_order[1:]]
    adj_means: list[np.ndarray] = []
    adj_visit_interaction: list[bool] = []
    if baseline is not None:
        b = data[baseline].to_numpy(dtype=float)
        cols += [b[:, None], b[:, None] * vis_dummies]
        sum_cols += [b[:, None], b[:, None] * vis_sum]
        terms += [(baseline, np.eye(1)), (f"{baseline}:{wave}", vis_diff)]
        names += [baseline] + [f"{baseline}:{wave}[{v}]" for v in visit_order[1:]]
        adj_means.append(np.array([b.mean()]))
        adj_visit_interaction.append(True)
    for cov in covariates:
        series = data[cov]
        if _is_numeric(series):
            v = series.to_numpy(dtype=float)
            cols.append(v[:, None])
            names.append(cov)
            sum_cols.append(v[:, None])
            terms.append((cov, np.eye(1)))
            adj_means.append(np.array([v.mean()]))
        else:
            lv = _levels(series)
            codes = category_codes(series, lv)
            dummies = (codes[:, None] == np.arange(1, len(lv))[None, :]).astype(float)
            cols.append(dummies)
            names += [f"{cov}[{lev}]" for lev in lv[1:]]
            sum_cols.append(_sum_coding(codes, len(lv)))
            terms.append((cov, _reference_differences(len(lv))))
            adj_means.append(np.full(len(lv) - 1, 1.0 / len(lv)))
        adj_visit_interaction.append(False)
    xmat = np.column_stack([c if c.ndim == 2 else c[:, None] for c in cols])
    return Design(
        xmat, names, np.column_stack(sum_cols), terms, vis_code, adj_means, adj_visit_interaction
    )


# ----------------------------------------------------------------------------- LS-means
def lsmean_grid(design: Design, n_vis: int) -> np.ndarray:
    """Rows of ``L`` for the LS-means: treated at every wave, then control at every wave."""
    grid_rows = []
    for a_val in (1.0, 0.0):
        for j in range(n_vis):
            d = np.zeros(n_vis - 1)
            if j > 0:
                d[j - 1] = 1.0
            row = [np.ones(1), np.array([a_val]), d, a_val * d]
            for mean_vec, inter in zip(design.adj_means, design.adj_visit_interaction, strict=True):
                row.append(mean_vec)
                if inter:
                    row.append(mean_vec[0] * d)
            grid_rows.append(np.concatenate(row))
    return np.vstack(grid_rows)


def lsmeans_table(
    fit: GlsFit,
    lgrid: np.ndarray,
    labels: list[tuple[Any, Any]],
    counts: pd.Series,
    conf_level: float,
) -> pd.DataFrame:
    """The LS-means frame (one row per arm x wave)."""
    ls = fit.contrast(lgrid, names=[f"{a} {v}" for a, v in labels])
    return pd.DataFrame(
        {
            "arm": [a for a, _ in labels],
            "visit": [v for _, v in labels],
            "estimate": ls["estimate"].to_numpy(),
            "std_error": ls["std_error"].to_numpy(),
            "df": ls["df"].to_numpy(),
            "conf_low": ls["conf_low"].to_numpy(),
            "conf_high": ls["conf_high"].to_numpy(),
            "conf_level": conf_level,
            "n_obs": [int(counts.get((a, v), 0)) for a, v in labels],
        }
    )


def effects_table(
    diff: pd.DataFrame,
    *,
    outcome: str,
    treated: Any,
    control: Any,
    visit_order: list[Any],
    counts: pd.Series,
    conf_level: float,
) -> pd.DataFrame:
    """The effects table: the arm difference at every wave."""
    label = f"{treated} - {control}"
    rows = []
    for j, v in enumerate(visit_order):
        rows.append(
            {
                "outcome": outcome,
                "analysis": "mmrm",
                "contrast": label,
                "wave": str(v),
                "estimate": diff["estimate"].iloc[j],
                "std_error": diff["std_error"].iloc[j],
                "df": diff["df"].iloc[j],
                "statistic": diff["statistic"].iloc[j],
                "p_value": diff["p_value"].iloc[j],
                "conf_low": diff["conf_low"].iloc[j],
                "conf_high": diff["conf_high"].iloc[j],
                "conf_level": conf_level,
                "n_treated": int(counts.get((treated, v), 0)),
                "n_control": int(counts.get((control, v), 0)),
                "estimand": f"randomized: {treated} vs {control} at {v}",
                "p_adjusted": np.nan,
            }
        )
    return effects_frame(rows)


def withheld_rows(fit: GlsFit) -> list[dict[str, Any]]:
    """The audit row of a fit whose inference is withheld (none for a trustworthy fit)."""
    if fit.inference_ok:
        return []
    return [{"step": "mmrm", "reason": _fit_checks.WITHHELD, "n_rows": 0, "detail": fit.note}]
