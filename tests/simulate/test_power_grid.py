"""Design grids, executors, checkpoints, sample size, the power curve and the grid run."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials.simulate import grid as grid_module
from coaching_trials.simulate.grid import GRID_COLUMNS, power_grid
from coaching_trials.simulate.plan import EXAMPLE_PLAN, run_power_grid
from coaching_trials.simulate.power import power
from coaching_trials.simulate.sample_size import sample_size

SMALL = {
    "n_per_arm": [20, 40],
    "standardized_effect": [0.0, 0.5],
    "dropout": [0.0, 0.15],
    "analysis": ["change", "ancova", "mmrm"],
    "n_sims": 60,
    "seed": 7,
}


@pytest.fixture(scope="module")
def serial() -> pd.DataFrame:
    return power_grid(**SMALL).table


def test_grid_is_tidy_with_monte_carlo_se(serial: pd.DataFrame) -> None:
    assert tuple(serial.columns) == GRID_COLUMNS
    assert len(serial) == 2 * 2 * 2 * 3
    assert not serial.duplicated(["n_per_arm", "effect", "dropout", "icc", "analysis"]).any()
    p = serial["power"]
    np.testing.assert_allclose(serial["mc_std_error"], np.sqrt(p * (1 - p) / 60))
    assert (serial.loc[serial["standardized_effect"] == 0, "effect"] == 0).all()
    np.testing.assert_allclose(serial["standardized_effect"].unique(), [0.0, 0.5], atol=1e-9)


def test_grid_results_do_not_depend_on_the_executor(serial: pd.DataFrame) -> None:
    with ThreadPoolExecutor(max_workers=3) as ex:
        threads = power_grid(**SMALL, executor=ex).table
    with ProcessPoolExecutor(max_workers=2) as ex:
        processes = power_grid(**SMALL, executor=ex).table
    pd.testing.assert_frame_equal(threads, serial)
    pd.testing.assert_frame_equal(processes, serial)


def test_grid_on_a_dask_distributed_cluster(serial: pd.DataFrame) -> None:
    distributed = pytest.importorskip(
        "distributed",
        reason="dask[distributed] is not installed (pip install coaching-trials[parallel])",
    )
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        table = power_grid(**SMALL, executor=client.get_executor()).table
    pd.testing.assert_frame_equal(table, serial)


def test_power_with_an_executor_equals_serial() -> None:
    kwargs = {"n_sims": 2500, "seed": 3, "effect": -0.2}
    serial = power(**kwargs)
    with ThreadPoolExecutor(max_workers=2) as ex:
        threaded = power(**kwargs, executor=ex)
    pd.testing.assert_frame_equal(serial.simulations, threaded.simulations)
    assert serial.power == threaded.power


def test_executor_must_be_an_executor() -> None:
    with pytest.raises(TypeError, match="concurrent.futures.Executor"):
        power_grid(n_per_arm=20, effect=-0.2, n_sims=5, executor=object())


def test_checkpoint_resumes_only_missing_cells(
    tmp_path: Path, serial: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "grid.parquet"
    first = power_grid(**SMALL, checkpoint=path).table
    pd.testing.assert_frame_equal(first, serial)
    saved = pd.read_parquet(path)
    assert set(saved["cell"]) == set(range(8))
    # an interrupted run: only three cells made it to disk
    saved[saved["cell"].isin([0, 3, 5])].to_parquet(path, index=False)
    calls: list[int] = []
    original = grid_module._cell_unit

    def counting(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(grid_module, "_cell_unit", counting)
    resumed = power_grid(**SMALL, checkpoint=path).table
    assert len(calls) == 5
    pd.testing.assert_frame_equal(resumed, serial)


def test_checkpoint_of_another_grid_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "grid.parquet"
    power_grid(**SMALL, checkpoint=path)
    with pytest.raises(ValueError, match="different grid"):
        power_grid(**(SMALL | {"n_sims": 61}), checkpoint=path)
    with pytest.raises(ValueError, match="integer `seed`"):
        power_grid(**(SMALL | {"seed": None}), checkpoint=tmp_path / "other.parquet")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, ValueError, "exactly one of"),
        ({"effect": -0.2, "standardized_effect": 0.3}, ValueError, "exactly one of"),
        ({"effect": [-0.2, -0.2]}, ValueError, "must not repeat"),
        ({"effect": -0.2, "n_per_arm": 20.5}, TypeError, "n_per_arm"),
        ({"effect": -0.2, "icc": 1.0}, ValueError, "icc"),
        ({"effect": -0.2, "analysis": ["ancova", "glmm"]}, ValueError, "must be one of"),
        ({"effect": "big"}, TypeError, "effect"),
    ],
)
def test_grid_arguments_are_checked(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        power_grid(**({"n_per_arm": 20, "n_sims": 5} | kwargs))


def test_sample_size_reaches_the_target_when_resimulated() -> None:
    res = sample_size(standardized_effect=0.45, target_power=0.8, n_sims=1500, seed=5)
    assert res.n_conf_low <= res.n_estimate <= res.n_conf_high
    assert res.n_per_arm == int(np.ceil(res.n_estimate))
    check = power(n_immediate=res.n_per_arm, n_delayed=res.n_per_arm,
                  standardized_effect=0.45, dropout={"immediate": 0.1, "delayed": 0.1},
                  n_sims=6000, seed=123)  # fmt: skip
    tolerance = 3 * np.sqrt(0.8 * 0.2 / 6000)
    assert check.power >= 0.8 - tolerance
    below = power(n_immediate=res.n_per_arm - 8, n_delayed=res.n_per_arm - 8,
                  standardized_effect=0.45, dropout={"immediate": 0.1, "delayed": 0.1},
                  n_sims=6000, seed=124)  # fmt: skip
    assert below.power < 0.8  # the answer is not needlessly large
    assert "n_per_arm" in res.summary() and len(res.to_frame()) == 1


def test_sample_size_refuses_impossible_targets() -> None:
    with pytest.raises(ValueError, match="n_max"):
        sample_size(standardized_effect=0.05, n_sims=200, n_max=100, seed=1)
    with pytest.raises(ValueError, match="zero"):
        sample_size(effect=0.0, n_sims=50, seed=1)


def test_power_curve_draws_the_grid(serial: pd.DataFrame) -> None:
    ax = ct.plot_power_curve(serial, target=0.8)
    data = ax.ct_data
    assert len(data) == len(serial)
    assert set(data["line"].str.split(", ").str[0]) == {"change", "ancova", "mmrm"}
    assert (data["conf_low"] <= data["power"]).all() and (data["power"] <= data["conf_high"]).all()
    assert len(ax.get_lines()) == data["line"].nunique() + 1  # + the target line
    fig, other = plt.subplots()
    assert ct.plot_power_curve(serial, ax=other, target=None) is other
    plt.close("all")
    with pytest.raises(ValueError, match="missing column"):
        ct.plot_power_curve(serial.drop(columns="mc_std_error"))


def test_run_power_grid_writes_table_figure_and_manifest(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        EXAMPLE_PLAN.replace("n_sims = 1000", "n_sims = 40")
        .replace("[30, 45, 60, 80]", "[20, 40]")
        .replace('["change", "ancova", "mmrm"]', '["ancova"]')
    )
    out = tmp_path / "run"
    run = run_power_grid(plan, out=out)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["manifest.json", "power_curve.png", "power_grid.csv", "power_grid.parquet"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 2024 and manifest["n_cells"] == 2 * 2 * 2
    table = pd.read_csv(out / "power_grid.csv")
    assert len(table) == 8 and list(table.columns) == list(GRID_COLUMNS)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "power_grid.parquet"), run.grid.table)
    assert not (tmp_path / ".run.checkpoint.parquet").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run.")]
    with pytest.raises(FileExistsError):
        run_power_grid(plan, out=out)


def test_run_power_grid_reports_every_plan_problem(tmp_path: Path) -> None:
    bad = {"grid": {"effect": -0.2, "sizes": [1]}, "extra": {}}
    with pytest.raises(ValueError) as info:
        run_power_grid(bad, out=tmp_path / "x")
    message = str(info.value)
    assert "unknown section [extra]" in message
    assert "unknown key 'sizes'" in message
    assert "n_per_arm" in message


def test_progress_bar_is_optional_and_changes_nothing(serial: pd.DataFrame, capsys) -> None:
    pytest.importorskip("tqdm", reason="tqdm is not installed (pip install tqdm)")
    shown = power_grid(**SMALL, progress=True).table
    pd.testing.assert_frame_equal(shown, serial)
    assert "power grid" in capsys.readouterr().err
