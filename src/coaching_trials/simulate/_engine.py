"""The power generator: only what the analysis of one outcome needs, vectorized over trials.

:func:`~coaching_trials.simulate.trial.simulate_trial` draws every item of five instruments,
demographics, dates, sessions and withdrawal reasons for each participant; the power of a
comparison of one outcome needs none of that. :class:`OutcomeModel` describes one simulated
design (arm sizes, waves up to the one compared, the outcome's constructs, dropout, coaches,
an optional coach intra-cluster correlation) and :func:`draw_scores` draws, for ``S``
simulated trials at once, the scored outcome at each needed wave and who is still in the study.

The model is the item-level generator's model restricted to what is needed:

- latent scores of the outcome's constructs (and of work exhaustion and interpersonal
  disengagement when dropout depends on burnout), drawn from the sub-block of the construct
  correlation matrix (the marginal of a multivariate normal is its sub-block), with the same
  person effects, AR(1) wave deviations, trends and coaching effect multiplied by
  ``1 + u[coach] + v``;
- monotone dropout with the same burnout-dependent hazard;
- ``measurement="items"``: the outcome's items only, rounded, clipped, missing completely at
  random and scored with the registry's rule (prorated mean or sum, minimum answered) — the
  scored outcome has exactly the distribution it has in ``simulate_trial``'s data;
  ``measurement="latent"``: the score as the exact normal it would be without rounding,
  clipping or item missingness (the "normal model"), one draw per person and wave.

Participants are exchangeable within an arm, so the first ``n_immediate`` are the immediate
arm: no permutation is drawn. Estimators (:func:`estimate`) are batched least squares over the
simulated trials; the MMRM is the maximum-likelihood MMRM for monotone missing data computed
through the factored likelihood (sequential regressions; Little & Rubin 2019, ch. 7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import NamedTuple

import numpy as np
from scipy import special

from coaching_trials.simulate.trial import (
    _AR,
    _CONSTRUCTS,
    _CORRELATION,
    _EFFECT_SD_COACH,
    _EFFECT_SD_PERSON,
    _ICC,
    _exposure,
    _item_names,
    _item_offsets,
    _noise_sd,
)

__all__ = ["OutcomeModel", "draw_scores", "estimate", "expected_difference", "outcome_sd"]

ANALYSES: tuple[str, ...] = ("ancova", "change", "difference", "mmrm")
MEASUREMENTS: tuple[str, ...] = ("items", "latent")
_NAMES = list(_CONSTRUCTS)
_BURNOUT = ("pfi_we", "pfi_id")


class _Rule(NamedTuple):
    """Scoring rule of one outcome, item by item."""

    construct: np.ndarray  # construct index (into CONSTRUCTS) of each item of the outcome
    offset: np.ndarray  # item difficulty offset
    noise_sd: np.ndarray  # item noise SD
    reverse: np.ndarray  # bool: reverse-keyed within the outcome
    aggregation: str  # "mean" or "sum"
    min_answered: int
    low: float
    high: float


@cache
def outcome_rule(outcome: str) -> _Rule:
    """The outcome's items (from the instrument registry) mapped to the simulator's constructs."""
    from coaching_trials.simulate.power import _outcome_rule

    positions, reverse, aggregation, min_answered, low, high = _outcome_rule(outcome)
    names = _item_names()
    construct, offset, noise = [], [], []
    for pos in positions:
        item = names[pos]
        for c_i, (name, con) in enumerate(_CONSTRUCTS.items()):
            if item in con.items:
                construct.append(c_i)
                offset.append(_item_offsets(len(con.items))[con.items.index(item)])
                noise.append(_noise_sd(_CONSTRUCTS[name]))
                break
    return _Rule(
        construct=np.array(construct),
        offset=np.array(offset),
        noise_sd=np.array(noise),
        reverse=np.isin(positions, reverse),
        aggregation=aggregation,
        min_answered=min_answered,
        low=low,
        high=high,
    )


@dataclass(frozen=True)
class OutcomeModel:
    """One simulated design: everything :func:`draw_scores` and :func:`estimate` need.

    ``effects`` are latent coaching effects per construct (item metric); ``wave`` is the index
    of the wave compared; ``icc`` the share of a coached participant's latent variance due to
    the coach (a coach random intercept added once coaching has started).
    """

    n_immediate: int
    n_delayed: int
    n_waves: int  # waves of the design
    wave: int  # index of the wave compared (>= 1)
    outcome: str
    analysis: str
    effects: tuple[float, ...]  # latent effect per construct, in CONSTRUCTS order
    dropout: tuple[float, float]  # immediate, delayed
    dropout_odds_ratio: float
    item_missing: float
    n_coaches: int
    persistence: float
    icc: float = 0.0
    measurement: str = "items"

    @property
    def n(self) -> int:
        return self.n_immediate + self.n_delayed

    @property
    def waves_needed(self) -> int:
        """Waves 0..wave: under monotone dropout later waves carry no information on it."""
        return self.wave + 1

    def effect_of(self, construct: str) -> float:
        return self.effects[_NAMES.index(construct)]

    def with_effects(self, effects: Mapping[str, float]) -> OutcomeModel:
        merged = dict(zip(_NAMES, self.effects, strict=True)) | dict(effects)
        return replace(self, effects=tuple(float(merged[c]) for c in _NAMES))

    def cells_per_trial(self) -> int:
        k = len(outcome_rule(self.outcome).construct) if self.measurement == "items" else 1
        return self.n * self.waves_needed * (k + 4)


# ------------------------------------------------------------------------------------- draws


class Scores(NamedTuple):
    scores: np.ndarray  # (S, n, W) scored outcome, NaN when not observed or not scorable
    treated: np.ndarray  # (n,) 1.0 for the immediate arm
    observed: np.ndarray  # (S, n, W) still in the study


def _constructs_needed(model: OutcomeModel, rule: _Rule) -> list[int]:
    needed = sorted(set(rule.construct.tolist()))
    if _dropout_depends_on_burnout(model):
        needed = sorted(set(needed) | {_NAMES.index(c) for c in _BURNOUT})
    return needed


def _dropout_depends_on_burnout(model: OutcomeModel) -> bool:
    return model.waves_needed > 1 and max(model.dropout) > 0 and model.dropout_odds_ratio != 1


def draw_scores(rng: np.random.Generator, model: OutcomeModel, n_sims: int) -> Scores:
    """Draw the scored outcome of ``n_sims`` trials at once (see the module docstring)."""
    rule = outcome_rule(model.outcome)
    s, n, w = n_sims, model.n, model.waves_needed
    idx = _constructs_needed(model, rule)
    cons = [_CONSTRUCTS[_NAMES[i]] for i in idx]
    mean = np.array([c.mean for c in cons])
    sd = np.array([c.sd for c in cons])
    trend = np.array([c.trend for c in cons])
    eff = np.array([model.effects[i] for i in idx])
    arm = np.repeat([0, 1], [model.n_immediate, model.n_delayed])

    chol = np.linalg.cholesky(_CORRELATION[np.ix_(idx, idx)])
    b = rng.standard_normal((s, n, len(idx))) @ chol.T
    z = rng.standard_normal((s, n, w, len(idx))) @ chol.T
    for k in range(1, w):  # AR(1) over a handful of waves, in place
        z[:, :, k] = _AR * z[:, :, k - 1] + np.sqrt(1 - _AR**2) * z[:, :, k]
    theta = (
        mean
        + trend * np.arange(w)[:, None]
        + sd * (np.sqrt(_ICC) * b[:, :, None, :] + np.sqrt(1 - _ICC) * z)
    )  # (S, n, W, C)

    exposure = _exposure(model.n_waves, model.persistence)[arm][:, :w]  # (n, W)
    if np.any(eff != 0) or model.icc > 0:
        coach = rng.integers(0, model.n_coaches, size=(s, n))
        if np.any(eff != 0):
            coach_u = _EFFECT_SD_COACH * rng.standard_normal((s, model.n_coaches))
            v = _EFFECT_SD_PERSON * rng.standard_normal((s, n))
            multiplier = 1.0 + np.take_along_axis(coach_u, coach, axis=1) + v
            theta += exposure[..., None] * eff * multiplier[..., None, None]
        if model.icc > 0:
            coached = (np.arange(w) >= np.where(arm == 0, 1, 2)[:, None]).astype(float)  # (n, W)
            c = rng.standard_normal((s, model.n_coaches))
            scale = sd * np.sqrt(model.icc / (1 - model.icc))
            theta += (
                np.take_along_axis(c, coach, axis=1)[:, :, None, None] * coached[..., None] * scale
            )

    observed = _dropout(rng, model, theta, idx, arm, s)
    local = np.searchsorted(idx, rule.construct)  # outcome item -> column of theta
    if model.measurement == "latent":
        scores = _latent_score(rng, rule, theta[..., local], (s, n, w))
    else:
        own = sorted(set(rule.construct.tolist()))
        scores = _item_score(rng, rule, theta[..., np.searchsorted(idx, own)], model.item_missing)
    scores = np.where(observed, scores, np.nan)
    return Scores(scores=scores, treated=(arm == 0).astype(float), observed=observed)


def _dropout(
    rng: np.random.Generator,
    model: OutcomeModel,
    theta: np.ndarray,
    idx: list[int],
    arm: np.ndarray,
    s: int,
) -> np.ndarray:
    """Monotone dropout with the item-level generator's burnout-dependent hazard."""
    n, w = model.n, model.waves_needed
    if w == 1 or max(model.dropout) == 0:
        return np.ones((s, n, w), bool)
    p_base = np.array(model.dropout)[arm]  # (n,)
    logit = special.logit(np.clip(p_base, 1e-12, 1 - 1e-12))[:, None]
    if _dropout_depends_on_burnout(model):
        we, id_ = _NAMES.index("pfi_we"), _NAMES.index("pfi_id")
        c_we, c_id = _CONSTRUCTS["pfi_we"], _CONSTRUCTS["pfi_id"]
        burnout = (4 * theta[..., idx.index(we)] + 6 * theta[..., idx.index(id_)]) / 10
        b_mean = (4 * c_we.mean + 6 * c_id.mean) / 10
        corr = _CORRELATION[we, id_]
        b_sd = np.sqrt(16 * c_we.sd**2 + 36 * c_id.sd**2 + 48 * corr * c_we.sd * c_id.sd) / 10
        logit = logit + np.log(model.dropout_odds_ratio) * (burnout[..., :-1] - b_mean) / b_sd
    else:
        logit = np.broadcast_to(logit, (s, n, w - 1))
    leave = (rng.random((s, n, w - 1)) < special.expit(logit)) & (p_base[:, None] > 0)
    left = np.cumsum(leave, axis=2) > 0
    return np.concatenate([np.ones((s, n, 1), bool), ~left], axis=2)


def _item_score(
    rng: np.random.Generator, rule: _Rule, theta: np.ndarray, item_missing: float
) -> np.ndarray:
    """Items of the outcome (rounded, clipped, MCAR missing) scored with the registry's rule.

    ``theta`` is (S, n, W, C) for the outcome's constructs. Items are small integers, so they
    are built in float32 in place (exact for the rounded values; the latent noise is float32).
    """
    f32 = np.float32
    k = len(rule.construct)
    y = rng.standard_normal((*theta.shape[:-1], k), dtype=f32)
    y *= rule.noise_sd.astype(f32)
    y += (rule.offset + 0.5).astype(f32)
    local = np.unique(rule.construct, return_inverse=True)[1]
    for c in range(theta.shape[-1]):
        cols = np.flatnonzero(local == c)
        sl = slice(cols[0], cols[-1] + 1) if np.all(np.diff(cols) == 1) else cols
        np.add(y[..., sl], theta[..., c, None], out=y[..., sl], casting="unsafe")
    np.floor(y, out=y)
    np.clip(y, f32(rule.low), f32(rule.high), out=y)
    if rule.reverse.any():
        y = np.where(rule.reverse, f32(rule.low + rule.high) - y, y)
    if item_missing > 0:
        keep = rng.random(y.shape, dtype=f32) >= f32(item_missing)
        answered = keep.sum(axis=-1)
        y *= keep
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = y.sum(axis=-1, dtype=np.float64) / answered
        mean = np.where(answered >= rule.min_answered, mean, np.nan)
    else:
        mean = y.sum(axis=-1, dtype=np.float64) / k
    return mean * k if rule.aggregation == "sum" else mean


def _latent_weights(rule: _Rule) -> tuple[np.ndarray, float, float]:
    """Score = weights @ theta_items + constant + noise (SD): the unrounded item score."""
    k = len(rule.construct)
    sign = np.where(rule.reverse, -1.0, 1.0)
    scale = 1.0 if rule.aggregation == "sum" else 1.0 / k
    weights = scale * sign
    constant = scale * float(
        np.sum(np.where(rule.reverse, rule.low + rule.high, 0.0) + sign * rule.offset)
    )
    noise = scale * float(np.sqrt(np.sum(rule.noise_sd**2)))
    return weights, constant, noise


def _latent_score(
    rng: np.random.Generator, rule: _Rule, theta: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    weights, constant, noise = _latent_weights(rule)
    return theta @ weights + constant + noise * rng.standard_normal(shape)


# ------------------------------------------------------------------------- expected values


def _item_moments(model: OutcomeModel, rule: _Rule) -> tuple[np.ndarray, np.ndarray]:
    """Population mean and variance of each outcome item by arm and wave: (2, W, k)."""
    w = model.n_waves
    exposure = _exposure(w, model.persistence)  # (2, W)
    coached = (np.arange(w) >= np.array([1, 2])[:, None]).astype(float)
    mvar = _EFFECT_SD_PERSON**2 + _EFFECT_SD_COACH**2
    means, variances = [], []
    for c_i in rule.construct:
        c = _CONSTRUCTS[_NAMES[c_i]]
        eff = model.effects[c_i]
        means.append(c.mean + c.trend * np.arange(w) + eff * exposure)
        latent_var = c.sd**2 * (1 + coached * model.icc / (1 - model.icc))
        variances.append(latent_var + (eff * exposure) ** 2 * mvar)
    return np.stack(means, axis=-1) + rule.offset, np.stack(variances, axis=-1)


def expected_scores(model: OutcomeModel) -> np.ndarray:
    """Population mean of the scored outcome by arm (rows) and wave, complete data: (2, W)."""
    rule = outcome_rule(model.outcome)
    mean, latent_var = _item_moments(model, rule)
    if model.measurement == "latent":
        weights, constant, _ = _latent_weights(rule)
        return (mean - rule.offset) @ weights + constant
    sd = np.sqrt(latent_var + rule.noise_sd**2)
    cuts = np.arange(rule.low + 1, rule.high + 1) - 0.5
    item = rule.low + special.ndtr((mean[..., None] - cuts) / sd[..., None]).sum(axis=-1)
    item = np.where(rule.reverse, rule.low + rule.high - item, item)
    return item.sum(axis=-1) if rule.aggregation == "sum" else item.mean(axis=-1)


def expected_difference(model: OutcomeModel) -> float:
    """Population difference immediate minus delayed of the outcome at the compared wave."""
    e = expected_scores(model)
    return float(e[0, model.wave] - e[1, model.wave])


def outcome_sd(model: OutcomeModel, nodes: int = 48) -> float:
    """Population SD of the scored outcome at baseline (complete items).

    ``latent``: closed form. ``items``: the law of total variance over the latent scores,
    integrated by Gauss-Hermite quadrature; given the latent scores the rounded, clipped items
    are independent with known probabilities, so the conditional mean and variance of the score
    are exact.
    """
    rule = outcome_rule(model.outcome)
    idx = sorted(set(rule.construct.tolist()))
    cons = [_CONSTRUCTS[_NAMES[i]] for i in idx]
    sd = np.array([c.sd for c in cons])
    cov = _CORRELATION[np.ix_(idx, idx)] * np.outer(sd, sd)
    local = np.searchsorted(idx, rule.construct)
    if model.measurement == "latent":
        weights, _, noise = _latent_weights(rule)
        a = np.zeros(len(idx))
        np.add.at(a, local, weights)
        return float(np.sqrt(a @ cov @ a + noise**2))
    x, wts = np.polynomial.hermite_e.hermegauss(nodes)  # weight exp(-x^2 / 2)
    wts = wts / wts.sum()
    grid = np.stack(np.meshgrid(*([x] * len(idx)), indexing="ij"), axis=-1).reshape(-1, len(idx))
    weight = np.prod(np.stack(np.meshgrid(*([wts] * len(idx)), indexing="ij"), -1), -1).ravel()
    theta = np.array([c.mean for c in cons]) + grid @ np.linalg.cholesky(cov).T  # (G, C)
    mu = theta[:, local] + rule.offset  # (G, k)
    values = np.arange(rule.low, rule.high + 1)
    upper = np.append(values[:-1] + 0.5, np.inf)
    lower = np.insert(values[1:] - 0.5, 0, -np.inf)
    z = rule.noise_sd[:, None]
    prob = special.ndtr((upper - mu[..., None]) / z) - special.ndtr((lower - mu[..., None]) / z)
    vals = np.where(rule.reverse[:, None], rule.low + rule.high - values, values)  # (k, V)
    m1 = (prob * vals).sum(-1)
    var = (prob * vals**2).sum(-1) - m1**2
    scale = 1.0 if rule.aggregation == "sum" else 1.0 / len(rule.construct)
    cond_mean = scale * m1.sum(-1)
    cond_var = scale**2 * var.sum(-1)
    grand = weight @ cond_mean
    return float(np.sqrt(weight @ cond_var + weight @ (cond_mean - grand) ** 2))


# ------------------------------------------------------------------------------ estimators


def batched_ols(
    y: np.ndarray, x: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least squares fitted separately for each leading index, using rows ``valid``.

    ``y`` (S, n), ``x`` (S, n, p) or (n, p), ``valid`` (S, n). Returns ``coef`` (S, p), the
    inverse cross-product (S, p, p), the residual variance (S,) and the residual df (S,); NaN
    where the fit is not identified.
    """
    w = valid.astype(float)
    if x.ndim == 2:
        xtx = np.einsum("sn,np,nq->spq", w, x, x)
        xty = np.einsum("sn,np->sp", w * y, x)
    else:  # batched BLAS products (matmul) rather than einsum: several times faster here
        xw_t = (x * w[..., None]).transpose(0, 2, 1)
        xtx = np.matmul(xw_t, x)
        xty = np.matmul(xw_t, y[..., None])[..., 0]
    p = x.shape[-1]
    df = w.sum(axis=1) - p
    ok = (df > 0) & (np.linalg.matrix_rank(xtx) == p)
    safe = np.where(ok[:, None, None], xtx, np.eye(p))
    inv = np.linalg.inv(safe)
    coef = np.einsum("spq,sq->sp", inv, xty)
    fitted = np.matmul(x, coef[..., None])[..., 0] if x.ndim == 3 else coef @ x.T
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = (w * (y - fitted) ** 2).sum(axis=1) / df
    nan = np.nan
    return (
        np.where(ok[:, None], coef, nan),
        np.where(ok[:, None, None], inv, nan),
        np.where(ok, sigma2, nan),
        np.where(ok, df, nan),
    )


def estimate(draws: Scores, model: OutcomeModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Immediate minus delayed at the compared wave for each trial: estimate, SE, df."""
    y_all = draws.scores
    k = model.wave
    ok = ~np.isnan(y_all)
    y, y0 = y_all[..., k], y_all[..., 0]
    t = draws.treated
    ones = np.ones_like(t)
    if model.analysis == "difference":
        valid = ok[..., k]
        x = np.stack([ones, t], axis=-1)
    elif model.analysis == "change":
        valid = ok[..., k] & ok[..., 0]
        x = np.stack([ones, t], axis=-1)
        y = y - y0
    elif model.analysis == "ancova":
        valid = ok[..., k] & ok[..., 0]
        x = np.stack([np.broadcast_to(ones, y0.shape), np.broadcast_to(t, y0.shape), y0], -1)
    else:
        return _mmrm(y_all, t, k)
    x = np.nan_to_num(x)
    coef, inv, sigma2, df = batched_ols(np.nan_to_num(y), x, valid)
    return coef[:, 1], np.sqrt(sigma2 * inv[:, 1, 1]), df


def _mmrm(y_all: np.ndarray, t: np.ndarray, wave: int) -> tuple[np.ndarray, ...]:
    """ML MMRM (arm-by-visit, baseline-by-visit, unstructured covariance) for monotone data.

    The likelihood of monotone data factors into the regressions of visit ``k`` on arm,
    baseline and visits ``1..k-1`` among those observed at ``k`` (distinct parameters), so the
    ML estimate of the arm effect at visit ``k`` is ``gamma_k + sum_j beta_kj delta_j`` and its
    variance follows by the delta method with independent factors. A participant with a
    missing score (too few items) is treated as having left at that wave, which keeps the
    data monotone (data dropped completely at random). df: residual df of the last regression.
    """
    ok = ~np.isnan(y_all)
    present = np.cumprod(ok, axis=2).astype(bool)  # monotone: observed at every wave so far
    y = np.nan_to_num(y_all)
    s, n, _ = y.shape
    deltas = np.zeros((s, 0))
    cov = np.zeros((s, 0, 0))
    se = df = np.full(s, np.nan)
    for k in range(1, wave + 1):
        cols = [np.ones((s, n)), np.broadcast_to(t, (s, n)), y[..., 0]]
        cols += [y[..., j] for j in range(1, k)]
        x = np.stack(cols, axis=-1)
        coef, inv, sigma2, df = batched_ols(y[..., k], x, present[..., k])
        v = sigma2[:, None, None] * inv
        beta = coef[:, 3:]  # (S, k-1) on earlier visits
        grad = np.concatenate([np.ones((s, 1)), deltas], axis=1)  # d delta_k / (gamma, beta)
        sel = [1, *range(3, 3 + k - 1)]
        v_own = v[:, sel][:, :, sel]
        var_k = np.einsum("si,sij,sj->s", grad, v_own, grad) + np.einsum(
            "si,sij,sj->s", beta, cov, beta
        )
        delta_k = coef[:, 1] + np.einsum("si,si->s", beta, deltas)
        cross = np.einsum("si,sij->sj", beta, cov)  # cov(delta_k, earlier deltas)
        cov = np.concatenate(
            [
                np.concatenate([cov, cross[:, :, None]], axis=2),
                np.concatenate([cross, var_k[:, None]], axis=1)[:, None, :],
            ],
            axis=1,
        )
        deltas = np.concatenate([deltas, delta_k[:, None]], axis=1)
        se = np.sqrt(var_k)
    return deltas[:, -1], se, df


def resolve_effect(
    model: OutcomeModel, target: float, *, standardized: bool = False
) -> tuple[OutcomeModel, float]:
    """Latent effect (same value on each of the outcome's constructs) giving ``target``.

    ``target`` is the population difference immediate minus delayed at the compared wave in
    the outcome's points, or in baseline SDs of the outcome when ``standardized``. Returns the
    model with that effect and the outcome's baseline SD.
    """
    from scipy.optimize import brentq

    rule = outcome_rule(model.outcome)
    own = sorted({_NAMES[i] for i in rule.construct.tolist()})
    sd = outcome_sd(model)
    points = target * sd if standardized else target

    def at(e: float) -> OutcomeModel:
        return model.with_effects(dict.fromkeys(own, e))

    if points == 0:
        return at(0.0), sd
    bound = 10.0 * max(_CONSTRUCTS[c].sd for c in own)
    f_low = expected_difference(at(-bound)) - points
    f_high = expected_difference(at(bound)) - points
    if np.sign(f_low) == np.sign(f_high):
        reachable = sorted([f_low + points, f_high + points])
        raise ValueError(
            f"`effect` of {points:g} points on {model.outcome!r} at this wave cannot be "
            f"simulated: the response range allows differences between {reachable[0]:.3g} "
            f"and {reachable[1]:.3g}"
            + (
                " (both arms are coached by this wave: only the fading of the immediate arm's "
                "effect separates them)."
                if model.wave >= 2
                else "."
            )
        )
    e = brentq(lambda e: expected_difference(at(e)) - points, -bound, bound, xtol=1e-12)
    return at(float(e)), sd


# ------------------------------------------------------------------------------ work units

#: item cells drawn at once per block of simulated trials (memory bound)
MAX_CELLS_PER_BLOCK = 4_000_000
MAX_TRIALS_PER_BLOCK = 1000


def block_sizes(model: OutcomeModel, n_sims: int, max_cells: int | None = None) -> list[int]:
    """Split ``n_sims`` into blocks; the split depends on the design only (never on workers)."""
    cap = MAX_CELLS_PER_BLOCK if max_cells is None else max_cells
    size = max(1, min(MAX_TRIALS_PER_BLOCK, cap // model.cells_per_trial()))
    sizes = [size] * (n_sims // size)
    if n_sims % size:
        sizes.append(n_sims % size)
    return sizes


def simulate_block(
    model: OutcomeModel, analyses: tuple[str, ...], seed: np.random.SeedSequence, size: int
) -> np.ndarray:
    """One block of ``size`` trials analysed every way in ``analyses``: (len(analyses), 3, size).

    Rows of the middle axis: estimate, standard error, df. The same draws serve every analysis
    (common random numbers), so differences between analyses are not Monte Carlo noise.
    """
    rng = np.random.default_rng(seed)
    draws = draw_scores(rng, model, size)
    out = np.empty((len(analyses), 3, size))
    for a, analysis in enumerate(analyses):
        out[a] = estimate(draws, replace(model, analysis=analysis))
    return out


def simulate_blocks(
    model: OutcomeModel,
    analyses: tuple[str, ...],
    seed: np.random.SeedSequence,
    n_sims: int,
    max_cells: int | None = None,
) -> np.ndarray:
    """All blocks of one design in this process: (len(analyses), 3, n_sims)."""
    sizes = block_sizes(model, n_sims, max_cells)
    return np.concatenate(
        [simulate_block(model, analyses, child(seed, i), k) for i, k in enumerate(sizes)],
        axis=2,
    )


def child(seed: np.random.SeedSequence, i: int) -> np.random.SeedSequence:
    """The ``i``-th child of ``seed``, as ``seed.spawn`` would make it, without its state.

    ``SeedSequence.spawn`` counts the children already made, so calling it twice gives
    different children; deriving child ``i`` from the spawn key makes every work unit's stream
    a function of its position alone (whatever runs it, in whatever order).
    """
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, i))
