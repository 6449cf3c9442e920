"""Output folders are written atomically: never a mix of two runs, never a stale file."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coaching_trials._outdir import OutputFolderError
from coaching_trials.pipeline import run_analysis

PLAN = """
[data]
example = "delayed_intervention"
[[instruments]]
id = "pfi"
[analysis]
outcomes = ["pfi_burnout", "pfi_pf"]
reliability = {reliability}
n_boot = 20
[report]
figures = {figures}
html = {html}
"""


def _plan(folder: Path, *, figures: bool = True, html: bool = True, reliability: bool = True):
    path = folder / "plan.toml"
    path.write_text(
        PLAN.format(
            figures=str(figures).lower(),
            html=str(html).lower(),
            reliability=str(reliability).lower(),
        ),
        encoding="utf-8",
    )
    return path


def _complete(folder: Path) -> bool:
    """A folder of one whole run: every file of its manifest, with its hash, and nothing else."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    listed = set(manifest["outputs"])
    on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} - {
        "manifest.json"
    }
    if listed != on_disk:
        return False
    return all(
        hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
        for name, digest in manifest["outputs"].items()
    )


def test_a_rerun_with_fewer_sections_leaves_no_stale_file(tmp_path):
    out = tmp_path / "out"
    first = run_analysis(_plan(tmp_path), out=out)
    assert (out / "release" / "report.html").exists()
    assert any(name.startswith("release/figures/") for name in first.paths)
    second = run_analysis(_plan(tmp_path, figures=False, html=False, reliability=False), out=out)
    assert not (out / "release" / "report.html").exists()
    assert not (out / "release" / "figures").exists()
    assert not (out / "analyst" / "reliability.csv").exists()
    assert _complete(out) and set(second.paths) - {"manifest.json"} == set(
        json.loads((out / "manifest.json").read_text())["outputs"]
    )
    assert not list(tmp_path.glob(".out.*"))  # no temporary folder left beside it


def test_a_folder_this_tool_did_not_write_is_refused(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(OutputFolderError, match="did not write"):
        run_analysis(_plan(tmp_path, figures=False, html=False), out=out)
    assert (out / "thesis.docx").read_text(encoding="utf-8") == "precious"
    run_analysis(_plan(tmp_path, figures=False, html=False), out=out, force=True)
    assert not (out / "thesis.docx").exists() and _complete(out)


def test_an_identifier_error_writes_nothing(tmp_path):
    import coaching_trials as ct

    ex = ct.load_example("delayed_intervention")
    part = ex.participants.assign(
        email=[f"dr{i}@hospital.org" for i in range(len(ex.participants))]
    )
    ex.responses.to_csv(tmp_path / "r.csv", index=False)
    part.to_csv(tmp_path / "p.csv", index=False)
    plan = {
        "data": {"responses": "r.csv", "participants": "p.csv"},
        "design": {
            "immediate": "immediate",
            "delayed": "delayed",
            "baseline_wave": "baseline",
            "endpoint_wave": "month3",
            "followup_waves": ["month6"],
        },
        "instruments": [{"id": "pfi"}],
        "analysis": {"outcomes": ["pfi_burnout"], "reliability": False},
    }
    with pytest.raises(ct.DataValidationError, match="email"):
        run_analysis(plan, out=tmp_path / "out", base_dir=tmp_path)
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.*"))


@pytest.mark.parametrize("delay", [0.8, 2.5, 4.0, 6.0])
def test_a_run_killed_at_any_point_never_leaves_a_half_folder(tmp_path, delay):
    plan = _plan(tmp_path)
    out = tmp_path / "out"
    run_analysis(plan, out=out)  # a complete earlier run
    before = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "coaching_trials", "analyze", str(plan), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    if out.exists():
        assert _complete(out)  # the old run or the new one, whole
        after = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert after["outputs"] == before["outputs"]  # same config: the same bytes either way
    # the next run cleans up whatever the killed one left beside the folder
    run_analysis(plan, out=out)
    assert _complete(out) and not list(tmp_path.glob(".out.*"))


def test_force_never_deletes_the_inputs_the_config_or_the_current_folder(tmp_path, monkeypatch):
    import coaching_trials as ct

    ex = ct.load_example("delayed_intervention")
    ex.responses.to_csv(tmp_path / "waves.csv", index=False)
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[data]\nresponses = "waves.csv"\n[design]\nimmediate = "immediate"\n'
        'delayed = "delayed"\nbaseline_wave = "baseline"\nendpoint_wave = "month3"\n'
        '[[instruments]]\nid = "pfi"\n[analysis]\nreliability = false\n'
        "[report]\nfigures = false\nhtml = false\n",
        encoding="utf-8",
    )
    with pytest.raises(OutputFolderError, match="own input or config"):
        run_analysis(plan, out=tmp_path, force=True)
    monkeypatch.chdir(tmp_path / "..")
    with pytest.raises(OutputFolderError, match="current folder"):
        run_analysis(plan, out=tmp_path.parent, force=True)
    assert (tmp_path / "waves.csv").exists() and plan.exists()
