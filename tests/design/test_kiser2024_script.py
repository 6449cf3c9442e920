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
    out = tmp_path_factory.mktemp("kiser") / "out"
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


def test_the_plan_is_an_ordinary_analyze_config_with_no_outside_path():
    from coaching_trials.pipeline import load_config

    cfg = load_config(SCRIPT_DIR / "config.toml")  # the analyze schema accepts it as it is
    assert cfg["analysis"]["method"] == "change" and cfg["data"]["example"]
    text = (SCRIPT_DIR / "config.toml").read_text() + (SCRIPT_DIR / "run.py").read_text()
    assert "/work/" not in text and "shared/" not in text


def test_side_by_side_reports_published_and_this_run(sample_run):
    out, tables = sample_run
    sbs = pd.read_csv(out / "side_by_side.csv")
    assert list(sbs.columns) == list(tables["side_by_side"].columns)
    assert sbs["data"].str.startswith("SYNTHETIC").all()  # every row says so
    burnout = sbs[sbs["outcome"] == "pfi_burnout"]
    diffs = burnout[burnout["quantity"].str.startswith("difference")].set_index("estimator")
    assert len(diffs) == 2
    main = diffs.loc[diffs.index.str.startswith("difference in mean change")].iloc[0]
    sens = diffs.loc[diffs.index.str.startswith("ANCOVA")].iloc[0]
    assert "sensitivity" in diffs.index[diffs.index.str.startswith("ANCOVA")][0]
    # published figure from Kiser 2024 (JAMA Netw Open 2024, PMC11015346): -0.79 (-1.27 to -0.32)
    assert (main["published_value"], main["published_conf_low"], main["published_conf_high"]) == (
        -0.79,
        -1.27,
        -0.32,
    )
    assert "PMC11015346" in main["published_source"]
    assert main["metric"] == "0-10"
    # this run's figures are the trial's own comparisons of the scored sample
    trial = _sample_trial()
    change = trial.compare("pfi_burnout", method="change").to_frame().iloc[0]
    ancova = trial.compare("pfi_burnout", method="ancova").to_frame().iloc[0]
    assert main["this_run_value"] == pytest.approx(change["estimate"], rel=1e-5)
    assert main["this_run_conf_low"] == pytest.approx(change["conf_low"], rel=1e-5)
    assert sens["this_run_value"] == pytest.approx(ancova["estimate"], rel=1e-5)
    coach = burnout[burnout["quantity"].str.contains("coaching arm")].iloc[0]
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


def test_the_analysis_folders_are_ordinary_runs(sample_run):
    out, tables = sample_run
    for folder in ("analysis", "sensitivity_ancova"):
        manifest = json.loads((out / folder / "manifest.json").read_text())
        for name in manifest["outputs"]:
            assert (out / folder / name).stat().st_size > 0
    eff = pd.read_csv(out / "analysis" / "analyst" / "effects.csv")
    assert list(eff.columns) == list(ct.EFFECT_COLUMNS)
    assert (eff["analysis"] == "change_score").all()
    assert eff.loc[0, "outcome"] == "pfi_burnout"
    assert eff.loc[0, "p_adjusted"] == eff.loc[0, "p_value"]
    report = (out / "analysis" / "release" / "report.html").read_text(encoding="utf-8")
    assert "Synthetic data" in report
    nonrand = pd.read_csv(out / "analysis" / "analyst" / "nonrandomized.csv")
    assert nonrand["estimand"].str.startswith("non-randomized").all()


def test_run_is_deterministic(script, sample_run, tmp_path):
    out, _ = sample_run
    script.run(SCRIPT_DIR / "config.toml", tmp_path / "again", quiet=True)
    assert (tmp_path / "again" / "side_by_side.csv").read_bytes() == (
        out / "side_by_side.csv"
    ).read_bytes()
    for folder in ("analysis", "sensitivity_ancova"):
        a = json.loads((out / folder / "manifest.json").read_text())["outputs"]
        b = json.loads((tmp_path / "again" / folder / "manifest.json").read_text())["outputs"]
        assert a == b


def test_user_data_with_column_mapping(script, sample_run, tmp_path):
    """A team's own export with other column names runs through [data.columns] and
    [data.rename], and its outputs no longer say SYNTHETIC."""
    ex = ct.load_example("delayed_intervention")
    items = {f"pfi_{i:02d}": f"Q{i}" for i in range(1, 17)}
    resp = ex.responses.rename(
        columns={"participant_id": "id", "arm": "group", "wave": "time", **items}
    )
    resp["group"] = resp["group"].map({"immediate": "coaching", "delayed": "waitlist"})
    resp = resp[["id", "group", "time", *items.values()]]
    resp.to_csv(tmp_path / "mine.csv", index=False)
    config = (SCRIPT_DIR / "config.toml").read_text()
    config = config.replace('example = "delayed_intervention"', 'responses = "mine.csv"')
    config = config.replace('subject = "participant_id"', 'subject = "id"')
    config = config.replace('arm = "arm"', 'arm = "group"').replace(
        'wave = "wave"', 'wave = "time"'
    )
    config = config.replace('immediate = "immediate"', 'immediate = "coaching"')
    config = config.replace('delayed = "delayed"', 'delayed = "waitlist"')
    rename = "\n".join(f'"{v}" = "{k}"' for k, v in items.items())
    head, tail = config.split("\n[data.rename]", 1)
    config = head + f"\n[data.rename]\n{rename}\n" + tail.split("\n", 1)[1]
    start, end = config.index("[[instruments]]"), config.index("\n[analysis]\n")
    config = config[:start] + '[[instruments]]\nid = "pfi"\nmetric = "0-10"\n' + config[end:]
    config = config.replace(
        'outcomes = ["pfi_burnout", "pfi_pf", "pfi_id", "iwpr_score", "qol_score", '
        '"uwes9_total", "svs_total"]',
        'outcomes = ["pfi_burnout", "pfi_pf", "pfi_id"]',
    )
    (tmp_path / "mine.toml").write_text(config)
    tables = script.run(tmp_path / "mine.toml", tmp_path / "out", quiet=True)
    assert not tables["side_by_side"]["data"].str.contains("SYNTHETIC").any()
    mine = tables["effects"].set_index("outcome")
    assert mine.loc["pfi_burnout", "contrast"] == "coaching - waitlist"
    # same numbers as the sample run (participants table absent: arms come from the responses)
    sample = sample_run[1]["effects"].set_index("outcome")
    for outcome in ("pfi_burnout", "pfi_pf", "pfi_id"):
        np.testing.assert_allclose(
            mine.loc[outcome, ["estimate", "std_error", "p_value"]].to_numpy(float),
            sample.loc[outcome, ["estimate", "std_error", "p_value"]].to_numpy(float),
            rtol=1e-5,
        )
