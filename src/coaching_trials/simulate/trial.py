"""Simulate a randomized delayed-intervention (wait-list) coaching trial at the item level.

The generating model, in plain words
------------------------------------
Each participant has a latent score on seven constructs (PFI professional fulfillment, work
exhaustion and interpersonal disengagement, self-valuation, work engagement, quality of life and
impact of work on personal relationships), expressed on the item metric of each instrument (item
mean 0-4 for PFI and SVS, 0-6 for UWES-9, 0-10 for the single items). For participant ``i``,
construct ``c`` and wave ``k`` (0 = baseline)::

    theta[i, k, c] = mean[c] + trend[c] * k
                     + sd[c] * (sqrt(icc) * b[i, c] + sqrt(1 - icc) * e[i, k, c])
                     + effect[c] * exposure[arm_i, k] * m_i

- ``b`` (person random effects) and ``e`` (wave deviations, AR(1) over waves with
  coefficient ``ar``) are standard normal with the construct correlation matrix, so constructs
  are correlated and so are a person's scores across waves (correlation ``icc + (1 - icc) *
  ar**lag``).
- ``exposure`` is 0 before coaching, 1 at the first wave after coaching and ``persistence ** j``
  ``j`` waves later: the immediate arm is coached between the first and second wave, the
  delayed arm between the second and third.
- ``m_i = 1 + u[coach_i] + v_i`` makes the benefit vary between coaches (clusters) and people;
  ``v_i`` is correlated with the number of sessions attended, so the simulated data show a
  (non-randomized) dose-response. ``E[m_i] = 1``.
- Each item is ``theta + item offset + noise``, rounded to the nearest integer and clipped to the
  instrument's response range; the noise SD gives published-like internal consistency.
- Participants leave the study before each follow-up wave with an arm-specific probability that
  rises with their current burnout (odds ratio ``dropout_odds_ratio`` per SD), so dropout is
  missing at random given earlier scores; items are missing completely at random with
  probability ``item_missing``.

Because the latent score at any wave is normal, the population mean of every scored outcome is
available in closed form (``TrialTruth.expected_scores``): that is the "truth" a simulation study
compares estimators with. Demographics are generated but are not prognostic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import special

from coaching_trials._errors import one_of
from coaching_trials._results import FrameCopies
from coaching_trials.simulate._model import (  # noqa: F401  (re-exported)
    _AR,
    _CONSTRUCTS,
    _CORRELATION,
    _DEMOGRAPHICS,
    _EFFECT_SD_COACH,
    _EFFECT_SD_PERSON,
    _ENROLMENT_BUSINESS_DAYS,
    _ICC,
    _OUTCOMES,
    _REASON_PROBS,
    _REASONS,
    _SESSION_PROBS,
    _SESSIONS_EFFECT_CORR,
    _START_DATE,
    _WAVE_SPACING_DAYS,
    _YEARS_HIGH,
    _YEARS_LOW,
    CONSTRUCTS,
    DEFAULT_DROPOUT,
    KISER2024_EFFECTS,
    _Construct,
    _expected_item,
    _exposure,
    _item_offsets,
    _items,
    _noise_sd,
)

__all__ = [
    "CONSTRUCTS",
    "DEFAULT_DROPOUT",
    "KISER2024_EFFECTS",
    "SimulatedTrial",
    "TrialTruth",
    "simulate_trial",
]

ARMS: tuple[str, str] = ("immediate", "delayed")


@dataclass(frozen=True)
class TrialTruth(FrameCopies):
    """The parameters a trial was simulated from, and the population means they imply.

    All effects, means, SDs and trends are on each construct's item metric (item mean 0-4 for
    PFI and self-valuation, 0-6 for UWES-9, 0-10 for the single-item QOL and IWPR).

    Attributes
    ----------
    n_immediate, n_delayed : int
        Arm sizes.
    waves : tuple of str
        Wave labels in order; the first is baseline.
    effects : Mapping[str, float]
        Coaching effect per construct (coached minus not yet coached, latent scale).
    baseline_means, sds, trends : Mapping[str, float]
        Latent baseline mean, between-person SD at a wave and secular change per follow-up wave.
    reliabilities : Mapping[str, float]
        Inter-item correlation (multi-item constructs) or item reliability (single items).
    construct_correlation : pandas.DataFrame
        Correlations between the latent constructs.
    icc, ar : float
        Stable share of latent variance and AR(1) coefficient of wave deviations.
    persistence : float
        Share of the coaching effect kept at each later wave.
    effect_sd_person, effect_sd_coach : float
        SDs of the person and coach multipliers of the coaching effect.
    coach_effects : Mapping[str, float]
        Realized coach multipliers ``u`` (the effect of a coach's participants is scaled by
        ``1 + u``).
    dropout : Mapping[str, float]
        Probability per follow-up wave of leaving the study, by arm, at average burnout.
    dropout_odds_ratio : float
        Odds ratio of leaving per SD of current latent burnout.
    item_missing : float
        Probability that any single item response is missing.
    n_coaches : int
    seed : int or None
        The integer seed, or None if a Generator (or nothing) was passed.
    """

    n_immediate: int
    n_delayed: int
    waves: tuple[str, ...]
    effects: Mapping[str, float]
    baseline_means: Mapping[str, float]
    sds: Mapping[str, float]
    trends: Mapping[str, float]
    reliabilities: Mapping[str, float]
    construct_correlation: pd.DataFrame = field(repr=False)
    icc: float
    ar: float
    persistence: float
    effect_sd_person: float
    effect_sd_coach: float
    coach_effects: Mapping[str, float]
    dropout: Mapping[str, float]
    dropout_odds_ratio: float
    item_missing: float
    n_coaches: int
    seed: int | None

    def _repr_html_(self) -> str:
        from coaching_trials._display import html_card

        return html_card(
            "Simulation truth (generating parameters)",
            [
                ("arms", f"immediate {self.n_immediate}, delayed {self.n_delayed}"),
                ("waves", ", ".join(map(str, self.waves))),
            ],
            tables=[("per construct (item metric)", self.to_frame())],
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per construct: items, response range and generating parameters."""
        rows = []
        for name, c in _CONSTRUCTS.items():
            rows.append(
                {
                    "construct": name,
                    "items": " ".join(c.items),
                    "response_min": c.low,
                    "response_max": c.high,
                    "baseline_mean": self.baseline_means[name],
                    "sd": self.sds[name],
                    "trend": self.trends[name],
                    "effect": self.effects[name],
                    "reliability": self.reliabilities[name],
                }
            )
        return pd.DataFrame(rows)

    def expected_scores(self) -> pd.DataFrame:
        """Population mean of every scored outcome by arm and wave (complete data).

        Scores follow the package's scoring conventions: item means for PFI and UWES, the sum
        of the four items for ``svs_total``, the single item for ``qol_score`` and
        ``iwpr_score``. The means are exact expectations of the rounded, clipped items (the
        latent score at a wave is normal), before dropout and item missingness; with
        missingness completely at random the expected prorated item mean is unchanged.

        Returns
        -------
        pandas.DataFrame
            Columns ``arm``, ``wave``, ``outcome``, ``expected``.

        Examples
        --------
        >>> from coaching_trials.simulate.trial import simulate_trial
        >>> truth = simulate_trial(n_immediate=5, n_delayed=5, seed=1).truth
        >>> e = truth.expected_scores()
        >>> sorted(e["arm"].unique())
        ['delayed', 'immediate']
        """
        n_waves = len(self.waves)
        exposure = _exposure(n_waves, self.persistence)  # (2, W)
        k = np.arange(n_waves)
        multiplier_var = self.effect_sd_person**2 + self.effect_sd_coach**2
        item_means: dict[str, np.ndarray] = {}
        for name, c in _CONSTRUCTS.items():
            eff = self.effects[name]
            sd_c = self.sds[name]
            mean = self.baseline_means[name] + self.trends[name] * k + eff * exposure  # (2, W)
            rel = self.reliabilities[name]
            # latent + item noise + heterogeneity of the coaching effect
            var = sd_c**2 / rel + (eff * exposure) ** 2 * multiplier_var  # (2, W)
            offsets = _item_offsets(len(c.items))
            sd_item = np.broadcast_to(np.sqrt(var)[..., None], mean.shape + offsets.shape)
            item_means[name] = _expected_item(mean[..., None] + offsets, sd_item, c.low, c.high)
        rows = []
        for outcome, (parts, aggregation) in _OUTCOMES.items():
            pieces = [
                item_means[con] if pos is None else item_means[con][..., list(pos)]
                for con, pos in parts
            ]
            stacked = np.concatenate(pieces, axis=-1)
            value = stacked.sum(axis=-1) if aggregation == "sum" else stacked.mean(axis=-1)
            for a, arm in enumerate(ARMS):
                for w, wave in enumerate(self.waves):
                    rows.append(
                        {
                            "arm": arm,
                            "wave": wave,
                            "outcome": outcome,
                            "expected": float(value[a, w]),
                        }
                    )
        return pd.DataFrame(rows)

    def expected_difference(self, outcome: str, wave: str) -> float:
        """Population difference immediate minus delayed in ``outcome`` at ``wave``.

        Examples
        --------
        >>> from coaching_trials.simulate.trial import simulate_trial
        >>> truth = simulate_trial(n_immediate=5, n_delayed=5, seed=1).truth
        >>> round(truth.expected_difference("pfi_burnout", "baseline"), 6)
        0.0
        """
        if outcome not in _OUTCOMES:
            raise one_of("outcome", outcome, tuple(_OUTCOMES))
        if wave not in self.waves:
            raise one_of("wave", wave, self.waves)
        e = self.expected_scores()
        e = e[(e["outcome"] == outcome) & (e["wave"] == wave)].set_index("arm")["expected"]
        return float(e["immediate"] - e["delayed"])


@dataclass(frozen=True, repr=False)
class SimulatedTrial:
    """A simulated delayed-intervention trial.

    Attributes
    ----------
    responses : pandas.DataFrame
        Long item-level responses, one row per participant x wave attended: ``participant_id``,
        ``arm``, ``wave`` (ordered Categorical), ``wave_date`` and the item columns
        (``pfi_01``..``pfi_16``, ``svs_01``..``svs_04``, ``uwes_01``..``uwes_09``, ``qol_01``,
        ``iwpr_01``; float, NaN when missing).
    participants : pandas.DataFrame
        One row per participant: ``participant_id``, ``arm``, ``randomization_date``,
        ``age_band``, ``gender``, ``specialty_group``, ``years_in_practice``, ``coach_id``,
        ``sessions_attended``, ``last_wave``, ``withdrawn_before`` and ``withdrawal_reason``.
    truth : TrialTruth
        Parameters used and the population means they imply.
    """

    responses: pd.DataFrame
    participants: pd.DataFrame
    truth: TrialTruth

    def _repr_html_(self) -> str:
        from coaching_trials._display import html_card

        counts = self.responses.groupby(["wave", "arm"], observed=True).size().unstack("arm")
        return html_card(
            "Simulated delayed-intervention trial",
            [("participants", len(self.participants)), ("response rows", len(self.responses))],
            tables=[("responses per wave and arm", counts.reset_index())],
            note="Synthetic data; `.truth` holds the generating parameters.",
        )

    def __repr__(self) -> str:
        counts = self.responses.groupby(["wave", "arm"], observed=True).size().unstack("arm")
        return (
            f"SimulatedTrial({len(self.participants)} participants, "
            f"{len(self.responses)} response rows)\n"
            f"responses per wave and arm:\n{counts.to_string()}"
        )


def _check_probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(
            f"`{name}` must be a number in [0, 1); got {type(value).__name__} {value!r}."
        )
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1); got {value!r}.")
    return value


def _check_count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"`{name}` must be an integer >= {minimum}; got {type(value).__name__} {value!r}."
        )
    if value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def _resolve_effects(effects: Mapping[str, float] | None) -> dict[str, float]:
    resolved = dict(KISER2024_EFFECTS)
    if effects is None:
        return resolved
    if not isinstance(effects, Mapping):
        raise TypeError(
            f"`effects` must be a mapping from construct to effect; got {type(effects).__name__}."
        )
    for key, value in effects.items():
        if key not in _CONSTRUCTS:
            raise one_of("effects key", key, CONSTRUCTS)
        if isinstance(value, bool) or not np.isfinite(value):
            raise ValueError(f"`effects[{key!r}]` must be a finite number; got {value!r}.")
        resolved[key] = float(value)
    return resolved


def _resolve_dropout(dropout: float | Mapping[str, float] | None) -> dict[str, float]:
    if dropout is None:
        return dict(DEFAULT_DROPOUT)
    if isinstance(dropout, Mapping):
        unknown = set(dropout) - set(ARMS)
        if unknown:
            raise one_of("dropout key", sorted(unknown)[0], ARMS)
        missing = set(ARMS) - set(dropout)
        if missing:
            raise ValueError(
                f"`dropout` must give a probability for both arms {ARMS}; "
                f"missing {sorted(missing)}."
            )
        return {arm: _check_probability(f"dropout[{arm!r}]", dropout[arm]) for arm in ARMS}
    p = _check_probability("dropout", dropout)
    return {arm: p for arm in ARMS}


def _categorical_draw(
    rng: np.random.Generator, probs: np.ndarray, size: int | tuple[int, ...]
) -> np.ndarray:
    """Vectorized draw of category indices (inverse CDF on one uniform per draw)."""
    cum = np.cumsum(probs)
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(size), side="right")


def simulate_trial(
    *,
    n_immediate: int = 67,
    n_delayed: int = 71,
    waves: Sequence[str] = ("baseline", "month3", "month6"),
    effects: Mapping[str, float] | None = None,
    dropout: float | Mapping[str, float] | None = None,
    dropout_odds_ratio: float = 1.5,
    item_missing: float = 0.02,
    n_coaches: int = 8,
    persistence: float = 0.9,
    seed: int | np.random.Generator | None = None,
) -> SimulatedTrial:
    """Simulate an item-level randomized delayed-intervention coaching trial.

    The immediate arm is coached between the first and second wave; the delayed
    (wait-list) arm between the second and third. Defaults reproduce the size and, roughly,
    the effects of Kiser et al. 2024 (67 vs 71 physicians; see ``KISER2024_EFFECTS``). The
    generating model is described in the module docstring and returned in ``truth``.

    Parameters
    ----------
    n_immediate, n_delayed : int, default 67 and 71
        Participants randomized to each arm (exact allocation, random order of ids).
    waves : sequence of str, default ("baseline", "month3", "month6")
        Wave labels, at least two; waves are about three months apart.
    effects : mapping, optional
        Coaching effect per construct on the latent item metric, overriding the defaults in
        ``KISER2024_EFFECTS`` for the keys given. Keys: ``CONSTRUCTS`` (``"pfi_pf"``,
        ``"pfi_we"``, ``"pfi_id"``, ``"svs"``, ``"uwes"``, ``"qol"``, ``"iwpr"``). Use
        ``{c: 0.0 for c in CONSTRUCTS}`` for a null trial.
    dropout : float or mapping of arm to float, optional
        Probability of leaving the study before each follow-up wave (at average burnout);
        default ``DEFAULT_DROPOUT`` (0.06 immediate, 0.12 delayed). Dropout is monotone.
    dropout_odds_ratio : float, default 1.5
        Odds ratio of leaving per SD of current latent burnout (1 = completely at random).
    item_missing : float, default 0.02
        Probability that an individual item response is missing (completely at random).
    n_coaches : int, default 8
        Coaches (clusters); each coached participant is assigned one at random.
    persistence : float, default 0.9
        Share of the coaching effect kept at each later wave.
    seed : int, numpy.random.Generator or None
        Source of randomness; the same integer seed gives identical output.

    Returns
    -------
    SimulatedTrial
        ``responses`` (long, item-level), ``participants`` (one row each) and ``truth``.

    Notes
    -----
    The generator is vectorized over participants and over simulated trials (no Python loop
    over either). :func:`coaching_trials.simulate.power.power` uses the same model restricted
    to the outcome analysed (``simulate/_engine.py``; tests check the scored outcome has the
    same distribution as here). The population mean of each scored outcome by arm and wave is
    available in closed form from ``truth.expected_scores()``; tests check it against large
    simulations.

    Validated by simulation: large simulated samples match the closed-form population means of
    ``truth.expected_scores()`` and the requested arm sizes, dropout and item missingness
    (``tests/simulate/test_simulate_trial.py``); the shipped sample is regenerated byte-
    identically from its seed (``tests/test_datasets.py``).

    Examples
    --------
    >>> from coaching_trials.simulate.trial import simulate_trial
    >>> sim = simulate_trial(seed=2024)
    >>> sim.participants["arm"].value_counts().sort_index().tolist()
    [71, 67]
    >>> sim.responses["wave"].cat.categories.tolist()
    ['baseline', 'month3', 'month6']
    >>> int(sim.responses["pfi_01"].max()) <= 4
    True
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
    rng, seed_value = _resolve_rng(seed)
    draws = _generate(rng, config, n_sims=1)
    responses, participants = _frames(config, draws)
    return SimulatedTrial(
        responses=responses,
        participants=participants,
        truth=_truth(config, draws.coach_u[0], seed_value),
    )


# --------------------------------------------------------------------------------------------
# engine: configuration, vectorized generation (with a leading "simulated trial" axis), frames
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Config:
    n_immediate: int
    n_delayed: int
    waves: tuple[str, ...]
    effects: Mapping[str, float]
    dropout: Mapping[str, float]
    dropout_odds_ratio: float
    item_missing: float
    n_coaches: int
    persistence: float

    @property
    def n(self) -> int:
        return self.n_immediate + self.n_delayed


def _configure(
    *,
    n_immediate: Any,
    n_delayed: Any,
    waves: Any,
    effects: Any,
    dropout: Any,
    dropout_odds_ratio: Any,
    item_missing: Any,
    n_coaches: Any,
    persistence: Any,
) -> _Config:
    """Validate the public arguments (shared by ``simulate_trial`` and ``power``)."""
    n_immediate = _check_count("n_immediate", n_immediate, 1)
    n_delayed = _check_count("n_delayed", n_delayed, 1)
    n_coaches = _check_count("n_coaches", n_coaches, 1)
    if isinstance(waves, str) or not isinstance(waves, Sequence):
        raise TypeError(f"`waves` must be a sequence of wave labels; got {waves!r}.")
    waves = tuple(waves)
    if len(waves) < 2 or not all(isinstance(w, str) and w for w in waves):
        raise ValueError(f"`waves` must hold at least two non-empty strings; got {waves!r}.")
    if len(set(waves)) != len(waves):
        raise ValueError(f"`waves` must be unique; got {waves!r}.")
    effect = _resolve_effects(effects)
    drop = _resolve_dropout(dropout)
    item_missing = _check_probability("item_missing", item_missing)
    if not (np.isfinite(dropout_odds_ratio) and dropout_odds_ratio > 0):
        raise ValueError(
            f"`dropout_odds_ratio` must be a positive number; got {dropout_odds_ratio!r}."
        )
    if not (0.0 <= persistence <= 1.0):
        raise ValueError(f"`persistence` must be in [0, 1]; got {persistence!r}.")
    return _Config(
        n_immediate=n_immediate,
        n_delayed=n_delayed,
        waves=waves,
        effects=MappingProxyType(effect),
        dropout=MappingProxyType(drop),
        dropout_odds_ratio=float(dropout_odds_ratio),
        item_missing=item_missing,
        n_coaches=n_coaches,
        persistence=float(persistence),
    )


def _resolve_rng(seed: Any) -> tuple[np.random.Generator, int | None]:
    if isinstance(seed, np.random.Generator):
        return seed, None
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed), None if seed is None else int(seed)
    raise TypeError(f"`seed` must be an int, a numpy Generator or None; got {seed!r}.")


class _Draws(NamedTuple):
    """Everything drawn for ``S`` simulated trials; arrays have a leading axis of length S."""

    arm_index: np.ndarray  # (S, n) 0 = immediate, 1 = delayed
    enrol: np.ndarray  # (S, n) business days after the start date
    demographics: dict[str, np.ndarray]  # (S, n) category indices
    years: np.ndarray  # (S, n)
    coach_u: np.ndarray  # (S, n_coaches)
    coach: np.ndarray  # (S, n)
    observed: np.ndarray  # (S, n, W) bool
    sessions: np.ndarray  # (S, n)
    started: np.ndarray  # (S, n) bool: coaching began within the study
    reason: np.ndarray  # (S, n) reason index; len(_REASONS) = not given
    items: np.ndarray  # (S, n, W, n_items), NaN = missing
    jitter: np.ndarray  # (S, n, W) days


def _generate(rng: np.random.Generator, config: _Config, n_sims: int) -> _Draws:
    """Draw ``n_sims`` independent trials at once (vectorized over trials and people)."""
    s, n, n_waves = n_sims, config.n, len(config.waves)
    cons = list(_CONSTRUCTS.values())
    names = list(_CONSTRUCTS)
    n_con = len(cons)
    mean = np.array([c.mean for c in cons])
    sd = np.array([c.sd for c in cons])
    trend = np.array([c.trend for c in cons])
    eff = np.array([config.effects[k] for k in names])

    # allocation (exact arm sizes), enrolment, demographics
    base = np.repeat([0, 1], [config.n_immediate, config.n_delayed])
    arm_index = rng.permuted(np.broadcast_to(base, (s, n)), axis=1)
    enrol = np.sort(rng.integers(0, _ENROLMENT_BUSINESS_DAYS, size=(s, n)), axis=1)
    demographics = {
        col: _categorical_draw(rng, np.asarray(p), (s, n))
        for col, (_levels, p) in _DEMOGRAPHICS.items()
    }
    age_idx = demographics["age_band"]
    years = rng.integers(_YEARS_LOW[age_idx], _YEARS_HIGH[age_idx] + 1)

    # latent scores: person effects + AR(1) wave deviations, correlated across constructs
    chol = np.linalg.cholesky(_CORRELATION)
    b = rng.standard_normal((s, n, n_con)) @ chol.T
    z = rng.standard_normal((s, n, n_waves, n_con)) @ chol.T
    e = np.empty_like(z)
    e[:, :, 0] = z[:, :, 0]
    for k in range(1, n_waves):  # loop over waves (a handful), vectorized over people
        e[:, :, k] = _AR * e[:, :, k - 1] + np.sqrt(1 - _AR**2) * z[:, :, k]
    theta = (
        mean
        + trend * np.arange(n_waves)[:, None]
        + sd * (np.sqrt(_ICC) * b[:, :, None, :] + np.sqrt(1 - _ICC) * e)
    )  # (S, n, W, C)

    # coaching: coaches, sessions and the person-specific effect multiplier
    coach_u = _EFFECT_SD_COACH * rng.standard_normal((s, config.n_coaches))
    coach = rng.integers(0, config.n_coaches, size=(s, n))
    z_sessions = rng.standard_normal((s, n))
    v = _EFFECT_SD_PERSON * (
        _SESSIONS_EFFECT_CORR * z_sessions
        + np.sqrt(1 - _SESSIONS_EFFECT_CORR**2) * rng.standard_normal((s, n))
    )
    multiplier = 1.0 + np.take_along_axis(coach_u, coach, axis=1) + v
    planned_sessions = np.searchsorted(np.cumsum(_SESSION_PROBS)[:-1], special.ndtr(z_sessions))
    exposure = _exposure(n_waves, config.persistence)[arm_index]  # (S, n, W)
    theta = theta + exposure[..., None] * eff * multiplier[..., None, None]

    # dropout: monotone, missing at random given the current burnout
    we, idx = names.index("pfi_we"), names.index("pfi_id")
    burnout = (4 * theta[..., we] + 6 * theta[..., idx]) / 10  # (S, n, W)
    b_mean = (4 * mean[we] + 6 * mean[idx]) / 10
    b_var = 16 * sd[we] ** 2 + 36 * sd[idx] ** 2 + 48 * _CORRELATION[we, idx] * sd[we] * sd[idx]
    b_sd = np.sqrt(b_var) / 10
    p_base = np.array([config.dropout["immediate"], config.dropout["delayed"]])[arm_index]
    logit = (
        special.logit(np.clip(p_base, 1e-12, 1 - 1e-12))[..., None]
        + np.log(config.dropout_odds_ratio) * (burnout[..., :-1] - b_mean) / b_sd
    )  # hazard of leaving before wave k + 1, from the score at wave k
    leave = (rng.random((s, n, n_waves - 1)) < special.expit(logit)) & (p_base[..., None] > 0)
    left = np.concatenate([np.zeros((s, n, 1), bool), np.cumsum(leave, axis=2) > 0], axis=2)
    observed = ~left  # baseline always observed
    n_observed = observed.sum(axis=2)

    # sessions: coaching runs wave 0 -> 1 (immediate) or 1 -> 2 (delayed)
    start_wave = np.where(arm_index == 0, 0, 1)
    started = (n_observed > start_wave) & (start_wave + 1 < n_waves)
    completed_period = n_observed > start_wave + 1
    partial = np.floor(planned_sessions * rng.random((s, n))).astype(int)
    sessions = np.where(started, np.where(completed_period, planned_sessions, partial), 0)

    # withdrawal reasons by arm (the last index means "not given")
    reason = np.where(
        arm_index == 0,
        _categorical_draw(rng, np.append(_REASON_PROBS[0], 1 - _REASON_PROBS[0].sum()), (s, n)),
        _categorical_draw(rng, np.append(_REASON_PROBS[1], 1 - _REASON_PROBS[1].sum()), (s, n)),
    )

    # items: latent + item offset + noise, rounded and clipped to the response range
    blocks = []
    for c_i, c in enumerate(cons):
        k = len(c.items)
        y = (
            theta[..., c_i, None]
            + _item_offsets(k)
            + _noise_sd(c) * rng.standard_normal((s, n, n_waves, k))
        )
        blocks.append(np.clip(np.floor(y + 0.5), c.low, c.high))
    items = np.concatenate(blocks, axis=-1)  # (S, n, W, n_items)
    items[rng.random(items.shape) < config.item_missing] = np.nan

    # survey dates: baseline 1-14 days before randomization, follow-ups ~3 months apart
    jitter = np.concatenate(
        [-rng.integers(1, 15, size=(s, n, 1)), rng.integers(-7, 15, size=(s, n, n_waves - 1))],
        axis=2,
    )
    return _Draws(
        arm_index=arm_index,
        enrol=enrol,
        demographics=demographics,
        years=years,
        coach_u=coach_u,
        coach=coach,
        observed=observed,
        sessions=sessions,
        started=started,
        reason=reason,
        items=items,
        jitter=jitter,
    )


def _item_names() -> list[str]:
    return [item for c in _CONSTRUCTS.values() for item in c.items]


def _coach_labels(n_coaches: int) -> np.ndarray:
    width = max(2, len(str(n_coaches)))
    return np.array([f"C{j + 1:0{width}d}" for j in range(n_coaches)], dtype=object)


def _frames(config: _Config, draws: _Draws, sim: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long responses and the participants table of simulated trial ``sim``."""
    n, waves, n_waves = config.n, config.waves, len(config.waves)
    arm_index = draws.arm_index[sim]
    observed = draws.observed[sim]
    n_observed = observed.sum(axis=1)
    withdrawn = n_observed < n_waves

    rand_date = np.busday_offset(_START_DATE, draws.enrol[sim], roll="forward")
    wave_date = rand_date.astype("datetime64[D]")[:, None] + (
        _WAVE_SPACING_DAYS * np.arange(n_waves) + draws.jitter[sim]
    ).astype("timedelta64[D]")
    demo = {
        col: np.asarray(levels, dtype=object)[draws.demographics[col][sim]]
        for col, (levels, _p) in _DEMOGRAPHICS.items()
    }
    coach_id = np.where(draws.started[sim], _coach_labels(config.n_coaches)[draws.coach[sim]], None)
    reasons = np.append(np.array(_REASONS, dtype=object), None)[draws.reason[sim]]
    reasons = np.where(withdrawn, reasons, None)

    id_width = max(3, len(str(n)))
    ids = np.array([f"P{j + 1:0{id_width}d}" for j in range(n)], dtype=object)
    arm_labels = np.array(ARMS, dtype=object)[arm_index]
    person, wave_i = np.nonzero(observed)  # row-major: sorted by participant, then wave
    responses = pd.DataFrame(
        {
            "participant_id": ids[person],
            "arm": arm_labels[person],
            "wave": pd.Categorical.from_codes(wave_i, categories=list(waves), ordered=True),
            "wave_date": pd.to_datetime(wave_date[person, wave_i]),
        }
    )
    responses = pd.concat(
        [responses, pd.DataFrame(draws.items[sim][person, wave_i], columns=_item_names())], axis=1
    )
    wave_arr = np.array(waves, dtype=object)
    participants = pd.DataFrame(
        {
            "participant_id": ids,
            "arm": arm_labels,
            "randomization_date": pd.to_datetime(rand_date),
            "age_band": pd.Categorical(
                demo["age_band"], categories=_DEMOGRAPHICS["age_band"][0], ordered=True
            ),
            "gender": demo["gender"],
            "specialty_group": demo["specialty_group"],
            "years_in_practice": draws.years[sim].astype("int64"),
            "coach_id": coach_id,
            "sessions_attended": draws.sessions[sim].astype("int64"),
            "last_wave": pd.Categorical(
                wave_arr[n_observed - 1], categories=list(waves), ordered=True
            ),
            "withdrawn_before": pd.Categorical(
                np.where(withdrawn, wave_arr[np.minimum(n_observed, n_waves - 1)], None),
                categories=list(waves),
                ordered=True,
            ),
            "withdrawal_reason": reasons,
        }
    )
    return responses, participants


def _truth(config: _Config, coach_u: np.ndarray, seed: int | None) -> TrialTruth:
    names = list(_CONSTRUCTS)
    cons = list(_CONSTRUCTS.values())
    return TrialTruth(
        n_immediate=config.n_immediate,
        n_delayed=config.n_delayed,
        waves=config.waves,
        effects=config.effects,
        baseline_means=MappingProxyType({k: c.mean for k, c in zip(names, cons, strict=True)}),
        sds=MappingProxyType({k: c.sd for k, c in zip(names, cons, strict=True)}),
        trends=MappingProxyType({k: c.trend for k, c in zip(names, cons, strict=True)}),
        reliabilities=MappingProxyType({k: c.reliability for k, c in _CONSTRUCTS.items()}),
        construct_correlation=pd.DataFrame(_CORRELATION, index=names, columns=names),
        icc=_ICC,
        ar=_AR,
        persistence=config.persistence,
        effect_sd_person=_EFFECT_SD_PERSON,
        effect_sd_coach=_EFFECT_SD_COACH,
        coach_effects=MappingProxyType(
            dict(zip(_coach_labels(config.n_coaches).tolist(), coach_u.tolist(), strict=True))
        ),
        dropout=config.dropout,
        dropout_odds_ratio=config.dropout_odds_ratio,
        item_missing=config.item_missing,
        n_coaches=config.n_coaches,
        seed=seed,
    )
