"""Fitting core of the MMRM: optimisation, checks and the :class:`GlsFit` it returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import EstimationError, ProblemLog, format_values, one_of

from . import _fit_checks
from . import _mmrm_engine as _engine
from ._mmrm_cov import CovarianceStructure
from ._mmrm_options import _single_thread_blas
from ._mmrm_results import GlsFit, MmrmConvergence, _readonly


def _start_sigma(
    y: np.ndarray,
    x: np.ndarray,
    subj: np.ndarray,
    vis: np.ndarray,
    n_visits: int,
    *,
    ols: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Starting value: pairwise covariance of OLS residuals, shrunk and made positive definite.

    ``ols``: rows with the same cross-products as ``(x, y)`` (compressed), to solve the OLS
    problem without touching every observation twice.
    """
    xo, yo = (x, y) if ols is None else ols
    beta = np.linalg.lstsq(xo, yo, rcond=None)[0]
    resid = y - x @ beta
    n_subj = int(subj.max()) + 1
    wide = np.full((n_subj, n_visits), np.nan)
    wide[subj, vis] = resid
    cov = pd.DataFrame(wide).cov(min_periods=2).to_numpy()
    var = np.diag(cov).copy()
    fallback = float(np.nanmean(resid**2)) if len(resid) else 1.0
    fallback = fallback if fallback > 0 else 1.0
    var = np.where(np.isfinite(var) & (var > 0), var, fallback)
    off = np.where(np.isfinite(cov), cov, 0.0) * 0.5
    start = off + np.diag(var - np.diag(off))
    vals, vecs = np.linalg.eigh(start)
    vals = np.clip(vals, 1e-3 * var.mean(), None)
    return (vecs * vals) @ vecs.T


_FIXED_OPTIMIZER = "none: covariance parameters fixed by control['fixed_covariance']"


def _evaluate_fixed(
    data: _engine.Data,
    structure: CovarianceStructure,
    fixed: Any,
    labels: list[str],
    *,
    reml: bool,
) -> _engine.OptimResult:
    """Evaluate the model at given covariance parameters (``control['fixed_covariance']``).

    ``fixed`` maps every name of :attr:`GlsFit.covariance_parameters` (``parameter`` column,
    SAS's names in the order of ``visits``) to its value. Nothing is optimised: the fixed
    effects, their covariance, the (restricted) likelihood and the observed information used
    by Satterthwaite / Kenward-Roger are all computed at exactly these values.
    """
    names = [str(rec["parameter"]) for rec in structure.param_names(labels)]
    if isinstance(fixed, pd.Series):
        fixed = fixed.to_dict()
    if not isinstance(fixed, Mapping):
        raise TypeError(
            "`control['fixed_covariance']` must be a mapping from covariance parameter name to "
            f"value with keys {format_values(names, len(names))}; got {type(fixed).__name__}."
        )
    unknown = [k for k in fixed if k not in names]
    if unknown:
        raise one_of("control['fixed_covariance'] key", unknown[0], tuple(names))
    missing = [k for k in names if k not in fixed]
    if missing:
        raise ValueError(
            f"`control['fixed_covariance']` must give every covariance parameter of the "
            f"{structure.kind!r} structure; missing {format_values(missing, len(missing))}."
        )
    try:
        eta = np.array([float(fixed[k]) for k in names], dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError("`control['fixed_covariance']` values must be numbers.") from exc
    if not np.all(np.isfinite(eta)):
        raise ValueError("`control['fixed_covariance']` values must be finite.")
    der = _engine.derivatives_eta(data, structure, eta, reml=reml)
    if not der.evaluation.ok:
        raise ValueError(
            "`control['fixed_covariance']` does not give a positive-definite covariance matrix "
            "for every observed visit pattern (or X' V^-1 X is singular)."
        )
    gnorm = float(np.max(np.abs(der.gradient * structure.eta_scale(eta)))) if len(eta) else 0.0
    message = (
        "not optimised: covariance parameters fixed by control['fixed_covariance'] "
        f"(max scaled |gradient| there {gnorm:.3g})"
    )
    return _engine.OptimResult(eta, der, False, 0, gnorm, message)


def fit_core(*args: Any, **kwargs: Any) -> GlsFit:
    """Fit with single-threaded BLAS (see :func:`fit_core_impl`)."""
    with _single_thread_blas():
        return fit_core_impl(*args, **kwargs)


def fit_core_impl(
    y: np.ndarray,
    x: np.ndarray,
    subj: np.ndarray,
    vis: np.ndarray,
    *,
    coef_names: Sequence[str],
    visits: Sequence[Any],
    structure: CovarianceStructure,
    reml: bool,
    df_method: str,
    conf_level: float,
    control: dict[str, Any],
    n_subjects_ic: int,
    kr_information: str = "observed",
) -> GlsFit:
    n_visits = len(visits)
    data = _engine.build_patterns(y, x, subj, vis, n_visits)
    # the stacked compressed rows have the same X'X as x: rank and aliasing from them
    x_star, y_star = data.stacked()
    rank = np.linalg.matrix_rank(x_star)
    if rank < x.shape[1]:
        # name the aliased columns
        _, r = np.linalg.qr(x_star)
        aliased = [
            coef_names[i] for i in np.flatnonzero(np.abs(np.diag(r)) < 1e-10 * np.abs(r).max())
        ]
        log = ProblemLog("the MMRM design matrix")
        log.add(
            "rank_deficient",
            f"rank {rank} < {x.shape[1]} columns; aliased term(s) {format_values(aliased)}: each "
            "arm needs observations at every visit and every covariate level must occur",
            values=aliased,
            expected="full column rank",
        )
        log.raise_if_any()
    if len(y) <= x.shape[1]:
        raise EstimationError(f"Too few observations ({len(y)}) for {x.shape[1]} fixed effects.")
    start = control["start"]
    fixed = control["fixed_covariance"]
    if fixed is not None:
        opt = _evaluate_fixed(data, structure, fixed, [str(v) for v in visits], reml=reml)
    else:
        if start is None:
            sigma0 = _start_sigma(y, x, subj, vis, n_visits, ols=(x_star, y_star))
        else:
            sigma0 = np.asarray(start, dtype=float)
            if sigma0.shape != (n_visits, n_visits):
                raise ValueError(
                    f"`control['start']` must be a {n_visits} x {n_visits} covariance matrix."
                )
        theta0 = structure.theta_from_sigma(sigma0)
        opt = _engine.optimise(
            data,
            structure,
            theta0,
            reml=reml,
            maxiter=int(control["maxiter"]),
            gtol=float(control["gtol"]),
        )
    convergence = MmrmConvergence(opt.converged, opt.iterations, opt.gradient_norm, opt.message)
    if fixed is not None:
        convergence = replace(convergence, optimizer=_FIXED_OPTIMIZER)
    eta = opt.eta
    sigma, _ = structure.sigma_eta(eta)
    diagnosis = _diagnose(data, structure, opt, sigma, visits, optimised=fixed is None)
    _fit_checks.warn_withheld("mmrm", diagnosis, stacklevel=5)
    ev = opt.derivatives.evaluation
    pmat = opt.derivatives.pmat
    information = kr_information if df_method.startswith("kenward_roger") else "observed"
    try:
        w_obs = _engine.covariance_parameter_vcov(structure, eta, opt.derivatives)
        w = _engine.covariance_parameter_vcov(
            structure, eta, opt.derivatives, information=information
        )
    except np.linalg.LinAlgError:
        w_obs = w = np.full_like(opt.derivatives.hessian, np.nan)
    vcov_adj = ev.cov_beta
    if df_method.startswith("kenward_roger"):
        qmat, rmat = _engine.kr_qr(data, structure, eta)
        vcov_adj = _engine.kr_adjusted_cov(
            ev.cov_beta, w, pmat, qmat, rmat, linear=df_method == "kenward_roger_linear"
        )
    labels = [str(v) for v in visits]
    params = pd.DataFrame(structure.param_names(labels))
    params["estimate"] = eta
    params["std_error"] = np.sqrt(np.clip(np.diag(w_obs), 0, None))
    q, p, n = structure.n_params, x.shape[1], len(y)
    d = q if reml else q + p
    n_star = n - p if reml else n
    neg2 = float(ev.neg2ll)
    return GlsFit(
        coef_names=tuple(coef_names),
        beta=_readonly(ev.beta),
        vcov=_readonly(ev.cov_beta),
        vcov_adjusted=_readonly(vcov_adj),
        visits=tuple(visits),
        sigma=_readonly(sigma),
        covariance_structure=structure.kind,
        reml=bool(reml),
        df_method=df_method,
        conf_level=conf_level,
        neg2_log_likelihood=neg2,
        aic=neg2 + 2.0 * d,
        aicc=neg2 + 2.0 * d * n_star / (n_star - d - 1.0) if n_star - d - 1 > 0 else np.nan,
        bic=neg2 + d * float(np.log(n_subjects_ic)),
        n_obs=n,
        n_subjects=data.n_subjects,
        n_cov_params=q,
        convergence=convergence,
        eta=_readonly(eta),
        eta_vcov=_readonly(w),
        kr_information=information,
        _param_table=params,
        _p=_readonly(pmat),
        inference_ok=diagnosis.ok,
        note=diagnosis.note,
    )


def _diagnose(
    data: _engine.Data,
    structure: CovarianceStructure,
    opt: _engine.OptimResult,
    sigma: np.ndarray,
    visits: Sequence[Any],
    *,
    optimised: bool,
) -> _fit_checks.FitDiagnosis:
    """Convergence and boundary checks of an MMRM fit (see :mod:`._fit_checks`)."""
    ev = opt.derivatives.evaluation
    n_at = np.zeros(data.n_visits, dtype=int)
    for pat in data.patterns:
        n_at[pat.visits] += pat.m
    sparse = int(np.argmin(n_at))
    alternatives = [k for k in ("compound_symmetry", "ar1", "toeplitz") if k != structure.kind]
    advice = (
        "Fit a covariance with fewer parameters (covariance="
        + " or ".join(repr(k) for k in alternatives)
        + ") or pool sparse visits (the sparsest visit, "
        f"{visits[sparse]}, has {n_at[sparse]} observations of {data.n_subjects} subjects)"
    )
    ratios = _fit_checks.conditional_variance_ratio(sigma)
    finite = bool(ev.ok and np.all(np.isfinite(ev.beta)) and np.all(np.isfinite(ev.cov_beta)))
    return _fit_checks.diagnose(
        gradient_message=None if (opt.converged or not optimised) else opt.message,
        hessian=opt.derivatives.hessian,
        hessian_scale=structure.eta_scale(opt.eta) if len(opt.eta) else None,
        variance_ratios=[(f"visit {v}", float(r)) for v, r in zip(visits, ratios, strict=True)],
        estimates_finite=finite,
        advice=advice,
    )
