"""Missing data: multiple imputation, Rubin's rules and a delta-adjusted tipping-point analysis.

Three public functions:

- :func:`pool_rubin` combines per-imputation estimates and variances with Rubin's rules and the
  Barnard-Rubin small-sample degrees of freedom, exactly as R ``mice::pool`` does.
- :func:`multiple_imputation` imputes a missing follow-up score (and a missing baseline) under
  missing at random with Bayesian linear regression (``norm``), fits the baseline-adjusted
  ANCOVA of :func:`coaching_trials.ancova` to every completed data set in one batched least-squares
  solve, and pools.
- :func:`tipping_point` shifts the imputed follow-up values by ``delta`` (missing not at random)
  and finds the shift at which the conclusion of the trial changes.

Never impute by carrying the last observation forward (White et al., BMJ 2011;342:d40).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from coaching_trials.analysis._mi_engine import (
    MultipleImputationResult,
    run,
)
from coaching_trials.analysis._rubin import PooledEstimates, pool_rubin
from coaching_trials.analysis._tipping_point import TippingPointResult, tipping_point

__all__ = [
    "MultipleImputationResult",
    "PooledEstimates",
    "TippingPointResult",
    "multiple_imputation",
    "pool_rubin",
    "tipping_point",
]


def multiple_imputation(
    data: pd.DataFrame,
    *,
    outcome: str,
    baseline: str,
    arm: str,
    treated: Any,
    covariates: Sequence[str] = (),
    m: int = 20,
    method: str = "norm",
    analysis: str = "ancova",
    by_arm: bool = True,
    iterations: int = 10,
    seed: Any = None,
    conf_level: float = 0.95,
    executor: Any = None,
) -> MultipleImputationResult:
    r"""Baseline-adjusted ANCOVA with missing follow-up (and baseline) multiply imputed.

    Missing values of ``outcome`` and ``baseline`` are imputed ``m`` times under missing at
    random (MAR) with Bayesian linear regression; the ANCOVA of :func:`coaching_trials.ancova`
    (``outcome ~ arm + baseline + covariates``) is fitted to every completed data set and the
    arm contrasts are pooled with Rubin's rules, using the Barnard-Rubin degrees of freedom
    with complete-data df ``n - p``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per randomized participant (wide: baseline and follow-up in columns). Rows
        missing the follow-up or baseline are kept and imputed; rows missing the arm or a
        covariate are excluded and counted in ``audit``.
    outcome, baseline, arm : str
        Columns of the follow-up score, the baseline score and the arm.
    treated : object
        Label of the treated arm; the other arm is the control.
    covariates : sequence of str
        Fully observed adjustment columns, used in both the imputation and the analysis model
        (numeric columns linearly, others dummy-coded as in :func:`coaching_trials.ancova`).
    m : int
        Number of imputations (at least 2; 20 or more when the fraction of missing
        information is large, and for stable p-values).
    method : {"norm", "pmm"}
        ``"norm"``: Bayesian linear regression, a proper imputation (``mice.impute.norm``):
        per data set, draw :math:`\sigma^2` and :math:`\beta` from their posterior given the
        observed rows, then each missing value from the normal model. ``"pmm"``: predictive
        mean matching with 5 donors (``mice.impute.pmm``): imputes observed values of the
        participants with the closest predicted means, so imputations stay on the
        instrument's scale (see :func:`coaching_trials.impute_waves` for several waves).
    analysis : {"ancova"}
        The model fitted to each completed data set.
    by_arm : bool
        ``True`` (default) fits the imputation model separately in each randomized arm, so
        the imputations respect any arm-by-baseline or arm-by-covariate interaction;
        ``False`` uses one model with the arm as a predictor (the default predictor set of
        ``mice``).
    iterations : int
        Sweeps of the chained equations when both the follow-up and the baseline have missing
        values (otherwise one exact draw suffices).
    seed : int, numpy.random.Generator or None
        Seed of the random draws; an integer makes the result reproducible.
    conf_level : float
        Confidence level of the intervals.
    executor : concurrent.futures.Executor, optional
        Run the imputations as one task per block of 100 on this executor (a process pool, or
        dask.distributed's ``client.get_executor()``). The blocks and their random streams are
        fixed by ``m`` and ``seed``, so the result is identical serially and on any executor.

    Returns
    -------
    MultipleImputationResult
        Pooled contrast, fraction of missing information, per-imputation estimates,
        completion by arm, audit, ``complete()`` for the imputed data and ``to_frame()``.

    Raises
    ------
    ValueError, TypeError
        Absent columns, not exactly two arms, bad options, a rank-deficient model.
    DataValidationError
        Non-numeric outcome/baseline values, or too few observed values to fit an imputation
        model.

    Notes
    -----
    The ``m`` ANCOVAs are solved together: with the baseline complete the design matrix is
    shared, so one QR factorization serves every imputation; otherwise a stacked QR. Each
    per-imputation estimate equals :func:`coaching_trials.ancova` on the completed data
    (tested). When the follow-up and the baseline both have missing values the imputations
    use chained equations (fully conditional specification) started from random draws of
    the observed values, as ``mice`` does.

    Under MAR the complete-case ANCOVA is already unbiased when only the follow-up is missing
    and the imputation model has the same predictors; multiple imputation then mainly serves
    as the basis of the delta-adjusted sensitivity analysis (:func:`tipping_point`), and it
    keeps (rather than drops) participants whose baseline is missing. With no missing values
    the estimate and standard error equal :func:`coaching_trials.ancova`'s, and the df are
    the Barnard-Rubin value just below ``n - p`` (see :func:`pool_rubin`).

    Imputed values come from a normal model and are not rounded or clipped to the range of
    the instrument (doing so biases the mean); a score slightly outside its range in a
    completed data set is expected.

    Validation (``tests/reference/imputation/``): pooling equals ``mice::pool`` to 1e-10 on
    imputations made by ``mice``; the draws have the posterior-predictive moments of the
    normal linear model; with ``m = 200`` the pooled results agree with ``mice`` (method
    ``norm``) within Monte Carlo error.

    References
    ----------
    Rubin DB. Multiple Imputation for Nonresponse in Surveys. Wiley; 1987.
    van Buuren S. Flexible Imputation of Missing Data, 2nd ed. CRC Press; 2018.
    White IR, Horton NJ, Carpenter J, Pocock SJ. Strategy for intention to treat analysis in
    randomised trials with missing outcome data. BMJ 2011;342:d40.

    Examples
    --------
    The burnout score of the shipped (synthetic) delayed-intervention trial, one row per
    physician with the baseline and month-3 scores in columns:

    >>> import coaching_trials as ct
    >>> from coaching_trials.analysis.imputation import multiple_imputation
    >>> ex = ct.load_example("delayed_intervention")
    >>> scored = ct.score(ex.responses, "pfi")
    >>> wide = scored.pivot_table(index=["participant_id", "arm"], columns="wave",
    ...                           values="pfi_burnout", observed=True).reset_index()
    >>> res = multiple_imputation(wide, outcome="month3", baseline="baseline", arm="arm",
    ...                           treated="immediate", m=20, seed=1)
    >>> res.completion[["arm", "n"]]
             arm   n
    0  immediate  67
    1    delayed  71
    >>> bool(res.conf_low < res.estimate < res.conf_high), bool(0 < res.fmi < 1)
    (True, True)
    >>> res.to_frame()[["analysis", "contrast", "n_treated", "n_control"]]
        analysis              contrast  n_treated  n_control
    0  ancova_mi  immediate - delayed       67.0       71.0
    >>> res.imputations.shape
    (20, 4)
    """
    result, *_ = run(
        data,
        outcome=outcome,
        baseline=baseline,
        arm=arm,
        treated=treated,
        covariates=covariates,
        m=m,
        method=method,
        analysis=analysis,
        by_arm=by_arm,
        iterations=iterations,
        seed=seed,
        conf_level=conf_level,
        executor=executor,
    )
    return result
