"""Power of a delayed-intervention coaching trial, by simulation.

Trials are drawn by the power generator (:mod:`coaching_trials.simulate._engine`): only the
outcome's items (or its latent score), the waves up to the one compared, dropout and coaches,
with exactly the distribution the item-level generator of
:func:`~coaching_trials.simulate.trial.simulate_trial` gives the scored outcome. Each trial is
analysed with one of four estimators of the randomized contrast at a wave (immediate minus
delayed). Everything is vectorized over the simulated trials; blocks of trials can run on any
``concurrent.futures.Executor`` with results that do not depend on the number of workers.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from coaching_trials._errors import one_of
from coaching_trials._parallel import check_executor, run_units
from coaching_trials._results import ResultMixin
from coaching_trials.analysis._common import critical_value, t_interval
from coaching_trials.simulate import _engine
from coaching_trials.simulate._engine import ANALYSES, MEASUREMENTS, OutcomeModel
from coaching_trials.simulate.trial import _OUTCOMES, CONSTRUCTS, _Config, _configure, _item_names

__all__ = ["ANALYSES", "MEASUREMENTS", "PowerResult", "power"]

_ALTERNATIVES = ("two-sided", "less", "greater")
_SIMULATED_INSTRUMENTS = ("pfi", "svs", "uwes9", "uwes3", "qol", "iwpr")
#: item cells drawn at once per block of simulated trials (memory bound)
_MAX_CELLS_PER_CHUNK = _engine.MAX_CELLS_PER_BLOCK

_SIM_COLUMNS = ("estimate", "std_error", "df", "statistic", "p_value", "conf_low", "conf_high")
_SUMMARY_KEYS = (
    "n_failed",
    "power",
    "mc_std_error",
    "power_conf_low",
    "power_conf_high",
    "mean_estimate",
    "bias",
    "empirical_se",
    "mean_std_error",
    "coverage",
)


@dataclass(frozen=True, repr=False)
class PowerResult(ResultMixin):
    """Simulated power of one design and analysis.

    Attributes
    ----------
    power : float
        Share of simulated trials in which the test rejected at level ``1 - conf_level``.
    mc_std_error : float
        Monte Carlo standard error of ``power``, ``sqrt(power (1 - power) / n_sims)``.
    power_conf_low, power_conf_high : float
        Wilson interval for ``power`` at ``conf_level`` (Monte Carlo uncertainty).
    true_effect : float
        The population difference (immediate minus delayed) of the outcome at the wave that
        was simulated, in the outcome's own points (e.g. PFI item-mean points, SVS sum points).
    standardized_effect : float
        ``true_effect`` divided by ``outcome_sd``.
    outcome_sd : float
        Population SD of the outcome at baseline (complete items).
    latent_effects : Mapping[str, float]
        Latent coaching effect per construct that produced ``true_effect``.
    mean_estimate, bias, empirical_se, mean_std_error : float
        Mean of the estimates, its difference from ``true_effect``, the SD of the estimates
        and the mean of the model standard errors.
    coverage : float
        Share of confidence intervals (at ``conf_level``) containing ``true_effect``.
    n_failed : int
        Simulated trials without an estimate (e.g. an arm with no complete case); they count
        as not rejecting and are left out of the other summaries.
    measurement, icc : str, float
        The measurement model (``"items"`` or ``"latent"``) and coach intra-cluster correlation.
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
    mc_std_error: float
    power_conf_low: float
    power_conf_high: float
    true_effect: float
    standardized_effect: float
    outcome_sd: float
    mean_estimate: float
    bias: float
    empirical_se: float
    mean_std_error: float
    coverage: float
    conf_level: float
    alternative: str
    measurement: str
    icc: float
    seed: int | None
    latent_effects: Mapping[str, float] = field(repr=False, compare=False)
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
            "mc_std_error",
            "power_conf_low",
            "power_conf_high",
            "true_effect",
            "standardized_effect",
            "outcome_sd",
            "mean_estimate",
            "bias",
            "empirical_se",
            "mean_std_error",
            "coverage",
            "conf_level",
            "alternative",
            "measurement",
            "icc",
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

    ``y`` (S, n), ``x`` (S, n, p), ``valid`` (S, n). Returns coef (S, p), std_error (S, p)
    and df (S,), NaN where the fit is not identified.
    """
    coef, inv, sigma2, df = _engine.batched_ols(y, np.where(valid[..., None], x, 0.0), valid)
    se = np.sqrt(sigma2[:, None] * np.diagonal(inv, axis1=1, axis2=2))
    return coef, se, df


def _wilson(successes: int, n: int, conf_level: float) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    z = critical_value(conf_level)
    phat = successes / n
    centre = (phat + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(phat * (1 - phat) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(centre - half), float(centre + half)


def _tests(
    sims: np.ndarray, conf_level: float, alternative: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """t statistic, p-value, interval and rejection of each simulated trial."""
    est, se, df = sims
    with np.errstate(invalid="ignore", divide="ignore"):
        t = est / se
    if alternative == "two-sided":
        p = 2 * stats.t.sf(np.abs(t), df)
        low, high = t_interval(est, se, df, conf_level)
    elif alternative == "less":  # one-sided bound: one end of the (2 conf_level - 1) interval
        p = stats.t.cdf(t, df)
        low, high = np.full_like(est, -np.inf), t_interval(est, se, df, 2 * conf_level - 1)[1]
    else:
        p = stats.t.sf(t, df)
        low, high = t_interval(est, se, df, 2 * conf_level - 1)[0], np.full_like(est, np.inf)
    failed = np.isnan(est) | np.isnan(se)
    reject = ~failed & (p < 1 - conf_level)
    return t, p, low, high, reject


def summarise(
    sims: np.ndarray, true_effect: float, conf_level: float, alternative: str
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Operating characteristics of ``sims`` (rows estimate, SE, df) and the per-trial table."""
    est, se, df = sims
    t, p, low, high, reject = _tests(sims, conf_level, alternative)
    n_sims = est.shape[0]
    ok = ~(np.isnan(est) | np.isnan(se))
    covered = (low[ok] <= true_effect) & (true_effect <= high[ok])
    n_reject = int(reject.sum())
    power_ = n_reject / n_sims
    power_low, power_high = _wilson(n_reject, n_sims, conf_level)
    mean_estimate = float(est[ok].mean()) if ok.any() else float("nan")
    summary = {
        "n_failed": int((~ok).sum()),
        "power": power_,
        "mc_std_error": float(np.sqrt(power_ * (1 - power_) / n_sims)),
        "power_conf_low": power_low,
        "power_conf_high": power_high,
        "mean_estimate": mean_estimate,
        "bias": mean_estimate - true_effect,
        "empirical_se": float(est[ok].std(ddof=1)) if ok.sum() > 1 else float("nan"),
        "mean_std_error": float(se[ok].mean()) if ok.any() else float("nan"),
        "coverage": float(covered.mean()) if ok.any() else float("nan"),
    }
    table = pd.DataFrame(
        dict(zip(_SIM_COLUMNS, (est, se, df, t, p, low, high), strict=True)) | {"reject": reject}
    )
    return summary, table


def root_seed(seed: Any) -> tuple[np.random.SeedSequence, int | None]:
    """The SeedSequence every work unit's seed derives from, and the integer seed if any."""
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63))), None
    if seed is None:
        return np.random.SeedSequence(), None
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.SeedSequence(int(seed)), int(seed)
    raise TypeError(f"`seed` must be a non-negative int, a numpy Generator or None; got {seed!r}.")


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise one_of(name, value, allowed)
    return str(value)


def check_icc(icc: Any) -> float:
    if isinstance(icc, bool) or not isinstance(icc, (int, float, np.number)):
        raise TypeError(f"`icc` must be a number in [0, 1); got {icc!r}.")
    if not 0.0 <= float(icc) < 1.0:
        raise ValueError(f"`icc` must be in [0, 1); got {icc!r}.")
    return float(icc)


def check_n_sims(n_sims: Any) -> int:
    if isinstance(n_sims, bool) or not isinstance(n_sims, (int, np.integer)) or n_sims < 1:
        raise ValueError(f"`n_sims` must be a positive integer; got {n_sims!r}.")
    return int(n_sims)


def check_level(conf_level: Any) -> float:
    if isinstance(conf_level, bool) or not (
        isinstance(conf_level, (int, float)) and 0.0 < conf_level < 1.0
    ):
        raise ValueError(f"`conf_level` must be strictly between 0 and 1; got {conf_level!r}.")
    return float(conf_level)


def build_model(
    config: _Config,
    *,
    outcome: str,
    wave: str,
    analysis: str,
    icc: float,
    measurement: str,
) -> OutcomeModel:
    """The power generator's model of a validated configuration."""
    check_choice("outcome", outcome, tuple(_OUTCOMES))
    check_choice("wave", wave, config.waves[1:])
    check_choice("analysis", analysis, ANALYSES)
    check_choice("measurement", measurement, MEASUREMENTS)
    return OutcomeModel(
        n_immediate=config.n_immediate,
        n_delayed=config.n_delayed,
        n_waves=len(config.waves),
        wave=config.waves.index(wave),
        outcome=outcome,
        analysis=analysis,
        effects=tuple(float(config.effects[c]) for c in CONSTRUCTS),
        dropout=(config.dropout["immediate"], config.dropout["delayed"]),
        dropout_odds_ratio=config.dropout_odds_ratio,
        item_missing=config.item_missing,
        n_coaches=config.n_coaches,
        persistence=config.persistence,
        icc=check_icc(icc),
        measurement=measurement,
    )


def apply_effect(
    model: OutcomeModel, effect: Any, standardized_effect: Any
) -> tuple[OutcomeModel, float]:
    """Set the outcome's latent effect from ``effect`` (points) or ``standardized_effect``."""
    if effect is not None and standardized_effect is not None:
        raise ValueError("Give `effect` (outcome points) or `standardized_effect`, not both.")
    for name, value in (("effect", effect), ("standardized_effect", standardized_effect)):
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, (int, float, np.number))
            or not np.isfinite(value)
        ):
            raise ValueError(f"`{name}` must be a finite number; got {value!r}.")
    if effect is not None:
        return _engine.resolve_effect(model, float(effect))
    if standardized_effect is not None:
        return _engine.resolve_effect(model, float(standardized_effect), standardized=True)
    return model, _engine.outcome_sd(model)


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
    effect: float | None = None,
    standardized_effect: float | None = None,
    waves: tuple[str, ...] = ("baseline", "month3", "month6"),
    effects: dict[str, float] | None = None,
    dropout: float | dict[str, float] | None = None,
    dropout_odds_ratio: float = 1.5,
    item_missing: float = 0.02,
    n_coaches: int = 8,
    persistence: float = 0.9,
    icc: float = 0.0,
    measurement: str = "items",
    seed: int | np.random.Generator | None = None,
    executor: Executor | None = None,
    progress: bool = False,
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
    analysis : {"ancova", "change", "difference", "mmrm"}
        ``"ancova"``: outcome at ``wave`` on arm and baseline score (complete cases);
        ``"change"``: change from baseline on arm; ``"difference"``: outcome at ``wave`` on
        arm; ``"mmrm"``: maximum-likelihood MMRM (arm-by-visit and baseline-by-visit terms,
        unstructured covariance) using every wave up to ``wave``. The test is the t test of
        the arm contrast.
    n_sims : int, default 1000
        Simulated trials.
    conf_level : float, default 0.95
        Confidence level; the test is at level ``1 - conf_level``.
    alternative : {"two-sided", "less", "greater"}
        Direction of the test of immediate minus delayed (``"less"``: immediate lower, e.g.
        less burnout).
    effect : float, optional
        The true difference immediate minus delayed at ``wave``, in the outcome's own points
        (e.g. -0.3 = 0.3 PFI item-mean points less burnout). The latent effect of the
        outcome's construct(s) is solved so that the population difference is exactly this
        (rounding and clipping to the response range included). Overrides ``effects`` for
        those constructs.
    standardized_effect : float, optional
        The same in baseline SDs of the outcome (``effect = standardized_effect * outcome_sd``).
    waves, effects, dropout, dropout_odds_ratio, item_missing, n_coaches, persistence
        The data-generating model, as in :func:`~coaching_trials.simulate_trial`
        (``effects``: latent effects per construct; default Kiser et al. 2024).
    icc : float, default 0
        Intra-cluster correlation of the outcome among participants of the same coach once
        coached (a coach random intercept; the analyses ignore it, so ``icc > 0`` shows what
        ignoring clustering costs).
    measurement : {"items", "latent"}
        ``"items"``: the outcome's items are drawn, rounded, clipped, made missing and scored
        (the scored outcome has the distribution it has in ``simulate_trial``'s data);
        ``"latent"``: the unrounded score, one normal draw per person and wave (faster; no
        item missingness).
    seed : int, numpy.random.Generator or None
        The same integer seed gives the same result, with or without an executor.
    executor : concurrent.futures.Executor, optional
        Runs blocks of simulated trials in parallel (``ProcessPoolExecutor``, a dask
        ``client.get_executor()``, ...). Blocks and their seeds depend on the design only, so
        the result is identical whatever runs them.
    progress : bool, default False
        Show a tqdm progress bar (needs ``tqdm``).

    Returns
    -------
    PowerResult
        ``power`` with its Monte Carlo SE and Wilson interval, the true effect in points and
        standardized, bias, empirical and model SEs, coverage and the per-trial estimates.

    Notes
    -----
    The batched least-squares fit is checked against statsmodels OLS, the batched MMRM
    against :func:`coaching_trials.mmrm` (REML, Satterthwaite), the power of the
    ``"difference"`` analysis without missing data against statsmodels' ``TTestIndPower``,
    the ANCOVA power against the analytic noncentral-t power with residual variance
    ``sigma^2 (1 - rho^2)``, the rejection rate under no effect against the nominal level,
    and the power generator's scored outcome against the item-level generator's
    (tests/simulate).

    Examples
    --------
    >>> from coaching_trials.simulate.power import power
    >>> res = power(n_immediate=67, n_delayed=71, effect=-0.3, n_sims=200, seed=1)
    >>> round(res.true_effect, 6)
    -0.3
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
    model = build_model(
        config, outcome=outcome, wave=wave, analysis=analysis, icc=icc, measurement=measurement
    )
    check_choice("alternative", alternative, _ALTERNATIVES)
    n_sims = check_n_sims(n_sims)
    conf_level = check_level(conf_level)
    executor = check_executor(executor)
    root, seed_value = root_seed(seed)
    model, sd = apply_effect(model, effect, standardized_effect)

    sizes = _engine.block_sizes(model, n_sims, _MAX_CELLS_PER_CHUNK)
    units = [(model, (analysis,), _engine.child(root, i), size) for i, size in enumerate(sizes)]
    blocks = run_units(_engine.simulate_block, units, executor=executor, progress=progress)
    sims = np.concatenate(blocks, axis=2)[0]
    true_effect = _engine.expected_difference(model)
    summary, simulations = summarise(sims, true_effect, conf_level, alternative)
    return PowerResult(
        outcome=outcome,
        wave=wave,
        analysis=analysis,
        n_immediate=config.n_immediate,
        n_delayed=config.n_delayed,
        n_sims=n_sims,
        **summary,
        true_effect=true_effect,
        standardized_effect=true_effect / sd,
        outcome_sd=sd,
        conf_level=conf_level,
        alternative=alternative,
        measurement=measurement,
        icc=model.icc,
        seed=seed_value,
        latent_effects=MappingProxyType(dict(zip(CONSTRUCTS, model.effects, strict=True))),
        simulations=simulations,
    )
