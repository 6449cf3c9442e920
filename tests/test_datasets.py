"""Tests for coaching_trials.datasets and the shipped synthetic sample."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials.datasets import ExampleData, list_examples, load_example
from coaching_trials.simulate.trial import simulate_trial

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "src" / "coaching_trials" / "data" / "sample"


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "make_sample_data", ROOT / "scripts" / "make_sample_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example() -> ExampleData:
    return load_example("delayed_intervention")


@pytest.mark.parametrize("filename", ["responses.csv", "participants.csv"])
def test_shipped_csv_matches_generator(filename: str) -> None:
    """Regenerating from the seed reproduces the shipped files byte for byte."""
    tables = _load_script().build_tables()
    shipped = (SAMPLE / filename).read_bytes().decode("utf-8")
    assert tables[filename] == shipped


def test_script_writes_the_same_files(tmp_path: Path) -> None:
    assert _load_script().main(["--out", str(tmp_path)]) == 0
    for name in ("responses.csv", "participants.csv"):
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes()


def test_loaded_frames_equal_simulation(example: ExampleData) -> None:
    """Loading the CSVs round-trips the simulated frames, dtypes included."""
    sim = simulate_trial(n_immediate=67, n_delayed=71, seed=2024)
    pd.testing.assert_frame_equal(example.responses, sim.responses)
    pd.testing.assert_frame_equal(example.participants, sim.participants)


def test_example_shape(example: ExampleData) -> None:
    assert len(example.participants) == 138
    assert example.participants["arm"].value_counts().to_dict() == {
        "delayed": 71,
        "immediate": 67,
    }
    wave = example.responses["wave"]
    assert isinstance(wave.dtype, pd.CategoricalDtype) and wave.cat.ordered
    assert wave.cat.categories.tolist() == ["baseline", "month3", "month6"]
    assert example.responses["pfi_01"].dtype == "float64"
    assert example.responses.iloc[:, 4:].isna().any().any()
    assert set(example.responses["participant_id"]) == set(example.participants["participant_id"])


def test_description_and_readme_say_synthetic(example: ExampleData) -> None:
    assert "SYNTHETIC" in example.description
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme
    for column in [*example.responses.columns[:4], *example.participants.columns]:
        assert f"`{column}`" in readme, column


def test_design_names_columns_and_waves(example: ExampleData) -> None:
    d = example.design
    for key in ("subject", "arm", "wave"):
        assert d[key] in example.responses.columns
    waves = example.responses["wave"].cat.categories
    assert d["baseline_wave"] in waves and d["endpoint_wave"] in waves
    assert set(d["followup_waves"]) <= set(waves)
    assert {d["immediate"], d["delayed"]} == set(example.responses["arm"])


def test_each_call_returns_fresh_frames() -> None:
    first = load_example()
    first.responses.loc[0, "pfi_01"] = 99.0
    assert load_example().responses.loc[0, "pfi_01"] != 99.0


def test_example_is_frozen(example: ExampleData) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.description = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        example.design["arm"] = "x"  # type: ignore[index]


@pytest.mark.parametrize("name", ["delayed", "", "DELAYED_INTERVENTION", 3])
def test_unknown_name_lists_the_names(name: object) -> None:
    with pytest.raises(ValueError, match="delayed_intervention"):
        load_example(name)  # type: ignore[arg-type]


def test_public_export() -> None:
    assert ct.load_example is load_example
    assert list_examples() == ["delayed_intervention"]
    assert "participants" in repr(load_example())
