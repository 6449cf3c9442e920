"""Run a power-grid plan (TOML) and write the table, the power-curve figure and a manifest."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from coaching_trials._results import ResultMixin
from coaching_trials.instruments.labels import outcome_info
from coaching_trials.simulate.grid import PowerGridResult, power_grid

__all__ = ["EXAMPLE_PLAN", "PowerGridRun", "run_power_grid"]


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
        import tomllib

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
        outcome, wave = grid.table["outcome"].iloc[0], grid.table["wave"].iloc[0]
        ax.set_title(f"Power: {outcome_info(outcome)['short_label']} at {wave}")
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
