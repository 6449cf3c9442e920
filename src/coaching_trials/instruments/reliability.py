"""Internal consistency of multi-item scales: Cronbach's alpha, McDonald's omega, item analysis.

Four public functions:

- :func:`cronbach_alpha` -- coefficient alpha with the Feldt (1965) F-distribution interval;
- :func:`mcdonald_omega` -- omega total from a one-factor minimum-residual (minres) factor
  analysis of the item correlations, with a percentile-bootstrap interval;
- :func:`item_total` -- per-item statistics: corrected item-total correlation and alpha if the
  item is deleted;
- :func:`reliability` -- the tidy table for an instrument of the registry: one row per subscale
  (per group, e.g. per wave) with alpha, omega and their intervals.

All estimates were checked against the R package psych 2.2.9 (``psych::alpha``,
``psych::omega(nfactors = 1)``, ``psych::fa(fm = "minres")``); the R script and its golden
CSVs are in ``tests/reference/psych/``.

Missing responses
-----------------
``nan_policy="listwise"`` (default) keeps only respondents who answered every item.
``nan_policy="pairwise"`` builds each covariance (or correlation) from the respondents who
answered both items of the pair, exactly as R's ``cov(x, use = "pairwise")`` /
``cor(x, use = "pairwise")``, which psych uses by default. Respondents who answered none of the
items carry no information and are excluded under both policies; every exclusion is counted
(``n_excluded`` and the ``audit`` table of the result).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd

from coaching_trials._errors import (
    DataValidationError,
    DataValidationWarning,
    format_values,
    one_of,
)
from coaching_trials._parallel import check_executor, run_units
from coaching_trials._results import ResultMixin
from coaching_trials._vocab import renamed
from coaching_trials.instruments._item_input import (
    NotEstimableError,
    _audit,
    _check_conf_level,
    _check_enough,
    _check_policy,
    _column_failures,
    _prepare,
    _zero_variance,
)
from coaching_trials.instruments._psychometrics import (
    _BOOT_CHUNK_CELLS,
    _MAX_COMMUNALITY,
    _alpha_from_cov,
    _bootstrap_weights,
    _feldt,
    _omega_from_cor,
    _pairwise_moments,
)

if TYPE_CHECKING:  # pragma: no cover
    from coaching_trials.instruments.registry import Instrument

__all__ = [
    "AlphaResult",
    "NotEstimableError",
    "OmegaResult",
    "cronbach_alpha",
    "item_total",
    "mcdonald_omega",
    "reliability",
]

NanPolicy = Literal["listwise", "pairwise"]
_DENOMINATORS = ("observed", "model")


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
#: The columns of a reliability coefficient's one-row table, in order.
_COEFFICIENT_COLUMNS: tuple[str, ...] = (
    "estimate",
    "conf_low",
    "conf_high",
    "conf_level",
    "n",
    "n_items",
    "nan_policy",
    "n_excluded",
)


def _one_row(result: object, columns: Sequence[str]) -> pd.DataFrame:
    """A one-row table of the attributes ``columns`` of ``result``, in that order."""
    return pd.DataFrame({name: [getattr(result, name)] for name in columns})


@dataclass(frozen=True, repr=False)
class AlphaResult(ResultMixin):
    """Cronbach's alpha with its Feldt confidence interval.

    Attributes
    ----------
    estimate : float
        Coefficient alpha.
    conf_low, conf_high : float
        Feldt (1965) interval at ``conf_level``.
    conf_level : float
    n : int
        Respondents used (listwise: complete rows; pairwise: rows with at least one answer).
    n_items : int
    nan_policy : str
    n_excluded : int
        Rows of the input not used (see ``audit``).
    items : tuple of str
    """

    estimate: float
    conf_low: float
    conf_high: float
    conf_level: float
    n: int
    n_items: int
    nan_policy: str
    n_excluded: int
    items: tuple[str, ...]
    audit: pd.DataFrame = field(compare=False)

    _title: ClassVar[str] = "Cronbach's alpha (Feldt confidence interval)"

    def to_frame(self) -> pd.DataFrame:
        """One-row table: estimate, conf_low, conf_high, conf_level, n, n_items, ..."""
        return _one_row(self, _COEFFICIENT_COLUMNS)


@dataclass(frozen=True, repr=False)
class OmegaResult(ResultMixin):
    """McDonald's omega total from a one-factor minres model, with a bootstrap interval.

    Attributes
    ----------
    estimate : float
    conf_low, conf_high : float
        Percentile-bootstrap interval at ``conf_level`` (NaN when ``n_boot == 0``).
    conf_level : float
    n : int
        Respondents used.
    n_items : int
    nan_policy : str
    n_excluded : int
    n_boot : int
        Resamples requested; ``n_boot_failed`` of them gave no estimate (e.g. an item with no
        variance in the resample) and were left out of the percentiles.
    n_boot_failed : int
    denominator : str
        ``"observed"`` (psych's omega total) or ``"model"`` (see :func:`mcdonald_omega`).
    items : tuple of str
    loading_values : tuple of float
        Standardized one-factor loadings, in item order; see ``loadings``.
    """

    estimate: float
    conf_low: float
    conf_high: float
    conf_level: float
    n: int
    n_items: int
    nan_policy: str
    n_excluded: int
    n_boot: int
    n_boot_failed: int
    denominator: str
    items: tuple[str, ...]
    loading_values: tuple[float, ...]
    audit: pd.DataFrame = field(compare=False)

    _title: ClassVar[str] = "McDonald's omega total (one-factor minres; bootstrap interval)"

    @property
    def loadings(self) -> pd.Series:
        """Standardized loadings on the single factor, indexed by item."""
        return pd.Series(self.loading_values, index=list(self.items), name="loading")

    @property
    def uniquenesses(self) -> pd.Series:
        """Uniquenesses ``1 - loading**2``, indexed by item."""
        return (1.0 - self.loadings**2).rename("uniqueness")

    def to_frame(self) -> pd.DataFrame:
        """One-row table: estimate, conf_low, conf_high, conf_level, n, n_items, ..."""
        return _one_row(self, (*_COEFFICIENT_COLUMNS, "n_boot"))


# --------------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------------
def cronbach_alpha(
    items: pd.DataFrame,
    *,
    nan_policy: NanPolicy = "listwise",
    conf_level: float = 0.95,
) -> AlphaResult:
    r"""Cronbach's coefficient alpha with the Feldt confidence interval.

    Parameters
    ----------
    items : pandas.DataFrame
        One numeric column per item, one row per respondent; NaN marks a missing answer.
        Reverse-keyed items must already be reversed.
    nan_policy : {"listwise", "pairwise"}
        ``"listwise"`` uses respondents who answered every item; ``"pairwise"`` estimates each
        item covariance from the respondents who answered both items (like
        ``psych::alpha``'s default ``use = "pairwise"``).
    conf_level : float
        Confidence level of the interval.

    Returns
    -------
    AlphaResult
        ``.estimate``, ``.conf_low``, ``.conf_high``, ``.n``, ``.n_items``, ``to_frame()``.

    Warns
    -----
    DataValidationWarning
        When an item has zero variance (it still counts in :math:`k`).

    Notes
    -----
    With :math:`C` the :math:`k \times k` item covariance matrix,

    .. math:: \alpha = \frac{k}{k-1}\left(1 - \frac{\operatorname{tr} C}{\mathbf 1^\top C
              \mathbf 1}\right).

    The Feldt (1965) interval is
    :math:`[1 - (1-\hat\alpha) F_{1-a/2},\; 1 - (1-\hat\alpha) F_{a/2}]` with :math:`a = 1 -`
    ``conf_level`` and :math:`F` the quantiles of an F distribution with :math:`n - 1` and
    :math:`(n-1)(k-1)` degrees of freedom (``psych::alpha.ci``).

    An item with zero variance still counts in :math:`k` (it is part of the scale score);
    ``psych::alpha`` instead deletes it from the computation, so the two differ in that case.

    Under ``"pairwise"`` the interval uses ``n`` = respondents with at least one answered item.
    psych uses ``nrow(x)``, which also counts respondents with no answer at all; the two agree
    whenever every respondent answered something.

    Validated against ``psych::alpha`` (raw_alpha, 1e-10) and ``psych::alpha.ci`` on three
    data sets, listwise and pairwise (``tests/reference/psych/make_golden.R``).

    References
    ----------
    Cronbach LJ (1951). Coefficient alpha and the internal structure of tests. Psychometrika
    16:297-334. Feldt LS (1965). The approximate sampling distribution of Kuder-Richardson
    reliability coefficient twenty. Psychometrika 30:357-370.

    Examples
    --------
    >>> import pandas as pd
    >>> from coaching_trials.instruments.reliability import cronbach_alpha
    >>> items = pd.DataFrame({"q1": [1, 2, 3, 4, 4, 2, 0, 3],
    ...                       "q2": [2, 2, 3, 4, 3, 1, 1, 3],
    ...                       "q3": [1, 3, 3, 4, 4, 2, 0, 2]})
    >>> res = cronbach_alpha(items)
    >>> round(res.estimate, 3), res.n, res.n_items
    (0.937, 8, 3)
    >>> res.conf_low < res.estimate < res.conf_high
    True
    """
    conf_level = _check_conf_level(conf_level)
    prep = _prepare(items, nan_policy)
    _check_enough(prep, need_correlation=False)
    flat = _zero_variance(prep)
    if flat:
        warnings.warn(
            f"Item(s) {flat} have zero variance; they add nothing to the total score variance "
            "but still count in the number of items k.",
            DataValidationWarning,
            stacklevel=2,
        )
    n, k = prep.values.shape
    cov, _ = _pairwise_moments(prep.values, np.ones((1, n)))
    estimate = float(_alpha_from_cov(cov)[0])
    if not np.isfinite(estimate):
        raise NotEstimableError(
            "Cronbach's alpha is undefined: the variance of the total score is zero "
            f"(items {list(prep.columns)})."
        )
    low, high = _feldt(estimate, n, k, conf_level)
    return AlphaResult(
        estimate=estimate,
        conf_low=low,
        conf_high=high,
        conf_level=conf_level,
        n=n,
        n_items=k,
        nan_policy=nan_policy,
        n_excluded=prep.n_total - n,
        items=prep.columns,
        audit=_audit(prep, "cronbach_alpha"),
    )


def _check_n_boot(n_boot: int) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"`n_boot` must be a non-negative integer; got {n_boot!r}.")


def _resolve_rng(
    seed: int | np.random.Generator | np.random.SeedSequence | None,
) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        if isinstance(seed, bool):
            raise TypeError(f"`seed` must be an int, a numpy Generator or None; got {seed!r}.")
        return np.random.default_rng(seed)
    raise TypeError(f"`seed` must be an int, a numpy Generator or None; got {seed!r}.")


def mcdonald_omega(
    items: pd.DataFrame,
    *,
    nan_policy: NanPolicy = "listwise",
    conf_level: float = 0.95,
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = None,
    denominator: Literal["observed", "model"] = "observed",
    executor: Any = None,
) -> OmegaResult:
    r"""McDonald's omega total from a one-factor model, with a percentile-bootstrap interval.

    Parameters
    ----------
    items : pandas.DataFrame
        One numeric column per item, one row per respondent; NaN marks a missing answer.
        Reverse-keyed items must already be reversed.
    nan_policy : {"listwise", "pairwise"}
        As in :func:`cronbach_alpha`; ``"pairwise"`` uses R's pairwise-complete correlations.
    conf_level : float
        Confidence level of the bootstrap interval.
    n_boot : int
        Bootstrap resamples of respondents (0 skips the interval).
    seed : int, numpy.random.Generator or None
        Seed of the bootstrap; the same seed gives the same interval.
    denominator : {"observed", "model"}
        Total variance in the denominator: ``"observed"`` (default, psych's omega total) or
        ``"model"`` (the one-factor model-implied total variance).
    executor : concurrent.futures.Executor, optional
        Compute the bootstrap in chunks of resamples on this executor; the resamples are drawn
        here, in order, so the interval is identical serially and on any executor.

    Returns
    -------
    OmegaResult
        ``.estimate``, ``.conf_low``, ``.conf_high``, ``.n``, ``.loadings``, ``to_frame()``.

    Raises
    ------
    DataValidationError
        When an item has zero variance (its correlations are undefined).

    Notes
    -----
    A single factor is fitted to the item correlation matrix :math:`R` by minimum residuals
    (unweighted least squares, ``psych::fa(nfactors = 1, fm = "minres")``), giving
    standardized loadings :math:`\lambda_i` and uniquenesses :math:`\psi_i = 1 - \lambda_i^2`.
    ``psych::omega(nfactors = 1)`` reports omega total as

    .. math:: \omega_t = \frac{\mathbf 1^\top R\,\mathbf 1 - \sum_i \psi_i}{\mathbf 1^\top R
              \,\mathbf 1},

    i.e. one minus the unique share of the *observed* variance of the standardized total score
    (``denominator="observed"``). McDonald's (1999) model-based form

    .. math:: \omega = \frac{(\sum_i \lambda_i)^2}{(\sum_i \lambda_i)^2 + \sum_i \psi_i}

    uses the model-implied total variance instead (``denominator="model"``); the two coincide
    when the one-factor model reproduces the correlations exactly. Loadings are signed to sum
    to a positive number; unlike ``psych::omega`` (``flip = TRUE``), items that load negatively
    are **not** silently reversed -- a warning names them.

    The minres solution is computed as the fixed point of iterated principal-axis factoring
    with communalities bounded by 0.995 (psych bounds the uniquenesses to [0.005, 1]). For a
    proper solution this is the exact least-squares minimizer, which psych's ``optim()`` call
    reaches to about 1e-6. In a Heywood case (a communality at the bound; a warning says so)
    psych's optimizer stops at a slightly different point and the loadings can differ from
    psych's by about 1e-3.

    The interval is the percentile interval of ``n_boot`` ordinary bootstrap resamples of
    respondents; all resamples are computed at once from frequency weights (no Python loop over
    resamples), and each is refitted by the same minres algorithm. Note that
    ``psych::omega(n.iter = ...)`` builds its interval differently (normal theory on the
    Fisher-z scale), so only the point estimates are compared with psych.

    Validated against ``psych::omega(nfactors = 1)$omega.tot`` and ``psych::fa`` loadings
    (omega within 1e-6, loadings within 1e-5) on three data sets, listwise and pairwise
    (``tests/reference/psych/make_golden.R``).

    References
    ----------
    McDonald RP (1999). Test Theory: A Unified Treatment. Erlbaum. Revelle W, Zinbarg RE
    (2009). Coefficients alpha, beta, omega, and the glb. Psychometrika 74:145-154.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from coaching_trials.instruments.reliability import mcdonald_omega
    >>> rng = np.random.default_rng(1)
    >>> factor = rng.normal(size=(300, 1))
    >>> items = pd.DataFrame(factor * [0.8, 0.7, 0.6, 0.5] + rng.normal(size=(300, 4)) * 0.7,
    ...                      columns=["q1", "q2", "q3", "q4"])
    >>> res = mcdonald_omega(items, n_boot=200, seed=7)
    >>> round(res.estimate, 2), res.n
    (0.75, 300)
    >>> res.conf_low < res.estimate < res.conf_high
    True
    >>> res.loadings.round(2).tolist()
    [0.78, 0.7, 0.58, 0.56]
    """
    conf_level = _check_conf_level(conf_level)
    if denominator not in _DENOMINATORS:
        raise one_of("denominator", denominator, _DENOMINATORS)
    _check_n_boot(n_boot)
    rng = _resolve_rng(seed)
    prep = _prepare(items, nan_policy)
    _check_enough(prep, need_correlation=True)
    n, k = prep.values.shape

    _, cor = _pairwise_moments(prep.values, np.ones((1, n)))
    omega, loadings, converged = _omega_from_cor(cor, denominator)
    if not converged[0]:
        warnings.warn(
            "The one-factor minres fit did not converge; omega may be inaccurate.",
            RuntimeWarning,
            stacklevel=2,
        )
    heywood = [prep.columns[j] for j in np.flatnonzero(loadings[0] ** 2 >= _MAX_COMMUNALITY)]
    if heywood:
        warnings.warn(
            f"Heywood case: the communality of item(s) {heywood} reached the bound 0.995 "
            "(a loading of about 1 or more); the one-factor solution is improper and omega "
            "should be interpreted with caution.",
            DataValidationWarning,
            stacklevel=2,
        )
    negative = [prep.columns[j] for j in np.flatnonzero(loadings[0] < 0)]
    if negative:
        warnings.warn(
            f"Item(s) {negative} load negatively on the common factor; check whether they "
            "should be reverse-keyed before estimating omega.",
            DataValidationWarning,
            stacklevel=2,
        )

    low = high = float("nan")
    failed = 0
    if n_boot > 0:
        chunk = max(1, _BOOT_CHUNK_CELLS // max(n, 1))
        units = (  # drawn lazily, in order: serially one chunk is in memory at a time
            (prep.values, _bootstrap_weights(rng, n, min(chunk, n_boot - start)), denominator)
            for start in range(0, n_boot, chunk)
        )
        executor = check_executor(executor)
        boot = np.concatenate(
            [_omega_chunk(*unit) for unit in units]
            if executor is None
            else run_units(_omega_chunk, list(units), executor=executor, desc="bootstrap")
        )
        failed = int((~np.isfinite(boot)).sum())
        if failed == n_boot:
            warnings.warn(
                "No bootstrap resample gave an omega estimate; the interval is NaN.",
                RuntimeWarning,
                stacklevel=2,
            )
        else:
            if failed:
                warnings.warn(
                    f"{failed} of {n_boot} bootstrap resamples gave no omega estimate (e.g. an "
                    "item without variance in the resample) and were left out of the interval.",
                    RuntimeWarning,
                    stacklevel=2,
                )
            tail = (1.0 - conf_level) / 2.0
            low, high = (float(q) for q in np.nanquantile(boot, [tail, 1.0 - tail]))

    return OmegaResult(
        estimate=float(omega[0]),
        conf_low=low,
        conf_high=high,
        conf_level=conf_level,
        n=n,
        n_items=k,
        nan_policy=nan_policy,
        n_excluded=prep.n_total - n,
        n_boot=int(n_boot),
        n_boot_failed=failed,
        denominator=denominator,
        items=prep.columns,
        loading_values=tuple(float(v) for v in loadings[0]),
        audit=_audit(prep, "mcdonald_omega"),
    )


def item_total(items: pd.DataFrame, *, nan_policy: NanPolicy = "listwise") -> pd.DataFrame:
    r"""Item analysis: corrected item-total correlation and alpha if the item is deleted.

    Parameters
    ----------
    items : pandas.DataFrame
        One numeric column per item, one row per respondent (reverse keys already applied).
    nan_policy : {"listwise", "pairwise"}
        As in :func:`cronbach_alpha`.

    Returns
    -------
    pandas.DataFrame
        One row per item with columns ``item``, ``n`` (respondents with an answer among the
        rows used), ``mean``, ``sd``, ``r_drop`` (correlation of the item with the sum of the
        other items) and ``alpha_if_deleted`` (NaN for a two-item scale, where one item is
        left).

    Notes
    -----
    From the covariance matrix :math:`C` (pairwise-complete under ``"pairwise"``),
    ``r_drop`` is :math:`(\sum_j C_{ij} - C_{ii}) / \sqrt{C_{ii}\, \mathbf 1^\top C_{-i,-i}
    \mathbf 1}` and ``alpha_if_deleted`` is alpha of :math:`C_{-i,-i}`, as ``psych::alpha``'s
    ``item.stats$r.drop`` and ``alpha.drop$raw_alpha``. Validated against psych (1e-10).

    Examples
    --------
    >>> import pandas as pd
    >>> from coaching_trials.instruments.reliability import item_total
    >>> items = pd.DataFrame({"q1": [1, 2, 3, 4, 4, 2, 0, 3],
    ...                       "q2": [2, 2, 3, 4, 3, 1, 1, 3],
    ...                       "q3": [1, 3, 3, 4, 4, 2, 0, 2]})
    >>> item_total(items).round(3)
      item  n   mean     sd  r_drop  alpha_if_deleted
    0   q1  8  2.375  1.408   0.954             0.840
    1   q2  8  2.375  1.061   0.816             0.963
    2   q3  8  2.375  1.408   0.886             0.899
    """
    prep = _prepare(items, nan_policy)
    _check_enough(prep, need_correlation=False)
    values = prep.values
    n_rows, k = values.shape
    cov = _pairwise_moments(values, np.ones((1, n_rows)))[0][0]
    diag = np.diag(cov)
    rowsum = cov.sum(axis=1)
    total = cov.sum()
    rest = total - 2.0 * rowsum + diag  # 1' C[-i,-i] 1
    with np.errstate(divide="ignore", invalid="ignore"):
        r_drop = (rowsum - diag) / np.sqrt(diag * rest)
        if k > 2:
            alpha_drop = (k - 1) / (k - 2) * (1.0 - (np.trace(cov) - diag) / rest)
        else:
            alpha_drop = np.full(k, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=0)
        sd = np.nanstd(values, axis=0, ddof=1)
    return pd.DataFrame(
        {
            "item": list(prep.columns),
            "n": (~np.isnan(values)).sum(axis=0).astype("int64"),
            "mean": mean,
            "sd": sd,
            "r_drop": r_drop,
            "alpha_if_deleted": alpha_drop,
        }
    )


RELIABILITY_COLUMNS = (
    "instrument",
    "subscale",
    "n",
    "n_excluded",
    "n_items",
    "alpha",
    "alpha_conf_low",
    "alpha_conf_high",
    "omega",
    "omega_conf_low",
    "omega_conf_high",
    "conf_level",
    "note",
)


def _instrument(instrument: Any) -> Instrument:
    if isinstance(instrument, str):
        from coaching_trials.instruments.registry import get_instrument

        return get_instrument(instrument)
    if hasattr(instrument, "subscales") and hasattr(instrument, "items"):
        return instrument
    raise TypeError(
        "`instrument` must be an instrument id such as 'pfi' or an Instrument from "
        f"get_instrument(); got {type(instrument).__name__}."
    )


@renamed(df="data")
def reliability(
    data: pd.DataFrame,
    instrument: str | Instrument,
    *,
    by: str | Sequence[str] | None = None,
    nan_policy: NanPolicy = "listwise",
    conf_level: float = 0.95,
    omega: bool = True,
    n_boot: int = 1000,
    seed: int | None = None,
    executor: Any = None,
) -> pd.DataFrame:
    """Reliability of every subscale of an instrument, optionally per group (e.g. per wave).

    Parameters
    ----------
    data : pandas.DataFrame
        Responses with the instrument's item columns (e.g. ``pfi_01`` ... ``pfi_16``), raw
        (reverse keys are applied here, from the instrument definition).
    instrument : str or Instrument
        Registry id (``"pfi"``) or an :class:`~coaching_trials.instruments.registry.Instrument`.
    by : str or list of str, optional
        Grouping column(s), e.g. ``"wave"``; one output row per subscale and group.
    nan_policy : {"listwise", "pairwise"}
        Missing-answer handling within each subscale (see :func:`cronbach_alpha`).
    conf_level : float
        Level of both intervals (stored in the ``conf_level`` column).
    omega : bool
        Also estimate omega total (bootstrap interval); ``False`` leaves the omega columns NaN.
    n_boot : int
        Bootstrap resamples for each omega interval.
    seed : int, optional
        One seed for the whole table: each subscale x group gets its own independent stream
        derived from it (``numpy.random.SeedSequence.spawn``), so the table is reproducible.
    executor : concurrent.futures.Executor, optional
        Compute the subscale x group cells as one task each on this executor (each cell has
        its own seed, so the table is identical serially and on any executor).

    Returns
    -------
    pandas.DataFrame
        Columns ``instrument``, ``subscale``, the ``by`` column(s), ``n``, ``n_excluded``
        (rows of the group not used: no answers, or some missing under listwise), ``n_items``,
        ``alpha``, ``alpha_conf_low``, ``alpha_conf_high``, ``omega``, ``omega_conf_low``,
        ``omega_conf_high``, ``conf_level``, ``note``. A subscale with a single item, or one
        whose coefficients cannot be estimated in a group (too few respondents, an item without
        variance), gets NaN coefficients and the reason in ``note``; a handled data warning is
        also recorded in ``note``.

    Notes
    -----
    Each cell is :func:`cronbach_alpha` and :func:`mcdonald_omega` on the subscale's (reverse-
    keyed) items, which are validated against R ``psych`` (``tests/reference/psych/``) to 1e-6
    (alpha) and 1e-3 (omega).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from coaching_trials.instruments.reliability import reliability
    >>> from coaching_trials.instruments.registry import get_instrument
    >>> pfi = get_instrument("pfi")
    >>> rng = np.random.default_rng(3)
    >>> burnout = rng.normal(size=(120, 1))
    >>> raw = np.clip(np.rint(2 + burnout + rng.normal(size=(120, 16)) * 0.8), 0, 4)
    >>> df = pd.DataFrame(raw, columns=list(pfi.items))
    >>> df["wave"] = np.repeat(["baseline", "month3"], 60)
    >>> table = reliability(df, "pfi", by="wave", n_boot=200, seed=1)
    >>> table.loc[table.wave == "baseline", ["subscale", "n", "n_items", "alpha", "omega"]].round(2)
      subscale   n  n_items  alpha  omega
    0       pf  60        6   0.88   0.88
    1       we  60        4   0.85   0.85
    2       id  60        6   0.88   0.88
    3  burnout  60       10   0.93   0.93
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame; got {type(data).__name__}.")
    conf_level = _check_conf_level(conf_level)
    _check_policy(nan_policy)
    _check_n_boot(n_boot)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"`seed` must be an int or None; got {seed!r}.")
    inst = _instrument(instrument)
    by_cols: list[str] = [] if by is None else [by] if isinstance(by, str) else list(by)
    missing_by = [c for c in by_cols if c not in data.columns]
    if missing_by:
        raise ValueError(
            f"`by` column(s) {missing_by} not found in the data; available columns: "
            f"{format_values(list(data.columns), limit=12)}."
        )
    subscales = list(inst.subscales.values())
    needed = list(dict.fromkeys([*inst.items, *(item for s in subscales for item in s.items)]))
    absent = [c for c in needed if c not in data.columns]
    if absent:
        raise DataValidationError(
            f"Instrument {inst.id!r}: item column(s) {format_values(absent, limit=20)} are "
            "missing from the data.",
            _column_failures("column_present", absent, expected="item column present"),
        )
    non_numeric = [
        c
        for c in needed
        if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])
    ]
    if non_numeric:
        raise TypeError(
            f"Instrument {inst.id!r}: item column(s) {non_numeric} are not numeric (dtypes "
            f"{ {c: str(data[c].dtype) for c in non_numeric} }); convert the responses to numbers."
        )
    keyed = inst.reverse_keyed(data.loc[:, needed])  # a new frame; ``data`` is not modified
    if by_cols:
        keyed = pd.concat([data.loc[:, by_cols], keyed], axis=1)
        groups: list[tuple[tuple[Hashable, ...], pd.DataFrame]] = [
            (key if isinstance(key, tuple) else (key,), frame)
            for key, frame in keyed.groupby(by_cols, sort=True, observed=True, dropna=False)
        ]
    else:
        groups = [((), keyed)]

    n_cells = len(groups) * len(subscales)
    seeds = [None] * n_cells if seed is None else np.random.SeedSequence(seed).spawn(n_cells)
    cells = [(key, frame, sub) for key, frame in groups for sub in subscales]
    units = [
        (frame.loc[:, list(sub.items)], nan_policy, conf_level, omega, n_boot, cell_seed)
        for (_, frame, sub), cell_seed in zip(cells, seeds, strict=True)
    ]
    results = run_units(_reliability_cell, units, executor=check_executor(executor), desc="cells")
    rows = [
        {"instrument": inst.id, "subscale": sub.id, **dict(zip(by_cols, key, strict=True)), **res}
        for (key, _, sub), res in zip(cells, results, strict=True)
    ]
    columns = [*RELIABILITY_COLUMNS[:2], *by_cols, *RELIABILITY_COLUMNS[2:]]
    out = pd.DataFrame(rows, columns=columns)
    for col in ("n", "n_excluded", "n_items"):
        out[col] = out[col].astype("int64")
    return out


def _omega_chunk(values: np.ndarray, weights: np.ndarray, denominator: str) -> np.ndarray:
    """Omega of each bootstrap resample (rows of ``weights``); NaN where the fit failed."""
    _, cor_b = _pairwise_moments(values, weights)
    omega_b, _, conv_b = _omega_from_cor(cor_b, denominator)
    return np.where(conv_b, omega_b, np.nan)


def _reliability_cell(
    items: pd.DataFrame,
    nan_policy: str,
    conf_level: float,
    omega: bool,
    n_boot: int,
    seed: Any,
) -> dict[str, Any]:
    k = items.shape[1]
    values = items.to_numpy(dtype="float64", na_value=np.nan) if k else np.empty((0, 0))
    answered = (~np.isnan(values)).sum(axis=1)
    usable = answered == k if nan_policy == "listwise" else answered > 0
    out: dict[str, Any] = {
        "n": int(usable.sum()),
        "n_excluded": int((~usable).sum()),
        "n_items": k,
        "alpha": np.nan,
        "alpha_conf_low": np.nan,
        "alpha_conf_high": np.nan,
        "omega": np.nan,
        "omega_conf_low": np.nan,
        "omega_conf_high": np.nan,
        "conf_level": conf_level,
        "note": "",
    }
    if k < 2:
        out["note"] = "single-item subscale: internal consistency is not defined"
        return out
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            a = cronbach_alpha(items, nan_policy=nan_policy, conf_level=conf_level)
            out.update(alpha=a.estimate, alpha_conf_low=a.conf_low, alpha_conf_high=a.conf_high)
        except (NotEstimableError, DataValidationError) as exc:
            notes.append(f"alpha not estimated: {exc}")
        if omega:
            try:
                o = mcdonald_omega(
                    items, nan_policy=nan_policy, conf_level=conf_level, n_boot=n_boot, seed=seed
                )
                out.update(omega=o.estimate, omega_conf_low=o.conf_low, omega_conf_high=o.conf_high)
            except (NotEstimableError, DataValidationError) as exc:
                notes.append(f"omega not estimated: {exc}")
    notes.extend(str(w.message) for w in caught)
    out["note"] = "; ".join(dict.fromkeys(notes))
    return out
