"""Arm size for a target power, solved by simulation, with its Monte Carlo uncertainty."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from coaching_trials._parallel import run_units
from coaching_trials._results import ResultMixin
from coaching_trials.analysis._common import normal_interval
from coaching_trials.simulate import _engine
from coaching_trials.simulate._engine import ANALYSES, OutcomeModel
from coaching_trials.simulate.grid import _cell_unit, _design, _levels, check_run, fixed_settings
from coaching_trials.simulate.power import (
    apply_effect,
    check_choice,
    check_icc,
)

__all__ = ["SampleSizeResult", "sample_size"]


@dataclass(frozen=True, repr=False)
class SampleSizeResult(ResultMixin):
    """Arm size reaching a target power, solved by simulation.

    Attributes
    ----------
    n_per_arm : int
        Smallest whole arm size at or above ``n_estimate``.
    n_estimate, n_conf_low, n_conf_high : float
        Arm size at which the fitted power curve reaches ``target_power`` and its interval at
        ``conf_level`` (Monte Carlo uncertainty of the fitted curve, delta method).
    achieved_power, achieved_mc_std_error : float
        Power re-simulated at ``n_per_arm`` with fresh trials, and its Monte Carlo SE.
    evaluations : pandas.DataFrame
        The arm sizes simulated: ``n_per_arm, n_sims, power, mc_std_error, fitted``.
    """

    outcome: str
    wave: str
    analysis: str
    target_power: float
    n_per_arm: int
    n_estimate: float
    n_conf_low: float
    n_conf_high: float
    achieved_power: float
    achieved_mc_std_error: float
    effect: float
    standardized_effect: float
    dropout: float
    icc: float
    n_sims: int
    conf_level: float
    seed: int | None
    evaluations: pd.DataFrame = field(repr=False, compare=False)

    _title = "Sample size per arm for the target power (by simulation)"

    def to_frame(self) -> pd.DataFrame:
        keys = (
            "outcome",
            "wave",
            "analysis",
            "target_power",
            "n_per_arm",
            "n_estimate",
            "n_conf_low",
            "n_conf_high",
            "achieved_power",
            "achieved_mc_std_error",
            "effect",
            "standardized_effect",
            "dropout",
            "icc",
            "n_sims",
            "conf_level",
        )
        return pd.DataFrame([{k: getattr(self, k) for k in keys}])


def _probit_fit(n: np.ndarray, rejected: np.ndarray, n_sims: np.ndarray) -> Any:
    """Binomial GLM, probit link, on sqrt(n): power ~ Phi(a + b sqrt(n))."""
    import statsmodels.api as sm

    x = sm.add_constant(np.sqrt(n.astype(float)))
    endog = np.column_stack([rejected, n_sims - rejected])
    family = sm.families.Binomial(link=sm.families.links.Probit())
    return sm.GLM(endog, x, family=family).fit()


def _check_sample_size_args(
    target_power: Any, effect: Any, standardized_effect: Any, n_min: Any, n_max: Any
) -> None:
    if isinstance(target_power, bool) or not (
        isinstance(target_power, (int, float)) and 0.0 < target_power < 1.0
    ):
        raise ValueError(f"`target_power` must be strictly between 0 and 1; got {target_power!r}.")
    if (effect is None) == (standardized_effect is None):
        raise ValueError("Give exactly one of `effect` (outcome points) or `standardized_effect`.")
    for name, value in (("n_min", n_min), ("n_max", n_max)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
            raise ValueError(f"`{name}` must be an integer >= 2; got {value!r}.")
    if n_min >= n_max:
        raise ValueError(f"`n_min` must be below `n_max`; got {n_min} and {n_max}.")


def _search(
    simulate: Callable[[list[int], int, int], np.ndarray],
    n0: int,
    n_min: int,
    n_max: int,
    n_sims: int,
    target_power: float,
) -> tuple[dict[int, float], Any, float, int]:
    """Simulate five arm sizes around ``n0``, fit the probit curve, recentre once if needed.

    Returns the powers simulated per arm size, the probit fit, the solution ``n*`` and the
    next free work-unit number.
    """
    evaluated: dict[int, float] = {}
    unit = 1
    for _round in range(2):
        sizes = sorted(
            {int(np.clip(round(n0 * f), n_min, n_max)) for f in (0.7, 0.85, 1.0, 1.15, 1.3)}
            - set(evaluated)
        )
        powers = simulate(sizes, unit, n_sims)
        unit += len(sizes)
        evaluated.update(zip(sizes, powers.tolist(), strict=True))
        ns = np.array(sorted(evaluated))
        ps = np.array([evaluated[n] for n in ns])
        fit = _probit_fit(ns, np.round(ps * n_sims), np.full(ns.size, n_sims))
        a, b = fit.params
        if b <= 0:
            raise ValueError(
                "Power does not increase with the arm size over the sizes simulated "
                f"({ns.min()}-{ns.max()}); check the effect and the analysis."
            )
        n_star = float(((stats.norm.ppf(target_power) - a) / b) ** 2)
        if ns.min() <= n_star <= ns.max() or n_star > n_max or n_star < n_min:
            break
        n0 = int(np.clip(round(n_star), n_min, n_max))
    return evaluated, fit, n_star, unit


def sample_size(
    *,
    target_power: float = 0.8,
    effect: float | None = None,
    standardized_effect: float | None = None,
    analysis: str = "ancova",
    outcome: str = "pfi_burnout",
    wave: str = "month3",
    dropout: float = 0.1,
    icc: float = 0.0,
    n_sims: int = 2000,
    n_min: int = 5,
    n_max: int = 5000,
    conf_level: float = 0.95,
    alternative: str = "two-sided",
    waves: tuple[str, ...] = ("baseline", "month3", "month6"),
    effects: dict[str, float] | None = None,
    dropout_odds_ratio: float = 1.5,
    item_missing: float = 0.02,
    n_coaches: int = 8,
    persistence: float = 0.9,
    measurement: str = "items",
    seed: int | np.random.Generator | None = None,
    executor: Executor | None = None,
    progress: bool = False,
) -> SampleSizeResult:
    """Participants per arm needed for ``target_power``, solved by simulation.

    Parameters
    ----------
    target_power : float, default 0.8
    effect, standardized_effect : float
        The true difference at ``wave`` in outcome points, or in baseline SDs (exactly one).
    analysis, outcome, wave, dropout, icc, conf_level, alternative, measurement, ...
        As in :func:`power_grid` (one value each).
    n_sims : int, default 2000
        Simulated trials at each arm size evaluated.
    n_min, n_max : int
        Range searched.
    seed, executor, progress
        As in :func:`power_grid`; the arm sizes of a round are simulated in parallel.

    Returns
    -------
    SampleSizeResult
        ``n_per_arm`` (whole number), the continuous solution with its interval, the power
        re-simulated at ``n_per_arm`` with fresh trials, and the arm sizes evaluated.

    Notes
    -----
    A pilot at 50 per arm gives the standard error of the estimate, hence a normal-theory
    guess ``n0``; power is simulated at five arm sizes around ``n0`` and a binomial probit
    model ``power = Phi(a + b sqrt(n))`` (the large-sample form of the power of a t test)
    is fitted to all simulated rejections; it is solved for ``target_power``, with a delta-
    method interval from the fit's covariance (the Monte Carlo uncertainty). If the solution
    lies outside the sizes simulated, a second round is centred on it. The tests re-simulate
    the answer and check that it reaches the target.

    Examples
    --------
    >>> from coaching_trials.simulate.sample_size import sample_size
    >>> res = sample_size(standardized_effect=0.5, dropout=0.0, n_sims=400, seed=2)
    >>> 40 < res.n_per_arm < 90
    True
    """
    _check_sample_size_args(target_power, effect, standardized_effect, n_min, n_max)
    n_sims, conf_level, executor, root, seed_value = check_run(
        alternative, n_sims, conf_level, executor, seed
    )
    fixed = fixed_settings(waves, effects, dropout_odds_ratio, item_missing, n_coaches, persistence)
    dropout = _levels("dropout", dropout, kind=float)[0]
    icc = check_icc(icc)

    def model_at(n: int) -> OutcomeModel:
        base = _design(n=n, dropout=dropout, icc=icc, outcome=outcome, wave=wave,
                       measurement=measurement, fixed=fixed)  # fmt: skip
        return replace(base, analysis=check_choice("analysis", analysis, ANALYSES))

    effect_model, sd = apply_effect(model_at(50), effect, standardized_effect)
    effects_used = effect_model.effects
    true = _engine.expected_difference(effect_model)
    if true == 0:
        raise ValueError("The effect is zero: no arm size reaches a power above alpha.")

    def simulate(sizes: list[int], first_unit: int, sims: int) -> np.ndarray:
        units = [
            (replace(model_at(n), effects=effects_used), (analysis,),
             _engine.child(root, first_unit + j), sims, true, conf_level, alternative)
            for j, n in enumerate(sizes)
        ]  # fmt: skip
        out = run_units(_cell_unit, units, executor=executor, progress=progress,
                        desc="sample size")  # fmt: skip
        return np.array([r[0]["power"] for r in out])

    # pilot: the SE at 50 per arm gives a normal-theory first guess
    pilot = _engine.simulate_blocks(
        replace(model_at(50), effects=effects_used), (analysis,), _engine.child(root, 0),
        max(200, n_sims // 4),
    )[0]  # fmt: skip
    scale = float(np.nanmean(pilot[1])) * np.sqrt(50)
    sides = 2 if alternative == "two-sided" else 1
    z = stats.norm.ppf(1 - (1 - conf_level) / sides) + stats.norm.ppf(target_power)
    n0 = int(np.clip(round((z * scale / abs(true)) ** 2), n_min, n_max))

    evaluated, fit, n_star, unit = _search(simulate, n0, n_min, n_max, n_sims, target_power)
    a, b = fit.params
    if n_star > n_max:
        raise ValueError(
            f"The target power {target_power:g} needs more than `n_max` = {n_max} per arm "
            f"(estimate {n_star:.0f}); raise `n_max` or revisit the design."
        )
    g = (stats.norm.ppf(target_power) - a) / b
    grad = np.array([-2 * g / b, -2 * g * g / b])
    se_n = float(np.sqrt(grad @ fit.cov_params() @ grad))
    n_per_arm = max(int(np.ceil(n_star - 1e-9)), n_min)
    achieved = float(simulate([n_per_arm], unit, n_sims)[0])
    ns = np.array(sorted(evaluated))
    ps = np.array([evaluated[n] for n in ns])
    evaluations = pd.DataFrame(
        {
            "n_per_arm": ns,
            "n_sims": n_sims,
            "power": ps,
            "mc_std_error": np.sqrt(ps * (1 - ps) / n_sims),
            "fitted": stats.norm.cdf(a + b * np.sqrt(ns)),
        }
    )
    n_low, n_high = normal_interval(n_star, se_n, conf_level)
    return SampleSizeResult(
        outcome=outcome,
        wave=wave,
        analysis=analysis,
        target_power=float(target_power),
        n_per_arm=n_per_arm,
        n_estimate=n_star,
        n_conf_low=max(float(n_low), 0.0),
        n_conf_high=float(n_high),
        achieved_power=achieved,
        achieved_mc_std_error=float(np.sqrt(achieved * (1 - achieved) / n_sims)),
        effect=true,
        standardized_effect=true / sd,
        dropout=dropout,
        icc=icc,
        n_sims=n_sims,
        conf_level=conf_level,
        seed=seed_value,
        evaluations=evaluations,
    )
