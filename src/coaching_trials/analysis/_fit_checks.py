"""Is an iterative variance-model fit fit for inference?

Every REML/ML fit of the package (the MMRM, the mixed-model ANCOVA) passes its optimum through
:func:`diagnose` before any p-value is printed. Four conditions make the likelihood-based
inference untrustworthy:

* **gradient not small**: the optimiser stopped before the gradient tolerance was met;
* **observed information not positive definite**: the optimum is not a proper maximum (a
  saddle, a ridge, or a point on the way to an unbounded likelihood), so the asymptotic
  covariance of the variance parameters -- and every Satterthwaite or Kenward-Roger df built
  from it -- is undefined;
* **variance at zero**: a residual variance, or the conditional variance of one visit given the
  others, is (numerically) zero. For an unstructured covariance this is how an unbounded
  REML likelihood shows: when a visit has fewer observations than the parameters that describe
  it, the fit can reproduce that visit exactly and the likelihood grows without bound as its
  conditional variance goes to 0 (``nlme::gls`` stops with an error there);
* **non-finite** estimates or information.

When a check fails the estimator keeps the point estimates and standard errors, sets the df,
test statistics, p-values and confidence limits to NaN, records the reason in the result
(``converged=False`` and ``note``) and in its audit table, and warns with what to do.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coaching_trials._errors import ConvergenceWarning

#: a conditional variance below this fraction of the marginal variance counts as zero
#: (conditional SD under 1% of the marginal SD: a multiple R^2 of 0.9999 between visits)
VARIANCE_RATIO_TOL = 1e-4
#: the smallest eigenvalue of the scaled observed information must exceed this fraction of
#: the largest
INFORMATION_RTOL = 1e-10

WITHHELD = "inference withheld"


@dataclass(frozen=True)
class FitDiagnosis:
    """Outcome of :func:`diagnose`: ``ok`` when every check passed, else the problems found."""

    problems: tuple[str, ...] = ()
    advice: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def note(self) -> str:
        if self.ok:
            return ""
        return (
            f"{WITHHELD} (df, statistics, p-values and confidence limits set to NaN): "
            + "; ".join(self.problems)
            + (f". {self.advice}" if self.advice else ".")
        )


def conditional_variance_ratio(sigma: np.ndarray) -> np.ndarray:
    """``Var(y_j | y_-j) / Var(y_j)`` for every visit ``j`` of a covariance matrix (0 when the
    matrix is singular)."""
    sigma = np.asarray(sigma, dtype=float)
    diag = np.diag(sigma)
    if sigma.shape[0] == 1:
        return np.where(diag > 0, 1.0, 0.0)
    try:
        prec = np.linalg.inv(sigma)
    except np.linalg.LinAlgError:
        return np.zeros(len(diag))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = 1.0 / (np.diag(prec) * diag)
    return np.where(np.isfinite(ratio) & (ratio > 0), ratio, 0.0)


def information_problem(hessian: np.ndarray, scale: np.ndarray | None = None) -> str | None:
    """A message when the observed information (Hessian of -2 log-likelihood) is not positive
    definite, after scaling each parameter by ``scale`` (its magnitude)."""
    hess = np.asarray(hessian, dtype=float)
    if hess.size == 0:
        return None
    if not np.all(np.isfinite(hess)):
        return "the observed information is not finite"
    if scale is not None:
        hess = hess * np.outer(scale, scale)
    vals = np.linalg.eigvalsh(0.5 * (hess + hess.T))
    top = float(np.max(np.abs(vals)))
    if top == 0.0 or vals[0] <= INFORMATION_RTOL * top:
        return (
            "the observed information of the variance parameters is not positive definite "
            f"(smallest scaled eigenvalue {vals[0]:.3g}, largest {vals[-1]:.3g})"
        )
    return None


def diagnose(
    *,
    gradient_message: str | None,
    hessian: np.ndarray,
    hessian_scale: np.ndarray | None = None,
    variance_ratios: Sequence[tuple[str, float]] = (),
    estimates_finite: bool = True,
    advice: str = "",
) -> FitDiagnosis:
    """Collect the failed checks.

    Parameters
    ----------
    gradient_message
        ``None`` when the optimiser met its gradient tolerance, else its message.
    hessian, hessian_scale
        Observed Hessian of -2 log-likelihood in the variance parameters and their scales.
    variance_ratios
        ``(label, ratio)`` pairs: a variance relative to its natural scale (e.g. the conditional
        variance of a visit over its marginal variance); a ratio under
        :data:`VARIANCE_RATIO_TOL` is a variance at zero.
    estimates_finite
        Whether the fixed effects and their covariance are finite.
    advice
        What the user can do, appended to the note.
    """
    problems = []
    if not estimates_finite:
        problems.append("the estimates or their covariance are not finite")
    if gradient_message is not None:
        problems.append(f"the optimiser did not converge ({gradient_message})")
    info = information_problem(hessian, hessian_scale)
    if info is not None:
        problems.append(info)
    zero = [(name, r) for name, r in variance_ratios if not r >= VARIANCE_RATIO_TOL]
    if zero:
        listed = ", ".join(f"{name} ({r:.2g})" for name, r in zero)
        problems.append(
            "variance at zero, the likelihood is unbounded or the covariance singular: "
            f"conditional/relative variance below {VARIANCE_RATIO_TOL:g} for {listed}"
        )
    return FitDiagnosis(tuple(problems), advice if problems else "")


def warn_withheld(estimator: str, diagnosis: FitDiagnosis, *, stacklevel: int = 3) -> None:
    """Warn (:class:`ConvergenceWarning`) that inference was withheld, and why."""
    if not diagnosis.ok:
        warnings.warn(f"{estimator}: {diagnosis.note}", ConvergenceWarning, stacklevel=stacklevel)


def audit_entry(step: str, diagnosis: FitDiagnosis) -> dict[str, Any]:
    """The audit-table row recording a withheld inference."""
    return {"step": step, "reason": WITHHELD, "n_rows": 0, "detail": diagnosis.note}
