"""Design grids: simulated power over arm size x effect x dropout x ICC x analysis.

:func:`power_grid` simulates every combination of arm size x effect x dropout x coach ICC and
analyses each simulated trial every way asked (change score, ANCOVA, MMRM: the same trials for
each analysis), returning a tidy table with the Monte Carlo SE of every cell.
:func:`~coaching_trials.simulate.sample_size.sample_size` solves the arm size for a target
power; :func:`~coaching_trials.simulate.plan.run_power_grid` runs a plan file and writes the
table, the power-curve figure and a manifest.

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

from coaching_trials._parallel import check_executor, run_units, single_thread_blas
from coaching_trials._results import ResultMixin
from coaching_trials.simulate import _engine
from coaching_trials.simulate._engine import ANALYSES, OutcomeModel
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

__all__ = ["GRID_COLUMNS", "PowerGridResult", "power_grid"]

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
    """Simulate one design cell and summarise it for each analysis (runs on a worker).

    BLAS runs single-threaded here: the matrices are small, and a worker process per core each
    running a multi-threaded BLAS oversubscribes the cores (the cause of erratic speed-ups).
    """
    with single_thread_blas():
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


def _effect_levels(
    effect: float | Sequence[float] | None, standardized_effect: float | Sequence[float] | None
) -> tuple[bool, list[float]]:
    """Exactly one of the two effect scales, as a list of levels; and which one it is."""
    if (effect is None) == (standardized_effect is None):
        raise ValueError("Give exactly one of `effect` (outcome points) or `standardized_effect`.")
    standardized = standardized_effect is not None
    name = "standardized_effect" if standardized else "effect"
    return standardized, _levels(name, standardized_effect if standardized else effect, kind=float)


def fixed_settings(
    waves: tuple[str, ...],
    effects: dict[str, float] | None,
    dropout_odds_ratio: float,
    item_missing: float,
    n_coaches: int,
    persistence: float,
) -> dict[str, Any]:
    """The data-generating settings every design cell shares (passed to ``_configure``)."""
    return {
        "waves": waves,
        "effects": effects,
        "dropout_odds_ratio": dropout_odds_ratio,
        "item_missing": item_missing,
        "n_coaches": n_coaches,
        "persistence": persistence,
    }


def check_run(
    alternative: str, n_sims: Any, conf_level: Any, executor: Any, seed: Any
) -> tuple[int, float, Executor | None, np.random.SeedSequence, int | None]:
    """Checked run settings: ``n_sims, conf_level, executor, root seed, seed value``."""
    check_choice("alternative", alternative, _ALTERNATIVES)
    n_sims = check_n_sims(n_sims)
    conf_level = check_level(conf_level)
    executor = check_executor(executor)
    root, seed_value = root_seed(seed)
    return n_sims, conf_level, executor, root, seed_value


def _grid_cells(
    n_levels: list[int],
    effect_levels: list[float],
    drop_levels: list[float],
    icc_levels: list[float],
    *,
    standardized: bool,
    outcome: str,
    wave: str,
    measurement: str,
    fixed: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Design cells in canonical order (cell ``i`` gets child ``i`` of the root seed)."""
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
    return cells


def _cell_rows(
    cells: list[dict[str, Any]],
    i: int,
    analyses: tuple[str, ...],
    summaries: list[dict[str, Any]],
    common: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Table rows of cell ``i``, one per analysis."""
    cell = cells[i]
    return [
        {
            "outcome": common["outcome"],
            "wave": common["wave"],
            "analysis": a,
            "n_per_arm": cell["n"],
            "effect": cell["true"],
            "standardized_effect": cell["true"] / cell["sd"],
            "dropout": cell["dropout"],
            "icc": cell["icc"],
            "n_sims": common["n_sims"],
            **summary,
            "cell": i,
            "grid_key": common["grid_key"],
        }
        for a, summary in zip(analyses, summaries, strict=True)
    ]


def _sorted_table(
    done: pd.DataFrame | None, new: list[dict[str, Any]], analyses: tuple[str, ...]
) -> pd.DataFrame:
    """Checkpointed and new rows in cell order, analyses in the order asked."""
    table = pd.concat([*([done] if done is not None else []), pd.DataFrame(new)], ignore_index=True)
    order = {a: k for k, a in enumerate(analyses)}
    table = (
        table.assign(_a=table["analysis"].map(order))
        .sort_values(["cell", "_a"], kind="stable")
        .reset_index(drop=True)
    )
    for col in ("n_per_arm", "n_sims", "n_failed"):
        table[col] = table[col].astype("int64")
    return table


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
    standardized, effect_levels = _effect_levels(effect, standardized_effect)
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
    n_sims, conf_level, executor, root, seed_value = check_run(
        alternative, n_sims, conf_level, executor, seed
    )
    if checkpoint is not None and seed_value is None:
        raise ValueError("`checkpoint` needs an integer `seed` so that a rerun can resume it.")
    fixed = fixed_settings(waves, effects, dropout_odds_ratio, item_missing, n_coaches, persistence)
    cells = _grid_cells(
        n_levels, effect_levels, drop_levels, icc_levels, standardized=standardized,
        outcome=outcome, wave=wave, measurement=measurement, fixed=fixed,
    )  # fmt: skip
    spec = {
        "outcome": outcome, "wave": wave, "analyses": analyses, "n_per_arm": n_levels,
        "effect": effect_levels, "standardized": standardized, "dropout": drop_levels,
        "icc": icc_levels, "n_sims": n_sims, "conf_level": conf_level,
        "alternative": alternative, "measurement": measurement, "seed": seed_value,
        "fixed": fixed,
    }  # fmt: skip
    key = _fingerprint(spec) if seed_value is not None else "unseeded"
    common = {"outcome": outcome, "wave": wave, "n_sims": n_sims, "grid_key": key}
    path = Path(checkpoint) if checkpoint is not None else None
    done = _read_checkpoint(path, key) if path is not None else None
    finished: list[pd.DataFrame] = [] if done is None else [done]
    done_cells = set() if done is None else set(done["cell"].astype(int))
    todo = [i for i in range(len(cells)) if i not in done_cells]

    def on_result(j: int, summaries: list[dict[str, Any]]) -> None:
        if path is None:
            return
        finished.append(pd.DataFrame(_cell_rows(cells, todo[j], analyses, summaries, common)))
        _write_atomic_parquet(pd.concat(finished, ignore_index=True), path)

    units = [
        (cells[i]["model"], analyses, _engine.child(root, i), n_sims, cells[i]["true"],
         conf_level, alternative)
        for i in todo
    ]  # fmt: skip
    results = run_units(
        _cell_unit, units, executor=executor, progress=progress, desc="power grid",
        on_result=on_result, cost=[cells[i]["n"] for i in todo],
    )  # fmt: skip
    new = [
        row
        for j, res in enumerate(results)
        for row in _cell_rows(cells, todo[j], analyses, res, common)
    ]
    table = _sorted_table(done, new, analyses)
    return PowerGridResult(
        table=table[list(GRID_COLUMNS)],
        n_sims=n_sims,
        seed=seed_value,
        conf_level=conf_level,
        alternative=alternative,
        measurement=measurement,
        grid_key=key,
    )
