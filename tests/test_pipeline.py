"""Tests for the pre-specified analysis pipeline (coaching_trials.pipeline).

The end-to-end numbers are checked against R: ``tests/reference/design/golden.csv`` was written
by ``make_golden.R`` (``lm`` + ``emmeans``, ``t.test``, ``p.adjust``) from the sample trial, and
the pipeline reaches the same numbers from a shuffled CSV export with renamed columns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coaching_trials._errors import DataValidationError
from coaching_trials.datasets import load_example
from coaching_trials.pipeline import (
    SCHEMA,
    AnalysisRun,
    ConfigError,
    _apply_overrides,
    load_config,
    run_analysis,
)

GOLDEN = Path(__file__).parent / "reference" / "design" / "golden.csv"
OUTCOMES = [
    "pfi_burnout",
    "pfi_pf",
    "pfi_id",
    "iwpr_score",
    "qol_score",
    "uwes9_total",
    "svs_total",
]
RENAME = {"participant_id": "ID", "arm": "group", "wave": "timepoint", "pfi_01": "PFI_Q1"}
# tables whose bytes cannot depend on the input's row order, column names or file format
ORDER_FREE = ("effects", "descriptives", "standardized", "nonrandomized", "flow", "responders")

PLAN = """
schema_version = 1

[data]
responses = "../data/responses.csv"
participants = "../data/participants.csv"

[data.columns]
subject = "ID"
arm = "group"
wave = "timepoint"

[data.rename]
"PFI_Q1" = "pfi_01"

[design]
immediate = "immediate"
delayed = "delayed"
baseline_wave = "baseline"
endpoint_wave = "month3"
followup_waves = ["month6"]

[[instruments]]
id = "pfi"
[[instruments]]
id = "svs"
[[instruments]]
id = "uwes9"
[[instruments]]
id = "qol"
[[instruments]]
id = "iwpr"

[analysis]
outcomes = ["pfi_burnout", "pfi_pf", "pfi_id", "iwpr_score", "qol_score", "uwes9_total",
            "svs_total"]
primary = "pfi_burnout"
seed = 7
n_boot = 30

[[analysis.responders]]
outcome = "pfi_burnout"
cutpoint = [1.33, 2.0]

[report]
figures = false
html = false
"""


def _example_plan() -> dict[str, Any]:
    """The same plan as PLAN, on the packaged example (no renaming, original row order)."""
    return {
        "data": {"example": "delayed_intervention"},
        "instruments": [{"id": i} for i in ("pfi", "svs", "uwes9", "qol", "iwpr")],
        "analysis": {
            "outcomes": OUTCOMES,
            "primary": "pfi_burnout",
            "seed": 7,
            "n_boot": 30,
            "responders": [{"outcome": "pfi_burnout", "cutpoint": [1.33, 2.0]}],
        },
        "report": {"figures": False, "html": False},
    }


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plan folder and a data folder beside it: the example shuffled, renamed, as CSV."""
    root = tmp_path_factory.mktemp("study")
    (root / "data").mkdir()
    (root / "plan").mkdir()
    ex = load_example()
    order = np.random.default_rng(11).permutation(len(ex.responses))
    ex.responses.iloc[order].rename(columns=RENAME).to_csv(
        root / "data" / "responses.csv", index=False
    )
    ex.participants.rename(columns=RENAME).to_csv(root / "data" / "participants.csv", index=False)
    (root / "plan" / "plan.toml").write_text(PLAN, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def runs(
    plan_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[AnalysisRun, AnalysisRun, AnalysisRun]:
    """Two runs of the CSV plan (two output folders) and one of the same plan on the example."""
    config = plan_dir / "plan" / "plan.toml"
    first = run_analysis(config, out=tmp_path_factory.mktemp("run1"))
    second = run_analysis(config, out=tmp_path_factory.mktemp("run2"))
    example = run_analysis(_example_plan(), out=tmp_path_factory.mktemp("example"))
    return first, second, example


# --- the config schema ---------------------------------------------------------------------


def _plan(**sections: Any) -> dict[str, Any]:
    plan: dict[str, Any] = {"data": {"example": "delayed_intervention"}}
    plan.update(sections)
    return plan


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            _plan(extra={}),
            "unknown key `extra`; allowed keys in the top level: analysis, business_case, data",
        ),
        (
            _plan(analysis={"metod": "ancova"}),
            "unknown key `analysis.metod`; allowed keys in [analysis]: adjust, "
            "baseline_variables, conf_level",
        ),
        (
            _plan(instruments=[{"id": "pfi", "metrik": "mean"}]),
            "unknown key `instruments[0].metrik`; allowed keys in [instruments[0]]: id, metric",
        ),
        (
            _plan(analysis={"responders": [{"outcome": "pfi_burnout", "cut": 1}]}),
            "unknown key `analysis.responders[0].cut`",
        ),
        (
            {"data": {"example": "delayed_intervention", "columns": {"id": "x"}}},
            "unknown key `data.columns.id`; allowed keys in [data.columns]: arm, subject, wave",
        ),
        (_plan(analysis={"conf_level": "95%"}), "`analysis.conf_level` must be a number"),
        (_plan(analysis={"seed": 1.5}), "`analysis.seed` must be an integer"),
        (_plan(analysis={"nonrandomized": "yes"}), "`analysis.nonrandomized` must be true or"),
        (_plan(instruments={"id": "pfi"}), "`instruments` must be an array of tables"),
        (_plan(analysis={"method": "anova"}), "`analysis.method` must be one of 'ancova'"),
        (_plan(analysis={"adjust": "sidak"}), "`analysis.adjust` must be one of 'holm'"),
        (_plan(analysis={"conf_level": 1.5}), "`analysis.conf_level` must be in (0, 1)"),
        (_plan(analysis={"n_boot": 0}), "`analysis.n_boot` must be a positive integer"),
        (_plan(report={"min_cell": 0}), "`report.min_cell` must be a positive integer"),
        (_plan(instruments=[{"id": "pfx"}]), "`instruments[0].id` must be one of"),
        (_plan(instruments=[{"id": "pfi", "metric": "z"}]), "`instruments[0].metric` must be"),
        (
            _plan(instruments=[{"id": "pfi", "min_answered": {"xx": 2}}]),
            "`instruments[0].min_answered key` must be one of 'pf'",
        ),
        (_plan(instruments=[{"id": "pfi"}, {"id": "pfi"}]), "instrument 'pfi' is listed twice"),
        (_plan(instruments=[{"metric": "mean"}]), "required key `instruments[0].id` is missing"),
        (
            _plan(
                analysis={
                    "responders": [{"outcome": "pfi_burnout", "cutpoint": 1, "direction": "=>"}]
                }
            ),
            "`analysis.responders[0].direction` must be one of '>='",
        ),
        (
            _plan(design={"followup_waves": []}, analysis={"nonrandomized": True}),
            "`analysis.nonrandomized = true` needs follow-up waves",
        ),
        (
            _plan(design={"endpoint_wave": "baseline"}),
            "the waves of [design] (baseline_wave, endpoint_wave, followup_waves) must be",
        ),
        ({"schema_version": 2, "data": {"example": "delayed_intervention"}}, "`schema_version`"),
        ({"design": {}}, "required key `data` is missing"),
        ({"data": {}}, "[data] needs exactly one of `data.responses`"),
        (
            {"data": {"example": "delayed_intervention", "responses": "r.csv"}},
            "[data] needs exactly one of",
        ),
        ({"data": {"example": "nope"}}, "`data.example` must be one of 'delayed_intervention'"),
        (
            {"data": {"example": "delayed_intervention", "participants": "p.csv"}},
            "`data.participants` cannot be combined with `data.example`",
        ),
        (
            {
                "data": {"responses": "absent.csv"},
                "design": {
                    "immediate": "a",
                    "delayed": "b",
                    "baseline_wave": "w0",
                    "endpoint_wave": "w1",
                },
            },
            "`data.responses`: file not found:",
        ),
        ({"data": {"responses": "absent.csv"}}, "required key `design.immediate` is missing"),
        (
            {"data": {"example": "delayed_intervention", "columns": {"subject": "arm"}}},
            "[data.columns] and [data.rename] name a column twice",
        ),
        (
            {"data": {"example": "delayed_intervention", "rename": {"x": "arm"}}},
            "[data.rename] must not map onto participant_id, arm, wave",
        ),
        ({"data": {"example": "delayed_intervention"}}, "no outcomes: give `analysis.outcomes`"),
    ],
)
def test_config_errors_name_the_key_and_what_is_allowed(
    config: dict[str, Any], expected: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(config, base_dir=tmp_path)
    assert expected in str(info.value)
    assert all(isinstance(p, str) for p in info.value.problems)


def test_every_problem_is_reported_at_once() -> None:
    config = _plan(
        analysis={"metod": "ancova", "conf_level": "high"},
        report={"colour": "red"},
        nonsense=1,
    )
    with pytest.raises(ConfigError) as info:
        load_config(config)
    # three type problems and, no longer hidden by them, the value problem (no instruments)
    assert len(info.value.problems) == 5
    assert info.value.source == "(dict)"
    assert str(info.value).startswith("5 problem(s) in the config (dict):")
    assert "no outcomes" in info.value.problems[-1]


def test_type_and_range_problems_are_reported_together() -> None:
    """A type error used to hide every range error of the same config."""
    config = _plan(
        instruments=[{"id": "pfi", "min_answered": 0}],
        analysis={"conf_level": "high", "method": "x", "n_boot": 0},
        report={"min_cell": "five"},
        data={"example": "delayed_intervention", "skiprows": -1, "decimal": ";", "sep": 3},
        design={"planned_sessions": 0, "immediate": 5},
    )
    with pytest.raises(ConfigError) as info:
        load_config(config)
    problems = "\n".join(info.value.problems)
    for fragment in (
        "`analysis.conf_level` must be a number; got 'high'",  # type
        "`report.min_cell` must be an integer",  # type
        "`data.sep` must be a non-empty string",  # type
        "`design.immediate` must be a non-empty string",  # type
        "`instruments[0].min_answered` must be >= 1",  # range
        "`analysis.method` must be one of",  # range
        "`analysis.n_boot` must be a positive integer",  # range
        "`data.skiprows` must be >= 0",  # range
        "`data.decimal` must be one of",  # range
        "`design.planned_sessions` must be >= 1",  # range
    ):
        assert fragment in problems
    assert "required key `design.immediate`" not in problems  # a wrong type is not "missing"
    assert len(info.value.problems) == 10


def test_value_problems_are_collected_too() -> None:
    config = _plan(
        instruments=[{"id": "pfi", "metric": "z"}],
        analysis={"method": "x", "adjust": "y", "conf_level": 2.0},
    )
    with pytest.raises(ConfigError) as info:
        load_config(config)
    assert len(info.value.problems) == 4


def test_schema_lists_every_section_of_the_brief() -> None:
    assert set(SCHEMA[""]) >= {"data", "design", "instruments", "analysis", "report"}
    assert set(SCHEMA["analysis"]) >= {
        "outcomes", "primary", "method", "adjust", "covariates", "conf_level",
        "nonrandomized", "responders", "seed",
    }  # fmt: skip
    assert set(SCHEMA["report"]) >= {"title", "min_cell", "figures"}


def test_defaults_are_filled_in() -> None:
    config = load_config(_plan(instruments=[{"id": "pfi"}, {"id": "svs", "metric": "mean"}]))
    assert config["analysis"]["outcomes"] == ["pfi_pf", "pfi_we", "pfi_id", "pfi_burnout",
                                              "svs_total"]  # fmt: skip
    assert config["analysis"]["primary"] == "pfi_pf"  # default: the first outcome
    assert config["analysis"]["method"] == "ancova"
    assert config["analysis"]["nonrandomized"] is True  # the example has a follow-up wave
    assert config["design"]["endpoint_wave"] == "month3"  # from the example's design
    assert config["instruments"][0]["metric"] == "mean"
    assert config["instruments"][1]["metric"] == "mean"
    assert config["data"]["columns"] == {"subject": "participant_id", "arm": "arm", "wave": "wave"}
    # the normalized config is JSON-ready and idempotent in content
    json.dumps(config)


def test_primary_is_put_first() -> None:
    config = load_config(_plan(analysis={"outcomes": ["pfi_pf", "pfi_id"], "primary": "pfi_id"}))
    assert config["analysis"]["outcomes"] == ["pfi_id", "pfi_pf"]


def test_config_file_problems(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="config file not found"):
        load_config(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[data\nexample = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(TypeError, match="`config` must be a path"):
        load_config(42)  # type: ignore[arg-type]


def test_relative_paths_resolve_against_the_config_folder(plan_dir: Path) -> None:
    config = load_config(plan_dir / "plan" / "plan.toml")
    assert config["data"]["responses"] == "../data/responses.csv"  # recorded as written
    with pytest.raises(ConfigError, match="file not found"):
        load_config(plan_dir / "plan" / "plan.toml", base_dir=plan_dir)


def test_overrides_replace_keys_without_touching_the_input() -> None:
    raw = _plan(instruments=[{"id": "pfi"}], analysis={"n_boot": 100})
    config = load_config(raw, overrides={"analysis.n_boot": 5, "report.title": "T"})
    assert config["analysis"]["n_boot"] == 5
    assert config["report"]["title"] == "T"
    assert raw["analysis"] == {"n_boot": 100}
    with pytest.raises(ConfigError, match="unknown key `analysis.nboot`"):
        load_config(raw, overrides={"analysis.nboot": 5})


@given(
    st.dictionaries(
        st.sampled_from(["a.b", "a.c", "d", "e.f.g"]),
        st.integers(),
        max_size=4,
    )
)
def test_overrides_set_exactly_the_dotted_keys(overrides: dict[str, int]) -> None:
    raw = {"a": {"b": 0, "x": 1}, "d": 2}
    out = _apply_overrides(raw, overrides)
    for dotted, value in overrides.items():
        node: Any = out
        for part in dotted.split("."):
            node = node[part]
        assert node == value
    assert out["a"]["x"] == 1
    assert raw == {"a": {"b": 0, "x": 1}, "d": 2}


# --- end to end -----------------------------------------------------------------------------


def test_runs_are_byte_identical(runs: tuple[AnalysisRun, AnalysisRun, AnalysisRun]) -> None:
    first, second, _ = runs
    assert list(first.paths) == list(second.paths)
    for name in first.paths:
        assert first.paths[name].read_bytes() == second.paths[name].read_bytes(), name
    assert first.manifest == second.manifest


def test_manifest_hashes_match_the_files(
    runs: tuple[AnalysisRun, AnalysisRun, AnalysisRun], plan_dir: Path
) -> None:
    run = runs[0]
    manifest = json.loads((run.out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == dict(run.manifest)
    written = {name for name in run.paths if name != "manifest.json"}
    assert set(manifest["outputs"]) == written
    for name, digest in manifest["outputs"].items():
        assert hashlib.sha256((run.out / name).read_bytes()).hexdigest() == digest, name
    for key in ("responses", "participants"):
        data = (plan_dir / "data" / f"{key}.csv").read_bytes()
        assert manifest["inputs"][key]["sha256"] == hashlib.sha256(data).hexdigest()
    plan = (plan_dir / "plan" / "plan.toml").read_bytes()
    assert manifest["config_file"] == {
        "name": "plan.toml",
        "sha256": hashlib.sha256(plan).hexdigest(),
    }
    assert manifest["seed"] == 7 == manifest["config"]["analysis"]["seed"]
    versions = manifest["versions"]
    assert versions["dependencies"]["pandas"] == pd.__version__
    assert versions["python"].count(".") == 2
    # no absolute paths and no clock: nothing of the machine's folders leaks in
    text = json.dumps(manifest)
    assert str(run.out) not in text and str(plan_dir) not in text


def test_example_inputs_are_hashed(runs: tuple[AnalysisRun, AnalysisRun, AnalysisRun]) -> None:
    from importlib import resources

    example = runs[2].manifest["inputs"]["example"]
    assert example["name"] == "delayed_intervention"
    folder = resources.files("coaching_trials") / "data" / "sample"
    for name in ("responses.csv", "participants.csv"):
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert example["files"][f"coaching_trials/data/sample/{name}"] == digest


@pytest.mark.parametrize("stem", ORDER_FREE)
def test_renamed_shuffled_csv_gives_the_same_tables_as_the_example(
    runs: tuple[AnalysisRun, AnalysisRun, AnalysisRun], stem: str
) -> None:
    csv_run, _, example_run = runs
    for name in (f"analyst/{stem}.csv", f"release/tables/{stem}.csv"):
        if (example_run.out / name).exists():
            assert (csv_run.out / name).read_bytes() == (example_run.out / name).read_bytes()


def test_outputs_use_the_package_column_names(
    runs: tuple[AnalysisRun, AnalysisRun, AnalysisRun],
) -> None:
    scores = pd.read_csv(runs[0].out / "analyst" / "scores.csv")
    assert scores.columns[:3].tolist() == ["participant_id", "arm", "wave"]
    assert len(scores) == len(load_example().responses)
    audit = runs[0].tables["audit"]
    renamed = audit.loc[audit["reason"] == "columns renamed", "detail"].iloc[0]
    assert "ID -> participant_id" in renamed and "PFI_Q1 -> pfi_01" in renamed


@pytest.fixture(scope="module")
def golden() -> pd.DataFrame:
    return pd.read_csv(GOLDEN)


def _golden(golden: pd.DataFrame, analysis: str) -> pd.DataFrame:
    return golden[golden["analysis"] == analysis].set_index("outcome")


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_randomized_effects_match_r(
    runs: tuple[AnalysisRun, AnalysisRun, AnalysisRun], golden: pd.DataFrame, outcome: str
) -> None:
    """lm(month3 ~ arm + baseline) + emmeans and p.adjust(holm) (make_golden.R)."""
    effects = pd.read_csv(runs[0].out / "analyst" / "effects.csv").set_index("outcome")
    row, ref = effects.loc[outcome], _golden(golden, "ancova").loc[outcome]
    for col in ("estimate", "std_error", "df", "statistic", "conf_low", "conf_high"):
        assert row[col] == pytest.approx(ref[col], abs=1e-6), col
    assert row["p_value"] == pytest.approx(ref["p_value"], rel=1e-4, abs=1e-6)
    assert row["n_treated"] + row["n_control"] == ref["n"]
    holm = _golden(golden, "holm")
    expected = ref["p_value"] if outcome == "pfi_burnout" else holm.loc[outcome, "estimate"]
    assert row["p_adjusted"] == pytest.approx(expected, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize(
    ("r_name", "estimand_start"),
    [
        ("delayed_prepost", "non-randomized: delayed arm pre/post coaching"),
        ("delayed_within", "non-randomized: delayed arm change after coaching"),
        ("pooled_prepost", "non-randomized: pooled pre/post"),
        ("durability", "non-randomized: immediate arm durability"),
    ],
)
def test_nonrandomized_estimands_match_r(
    runs: tuple[AnalysisRun, AnalysisRun, AnalysisRun],
    golden: pd.DataFrame,
    r_name: str,
    estimand_start: str,
) -> None:
    """Paired t.test on the sample trial (make_golden.R)."""
    table = pd.read_csv(runs[0].out / "analyst" / "nonrandomized.csv")
    rows = table[table["estimand"].str.startswith(estimand_start)].set_index("outcome")
    ref = _golden(golden, r_name)
    assert sorted(rows.index) == sorted(OUTCOMES)
    for outcome in OUTCOMES:
        for col in ("estimate", "std_error", "df", "conf_low", "conf_high"):
            assert rows.loc[outcome, col] == pytest.approx(ref.loc[outcome, col], abs=1e-6)


def test_tables_equal_direct_calls(runs: tuple[AnalysisRun, AnalysisRun, AnalysisRun]) -> None:
    import coaching_trials as ct
    from coaching_trials.instruments.reliability import reliability

    run = runs[2]
    ex = load_example()
    scored = ex.responses
    for iid in ("pfi", "svs", "uwes9", "qol", "iwpr"):
        scored = ct.score(scored, iid)
    trial = ct.DelayedInterventionTrial(scored, participants=ex.participants, **ex.design)
    flow = trial.flow("pfi_burnout")
    pd.testing.assert_frame_equal(
        run.tables["flow"].reset_index(drop=True), flow.reset_index(drop=True)
    )
    rel = reliability(ex.responses, "uwes9", by="wave", n_boot=30, seed=7)
    mine = run.tables["reliability"]
    mine = mine[mine["instrument"] == "uwes9"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, rel.reset_index(drop=True), check_dtype=False)
    res = ct.responders(
        trial.wide("pfi_burnout", waves=["baseline", "month3"]),
        outcome="pfi_burnout__month3",
        arm="arm",
        treated="immediate",
        cutpoint=2.0,
        baseline="pfi_burnout__baseline",
        event_is="bad",
    )
    responders = run.tables["responders"]
    row = responders[responders["estimand"].str.contains(">= 2 at month3")].iloc[0]
    assert row["estimate"] == pytest.approx(res.estimate)
    assert row["conf_low"] == pytest.approx(res.conf_low)
    props = run.tables["responder_proportions"]
    assert set(props["event_is"]) == {"bad"}  # burnout: higher is worse, ">=" -> bad event


def test_run_result_is_immutable(runs: tuple[AnalysisRun, AnalysisRun, AnalysisRun]) -> None:
    run = runs[0]
    effects = run.tables["effects"]
    effects.loc[0, "estimate"] = 99.0
    assert run.tables["effects"].loc[0, "estimate"] != 99.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.out = Path(".")  # type: ignore[misc]
    with pytest.raises(TypeError):
        run.manifest["seed"] = 1  # type: ignore[index]
    frame = run.to_frame()
    assert frame.columns.tolist() == ["file", "kind", "rows", "sha256"]
    assert frame.loc[frame["file"] == "analyst/effects.csv", "rows"].iloc[0] == len(OUTCOMES)
    assert "analyst/effects.csv" in run.summary()


# --- data problems ----------------------------------------------------------------------------


def _write_plan(folder: Path, responses: pd.DataFrame, **analysis: Any) -> Path:
    responses.to_csv(folder / "r.csv", index=False)
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in analysis.items())
    text = (
        '[data]\nresponses = "r.csv"\n'
        '[design]\nimmediate = "immediate"\ndelayed = "delayed"\n'
        'baseline_wave = "baseline"\nendpoint_wave = "month3"\nfollowup_waves = ["month6"]\n'
        '[[instruments]]\nid = "pfi"\n'
        f"[analysis]\nreliability = false\n{extra}"
        "[report]\nfigures = false\nhtml = false\n"
    )
    path = folder / "plan.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_invalid_data_stops_with_every_problem(tmp_path: Path) -> None:
    df = load_example().responses
    df.loc[3, "pfi_05"] = 9  # out of the 0-4 range
    df.loc[7, "arm"] = "control"  # unknown arm
    plan = _write_plan(tmp_path, df)
    with pytest.raises(DataValidationError) as info:
        run_analysis(plan, out=tmp_path / "out")
    message = str(info.value)
    assert "pfi_05" in message and "'control'" in message
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_unknown_outcome_lists_the_available_ones(tmp_path: Path) -> None:
    plan = _write_plan(tmp_path, load_example().responses, outcomes=["pfi_burnot"])
    with pytest.raises(ValueError, match="'pfi_burnot' \\(not a column\\).*pfi_burnout"):
        run_analysis(plan, out=tmp_path / "out")


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"subject": "ID"}, "responses: column 'ID' (from [data.columns]) is missing"),
        ({"arm": "wave_date"}, "cannot rename 'wave_date' to 'arm'"),
    ],
)
def test_column_mapping_problems(tmp_path: Path, columns: dict[str, str], message: str) -> None:
    config = {
        "data": {"responses": "r.csv", "columns": columns},
        "design": {"immediate": "immediate", "delayed": "delayed",
                   "baseline_wave": "baseline", "endpoint_wave": "month3"},
        "instruments": [{"id": "pfi"}],
        "report": {"figures": False, "html": False},
    }  # fmt: skip
    load_example().responses.to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(ValueError) as info:
        run_analysis(config, out=tmp_path / "out", base_dir=tmp_path)
    assert message in str(info.value)


def test_rename_of_an_absent_column_is_an_error(tmp_path: Path) -> None:
    load_example().responses.to_csv(tmp_path / "r.csv", index=False)
    config = {
        "data": {"responses": "r.csv", "rename": {"Q99": "pfi_01"}},
        "design": {"immediate": "immediate", "delayed": "delayed",
                   "baseline_wave": "baseline", "endpoint_wave": "month3"},
        "instruments": [{"id": "pfi"}],
    }  # fmt: skip
    with pytest.raises(ValueError, match=r"\[data.rename\] names column\(s\) \['Q99'\]"):
        run_analysis(config, out=tmp_path / "out", base_dir=tmp_path)


def test_figures_are_drawn_from_the_released_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline's CONSORT figure is drawn from the released flow, nothing else."""
    import coaching_trials.plots as plots

    drawn: list[pd.DataFrame] = []
    original = plots.plot_consort

    def recording(flow: pd.DataFrame, **kwargs: object) -> object:
        drawn.append(flow.copy())
        return original(flow, **kwargs)

    monkeypatch.setattr(plots, "plot_consort", recording)
    plan = _example_plan()
    plan["analysis"]["outcomes"] = ["pfi_burnout"]
    plan["analysis"]["reliability"] = False
    plan["analysis"]["responders"] = []
    plan["report"] = {"figures": True, "html": False, "min_cell": 5}
    run = run_analysis(plan, out=tmp_path / "out")
    assert len(drawn) == 1
    released = pd.read_csv(
        run.out / "release" / "tables" / "flow.csv", dtype={"n": str}, keep_default_na=False
    )
    assert drawn[0]["n"].astype(str).tolist() == released["n"].tolist()
    # the raw flow's small reasons are merged, and the analyst copy keeps them
    raw = run.tables["flow"]
    assert (raw["n"] < 5).any() and "other reasons" in set(released["reason"])
