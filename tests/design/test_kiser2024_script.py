"""analyses/kiser2024/run.py: the plan end to end, deterministic, on sample and user data."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct

SCRIPT_DIR = Path(__file__).resolve().parents[2] / "analyses" / "kiser2024"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("kiser2024_run", SCRIPT_DIR / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sample_run(script, tmp_path_factory):
    out = tmp_path_factory.mktemp("kiser")
    tables = script.run(SCRIPT_DIR / "config.toml", out, quiet=True)
    return out, tables


def _sample_trial():
    ex = ct.load_example("delayed_intervention")
    scored = ex.responses
    for inst, metric in {
        "pfi": "0-10",
        "svs": "sum",
        "uwes9": "mean",
        "qol": "raw",
        "iwpr": "raw",
    }.items():
        scored = ct.score(scored, inst, metric=metric)
    return ct.DelayedInterventionTrial(
        scored,
        participants=ex.participants,
        immediate="immediate",
        delayed="delayed",
        baseline_wave="baseline",
        endpoint_wave="month3",
        followup_waves=("month6",),
    )


def test_side_by_side_reports_published_and_this_run(sample_run):
    out, tables = sample_run
    sbs = pd.read_csv(out / "side_by_side.csv")
    assert list(sbs.columns) == list(tables["side_by_side"].columns)
    burnout = sbs[sbs["outcome"] == "pfi_burnout"].set_index("quantity")
    diff = burnout.loc[burnout.index.str.startswith("difference")].iloc[0]
    # published figure from Kiser 2024 (JAMA Netw Open 2024, PMC11015346): -0.79 (-1.27 to -0.32)
    assert (diff["published_value"], diff["published_conf_low"], diff["published_conf_high"]) == (
        -0.79,
        -1.27,
        -0.32,
    )
    assert "PMC11015346" in diff["published_source"]
    assert diff["estimator"].startswith("ANCOVA")
    assert diff["percent_change_definition"] == "arm means, paired complete cases"
    assert diff["metric"] == "0-10"
    # this run's figure is the trial's own randomized comparison of the scored sample
    ref = _sample_trial().compare("pfi_burnout").to_frame().iloc[0]
    assert diff["this_run_value"] == pytest.approx(ref["estimate"], rel=1e-5)
    assert diff["this_run_conf_low"] == pytest.approx(ref["conf_low"], rel=1e-5)
    coach = burnout.loc[burnout.index.str.contains("coaching arm")].iloc[0]
    assert coach["published_value"] == -21.6
    assert set(sbs["outcome"]) == {
        "pfi_burnout",
        "pfi_id",
        "pfi_pf",
        "uwes9_total",
        "svs_total",
        "iwpr_score",
        "qol_score",
    }
    sv = sbs[sbs["outcome"] == "svs_total"]
    assert sv["published_value"].isna().all()
    assert "not statistically significant" in sv["published_text"].tolist()


def test_all_tables_and_manifest_written(sample_run):
    out, tables = sample_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted(f"{k}.csv" for k in tables)
    for name in manifest["files"]:
        assert (out / name).stat().st_size > 0
    eff = pd.read_csv(out / "effects.csv")
    assert list(eff.columns) == list(ct.EFFECT_COLUMNS)
    assert (
        eff.loc[0, "outcome"] == "pfi_burnout" and eff.loc[0, "p_adjusted"] == eff.loc[0, "p_value"]
    )
    nonrand = pd.read_csv(out / "nonrandomized.csv")
    assert nonrand["estimand"].str.startswith("non-randomized").all()


def test_run_is_deterministic(script, sample_run, tmp_path):
    out, tables = sample_run
    script.run(SCRIPT_DIR / "config.toml", tmp_path, quiet=True)
    for name in [f"{k}.csv" for k in tables] + ["manifest.json"]:
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_user_data_with_column_mapping(script, sample_run, tmp_path):
    """A team's own export with other column names runs through [columns] and [columns.rename]."""
    ex = ct.load_example("delayed_intervention")
    items = {f"pfi_{i:02d}": f"Q{i}" for i in range(1, 17)}
    resp = ex.responses.rename(
        columns={"participant_id": "id", "arm": "group", "wave": "time", **items}
    )
    resp["group"] = resp["group"].map({"immediate": "coaching", "delayed": "waitlist"})
    resp = resp[["id", "group", "time", *items.values()]]
    resp.to_csv(tmp_path / "mine.csv", index=False)
    config = (SCRIPT_DIR / "config.toml").read_text()
    config = config.replace('subject = "participant_id"', 'subject = "id"')
    config = config.replace('arm = "arm"', 'arm = "group"').replace(
        'wave = "wave"', 'wave = "time"'
    )
    config = config.replace('immediate = "immediate"', 'immediate = "coaching"')
    config = config.replace('delayed = "delayed"', 'delayed = "waitlist"')
    rename = "\n".join(f'"{v}" = "{k}"' for k, v in items.items())
    config = config.replace("[columns.rename]\n", f"[columns.rename]\n{rename}\n")
    config = config.replace('responses = ""', 'responses = "mine.csv"')
    start, end = config.index("\n[scoring]\n"), config.index("\n[analysis]\n")
    config = config[:start] + '\n[scoring]\npfi = "0-10"\n' + config[end:]
    config = config.replace(
        'secondary = ["pfi_pf", "pfi_id", "iwpr_score", "qol_score", "uwes9_total", "svs_total"]',
        'secondary = ["pfi_pf", "pfi_id"]',
    )
    (tmp_path / "mine.toml").write_text(config)
    tables = script.run(tmp_path / "mine.toml", tmp_path / "out", quiet=True)
    mine = tables["effects"].set_index("outcome")
    assert mine.loc["pfi_burnout", "contrast"] == "coaching - waitlist"
    # same numbers as the sample run (participants table absent: arms come from the responses)
    sample = pd.read_csv(sample_run[0] / "effects.csv").set_index("outcome")
    for outcome in ("pfi_burnout", "pfi_pf", "pfi_id"):
        np.testing.assert_allclose(
            mine.loc[outcome, ["estimate", "std_error", "p_value"]].to_numpy(float),
            sample.loc[outcome, ["estimate", "std_error", "p_value"]].to_numpy(float),
            rtol=1e-5,
        )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert len(manifest["inputs"]["responses"]["sha256"]) == 64
