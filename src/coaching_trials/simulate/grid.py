"""Design grids, sample size and the power-grid run: planning the next trial.

:func:`power_grid` simulates every combination of arm size x effect x dropout x coach ICC and
analyses each simulated trial every way asked (change score, ANCOVA, MMRM: the same trials for
each analysis), returning a tidy table with the Monte Carlo SE of every cell.
:func:`sample_size` solves the arm size for a target power, with its Monte Carlo uncertainty.
:func:`run_power_grid` runs a plan (a TOML file or a mapping) and writes the table, the
power-curve figure and a manifest.

Every design cell is one work unit with its own seed (child ``i`` of the grid's
``numpy.random.SeedSequence``, ``i`` its position in the grid), so the table is identical
whatever runs the units: serially, a ``ThreadPoolExecutor``, a ``ProcessPoolExecutor`` or a
dask.distributed cluster (``client.get_executor()``). With ``checkpoint=`` the finished cells
are written to Parquet as they complete and a rerun computes only the missing ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from coaching_trials._results import ResultMixin
from coaching_trials.simulate import _engine
from coaching_trials.simulate._engine import ANALYSES, OutcomeModel
from coaching_trials.simulate._parallel import check_executor, run_units
from coaching_trials.simulate.power import (
    _ALTERNATIVES,
    _SUMMARY_KEYS,
    apply_effect,
    build_model,
    check_choice,
    check_icc,
    check_level,
    check_n_sims,
    root_seed,
    summarise,
)
from coaching_trials.simulate.trial import _configure

__all__ = [
    "GRID_COLUMNS",
    "PowerGridResult",
    "PowerGridRun",
    "SampleSizeResult",
    "power_grid",
    "run_power_grid",
    "sample_size",
]

#: Columns of :attr:`PowerGridResult.table`, in order.
GRID_COLUMNS: tuple[str, ...] = (
    "outcome",
    "wave",
    "analysis",
    "n_per_arm",
    "effect",
    "standardized_effect",
    "dropout",
    "icc",
    "n_sims",
    *_SUMMARY_KEYS,
)
_AXES = ("n_per_arm", "effect", "dropout", "icc")


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True, repr=False)
class PowerGridResult(ResultMixin):
    """Simulated power over a design grid.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per design cell x analysis (columns :data:`GRID_COLUMNS`): arm size, the true
        effect in the outcome's points and standardized, dropout per follow-up wave, coach
        ICC, and the power with its Monte Carlo SE (``mc_std_error``) and Wilson interval,
        bias, empirical and model SEs and coverage.
    n_sims, seed, conf_level, alternative, measurement
        The simulation settings.
    grid_key : str
        Fingerprint of the grid and settings (what a checkpoint is matched against).
    """

    table: pd.DataFrame = field(compare=False)
    n_sims: int
    seed: int | None
    conf_level: float
    alternative: str
    measurement: str
    grid_key: str

    _title = "Simulated power over a design grid (immediate vs delayed)"

    def to_frame(self) -> pd.DataFrame:
        """The grid table."""
        return self.table


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


# ------------------------------------------------------------------------------ helpers


def _levels(name: str, value: Any, *, kind: type) -> list[Any]:
    values = list(value) if isinstance(value, (list, tuple, np.ndarray, pd.Series)) else [value]
    if not values:
        raise ValueError(f"`{name}` must hold at least one value; got {value!r}.")
    for v in values:
        allowed = (int, np.integer) if kind is int else (int, float, np.integer, np.floating)
        bad = isinstance(v, bool) or not isinstance(v, allowed)
        if kind is float and not bad and not np.isfinite(v):
            bad = True
        if bad:
            raise TypeError(
                f"`{name}` must be a {'whole' if kind is int else 'finite'} number or a "
                f"sequence of them; got {v!r}."
            )
    if len(set(values)) != len(values):
        raise ValueError(f"`{name}` must not repeat a value; got {values!r}.")
    return [kind(v) for v in values]


def _design(
    *,
    n: int,
    dropout: float,
    icc: float,
    outcome: str,
    wave: str,
    measurement: str,
    fixed: Mapping[str, Any],
) -> OutcomeModel:
    config = _configure(n_immediate=n, n_delayed=n, dropout=dropout, **fixed)
    return build_model(
        config, outcome=outcome, wave=wave, analysis="ancova", icc=icc, measurement=measurement
    )


def _cell_unit(
    model: OutcomeModel,
    analyses: tuple[str, ...],
    seed: np.random.SeedSequence,
    n_sims: int,
    true_effect: float,
    conf_level: float,
    alternative: str,
) -> list[dict[str, Any]]:
    """Simulate one design cell and summarise it for each analysis (runs on a worker)."""
    sims = _engine.simulate_blocks(model, analyses, seed, n_sims)
    return [
        summarise(sims[a], true_effect, conf_level, alternative)[0] for a in range(len(analyses))
    ]


def _fingerprint(spec: Mapping[str, Any]) -> str:
    text = json.dumps(spec, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _read_checkpoint(path: Path, key: str) -> pd.DataFrame | None:
    if not path.exists():
        return None
    done = pd.read_parquet(path)
    if done.empty:
        return None
    keys = set(done["grid_key"].unique())
    if keys != {key}:
        raise ValueError(
            f"Checkpoint {str(path)!r} belongs to a different grid or settings (key "
            f"{sorted(keys)[0]}, this grid {key}); delete it or pass another `checkpoint`."
        )
    return done


def _write_atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --------------------------------------------------------------------------- power_grid


def power_grid(
    *,
    n_per_arm: int | Sequence[int],
    effect: float | Sequence[float] | None = None,
    standardized_effect: float | Sequence[float] | None = None,
    dropout: float | Sequence[float] = 0.1,
    icc: float | Sequence[float] = 0.0,
    analysis: str | Sequence[str] = ("change", "ancova", "mmrm"),
    outcome: str = "pfi_burnout",
    wave: str = "month3",
    n_sims: int = 1000,
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
    checkpoint: str | os.PathLike[str] | None = None,
) -> PowerGridResult:
    """Simulated power over arm size x effect x dropout x ICC x analysis.

    Parameters
    ----------
    n_per_arm : int or sequence of int
        Participants randomized to each arm.
    effect, standardized_effect : float or sequence of float
        The true difference immediate minus delayed at ``wave`` in the outcome's own points,
        or in baseline SDs of the outcome (exactly one of the two).
    dropout : float or sequence of float, default 0.1
        Probability of leaving before each follow-up wave, both arms (at average burnout).
    icc : float or sequence of float, default 0
        Coach intra-cluster correlation once coached (see :func:`power`).
    analysis : str or sequence of str, default ("change", "ancova", "mmrm")
        Analyses applied to the same simulated trials: ``"change"``, ``"ancova"``,
        ``"mmrm"``, ``"difference"``.
    outcome, wave, n_sims, conf_level, alternative, waves, effects, dropout_odds_ratio,
    item_missing, n_coaches, persistence, measurement
        As in :func:`~coaching_trials.power` (``n_sims`` per design cell).
    seed : int, numpy.random.Generator or None
        The same integer seed gives the same table, whatever executor runs it.
    executor : concurrent.futures.Executor, optional
        Runs design cells in parallel (any ``concurrent.futures.Executor``; dask.distributed:
        ``client.get_executor()``).
    progress : bool, default False
        Show a tqdm progress bar over design cells.
    checkpoint : path, optional
        Parquet file to which finished cells are written as they complete; an existing file
        of the same grid is resumed (only missing cells are simulated). Needs an integer seed.

    Returns
    -------
    PowerGridResult
        ``table`` (also ``to_frame()``): one row per cell and analysis.

    Notes
    -----
    Each analysis of a cell uses the same simulated trials (common random numbers), so
    differences between analyses are not Monte Carlo noise. The Monte Carlo SE of a cell's
    power is ``sqrt(p (1 - p) / n_sims)``. Tests check that a grid run serially, on threads,
    processes and a dask.distributed cluster gives identical tables, and that a resumed
    checkpoint gives the table of an uninterrupted run.

    Examples
    --------
    >>> from coaching_trials.simulate.grid import power_grid
    >>> grid = power_grid(n_per_arm=[30, 60], standardized_effect=0.5, analysis=["ancova"],
    ...                   n_sims=200, seed=1)
    >>> grid.table[["n_per_arm", "analysis", "n_sims"]]
       n_per_arm analysis  n_sims
    0         30   ancova     200
    1         60   ancova     200
    >>> bool(grid.table["power"].is_monotonic_increasing)
    True
    """
    if (effect is None) == (standardized_effect is None):
        raise ValueError("Give exactly one of `effect` (outcome points) or `standardized_effect`.")
    standardized = standardized_effect is not None
    effect_levels = _levels(
        "standardized_effect" if standardized else "effect",
        standardized_effect if standardized else effect,
        kind=float,
    )
    n_levels = _levels("n_per_arm", n_per_arm, kind=int)
    drop_levels = _levels("dropout", dropout, kind=float)
    icc_levels = [check_icc(v) for v in _levels("icc", icc, kind=float)]
    analyses = tuple(
        check_choice("analysis", a, ANALYSES)
        for a in ([analysis] if isinstance(analysis, str) else list(analysis))
    )
    if not analyses or len(set(analyses)) != len(analyses):
        raise ValueError(
            f"`analysis` must name at least one analysis, once each; got {analysis!r}."
        )
    check_choice("alternative", alternative, _ALTERNATIVES)
    n_sims = check_n_sims(n_sims)
    conf_level = check_level(conf_level)
    executor = check_executor(executor)
    root, seed_value = root_seed(seed)
    if checkpoint is not None and seed_value is None:
        raise ValueError("`checkpoint` needs an integer `seed` so that a rerun can resume it.")
    fixed = {
        "waves": waves,
        "effects": effects,
        "dropout_odds_ratio": dropout_odds_ratio,
        "item_missing": item_missing,
        "n_coaches": n_coaches,
        "persistence": persistence,
    }

    # design cells in canonical order; cell i gets child i of the root seed
    cells = []
    resolved: dict[tuple[float, float], tuple[OutcomeModel, float]] = {}
    for n in n_levels:
        for e in effect_levels:
            for d in drop_levels:
                for c in icc_levels:
                    model = _design(
                        n=n, dropout=d, icc=c, outcome=outcome, wave=wave,
                        measurement=measurement, fixed=fixed,
                    )  # fmt: skip
                    if (e, c) not in resolved:  # the effect depends on the ICC, not n/dropout
                        resolved[(e, c)] = apply_effect(
                            model, None if standardized else e, e if standardized else None
                        )
                    effect_model, sd = resolved[(e, c)]
                    model = replace(model, effects=effect_model.effects)
                    true = _engine.expected_difference(model)
                    cells.append({"model": model, "n": n, "dropout": d, "icc": c, "true": true,
                                  "sd": sd})  # fmt: skip

    spec = {
        "outcome": outcome, "wave": wave, "analyses": analyses, "n_per_arm": n_levels,
        "effect": effect_levels, "standardized": standardized, "dropout": drop_levels,
        "icc": icc_levels, "n_sims": n_sims, "conf_level": conf_level,
        "alternative": alternative, "measurement": measurement, "seed": seed_value,
        "fixed": fixed,
    }  # fmt: skip
    key = _fingerprint(spec) if seed_value is not None else "unseeded"

    def rows_of(i: int, summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cell = cells[i]
        return [
            {
                "outcome": outcome,
                "wave": wave,
                "analysis": a,
                "n_per_arm": cell["n"],
                "effect": cell["true"],
                "standardized_effect": cell["true"] / cell["sd"],
                "dropout": cell["dropout"],
                "icc": cell["icc"],
                "n_sims": n_sims,
                **summary,
                "cell": i,
                "grid_key": key,
            }
            for a, summary in zip(analyses, summaries, strict=True)
        ]

    path = Path(checkpoint) if checkpoint is not None else None
    done = _read_checkpoint(path, key) if path is not None else None
    finished: list[pd.DataFrame] = [] if done is None else [done]
    done_cells = set() if done is None else set(done["cell"].astype(int))
    todo = [i for i in range(len(cells)) if i not in done_cells]

    def on_result(j: int, summaries: list[dict[str, Any]]) -> None:
        if path is None:
            return
        finished.append(pd.DataFrame(rows_of(todo[j], summaries)))
        _write_atomic_parquet(pd.concat(finished, ignore_index=True), path)

    units = [
        (cells[i]["model"], analyses, _engine.child(root, i), n_sims, cells[i]["true"],
         conf_level, alternative)
        for i in todo
    ]  # fmt: skip
    results = run_units(
        _cell_unit, units, executor=executor, progress=progress, desc="power grid",
        on_result=on_result,
    )  # fmt: skip
    new = [row for j, res in enumerate(results) for row in rows_of(todo[j], res)]
    table = pd.concat([*([done] if done is not None else []), pd.DataFrame(new)], ignore_index=True)
    order = {a: k for k, a in enumerate(analyses)}
    table = (
        table.assign(_a=table["analysis"].map(order))
        .sort_values(["cell", "_a"], kind="stable")
        .reset_index(drop=True)
    )
    for col in ("n_per_arm", "n_sims", "n_failed"):
        table[col] = table[col].astype("int64")
    return PowerGridResult(
        table=table[list(GRID_COLUMNS)],
        n_sims=n_sims,
        seed=seed_value,
        conf_level=conf_level,
        alternative=alternative,
        measurement=measurement,
        grid_key=key,
    )


# -------------------------------------------------------------------------- sample_size


def _probit_fit(n: np.ndarray, rejected: np.ndarray, n_sims: np.ndarray) -> Any:
    """Binomial GLM, probit link, on sqrt(n): power ~ Phi(a + b sqrt(n))."""
    import statsmodels.api as sm

    x = sm.add_constant(np.sqrt(n.astype(float)))
    endog = np.column_stack([rejected, n_sims - rejected])
    family = sm.families.Binomial(link=sm.families.links.Probit())
    return sm.GLM(endog, x, family=family).fit()


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
    >>> from coaching_trials.simulate.grid import sample_size
    >>> res = sample_size(standardized_effect=0.5, dropout=0.0, n_sims=400, seed=2)
    >>> 40 < res.n_per_arm < 90
    True
    """
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
    check_choice("alternative", alternative, _ALTERNATIVES)
    n_sims = check_n_sims(n_sims)
    conf_level = check_level(conf_level)
    executor = check_executor(executor)
    root, seed_value = root_seed(seed)
    fixed = {
        "waves": waves,
        "effects": effects,
        "dropout_odds_ratio": dropout_odds_ratio,
        "item_missing": item_missing,
        "n_coaches": n_coaches,
        "persistence": persistence,
    }
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
    if n_star > n_max:
        raise ValueError(
            f"The target power {target_power:g} needs more than `n_max` = {n_max} per arm "
            f"(estimate {n_star:.0f}); raise `n_max` or revisit the design."
        )
    g = (stats.norm.ppf(target_power) - a) / b
    grad = np.array([-2 * g / b, -2 * g * g / b])
    se_n = float(np.sqrt(grad @ fit.cov_params() @ grad))
    zc = stats.norm.ppf(0.5 + conf_level / 2)
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
    return SampleSizeResult(
        outcome=outcome,
        wave=wave,
        analysis=analysis,
        target_power=float(target_power),
        n_per_arm=n_per_arm,
        n_estimate=n_star,
        n_conf_low=max(n_star - zc * se_n, 0.0),
        n_conf_high=n_star + zc * se_n,
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


# ------------------------------------------------------------------------ run_power_grid

_PLAN_KEYS: dict[str, tuple[str, ...]] = {
    "design": (
        "outcome", "wave", "waves", "measurement", "effects", "dropout_odds_ratio",
        "item_missing", "n_coaches", "persistence", "conf_level", "alternative",
    ),
    "grid": ("n_per_arm", "effect", "standardized_effect", "dropout", "icc", "analysis"),
    "simulation": ("n_sims", "seed"),
    "plot": ("target_power",),
}  # fmt: skip

#: An example plan for :func:`run_power_grid` (TOML).
EXAMPLE_PLAN = """\
# Power of the next delayed-intervention coaching trial: PFI burnout at month 3.
[design]
outcome = "pfi_burnout"
wave = "month3"

[grid]
n_per_arm = [30, 45, 60, 80]
standardized_effect = [0.4, 0.5]
dropout = [0.05, 0.15]
icc = [0.0]
analysis = ["change", "ancova", "mmrm"]

[simulation]
n_sims = 1000
seed = 2024

[plot]
target_power = 0.8
"""


@dataclass(frozen=True, repr=False)
class PowerGridRun(ResultMixin):
    """What :func:`run_power_grid` wrote.

    Attributes
    ----------
    out : pathlib.Path
        The output folder: ``power_grid.csv``, ``power_grid.parquet``, ``power_curve.png``
        and ``manifest.json``.
    grid : PowerGridResult
    manifest : Mapping
        The content of ``manifest.json`` (plan, seed, grid key, versions, output hashes).
    """

    out: Path
    grid: PowerGridResult
    manifest: Mapping[str, Any] = field(repr=False, compare=False)

    _title = "Power grid run"

    def to_frame(self) -> pd.DataFrame:
        return self.grid.to_frame()


def _load_plan(plan: Any) -> dict[str, Any]:
    if isinstance(plan, (str, os.PathLike)):
        try:
            import tomllib
        except ModuleNotFoundError:  # pragma: no cover - Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        path = Path(plan)
        if not path.is_file():
            raise FileNotFoundError(f"Power-grid plan {str(path)!r} does not exist.")
        with path.open("rb") as fh:
            try:
                plan = tomllib.load(fh)
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(
                    f"Power-grid plan {str(path)!r} is not valid TOML: {exc}"
                ) from None
    if not isinstance(plan, Mapping):
        raise TypeError(f"`plan` must be a TOML file path or a mapping; got {type(plan).__name__}.")
    problems = []
    for section, body in plan.items():
        if section not in _PLAN_KEYS:
            problems.append(f"unknown section [{section}] (allowed: {', '.join(_PLAN_KEYS)})")
            continue
        if not isinstance(body, Mapping):
            problems.append(f"[{section}] must be a table")
            continue
        for key in body:
            if key not in _PLAN_KEYS[section]:
                problems.append(
                    f"unknown key {key!r} in [{section}] "
                    f"(allowed: {', '.join(_PLAN_KEYS[section])})"
                )
    if "grid" not in plan or "n_per_arm" not in plan.get("grid", {}):
        problems.append("[grid] must give n_per_arm")
    if problems:
        raise ValueError("Power-grid plan problems:\n  - " + "\n  - ".join(problems))
    return {section: dict(plan.get(section, {})) for section in _PLAN_KEYS}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {}
    for dist in ("coaching-trials", "numpy", "pandas", "scipy", "statsmodels", "matplotlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def run_power_grid(
    plan: str | os.PathLike[str] | Mapping[str, Any],
    *,
    out: str | os.PathLike[str],
    executor: Executor | None = None,
    progress: bool = False,
) -> PowerGridRun:
    """Run a power-grid plan and write the table, the power-curve figure and a manifest.

    Parameters
    ----------
    plan : path to a TOML file, or a mapping
        Sections ``[design]`` (outcome, wave, waves, measurement, effects, dropout_odds_ratio,
        item_missing, n_coaches, persistence, conf_level, alternative), ``[grid]``
        (n_per_arm, effect or standardized_effect, dropout, icc, analysis), ``[simulation]``
        (n_sims, seed) and ``[plot]`` (target_power); see :data:`EXAMPLE_PLAN`.
    out : path
        Output folder; must not exist or be empty. Written atomically (built beside it and
        renamed into place).
    executor, progress
        As in :func:`power_grid`.

    Returns
    -------
    PowerGridRun

    Notes
    -----
    While running, finished cells are checkpointed to ``.<out>.checkpoint.parquet`` beside
    the output folder; rerunning the same plan after an interruption resumes from it. The
    checkpoint is removed once the folder is in place.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> plan = {"grid": {"n_per_arm": [20, 40], "standardized_effect": 0.5,
    ...                  "analysis": ["ancova"]}, "simulation": {"n_sims": 100, "seed": 1}}
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "power"
    >>> run = run_power_grid(plan, out=out)
    >>> sorted(p.name for p in out.iterdir())
    ['manifest.json', 'power_curve.png', 'power_grid.csv', 'power_grid.parquet']
    """
    import matplotlib.pyplot as plt

    from coaching_trials.plots.power import plot_power_curve

    spec = _load_plan(plan)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"Output folder {str(out)!r} exists and is not empty.")
    seed = spec["simulation"].get("seed", 0)
    design = dict(spec["design"])
    if "waves" in design:
        design["waves"] = tuple(design["waves"])
    target = spec["plot"].get("target_power", 0.8)
    out.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = out.parent / f".{out.name}.checkpoint.parquet"
    grid = power_grid(
        **spec["grid"],
        **design,
        n_sims=spec["simulation"].get("n_sims", 1000),
        seed=seed,
        executor=executor,
        progress=progress,
        checkpoint=checkpoint,
    )
    build = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        grid.table.to_csv(build / "power_grid.csv", index=False)
        grid.table.to_parquet(build / "power_grid.parquet", index=False)
        ax = plot_power_curve(grid, target=target, conf_level=grid.conf_level)
        ax.set_title(f"{grid.table['outcome'].iloc[0]} at {grid.table['wave'].iloc[0]}")
        ax.figure.savefig(build / "power_curve.png", dpi=150, metadata={"Software": None})
        plt.close(ax.figure)
        manifest = {
            "kind": "coaching_trials power grid",
            "plan": spec,
            "seed": seed,
            "grid_key": grid.grid_key,
            "n_cells": int(len(grid.table)),
            "versions": _versions(),
            "outputs": {
                name: {"sha256": _sha256(build / name)}
                for name in ("power_grid.csv", "power_grid.parquet", "power_curve.png")
            },
        }
        (build / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        if out.exists():
            out.rmdir()
        os.replace(build, out)
    except BaseException:
        import shutil

        shutil.rmtree(build, ignore_errors=True)
        raise
    checkpoint.unlink(missing_ok=True)
    return PowerGridRun(out=out, grid=grid, manifest=manifest)
