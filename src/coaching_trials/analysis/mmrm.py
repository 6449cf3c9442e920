"""Mixed model for repeated measures (MMRM): REML/ML generalised least squares with a
visit-indexed residual covariance and Satterthwaite or Kenward-Roger degrees of freedom.

The public entry point is :func:`mmrm` (tidy long data in, :class:`MmrmResult` out). The
lower-level :func:`fit_gls` takes an outcome vector and a design matrix, for mean models that
:func:`mmrm` does not build (e.g. an arm-only model with visit only in the covariance).

The implementation is split by concern: ``_mmrm_options`` (options and checks),
``_mmrm_results`` (result objects), ``_mmrm_fit`` (optimisation and fit checks),
``_mmrm_design`` (input validation, design matrices, Type 3 contrasts, LS-means),
``_mmrm_engine`` (the likelihood on per-pattern sufficient statistics) and ``_mmrm_cov``
(covariance structures).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._audit import audit_frame
from coaching_trials._errors import ConvergenceWarning, format_values
from coaching_trials._vocab import renamed

from ._mmrm_cov import make_structure
from ._mmrm_design import (
    _readonly,
    _type3_contrasts,
    build_design,
    category_codes,
    drop_incomplete,
    effects_table,
    lsmean_grid,
    lsmeans_table,
    validate_input,
    withheld_rows,
)
from ._mmrm_fit import fit_core
from ._mmrm_options import (
    DF_METHODS,
    KR_INFORMATION,
    _check_control,
    _check_options,
    _single_thread_blas,
    _visit_order,
)
from ._mmrm_results import GlsFit, MmrmConvergence, MmrmResult

__all__ = [
    "DF_METHODS",
    "KR_INFORMATION",
    "ConvergenceWarning",
    "GlsFit",
    "MmrmConvergence",
    "MmrmResult",
    "fit_gls",
    "mmrm",
]


# ----------------------------------------------------------------------------- fit_gls
@renamed(visit="wave")
def fit_gls(
    y: Sequence[float] | np.ndarray | pd.Series,
    X: np.ndarray | pd.DataFrame,
    subject: Sequence[Any] | np.ndarray | pd.Series,
    wave: Sequence[Any] | np.ndarray | pd.Series,
    *,
    covariance: str = "unstructured",
    reml: bool = True,
    df_method: str = "satterthwaite",
    visits: Sequence[Any] | None = None,
    conf_level: float = 0.95,
    control: Mapping[str, Any] | None = None,
    kr_information: str = "observed",
) -> GlsFit:
    """Fit ``y = X beta + e`` with a visit-indexed within-subject covariance by REML or ML.

    Parameters
    ----------
    y : array-like, shape (n,)
        Outcome; must not contain missing values (drop them first).
    X : array-like or DataFrame, shape (n, p)
        Design matrix of full column rank (DataFrame column names become coefficient names).
    subject, wave : array-like, shape (n,)
        Subject identifier and visit (wave) label of every observation; at most one row per
        subject x wave. ``visit=`` is accepted as the old name of ``wave``.
    covariance : {"unstructured", "compound_symmetry", "ar1", "toeplitz", "ar1h", "csh"}
        Residual covariance ("us"/"un", "cs", "toep", "arh1" accepted as aliases). AR(1) and
        Toeplitz use the position in ``visits`` as time, so a skipped visit counts as a lag.
    reml : bool
        Restricted (default) or full maximum likelihood.
    df_method : {"satterthwaite", "kenward_roger", "kenward_roger_linear", "residual"}
        Denominator degrees of freedom; the Kenward-Roger methods also adjust the covariance of
        the fixed effects (``vcov_adjusted``).
    visits : sequence, optional
        Visit order; default: categories of a pandas Categorical, else sorted labels.
    conf_level : float
        Confidence level for intervals.
    control : mapping, optional
        ``maxiter`` (default 1000), ``gtol`` (default 1e-6, on the gradient of -2 log-likelihood)
        and ``start`` (a ``T x T`` starting covariance matrix). ``fixed_covariance``: a mapping
        (or Series) from every covariance parameter name, as in the ``parameter`` column of
        ``covariance_parameters`` (SAS's names, e.g. ``"UN(2,1)"``, ``"Residual"``,
        ``"AR(1)"``, indexed in the order of ``visits``), to its value; the model is then
        evaluated at exactly these parameters without optimising (fixed effects, likelihood,
        observed information, Satterthwaite / Kenward-Roger all at the given point), and
        ``convergence.converged`` is False with ``iterations`` 0. Use it to reproduce another
        program's output at that program's own covariance estimates.
    kr_information : {"observed", "expected"}
        Information matrix of the covariance parameters behind the Kenward-Roger df and
        adjusted covariance (ignored by the other ``df_method``). "observed" (default, the
        package-wide convention shared with :func:`clustered_ancova`) is SAS PROC MIXED's
        ``DDFM=KR``; "expected" is R ``pbkrtest``'s. The two differ by O(1/n) in the df.

    Returns
    -------
    GlsFit
        ``coefficients`` (estimate, SE, df, t, p, CI), ``contrast(L)``, ``covariance``,
        ``covariance_parameters``, likelihood and information criteria, ``convergence``.

    Notes
    -----
    Estimation minimises the -2 (restricted) log-likelihood with SAS's constants,
    ``(n - p) log(2 pi) + sum log|Sigma_i| + log|X'V^-1X| + r'V^-1 r`` for REML, with an analytic
    gradient; subjects are grouped by their pattern of observed visits and each pattern is
    reduced once to its sufficient statistics (rows with the same cross-products as its
    subjects' ``[X, y]``), so an evaluation of the likelihood, its gradient and Hessian, and
    the Satterthwaite / Kenward-Roger pieces costs the same for 1,000 or 100,000 subjects
    (checked against ``nlme::gls`` on 1,500 subjects, ``tests/reference/mmrm_scale``, and
    against the uncompressed computation). Satterthwaite df use
    the gradient of the contrast variance in the covariance parameters and the inverse observed
    information of the (restricted) likelihood; Kenward-Roger (1997) uses the same information
    and SAS's parameterisation of each structure, so its second-derivative term vanishes for
    UN, CS and Toeplitz; ``kenward_roger_linear`` drops that term for every structure (SAS's
    linear/first-order variant). As in SAS, the observed information is taken in the profiled
    parameters (``Residual`` and ``CS/Residual`` or ``TOEP(k)/Residual`` for compound symmetry
    and Toeplitz); at an exact optimum this equals the inverse Hessian in SAS's parameters,
    and at given, not fully converged parameters (``fixed_covariance``) it is what matches
    SAS's df. Validated against SAS PROC MIXED on the ``fev_data`` set of the openpharma
    ``mmrm`` package (see ``tests/reference/mmrm_fev``): at SAS's own covariance parameters
    estimates and SEs agree to 1e-4 relative, Satterthwaite df within 0.5 of SAS's printed
    integers and Kenward-Roger df within 1e-2 (``tests/analysis/test_mmrm_sas_point.py``).

    Examples
    --------
    >>> import numpy as np
    >>> from coaching_trials.analysis.mmrm import fit_gls
    >>> rng = np.random.default_rng(3)
    >>> subject = np.repeat(np.arange(30), 3)
    >>> visit = np.tile([1, 2, 3], 30)
    >>> arm = np.repeat(rng.integers(0, 2, 30), 3)
    >>> y = 10 + 2 * arm + rng.normal(size=30).repeat(3) + rng.normal(size=90)
    >>> X = np.column_stack([np.ones(90), arm])
    >>> fit = fit_gls(y, X, subject, visit, covariance="cs", df_method="kenward_roger")
    >>> fit.convergence.converged
    True
    >>> fit.coefficients["term"].tolist()
    ['x0', 'x1']

    Evaluating at given covariance parameters reproduces the fit at its own estimates:

    >>> given = fit.covariance_parameters.set_index("parameter")["estimate"]
    >>> again = fit_gls(y, X, subject, visit, covariance="cs", df_method="kenward_roger",
    ...                 control={"fixed_covariance": given})
    >>> bool(np.allclose(again.beta, fit.beta)), again.convergence.iterations
    (True, 0)
    """
    covariance, conf_level = _check_options(covariance, df_method, reml, conf_level, kr_information)
    ctrl = _check_control(control)
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        xmat = X.to_numpy(dtype=float)
    else:
        xmat = np.asarray(X, dtype=float)
        if xmat.ndim == 1:
            xmat = xmat[:, None]
        names = [f"x{i}" for i in range(xmat.shape[1])]
    yv = np.asarray(y, dtype=float).ravel()
    subject_s = pd.Series(np.asarray(subject))
    visit_s = wave if isinstance(wave, pd.Series) else pd.Series(np.asarray(wave))
    n = len(yv)
    if not (xmat.shape[0] == len(subject_s) == len(visit_s) == n):
        raise ValueError(
            f"`y`, `X`, `subject` and `wave` must have the same number of rows; got {n}, "
            f"{xmat.shape[0]}, {len(subject_s)}, {len(visit_s)}."
        )
    if not np.all(np.isfinite(yv)) or not np.all(np.isfinite(xmat)):
        raise ValueError(
            "`y` and `X` must be finite; drop rows with missing values before calling fit_gls."
        )
    order = _visit_order(visit_s, visits, "wave")
    vis_code = category_codes(visit_s, order)
    if np.any(vis_code < 0):
        bad = visit_s[vis_code < 0]
        raise ValueError(
            f"`wave` has labels not in `visits` {format_values(order)}: "
            f"{format_values(pd.unique(bad))}."
        )
    subj_code = pd.factorize(subject_s)[0].astype(np.int64)
    dup = pd.DataFrame({"s": subj_code, "v": vis_code}).duplicated()
    if dup.any():
        raise ValueError(
            f"At most one observation per subject x visit is allowed; duplicated rows at positions "
            f"{format_values(np.flatnonzero(dup.to_numpy()))}."
        )
    return fit_core(
        yv,
        xmat,
        subj_code,
        vis_code,
        coef_names=names,
        visits=order,
        structure=make_structure(covariance, len(order)),
        reml=bool(reml),
        df_method=df_method,
        conf_level=conf_level,
        control=ctrl,
        n_subjects_ic=int(subj_code.max()) + 1,
        kr_information=kr_information,
    )


# ----------------------------------------------------------------------------- mmrm
@renamed(quiet=True, visit="wave")
@renamed(long_df="data")
def mmrm(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    wave: str,
    subject: str,
    treated: Any,
    baseline: str | None = None,
    covariates: Sequence[str] = (),
    covariance: str = "unstructured",
    df_method: str = "satterthwaite",
    conf_level: float = 0.95,
    reml: bool = True,
    visits: Sequence[Any] | None = None,
    control: Mapping[str, Any] | None = None,
    kr_information: str = "observed",
) -> MmrmResult:
    """Mixed model for repeated measures: the arm difference at every visit.

    The mean model is ``intercept + arm + visit + arm:visit`` (+ ``baseline +
    baseline:visit`` when ``baseline`` is given) + ``covariates``; categorical covariates are
    dummy coded against their first level (the order of a pandas Categorical, otherwise sorted
    labels), the first visit and the non-treated arm are the references. There are no random
    effects: the within-subject residual covariance is indexed by visit. All observed visits of
    every subject are used (valid under missing at random); rows with a missing outcome,
    baseline or covariate are dropped and counted in ``audit``.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: one row per subject x wave.
    outcome, arm, wave, subject : str
        Column names (``wave``: the visit / time point; ``visit=`` is accepted as an alias,
        the name of the published contract).
    treated : scalar
        The arm level whose difference from the other arm is reported (``arm`` must have
        exactly two levels).
    baseline : str, optional
        Numeric baseline column (constant within subject), entered with a baseline-by-visit
        interaction.
    covariates : sequence of str
        Additional numeric or categorical columns.
    covariance : {"unstructured", "compound_symmetry", "ar1", "toeplitz", "ar1h", "csh"}
        Residual covariance structure ("us", "cs" and "toep" accepted as aliases).
    df_method : {"satterthwaite", "kenward_roger", "kenward_roger_linear", "residual"}
        Degrees-of-freedom method (Kenward-Roger also adjusts the standard errors).
    conf_level : float
        Confidence level of the intervals.
    reml : bool
        REML (default) or maximum likelihood.
    visits : sequence, optional
        Wave order (first = reference); defaults to Categorical order or sorted labels.
    control : mapping, optional
        Optimiser settings, see :func:`fit_gls`.
    kr_information : {"observed", "expected"}
        Information matrix behind the Kenward-Roger df and adjusted standard errors: "observed"
        (default; SAS PROC MIXED ``DDFM=KR``) or "expected" (R ``pbkrtest``). Ignored by the
        other ``df_method``. The same option and default exist in :func:`clustered_ancova`.

    Returns
    -------
    MmrmResult
        Headline attributes for the last visit; ``to_frame()`` has one row per visit.

    Raises
    ------
    DataValidationError
        Listing every data problem at once: missing columns, non-numeric outcome or baseline,
        missing subject/arm/visit, not exactly two arms, ``treated`` not an arm level, visit
        labels outside ``visits``, duplicated subject x visit rows, arm changing within a
        subject, or a rank-deficient design (e.g. an arm never observed at a visit).
    ValueError, TypeError
        For invalid options.
    ConvergenceWarning
        (warning) when a convergence or boundary check fails (see Notes); the result then has
        ``converged=False``, a ``note``, NaN inference and the optimiser report in
        ``convergence``.

    Notes
    -----
    LS-means follow the SAS/emmeans convention: numeric covariates (and baseline) at their
    mean over the analysed rows, categorical covariates with equal weight on each level.
    ``-2 log-likelihood`` includes SAS's constants; AIC/AICC/BIC follow SAS (REML counts only
    covariance parameters; BIC uses the number of subjects in the input as sample size).
    Validated against SAS PROC MIXED (fev_data from the openpharma ``mmrm`` package:
    estimates, SEs, Satterthwaite and Kenward-Roger df, -2 REML log-likelihood, LS-means) and
    against ``nlme::gls`` + ``emmeans`` in R (``tests/reference/mmrm_r``); with
    ``kr_information="expected"`` the Kenward-Roger df and SEs of a compound-symmetry model
    against ``lme4`` + ``pbkrtest`` (``tests/reference/kr_information``).

    Untrustworthy fits are not reported as if they were fine. After optimisation the fit must
    have a gradient below ``control['gtol']``, a positive-definite observed information of the
    covariance parameters, and no visit whose conditional variance given the other visits is
    (numerically) zero -- the form an unbounded REML likelihood takes when a visit has fewer
    observations than the parameters describing it (``nlme::gls`` stops with an error there;
    ``tests/reference/mmrm_boundary``). A fit failing a check keeps its estimates and standard
    errors, reports NaN df, statistics, p-values and confidence limits, sets ``converged=False``
    and ``note``, adds an ``audit`` row and warns (``ConvergenceWarning``) with what to do:
    fewer covariance parameters (compound symmetry, AR(1), Toeplitz) or pooled sparse visits.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import coaching_trials as ct
    >>> rng = np.random.default_rng(7)
    >>> n = 60
    >>> ids = [f"P{i:03d}" for i in range(n)]
    >>> arm = np.where(np.arange(n) % 2 == 0, "immediate", "delayed")
    >>> base = rng.normal(2.0, 0.5, n)
    >>> frames = []
    >>> for k, wave in enumerate(["month3", "month6"]):
    ...     y = 0.5 + 0.7 * base - 0.3 * (arm == "immediate") * (k + 1) + rng.normal(0, 0.4, n)
    ...     frames.append(pd.DataFrame({"participant_id": ids, "arm": arm, "wave": wave,
    ...                                 "pfi_burnout": y, "pfi_burnout_bl": base}))
    >>> df = pd.concat(frames, ignore_index=True)
    >>> res = ct.mmrm(df, outcome="pfi_burnout", arm="arm", wave="wave",
    ...               subject="participant_id", treated="immediate", baseline="pfi_burnout_bl")
    >>> res.to_frame()[["contrast", "wave"]].values.tolist()
    [['immediate - delayed', 'month3'], ['immediate - delayed', 'month6']]
    >>> bool(res.conf_low < res.estimate < res.conf_high)
    True
    """
    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    covariance_kind, conf_level = _check_options(
        covariance, df_method, reml, conf_level, kr_information
    )
    ctrl = _check_control(control)
    frame, arm_levels, visit_order = validate_input(
        data,
        outcome=outcome,
        arm=arm,
        wave=wave,
        subject=subject,
        treated=treated,
        baseline=baseline,
        covariates=covariates,
        visits=visits,
    )
    control_level = next(a for a in arm_levels if a != treated)
    analysed, audit_rows, n_subjects_input = drop_incomplete(
        frame, outcome=outcome, subject=subject, baseline=baseline, covariates=covariates
    )
    with _single_thread_blas():
        design = build_design(
            analysed,
            arm=arm,
            wave=wave,
            treated=treated,
            baseline=baseline,
            covariates=covariates,
            visit_order=visit_order,
        )
        n_vis = len(visit_order)
        fit = fit_core(
            analysed[outcome].to_numpy(dtype=float),
            design.xmat,
            pd.factorize(analysed[subject])[0].astype(np.int64),
            design.vis_code,
            coef_names=design.names,
            visits=visit_order,
            structure=make_structure(covariance_kind, n_vis),
            reml=bool(reml),
            df_method=df_method,
            conf_level=conf_level,
            control=ctrl,
            n_subjects_ic=n_subjects_input,
            kr_information=kr_information,
        )
        # ---- LS-means and wave-wise differences
        lgrid = lsmean_grid(design, n_vis)
        labels = [(a, v) for a in (treated, control_level) for v in visit_order]
        counts = analysed.groupby([arm, wave], observed=True).size()
        lsmeans = lsmeans_table(fit, lgrid, labels, counts, conf_level)
        ldiff = lgrid[:n_vis] - lgrid[n_vis:]
        type3 = _type3_contrasts(design.xmat, design.xsum, design.terms)
        diff = fit.contrast(ldiff, names=[str(v) for v in visit_order])
    slices = tuple((v, _readonly(ldiff[j : j + 1])) for j, v in enumerate(visit_order))
    effects = effects_table(
        diff,
        outcome=outcome,
        treated=treated,
        control=control_level,
        visit_order=visit_order,
        counts=counts,
        conf_level=conf_level,
    )
    last = effects.iloc[-1]
    audit_rows += withheld_rows(fit)
    return MmrmResult(
        outcome=outcome,
        treated=treated,
        control=control_level,
        visits=tuple(visit_order),
        covariance_structure=covariance_kind,
        df_method=df_method,
        conf_level=conf_level,
        reml=bool(reml),
        estimate=float(last["estimate"]),
        std_error=float(last["std_error"]),
        df=float(last["df"]),
        statistic=float(last["statistic"]),
        p_value=float(last["p_value"]),
        conf_low=float(last["conf_low"]),
        conf_high=float(last["conf_high"]),
        neg2_log_likelihood=fit.neg2_log_likelihood,
        aic=fit.aic,
        aicc=fit.aicc,
        bic=fit.bic,
        n_obs=fit.n_obs,
        n_subjects=fit.n_subjects,
        fit=fit,
        _effects=effects,
        _lsmeans=lsmeans,
        _audit=audit_frame(audit_rows),
        _type3=type3,
        _slices=slices,
        _slice_effect=f"{arm}:{wave}",
        converged=fit.inference_ok,
        note=fit.note,
    )
