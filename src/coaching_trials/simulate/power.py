"""Power of a delayed-intervention coaching trial, by simulation.

Trials are drawn with the generator behind :func:`~coaching_trials.simulate.trial.simulate_trial`
(item-level responses, correlated waves, dropout, item missingness, coach clusters), scored
with the instrument's rules from the registry (prorated item mean or sum, minimum number of
answered items) and analysed with one of three estimators of the randomized contrast at a
wave (immediate minus delayed). Everything is vectorized over the simulated trials: no Python
loop over trials or participants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from coaching_trials._errors import one_of
from coaching_trials._results import ResultMixin
from coaching_trials.simulate.trial import (
    _OUTCOMES,
    _configure,
    _generate,
    _item_names,
    _resolve_rng,
    _truth,
)

__all__ = ["ANALYSES", "PowerResult", "power"]

#: Estimators available to :func:`power`.
ANALYSES: tuple[str, ...] = ("ancova", "change", "difference")
_ALTERNATIVES = ("two-sided", "less", "greater")
_SIMULATED_INSTRUMENTS = ("pfi", "svs", "uwes9", "uwes3", "qol", "iwpr")
_MAX_CELLS_PER_CHUNK = 4_000_000  # item cells drawn at once (memory bound)

_SIM_COLUMNS = ("estimate", "std_error", "df", "statistic", "p_value", "conf_low", "conf_high")


@dataclass(frozen=True, repr=False)
class PowerResult(ResultMixin):
    """Simulated power of one design and analysis.

    Attributes
    ----------
    power : float
        Share of simulated trials in which the test rejected at level ``1 - conf_level``.
    power_conf_low, power_conf_high : float
        Wilson interval for ``power`` at ``conf_level`` (Monte Carlo uncertainty).
    true_effect : float
        Population difference (immediate minus delayed) of the outcome at the wave, from
        ``TrialTruth.expected_scores``.
    mean_estimate, bias, empirical_se, mean_std_error : float
        Mean of the estimates, its difference from ``true_effect``, the SD of the estimates
        and the mean of the model standard errors.
    coverage : float
        Share of confidence intervals (at ``conf_level``) containing ``true_effect``.
    n_failed : int
        Simulated trials without an estimate (e.g. an arm with no complete case); they count
        as not rejecting and are left out of the other summaries.
    simulations : pandas.DataFrame
        One row per simulated trial: ``estimate, std_error, df, statistic, p_value,
        conf_low, conf_high, reject``.
    """

    outcome: str
    wave: str
    analysis: str
    n_immediate: int
    n_delayed: int
    n_sims: int
    n_failed: int
    power: float
    power_conf_low: float
    power_conf_high: float
    true_effect: float
    mean_estimate: float
    bias: float
    empirical_se: float
    mean_std_error: float
    coverage: float
    conf_level: float
    alternative: str
    seed: int | None
    simulations: pd.DataFrame = field(repr=False, compare=False)

    _title = "Simulated power (immediate vs delayed)"

    def to_frame(self) -> pd.DataFrame:
        """One-row table of the design, the power and the operating characteristics."""
        keys = (
            "outcome",
            "wave",
            "analysis",
            "n_immediate",
            "n_delayed",
            "n_sims",
            "n_failed",
            "power",
            "power_conf_low",
            "power_conf_high",
            "true_effect",
            "mean_estimate",
            "bias",
            "empirical_se",
            "mean_std_error",
            "coverage",
            "conf_level",
            "alternative",
        )
        return pd.DataFrame([{k: getattr(self, k) for k in keys}])


def _outcome_rule(outcome: str) -> tuple[list[int], list[int], str, int, float, float]:
    """Item positions, reverse-keyed positions, aggregation, min answered and range."""
    from coaching_trials.instruments.registry import get_instrument

    for instrument_id in _SIMULATED_INSTRUMENTS:
        inst = get_instrument(instrument_id)
        for sub_id, column in inst.subscale_columns().items():
            if column == outcome:
                sub = inst.subscales[sub_id]
                names = _item_names()
                positions = [names.index(i) for i in sub.items]
                reverse = [names.index(i) for i in sub.reverse]
                low, high = float(inst.response_min), float(inst.response_max)
                return positions, reverse, sub.aggregation, int(sub.min_answered), low, high
    raise one_of("outcome", outcome, tuple(_OUTCOMES))  # pragma: no cover - guarded earlier


def _score(items: np.ndarray, rule: tuple[list[int], list[int], str, int, float, float]) -> Any:
    """Score an (..., n_items) array: prorated mean (x k for sums) when enough items answered."""
    positions, reverse, aggregation, min_answered, low, high = rule
    x = items[..., positions]
    if reverse:
        rev = np.isin(positions, reverse)
        x = np.where(rev, low + high - x, x)
    answered = (~np.isnan(x)).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(x, axis=-1) / answered
    mean = np.where(answered >= min_answered, mean, np.nan)
    return mean * len(positions) if aggregation == "sum" else mean


def _batched_ols(
    y: np.ndarray, x: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ordinary least squares fitted separately for each leading index, using rows ``valid``.

    Parameters
    ----------
    y : array (S, n); x : array (S, n, p); valid : bool array (S, n)

    Returns
    -------
    coef (S, p), std_error (S, p), df (S,) — NaN where the fit is not identified.
    """
    w = valid.astype(float)
    xw = np.where(valid[..., None], x, 0.0)
    yw = np.where(valid, y, 0.0)
    xtx = np.einsum("snp,snq->spq", xw, xw)
    xty = np.einsum("snp,sn->sp", xw, yw)
    p = x.shape[-1]
    rank = np.linalg.matrix_rank(xtx)
    df = w.sum(axis=1) - p
    ok = (rank == p) & (df > 0)
    safe = np.where(ok[:, None, None], xtx, np.eye(p))
    inv = np.linalg.inv(safe)
    coef = np.einsum("spq,sq->sp", inv, xty)
    resid = yw - np.einsum("snp,sp->sn", xw, coef)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = (resid**2).sum(axis=1) / df
    se = np.sqrt(sigma2[:, None] * np.diagonal(inv, axis1=1, axis2=2))
    coef = np.where(ok[:, None], coef, np.nan)
    se = np.where(ok[:, None], se, np.nan)
    return coef, se, np.where(ok, df, np.nan)


def _analyse(
    scores: np.ndarray,
    arm_index: np.ndarray,
    observed: np.ndarray,
    wave: int,
    analysis: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate immediate minus delayed at ``wave`` for each simulated trial."""
    scores = np.where(observed, scores, np.nan)  # (S, n, W)
    y = scores[..., wave]
    y0 = scores[..., 0]
    treated = (arm_index == 0).astype(float)
    ones = np.ones_like(treated)
    if analysis == "ancova":
        x = np.stack([ones, treated, np.nan_to_num(y0)], axis=-1)
        valid = ~np.isnan(y) & ~np.isnan(y0)
    elif analysis == "change":
        x = np.stack([ones, treated], axis=-1)
        valid = ~np.isnan(y) & ~np.isnan(y0)
        y = y - y0
    else:  # difference
        x = np.stack([ones, treated], axis=-1)
        valid = ~np.isnan(y)
    coef, se, df = _batched_ols(np.nan_to_num(y), x, valid)
    return coef[:, 1], se[:, 1], df


def _wilson(successes: int, n: int, conf_level: float) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    z = stats.norm.ppf(0.5 + conf_level / 2)
    phat = successes / n
    centre = (phat + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(phat * (1 - phat) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(centre - half), float(centre + half)


def power(
    *,
    n_immediate: int = 67,
    n_delayed: int = 71,
    outcome: str = "pfi_burnout",
    wave: str = "month3",
    analysis: str = "ancova",
    n_sims: int = 1000,
    conf_level: float = 0.95,
    alternative: str = "two-sided",
    waves: tuple[str, ...] = ("baseline", "month3", "month6"),
    effects: dict[str, float] | None = None,
    dropout: float | dict[str, float] | None = None,
    dropout_odds_ratio: float = 1.5,
    item_missing: float = 0.02,
    n_coaches: int = 8,
    persistence: float = 0.9,
    seed: int | np.random.Generator | None = None,
) -> PowerResult:
    """Estimate the power of the randomized comparison by simulating many trials.

    Parameters
    ----------
    n_immediate, n_delayed : int
        Arm sizes.
    outcome : str, default "pfi_burnout"
        A scored column of a simulated instrument: ``pfi_pf``, ``pfi_we``, ``pfi_id``,
        ``pfi_burnout``, ``svs_total``, ``uwes9_vigor``, ``uwes9_dedication``,
        ``uwes9_absorption``, ``uwes9_total``, ``uwes3_total``, ``qol_score``, ``iwpr_score``
        (scored as the registry says: PFI item means, SVS sum, ...).
    wave : str, default "month3"
        The wave compared (not the first wave).
    analysis : {"ancova", "change", "difference"}
        ``"ancova"``: outcome at ``wave`` on arm and baseline score (complete cases);
        ``"change"``: change from baseline on arm; ``"difference"``: outcome at ``wave`` on
        arm. The test is the t test of the arm coefficient.
    n_sims : int, default 1000
        Simulated trials.
    conf_level : float, default 0.95
        Confidence level; the test is at level ``1 - conf_level``.
    alternative : {"two-sided", "less", "greater"}
        Direction of the test of immediate minus delayed (``"less"``: immediate lower, e.g.
        less burnout).
    waves, effects, dropout, dropout_odds_ratio, item_missing, n_coaches, persistence
        The data-generating model, as in :func:`~coaching_trials.simulate_trial`.
    seed : int, numpy.random.Generator or None
        The same integer seed gives the same result.

    Returns
    -------
    PowerResult
        ``power`` with a Wilson interval, the true effect, bias, empirical and model SEs,
        coverage and the per-trial estimates.

    Notes
    -----
    The batched least-squares fit is checked against statsmodels OLS, the power of the
    ``"difference"`` analysis without missing data against statsmodels' ``TTestIndPower``,
    and the rejection rate under no effect against the nominal level (tests/simulate).

    Examples
    --------
    >>> from coaching_trials.simulate.power import power
    >>> res = power(n_immediate=67, n_delayed=71, n_sims=200, seed=1)
    >>> 0.5 < res.power <= 1.0
    True
    >>> res.to_frame()[["outcome", "wave", "analysis", "n_sims"]]
           outcome    wave analysis  n_sims
    0  pfi_burnout  month3   ancova     200
    """
    config = _configure(
        n_immediate=n_immediate,
        n_delayed=n_delayed,
        waves=waves,
        effects=effects,
        dropout=dropout,
        dropout_odds_ratio=dropout_odds_ratio,
        item_missing=item_missing,
        n_coaches=n_coaches,
        persistence=persistence,
    )
    if outcome not in _OUTCOMES:
        raise one_of("outcome", outcome, tuple(_OUTCOMES))
    if wave not in config.waves[1:]:
        raise one_of("wave", wave, config.waves[1:])
    if analysis not in ANALYSES:
        raise one_of("analysis", analysis, ANALYSES)
    if alternative not in _ALTERNATIVES:
        raise one_of("alternative", alternative, _ALTERNATIVES)
    if isinstance(n_sims, bool) or not isinstance(n_sims, (int, np.integer)) or n_sims < 1:
        raise ValueError(f"`n_sims` must be a positive integer; got {n_sims!r}.")
    if not (isinstance(conf_level, (int, float)) and 0.0 < conf_level < 1.0):
        raise ValueError(f"`conf_level` must be strictly between 0 and 1; got {conf_level!r}.")
    rng, seed_value = _resolve_rng(seed)

    rule = _outcome_rule(outcome)
    wave_index = config.waves.index(wave)
    cells = config.n * len(config.waves) * len(_item_names())
    chunk = max(1, min(int(n_sims), _MAX_CELLS_PER_CHUNK // cells))
    estimates, std_errors, dfs = [], [], []
    done = 0
    while done < n_sims:  # chunks bound memory; each chunk is fully vectorized
        size = min(chunk, n_sims - done)
        draws = _generate(rng, config, n_sims=size)
        scores = _score(draws.items, rule)  # (S, n, W)
        est, se, df = _analyse(scores, draws.arm_index, draws.observed, wave_index, analysis)
        estimates.append(est)
        std_errors.append(se)
        dfs.append(df)
        done += size
    est = np.concatenate(estimates)
    se = np.concatenate(std_errors)
    df = np.concatenate(dfs)

    with np.errstate(invalid="ignore", divide="ignore"):
        t = est / se
    if alternative == "two-sided":
        p = 2 * stats.t.sf(np.abs(t), df)
        q = stats.t.ppf(0.5 + conf_level / 2, df)
        low, high = est - q * se, est + q * se
    elif alternative == "less":
        p = stats.t.cdf(t, df)
        q = stats.t.ppf(conf_level, df)
        low, high = np.full_like(est, -np.inf), est + q * se
    else:
        p = stats.t.sf(t, df)
        q = stats.t.ppf(conf_level, df)
        low, high = est - q * se, np.full_like(est, np.inf)
    failed = np.isnan(est) | np.isnan(se)
    reject = ~failed & (p < 1 - conf_level)

    truth = _truth(config, np.zeros(config.n_coaches), seed_value)
    true_effect = truth.expected_difference(outcome, wave)
    ok = ~failed
    covered = (low[ok] <= true_effect) & (true_effect <= high[ok])
    n_reject = int(reject.sum())
    power_low, power_high = _wilson(n_reject, int(n_sims), conf_level)
    simulations = pd.DataFrame(
        dict(zip(_SIM_COLUMNS, (est, se, df, t, p, low, high), strict=True)) | {"reject": reject}
    )
    mean_estimate = float(est[ok].mean()) if ok.any() else float("nan")
    return PowerResult(
        outcome=outcome,
        wave=wave,
        analysis=analysis,
        n_immediate=config.n_immediate,
        n_delayed=config.n_delayed,
        n_sims=int(n_sims),
        n_failed=int(failed.sum()),
        power=n_reject / int(n_sims),
        power_conf_low=power_low,
        power_conf_high=power_high,
        true_effect=true_effect,
        mean_estimate=mean_estimate,
        bias=mean_estimate - true_effect,
        empirical_se=float(est[ok].std(ddof=1)) if ok.sum() > 1 else float("nan"),
        mean_std_error=float(se[ok].mean()) if ok.any() else float("nan"),
        coverage=float(covered.mean()) if ok.any() else float("nan"),
        conf_level=float(conf_level),
        alternative=alternative,
        seed=seed_value,
        simulations=simulations,
    )
