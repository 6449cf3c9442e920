"""coaching_trials.starter: a commented starter plan guessed from a data file."""

from __future__ import annotations

import pytest

import coaching_trials as ct
from coaching_trials.pipeline import load_config
from coaching_trials.starter import starter_plan


def test_without_a_file_the_plan_runs_the_example():
    plan = starter_plan()
    cfg = load_config(__import__("tomllib").loads(plan))
    assert cfg["data"]["example"] == "delayed_intervention"
    assert cfg["report"]["policy"] == "suppress"


def test_guesses_from_a_renamed_export(tmp_path):
    ex = ct.load_example("delayed_intervention")
    resp = ex.responses.rename(
        columns={"participant_id": "record_id", "arm": "group", "wave": "timepoint"}
    )
    resp["group"] = resp["group"].map({"immediate": "Coaching", "delayed": "Waitlist"})
    resp.to_csv(tmp_path / "waves.csv", index=False)
    text = starter_plan(tmp_path / "waves.csv")
    (tmp_path / "plan.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "plan.toml")  # the guesses hold: the plan loads as written
    assert cfg["data"]["columns"] == {"subject": "record_id", "arm": "group", "wave": "timepoint"}
    assert (cfg["design"]["immediate"], cfg["design"]["delayed"]) == ("Coaching", "Waitlist")
    assert cfg["design"]["followup_waves"] == ["month6"]
    ids = [i["id"] for i in cfg["instruments"]]
    assert ids[0] == "pfi" and set(ids) == {"pfi", "svs", "uwes9", "qol", "iwpr"}
    assert cfg["analysis"]["primary"] == "pfi_pf"  # the first score of the PFI
    assert "guessed from the column name" in text


def test_failed_guesses_are_said(tmp_path):
    ex = ct.load_example("delayed_intervention")
    resp = ex.responses.rename(columns={"arm": "cohort_label", "wave": "when"})
    resp = resp.rename(columns={f"pfi_{i:02d}": f"pfi_{i}" for i in range(1, 17)})
    resp.to_csv(tmp_path / "w.csv", index=False)
    text = starter_plan(tmp_path / "w.csv")
    assert 'arm = "?"   # GUESS FAILED' in text and 'wave = "?"   # GUESS FAILED' in text
    assert "'pfi_{n}'" in text  # items numbered without zero padding


def test_unreadable_file_is_an_error(tmp_path):
    with pytest.raises((ct.DataValidationError, FileNotFoundError, ValueError)):
        starter_plan(tmp_path / "absent.csv")
