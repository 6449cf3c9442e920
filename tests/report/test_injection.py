"""Script and formula payloads in every user-supplied label appear as text.

Labels a user controls reach the report (arms, waves, outcome columns, category levels, column
names, the title) and the CSV/Excel files. The report is checked in a real browser (headless
Chromium and ChromeDriver from Debian's packages, installed by ``.ci/run``); the files are read
back (openpyxl must see strings, never formulas).
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from browser_helpers import chromium

import coaching_trials as ct
from coaching_trials.pipeline import run_analysis, write_table
from coaching_trials.report import build_report, export_table

SCRIPT = "<script>window.pwned=1;document.title='pwned'</script>"
IMG = '<img src=x onerror="window.pwned=2">'
HOVER = '"><b onmouseover="window.pwned=3">x</b>'
FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3+cmd", "@SUM(1,1)"]


def _payload_trial():
    ex = ct.load_example("delayed_intervention")
    arms = {"immediate": f"imm{SCRIPT}", "delayed": f"dly{IMG}"}
    waves = {"baseline": f"base{HOVER}", "month3": "m3<i>", "month6": "m6&amp;"}
    outcome = f"burn{SCRIPT}"
    resp = ct.score(ex.responses, "pfi").rename(columns={"pfi_burnout": outcome})
    resp["arm"] = resp["arm"].map(arms)
    resp["wave"] = resp["wave"].map(waves)
    part = ex.participants.copy()
    part["arm"] = part["arm"].map(arms)
    for col in ("withdrawn_before", "last_wave"):
        part[col] = part[col].map(waves)
    part["gender"] = part["gender"].replace({"female": f"f{IMG}"})
    part[f"dept{SCRIPT}"] = ["a" if i % 2 else "b" for i in range(len(part))]
    design = dict(
        immediate=arms["immediate"],
        delayed=arms["delayed"],
        baseline_wave=waves["baseline"],
        endpoint_wave=waves["month3"],
        followup_waves=(waves["month6"],),
    )
    trial = ct.DelayedInterventionTrial(resp, participants=part, **design)
    return trial, outcome, [arms["immediate"], arms["delayed"], waves["baseline"], outcome]


@pytest.fixture(scope="module")
def payload_report(tmp_path_factory):
    trial, outcome, labels = _payload_trial()
    out = tmp_path_factory.mktemp("inj") / "report.html"
    title = f"Report {SCRIPT}{IMG}"
    rep = build_report(
        trial,
        outcomes=[outcome, "pfi_pf"],
        primary=outcome,
        out=out,
        title=title,
        figures=False,
    )
    return rep, title, labels


def test_payloads_are_escaped_in_the_html_source(payload_report):
    rep, title, labels = payload_report
    text = rep.path.read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert "<img src=x" not in text and "<b onmouseover" not in text
    assert "&lt;script&gt;" in text


def test_payloads_show_as_text_in_a_real_browser(payload_report):
    rep, title, labels = payload_report
    browser = chromium()
    try:
        browser.get(rep.path.as_uri())
        assert browser.execute_script("return document.scripts.length") == 0
        assert browser.execute_script("return window.pwned === undefined")
        assert (
            browser.execute_script(
                "return document.querySelectorAll('[onerror],[onmouseover],[onload]').length"
            )
            == 0
        )
        assert browser.title == title  # the title tag holds the text, not markup
        body = browser.execute_script("return document.body.innerText")
        for label in labels:
            assert label in body, label
        assert f"Dept{SCRIPT}" in body and f"f{IMG}" in body
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        browser.quit()


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".xlsx"])
def test_write_table_neutralises_formulas(tmp_path, suffix):
    frame = pd.DataFrame({"label": FORMULAS, "value": [1.0, -2.0, 3.0, 4.0]})
    frame[FORMULAS[0]] = "x"  # a column name too
    path = write_table(frame, tmp_path / f"t{suffix}")
    _assert_no_formula(path, n_expected=len(FORMULAS) + 1)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_table_neutralises_formulas(tmp_path, suffix):
    frame = pd.DataFrame({"label": FORMULAS, "estimate": [-0.25, 0.5, 1.0, 2.0]})
    path = export_table(frame, tmp_path / f"t{suffix}")
    _assert_no_formula(path, n_expected=len(FORMULAS))


def _cells(path: Path) -> list:
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path)
        cells = [c for row in book.active.iter_rows() for c in row]
        assert all(c.data_type != "f" for c in cells)  # no formula cell at all
        return [c.value for c in cells]
    sep = "\t" if path.suffix == ".tsv" else ","
    frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, header=None)
    return frame.to_numpy().ravel().tolist()


def _assert_no_formula(path: Path, n_expected: int) -> None:
    values = _cells(path)
    strings = [v for v in values if isinstance(v, str)]
    for v in strings:
        if v.startswith(("=", "+", "@")) or (v.startswith("-") and not _is_number(v)):
            pytest.fail(f"{path.name}: a cell a spreadsheet would run: {v!r}")
    assert sum(v.startswith("'") for v in strings) >= n_expected
    assert "-2.0" in strings or -2.0 in values or "-0.25" in strings or -0.25 in values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_pipeline_files_hold_no_formula(tmp_path):
    ex = ct.load_example("delayed_intervention")
    arms = {"immediate": FORMULAS[0], "delayed": FORMULAS[3]}
    resp = ex.responses.assign(arm=ex.responses["arm"].map(arms))
    part = ex.participants.assign(arm=ex.participants["arm"].map(arms))
    resp.to_csv(tmp_path / "r.csv", index=False)
    part.to_csv(tmp_path / "p.csv", index=False)
    plan = {
        "data": {"responses": "r.csv", "participants": "p.csv"},
        "design": {
            "immediate": arms["immediate"],
            "delayed": arms["delayed"],
            "baseline_wave": "baseline",
            "endpoint_wave": "month3",
            "followup_waves": ["month6"],
        },
        "instruments": [{"id": "pfi"}],
        "analysis": {"outcomes": ["pfi_burnout"], "reliability": False},
        "report": {"figures": False},
    }
    run = run_analysis(plan, out=tmp_path / "out", base_dir=tmp_path)
    csvs = [p for p in run.paths.values() if p.suffix == ".csv"]
    assert any("release/" in str(p) for p in csvs) and any("analyst/" in str(p) for p in csvs)
    for path in csvs:
        for v in _cells(path):
            if isinstance(v, str) and v.startswith(("=", "+", "@")):
                pytest.fail(f"{path}: formula cell {v!r}")
    released = pd.read_csv(run.out / "release" / "tables" / "effects.csv", dtype=str)
    assert json.dumps(released["contrast"].iloc[0]).startswith("\"'=HYPERLINK")
