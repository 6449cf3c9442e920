"""The planning commands: ``init``, ``power --effect/--standardized-effect`` and ``power-grid``."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from coaching_trials.cli import main

SAMPLE = resources.files("coaching_trials") / "data" / "sample"


def test_init_writes_a_plan_that_analyze_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from coaching_trials.pipeline import load_config

    plan = tmp_path / "study" / "plan.toml"
    with resources.as_file(SAMPLE / "responses.csv") as data:
        assert main(["init", str(data), "--out", str(plan)]) == 0
    printed = capsys.readouterr().out
    assert f"Wrote {plan}" in printed
    # every guess is said, with the reason
    assert 'subject = "participant_id"' in printed and "guessed from the column name" in printed
    assert 'id = "pfi"' in printed and "16 of 16 items found" in printed
    config = load_config(plan)
    assert config["design"]["baseline_wave"] == "baseline"
    assert config["design"]["immediate"] == "immediate"
    assert [i["id"] for i in config["instruments"]][0] == "pfi"


def test_init_without_a_file_runs_the_example_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.toml"
    assert main(["init", "--out", str(plan)]) == 0
    first = plan.read_text()
    assert 'example = "delayed_intervention"' in first
    plan.write_text("# my edits\n")
    assert main(["init", "--out", str(plan)]) == 2
    assert "exists; use --force" in capsys.readouterr().err
    assert plan.read_text() == "# my edits\n"
    assert main(["init", "--out", str(plan), "--force"]) == 0
    assert plan.read_text() == first


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["init", "nope.csv"], "DATAFILE nope.csv: file not found"),
        (["init", "--out", "plan.txt"], "name it *.toml"),
        (["power-grid"], "give a plan and an output folder"),
        (["power-grid", "missing.toml", "--out", "x"], "plan file not found"),
    ],
)
def test_planning_refusals(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_power_standardized_effect_is_in_baseline_sds(capsys: pytest.CaptureFixture[str]) -> None:
    from coaching_trials.simulate.power import power

    argv = ["power", "--n-per-arm", "30", "--standardized-effect", "-0.5", "--n-sims", "40",
            "--seed", "3"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    res = power(n_immediate=30, n_delayed=30, standardized_effect=-0.5, n_sims=40, seed=3)
    assert res.standardized_effect == pytest.approx(-0.5)
    assert f"power {res.power:.3f} " in printed
    assert f"true difference simulated {res.true_effect:.3f} points (-0.500 SD)" in printed


def test_power_grid_command_writes_table_curve_and_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from coaching_trials.simulate.grid import power_grid

    plan = tmp_path / "plan.toml"
    assert main(["power-grid", "--example"]) == 0
    example = capsys.readouterr().out
    assert "[grid]" in example and "n_per_arm" in example
    plan.write_text(
        '[design]\noutcome = "pfi_burnout"\n[grid]\nn_per_arm = [20, 40]\n'
        'standardized_effect = 0.5\nanalysis = ["ancova"]\n[simulation]\nn_sims = 60\nseed = 9\n'
    )
    out = tmp_path / "grid"
    assert main(["power-grid", str(plan), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Power grid: 2 cells, 60 simulated trials each" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json", "power_curve.png", "power_grid.csv", "power_grid.parquet"
    ]  # fmt: skip
    table = pd.read_csv(out / "power_grid.csv")
    direct = power_grid(n_per_arm=[20, 40], standardized_effect=0.5, analysis=["ancova"],
                        outcome="pfi_burnout", n_sims=60, seed=9).to_frame()  # fmt: skip
    assert table["power"].tolist() == pytest.approx(direct["power"].tolist())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest  # written and valid JSON
    # two worker processes give the same table
    out2 = tmp_path / "grid2"
    assert main(["power-grid", str(plan), "--out", str(out2), "--workers", "2"]) == 0
    assert (out2 / "power_grid.csv").read_bytes() == (out / "power_grid.csv").read_bytes()
