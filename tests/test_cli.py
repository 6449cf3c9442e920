"""Tests for the command line (coaching_trials.cli.main)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coaching_trials.cli import COMMANDS, build_parser, main, summarize_scores
from coaching_trials.datasets import load_example
from coaching_trials.instruments.registry import list_instruments

PFI_BURNOUT_ITEMS = [f"pfi_{j:02d}" for j in range(7, 17)]
DEMO_FILES = tuple(
    f"analyst/{name}"
    for name in (
        "scores.csv",
        "summary.csv",
        "reliability.csv",
        "flow.csv",
        "baseline_table.csv",
        "effects.csv",
        "descriptives.csv",
        "standardized.csv",
        "nonrandomized.csv",
        "audit.csv",
        "disclosure_log.csv",
    )
)


@pytest.fixture(scope="module")
def demo_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """Run the demo twice (two directories) and keep the printed output of the first run.

    Few bootstrap resamples keep the test fast; determinism does not depend on their number.
    """
    import contextlib
    import io

    first, second = tmp_path_factory.mktemp("demo1"), tmp_path_factory.mktemp("demo2")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["demo", "--out", str(first), "--n-boot", "50"]) == 0
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo", "--out", str(second), "--n-boot", "50"]) == 0
    return first, second, buffer.getvalue()


@pytest.fixture()
def responses_csv(tmp_path: Path) -> Path:
    path = tmp_path / "responses.csv"
    load_example().responses.to_csv(path, index=False)
    return path


# --- dispatch ---------------------------------------------------------------------------------


def test_commands_are_registered_once() -> None:
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names))
    assert {"demo", "analyze", "power", "instruments", "score", "validate"} <= set(names)
    help_text = build_parser().format_help()
    for name in names:
        assert name in help_text


def test_no_command_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: coaching-trials" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert "coaching-trials" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["nonsense"],
        ["score", "x.csv", "--instrument", "pfi"],  # --out missing
        ["score", "x.csv", "--out", "y.csv"],  # --instrument missing
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


# --- instruments ----------------------------------------------------------------------------


def test_instruments_lists_every_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["instruments"]) == 0
    out = capsys.readouterr().out
    for iid in list_instruments()["id"]:
        assert iid in out
    assert "licence" not in out.splitlines()[0]


def test_instruments_licence_column(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["instruments", "--licence"]) == 0
    assert "licence" in capsys.readouterr().out.splitlines()[0]


# --- score -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("metric", "factor"), [(None, 1.0), ("mean", 1.0), ("0-10", 2.5)])
def test_score_writes_pfi_burnout(
    responses_csv: Path, tmp_path: Path, metric: str | None, factor: float
) -> None:
    out = tmp_path / "scored.csv"
    argv = ["score", str(responses_csv), "--instrument", "pfi", "--out", str(out)]
    if metric is not None:
        argv += ["--metric", metric]
    assert main(argv) == 0
    scored = pd.read_csv(out)
    source = pd.read_csv(responses_csv)
    complete = source[PFI_BURNOUT_ITEMS].notna().all(axis=1)
    assert complete.sum() > 300
    expected = source.loc[complete, PFI_BURNOUT_ITEMS].mean(axis=1) * factor
    np.testing.assert_allclose(scored.loc[complete, "pfi_burnout"], expected, atol=1e-6)
    # the input columns are kept, in order, and rows are not reordered
    assert scored.columns[: len(source.columns)].tolist() == source.columns.tolist()
    assert scored["participant_id"].tolist() == source["participant_id"].tolist()


def test_score_several_instruments(responses_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "scored.csv"
    argv = ["score", str(responses_csv), "--instrument", "pfi", "--instrument", "svs"]
    assert main([*argv, "--out", str(out)]) == 0
    scored = pd.read_csv(out)
    assert {"pfi_burnout", "svs_total"} <= set(scored.columns)


def test_score_is_deterministic(responses_csv: Path, tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        argv = ["score", str(responses_csv), "--instrument", "uwes9", "--out", str(tmp_path / name)]
        assert main(argv) == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--instrument", "pfi", "--instrument", "svs", "--metric", "sum"], "--metric"),
        (["--instrument", "not_an_instrument"], "must be one of"),
    ],
)
def test_score_errors(
    responses_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    argv = ["score", str(responses_csv), *extra, "--out", str(tmp_path / "o.csv")]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_missing_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "absent.csv")]) == 2
    assert "file not found" in capsys.readouterr().err


# --- validate ------------------------------------------------------------------------------


def test_validate_clean_file(responses_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(responses_csv)]) == 0
    out = capsys.readouterr().out
    assert "no problems found" in out
    assert "pfi" in out  # instruments detected from the columns


def test_validate_reports_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = load_example().responses
    df.loc[2, "pfi_03"] = 9  # out of range
    df = pd.concat([df, df.iloc[[0]]])  # duplicated participant x wave
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    argv = ["validate", str(path), "--instrument", "pfi", "--arms", "immediate", "delayed"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "pfi_03" in out
    assert "2 problem(s)" in out


# --- demo -----------------------------------------------------------------------------------


def test_demo_writes_files_deterministically(demo_dirs: tuple[Path, Path, str]) -> None:
    first, second, _ = demo_dirs
    for name in DEMO_FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    # everything else too: figures, the report and the manifest itself
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    for name in [*manifest["outputs"], "manifest.json"]:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_demo_manifest_covers_tables_figures_and_report(
    demo_dirs: tuple[Path, Path, str],
) -> None:
    first = demo_dirs[0]
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    outputs = manifest["outputs"]
    assert set(DEMO_FILES) <= set(outputs)
    assert "release/report.html" in outputs
    assert "release/figures/forest.png" in outputs and "release/figures/consort.png" in outputs
    assert "release/figures/trajectory_pfi_burnout.png" in outputs
    assert "release/tables/effects.csv" in outputs and "release/README.md" in outputs
    assert manifest["parts"]["release"] == sorted(n for n in outputs if n.startswith("release/"))
    assert "analyst/scores.csv" in manifest["parts"]["analyst"]
    for name, digest in outputs.items():
        assert hashlib.sha256((first / name).read_bytes()).hexdigest() == digest, name
    assert manifest["config_file"]["name"] == "demo.toml"
    assert manifest["overrides"] == {"analysis.n_boot": 50}
    assert manifest["config"]["analysis"]["n_boot"] == 50
    assert manifest["inputs"]["example"]["name"] == "delayed_intervention"
    assert (
        (first / "release" / "report.html")
        .read_text(encoding="utf-8")
        .lstrip()
        .lower()
        .startswith("<!doctype html")
    )


def test_demo_summary_matches_hand_computation(demo_dirs: tuple[Path, Path, str]) -> None:
    summary = pd.read_csv(demo_dirs[0] / "analyst" / "summary.csv")
    assert summary.columns.tolist() == ["outcome", "wave", "arm", "n", "mean", "sd"]
    responses = load_example().responses
    burnout = responses[PFI_BURNOUT_ITEMS].mean(axis=1)  # every row has >= 5 of 10 items
    groups = burnout.groupby([responses["wave"].astype(str), responses["arm"]])
    row = summary[summary["outcome"] == "pfi_burnout"].set_index(["wave", "arm"])
    for key, values in groups:
        assert row.loc[key, "n"] == values.count()
        assert row.loc[key, "mean"] == pytest.approx(values.mean(), abs=1e-6)
        assert row.loc[key, "sd"] == pytest.approx(values.std(), abs=1e-6)
    baseline = summary[summary["wave"] == "baseline"].groupby("outcome")["n"].sum()
    assert (baseline <= 138).all() and (baseline >= 130).all()
    assert {"pfi_pf", "svs_total", "uwes9_total", "qol_score", "iwpr_score"} <= set(
        summary["outcome"]
    )


def test_demo_scores_and_reliability(demo_dirs: tuple[Path, Path, str]) -> None:
    scores = pd.read_csv(demo_dirs[0] / "analyst" / "scores.csv")
    assert scores.columns[:3].tolist() == ["participant_id", "arm", "wave"]
    assert len(scores) == len(load_example().responses)
    rel = pd.read_csv(demo_dirs[0] / "analyst" / "reliability.csv")
    pfi = rel[(rel["instrument"] == "pfi") & (rel["subscale"] == "burnout")]
    assert sorted(pfi["wave"]) == ["baseline", "month3", "month6"]
    # published PFI burnout alpha is 0.92 (Trockel et al. 2018); the simulator targets it
    assert pfi["alpha"].between(0.85, 0.97).all()


def test_demo_prints_summary(demo_dirs: tuple[Path, Path, str]) -> None:
    printed = demo_dirs[2]
    assert "SD" in printed and "pfi_burnout" in printed and "month3" in printed
    assert "Primary outcome pfi_burnout" in printed and "ANCOVA difference" in printed


def test_demo_runs_the_design_and_matches_the_standalone_ancova(
    demo_dirs: tuple[Path, Path, str],
) -> None:
    from coaching_trials.analysis.ancova import ancova
    from coaching_trials.instruments.scoring import score

    effects = pd.read_csv(demo_dirs[0] / "analyst" / "effects.csv")
    assert effects["outcome"].tolist()[0] == "pfi_burnout"
    primary = effects.iloc[0]
    assert primary["estimand"].startswith("randomized:")
    # primary keeps its raw p; the secondaries are Holm-adjusted (never below their raw p)
    assert primary["p_adjusted"] == pytest.approx(primary["p_value"])
    assert (effects["p_adjusted"] >= effects["p_value"] - 1e-12).all()
    # the same number from the standalone estimator on a hand-built wide frame
    responses = score(load_example().responses, "pfi")
    wide = responses.pivot(index="participant_id", columns="wave", values="pfi_burnout")
    arms = responses.groupby("participant_id")["arm"].first()
    frame = pd.DataFrame({"arm": arms, "base": wide["baseline"], "follow": wide["month3"]}).dropna()
    fit = ancova(frame, outcome="follow", arm="arm", baseline="base", treated="immediate")
    assert primary["estimate"] == pytest.approx(fit.estimate, abs=1e-6)
    assert primary["conf_low"] == pytest.approx(fit.conf_low, abs=1e-6)
    nonrandomized = pd.read_csv(demo_dirs[0] / "analyst" / "nonrandomized.csv")
    assert nonrandomized["estimand"].str.startswith("non-randomized:").all()
    flow = pd.read_csv(demo_dirs[0] / "analyst" / "flow.csv")
    randomized = flow[(flow["stage"] == "randomized") & (flow["arm"] != "overall")]
    assert dict(zip(randomized["arm"], randomized["n"], strict=True)) == {
        "immediate": 67,
        "delayed": 71,
    }


def test_summarize_scores_counts_non_missing() -> None:
    df = pd.DataFrame(
        {"wave": ["b"] * 4, "arm": ["x", "x", "x", "y"], "s": [1.0, np.nan, 3.0, 2.0]}
    )
    table = summarize_scores(df, ["s"])
    assert table["n"].tolist() == [2, 1]
    assert table["mean"].tolist() == [2.0, 2.0]


# --- analyze ----------------------------------------------------------------------------------

ANALYZE_PLAN = """
[data]
example = "delayed_intervention"

[[instruments]]
id = "pfi"

[analysis]
outcomes = ["pfi_pf", "pfi_burnout"]
primary = "pfi_burnout"
method = "change"
reliability = false

[report]
title = "Tables-only plan"
figures = false
html = false
"""


def test_analyze_runs_a_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from coaching_trials.analysis.change import change_score

    plan = tmp_path / "plan.toml"
    plan.write_text(ANALYZE_PLAN, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["analyze", str(plan), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Tables-only plan: mean (SD) by wave and arm:")
    assert "Primary outcome pfi_burnout" in printed and "Difference in mean change" in printed
    assert "manifest.json" in printed
    effects = pd.read_csv(out / "analyst" / "effects.csv")
    assert effects["outcome"].tolist() == ["pfi_burnout", "pfi_pf"]
    assert (effects["analysis"] == "change_score").all()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    on_disk = {
        str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != "manifest.json"
    }
    assert sorted(manifest["outputs"]) == sorted(on_disk)
    assert {n.split("/")[0] for n in on_disk} == {"analyst", "release"}
    # the same number from the standalone estimator on a hand-built wide frame
    responses = pd.read_csv(out / "analyst" / "scores.csv")
    wide = responses.pivot(index="participant_id", columns="wave", values="pfi_burnout")
    arms = responses.groupby("participant_id")["arm"].first()
    frame = pd.DataFrame({"arm": arms, "b": wide["baseline"], "e": wide["month3"]}).dropna()
    fit = change_score(frame, outcome="e", baseline="b", arm="arm", treated="immediate")
    assert effects.loc[0, "estimate"] == pytest.approx(fit.estimate, abs=1e-6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "config file not found"),
        (
            '[data]\nexample = "delayed_intervention"\n[analysis]\nmetod = "x"\n',
            "unknown key `analysis.metod`; allowed keys in [analysis]:",
        ),
        (
            '[data]\nresponses = "absent.csv"\n[design]\nimmediate = "a"\ndelayed = "b"\n'
            'baseline_wave = "w0"\nendpoint_wave = "w1"\n[[instruments]]\nid = "pfi"\n',
            "`data.responses`: file not found:",
        ),
        ("[data\n", "not valid TOML"),
    ],
)
def test_analyze_errors_are_friendly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None, message: str
) -> None:
    plan = tmp_path / "plan.toml"
    if text is not None:
        plan.write_text(text, encoding="utf-8")
    assert main(["analyze", str(plan), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("coaching-trials analyze: error:")
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "out" / "manifest.json").exists()


# --- power ------------------------------------------------------------------------------------


def test_power_prints_power_with_its_monte_carlo_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from coaching_trials.simulate.power import power

    out = tmp_path / "power.csv"
    argv = ["power", "--n-per-arm", "40", "--effect", "-0.3", "--n-sims", "60", "--seed", "5"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    # the same call made directly: a bare --effect is the difference in the outcome's points
    res = power(n_immediate=40, n_delayed=40, effect=-0.3, n_sims=60, seed=5)
    assert res.true_effect == pytest.approx(-0.3)
    assert "coaching effect asked for: -0.3 points on pfi_burnout" in printed
    assert "true difference simulated -0.300 points" in printed
    assert f"power {res.power:.3f} (95% Monte Carlo CI {res.power_conf_low:.3f} to " in printed
    assert "(40 vs 40 randomized)" in printed and "60 simulated trials, seed 5" in printed
    table = pd.read_csv(out)
    assert table.loc[0, "power"] == pytest.approx(res.power)
    assert table.loc[0, "power_conf_low"] == pytest.approx(res.power_conf_low, abs=1e-6)


def test_power_options_reach_the_simulation(capsys: pytest.CaptureFixture[str]) -> None:
    from coaching_trials.simulate.power import power

    argv = ["power", "--n-immediate", "30", "--n-delayed", "35", "--outcome", "pfi_pf",
            "--effect", "pfi_pf=0.5", "--analysis", "change", "--n-sims", "40", "--seed", "2",
            "--dropout", "0.1", "--alternative", "greater", "--conf-level", "0.9"]  # fmt: skip
    assert main(argv) == 0
    res = power(n_immediate=30, n_delayed=35, outcome="pfi_pf", effects={"pfi_pf": 0.5},
                analysis="change", n_sims=40, seed=2, alternative="greater", conf_level=0.9,
                dropout={"immediate": 0.1, "delayed": 0.1})  # fmt: skip
    printed = capsys.readouterr().out
    assert f"power {res.power:.3f} (90% Monte Carlo CI" in printed
    assert f"true difference simulated {res.true_effect:.3f} points" in printed


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--effect", "big"], "--effect must be POINTS or CONSTRUCT=VALUE"),
        (["--effect", "-0.3", "--effect", "pfi_pf=0.2"], "cannot be combined"),
        (["--effect", "-0.3", "--standardized-effect", "0.4"], "not both"),
        (["--effect", "nope=0.2"], "`effects key` must be one of"),
        (["--outcome", "mbi_ee"], "`outcome` must be one of"),
        (["--analysis", "glmm"], "`analysis` must be one of"),
        (["--n-sims", "0"], "`n_sims` must be a positive integer"),
    ],
)
def test_power_errors(capsys: pytest.CaptureFixture[str], extra: list[str], message: str) -> None:
    assert main(["power", "--n-sims", "10", *extra]) == 2
    assert message in capsys.readouterr().err


def test_demo_percent_changes_reconcile_with_the_printed_means(
    demo_dirs: tuple[Path, Path, str],
) -> None:
    """Console and descriptives.csv: the percent change follows from the means beside it."""
    import re

    printed = demo_dirs[2]
    lines = re.findall(
        r"(\d+) with both scores: baseline (\d+\.\d{3}) -> endpoint (\d+\.\d{3}), "
        r"change of means ([+-]\d+\.\d)%",
        printed,
    )
    assert len(lines) == 2
    for _, base, end, pct in lines:
        b, e, p = float(base), float(end), float(pct)
        lo = 100 * ((e - 0.0005) / (b + 0.0005) - 1)
        hi = 100 * ((e + 0.0005) / (b - 0.0005) - 1)
        assert lo - 0.05 <= p <= hi + 0.05
    desc = pd.read_csv(demo_dirs[0] / "analyst" / "descriptives.csv")
    expected = 100 * (desc["paired_endpoint_mean"] / desc["paired_baseline_mean"] - 1)
    np.testing.assert_allclose(desc["percent_change"], expected, rtol=1e-5)
