"""`analyze` on exports as they come: REDCap (raw; labelled with its data dictionary) and one
Qualtrics export per wave, through ``[data] reader = ...``.

Each export is written here from the shipped sample trial in the layout the system writes
(REDCap: ``record_id``, ``redcap_event_name``, repeating-instrument rows, checkbox columns,
missing data codes; labelled headers and choice labels with a data dictionary; Qualtrics: three
header rows, preview and spam responses). The same responses written as a plain long CSV and
run with ``reader = "survey"`` must give the same effects table, to the last byte of the CSV:
what the readers add (event mapping, dropped rows, labels to codes, stacked waves) must change
nothing in the analysis, and every row they drop must be in the audit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from coaching_trials._errors import DataValidationError
from coaching_trials.datasets import load_example
from coaching_trials.pipeline import ConfigError, load_config, run_analysis

ITEMS = [f"pfi_{i:02d}" for i in range(1, 17)]
WAVES = ("baseline", "month3", "month6")
EVENTS = {"baseline": "baseline_arm_1", "month3": "month_3_arm_1", "month6": "month_6_arm_1"}
LABELLED_EVENTS = {w: f"{w.title()} (Arm 1: Main)" for w in WAVES}
PFI_CHOICES = {
    "0": "Not at all true",
    "1": "Somewhat true",
    "2": "Moderately true",
    "3": "Very true",
    "4": "Completely true",
}
ARM_CHOICES = {"immediate": "Immediate coaching", "delayed": "Wait-list (delayed) coaching"}

REST = """
[design]
immediate = "immediate"
delayed = "delayed"
baseline_wave = "baseline"
endpoint_wave = "month3"
followup_waves = ["month6"]

[[instruments]]
id = "pfi"

[analysis]
outcomes = ["pfi_burnout", "pfi_pf"]
reliability = false

[report]
figures = false
html = false
"""


def _cell(value: Any) -> str:
    """A number as an export writes it (0-4 items as integers), blank when missing."""
    return "" if pd.isna(value) else str(int(value))


def _responses() -> pd.DataFrame:
    """The sample trial's PFI responses, rows in a fixed shuffled order."""
    ex = load_example()
    frame = ex.responses[["participant_id", "arm", "wave", *ITEMS]].copy()
    frame["wave"] = frame["wave"].astype(str)
    frame["arm"] = frame["arm"].astype(str)
    order = np.random.default_rng(3).permutation(len(frame))
    return frame.iloc[order].reset_index(drop=True)


def _write_redcap_raw(path: Path, responses: pd.DataFrame) -> tuple[int, int]:
    """A raw longitudinal export: events, a repeating coaching-session instrument (two rows
    for each of the first five records), a screening event mapped to false, a checkbox
    field, and REDCap's missing data code UNK in some of the blank item cells.
    Returns (repeating rows, screening rows)."""
    header = [
        "record_id",
        "redcap_event_name",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
        "arm",
        *ITEMS,
        "barriers___1",
        "barriers___2",
    ]
    lines = [",".join(header)]
    blanks = 0
    for row in responses.itertuples(index=False):
        cells = []
        for item in ITEMS:
            value = _cell(getattr(row, item))
            if value == "":
                blanks += 1
                value = "UNK" if blanks % 2 else ""  # a declared code, or blank
            cells.append(value)
        event = EVENTS[row.wave]
        lines.append(",".join([row.participant_id, event, "", "", row.arm, *cells, "1", "0"]))
    ids = list(dict.fromkeys(responses["participant_id"]))
    n_repeat = 0
    for pid in ids[:5]:
        for instance in (1, 2):
            empty = [""] * len(ITEMS)
            lines.append(
                ",".join(
                    [pid, EVENTS["baseline"], "coaching_session", str(instance), "", *empty, "", ""]
                )
            )
            n_repeat += 1
    for pid in ids[:3]:
        empty = [""] * len(ITEMS)
        lines.append(",".join([pid, "screening_arm_1", "", "", "", *empty, "0", "1"]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return n_repeat, 3


def _write_redcap_labelled(folder: Path, responses: pd.DataFrame) -> None:
    """A labelled export (field labels as headers, choice labels as values, event labels)
    and the project's data dictionary."""
    dd_rows = [["record_id", "coaching", "text", "Record ID", ""]]
    dd_rows.append(
        [
            "arm",
            "coaching",
            "radio",
            "Randomized arm",
            " | ".join(f"{c}, {lab}" for c, lab in ARM_CHOICES.items()),
        ]
    )
    pfi = " | ".join(f"{c}, {lab}" for c, lab in PFI_CHOICES.items())
    dd_rows += [[item, "pfi", "radio", f"PFI item {i}", pfi] for i, item in enumerate(ITEMS, 1)]
    dd = pd.DataFrame(
        dd_rows,
        columns=[
            "Variable / Field Name",
            "Form Name",
            "Field Type",
            "Field Label",
            "Choices, Calculations, OR Slider Labels",
        ],
    )
    dd.to_csv(folder / "dictionary.csv", index=False)
    labelled = pd.DataFrame(
        {
            "Record ID": responses["participant_id"],
            "Event Name": responses["wave"].map(LABELLED_EVENTS),
            "Randomized arm": responses["arm"].map(ARM_CHOICES),
            **{
                f"PFI item {i}": responses[item].map(
                    lambda v: "" if pd.isna(v) else PFI_CHOICES[str(int(v))]
                )
                for i, item in enumerate(ITEMS, 1)
            },
        }
    )
    labelled.to_csv(folder / "labelled.csv", index=False)


def _write_qualtrics(folder: Path, responses: pd.DataFrame) -> dict[str, int]:
    """One Qualtrics export per wave (three header rows), each with a survey preview and a
    spam response that the reader must drop and count. Returns the data rows per file."""
    meta = ["StartDate", "EndDate", "Status", "ResponseId", "ExternalReference", "Finished"]
    texts = [
        "Start Date",
        "End Date",
        "Response Type",
        "Response ID",
        "External Data Reference",
        "Finished",
    ]
    import_ids = ["startDate", "endDate", "status", "_recordId", "externalDataReference"]
    import_ids.append("finished")
    rows: dict[str, int] = {}
    for k, wave in enumerate(WAVES):
        part = responses[responses["wave"] == wave]
        header = [*meta, "arm", *ITEMS]
        question = [*texts, "arm", *(f"PFI item {i}" for i in range(1, 17))]
        ids = [*import_ids, "arm", *(f"QID{i}" for i in range(1, 17))]
        lines = [
            ",".join(header),
            ",".join(question),
            ",".join('"{""ImportId"":""' + i + '""}"' for i in ids),
        ]
        stamp = f"2024-0{k + 1}-15 09:00:00"
        lines.append(
            ",".join([stamp, stamp, "Survey Preview", "R_prev", "", "True", "", *["2"] * 16])
        )
        for n, row in enumerate(part.itertuples(index=False)):
            cells = [_cell(getattr(row, item)) for item in ITEMS]
            lines.append(
                ",".join(
                    [
                        stamp,
                        stamp,
                        "IP Address",
                        f"R_{wave}_{n}",
                        row.participant_id,
                        "True",
                        row.arm,
                        *cells,
                    ]
                )
            )
        spam_id = part["participant_id"].iloc[0]
        lines.append(
            ",".join([stamp, stamp, "Spam", "R_spam", spam_id, "True", "immediate", *["4"] * 16])
        )
        (folder / f"{wave}.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
        rows[wave] = len(part)
    return rows


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The exports in a data folder, the plans in a plan folder beside it."""
    root = tmp_path_factory.mktemp("exports")
    data, plans = root / "data", root / "plans"
    data.mkdir()
    plans.mkdir()
    responses = _responses()
    responses.to_csv(data / "responses.csv", index=False)
    load_example().participants.to_csv(data / "participants.csv", index=False)
    n_repeat, n_screening = _write_redcap_raw(data / "redcap_raw.csv", responses)
    _write_redcap_labelled(data, responses)
    qualtrics_rows = _write_qualtrics(data, responses)
    participants = 'participants = "../data/participants.csv"\n'
    plans_text = {
        "survey": '[data]\nresponses = "../data/responses.csv"\n' + participants,
        "redcap_raw": (
            '[data]\nreader = "redcap"\nresponses = "../data/redcap_raw.csv"\n'
            + participants
            + 'missing_codes = "UNK, Unknown\\nNASK, Not asked"\n'
            + "[data.events]\n"
            + "".join(f'{event} = "{wave}"\n' for wave, event in EVENTS.items())
            + "screening_arm_1 = false\n"
        ),
        "redcap_labelled": (
            '[data]\nreader = "redcap"\nresponses = "../data/labelled.csv"\n'
            'dictionary = "../data/dictionary.csv"\nvalues = "labels"\n'
            + participants
            + "[data.events]\n"
            + "".join(f'"{label}" = "{wave}"\n' for wave, label in LABELLED_EVENTS.items())
            + '[data.rename]\n"Event Name" = "redcap_event_name"\n'
        ),
        "qualtrics": (
            '[data]\nreader = "qualtrics"\nsubject_from = "ExternalReference"\n'
            + participants
            + "[data.waves]\n"
            + "".join(f'{wave} = "../data/{wave}.csv"\n' for wave in WAVES)
        ),
    }
    runs = {}
    for name, text in plans_text.items():
        plan = plans / f"{name}.toml"
        plan.write_text(text + REST, encoding="utf-8")
        runs[name] = run_analysis(plan, out=root / f"out_{name}")
    return dict(
        root=root,
        runs=runs,
        n_repeat=n_repeat,
        n_screening=n_screening,
        qualtrics_rows=qualtrics_rows,
    )


def _manifest(run: Any) -> dict[str, Any]:
    return json.loads(Path(run.paths["manifest.json"]).read_text(encoding="utf-8"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _audit(run: Any) -> pd.DataFrame:
    return run.tables["audit"]


@pytest.mark.parametrize("name", ["redcap_raw", "redcap_labelled", "qualtrics"])
def test_effects_equal_the_survey_reader(study: dict[str, Any], name: str) -> None:
    survey, other = study["runs"]["survey"], study["runs"][name]
    assert len(survey.effects) >= 2 and survey.effects["estimate"].notna().all()
    pd.testing.assert_frame_equal(other.effects, survey.effects)
    for table in ("effects", "nonrandomized", "flow", "descriptives"):
        assert other.tables[table].equals(survey.tables[table]), table
    # the written CSV files are the same bytes
    out = [n for n in other.paths if n.endswith("effects.csv")]
    assert out
    for n in out:
        assert Path(other.paths[n]).read_bytes() == Path(survey.paths[n]).read_bytes()


def test_redcap_raw_audit_and_manifest(study: dict[str, Any]) -> None:
    run, data = study["runs"]["redcap_raw"], study["root"] / "data"
    audit = _audit(run)
    repeat = audit[audit["reason"] == "repeating instrument row"]
    assert repeat["step"].tolist() == ["read_redcap:responses"]
    assert repeat["n_rows"].tolist() == [study["n_repeat"]]
    assert "coaching_session" in repeat["detail"].iloc[0]
    dropped = audit[audit["reason"] == "event mapped to None"]
    assert dropped["n_rows"].tolist() == [study["n_screening"]]
    assert "screening_arm_1" in dropped["detail"].iloc[0]
    # the declared code UNK is missing with its reason, not a blank
    missing = run.tables["missingness"]
    assert "Unknown" in set(missing["reason"])
    manifest = _manifest(run)
    assert set(manifest["inputs"]) == {"responses", "participants"}
    assert manifest["inputs"]["responses"]["sha256"] == _sha(data / "redcap_raw.csv")
    assert manifest["config"]["data"]["reader"] == "redcap"
    assert manifest["config"]["data"]["missing_codes"] == {"UNK": "Unknown", "NASK": "Not asked"}
    assert manifest["config"]["data"]["events"]["screening_arm_1"] is False


def test_redcap_labelled_audit_and_manifest(study: dict[str, Any]) -> None:
    run, data = study["runs"]["redcap_labelled"], study["root"] / "data"
    reasons = set(_audit(run)["reason"])
    assert "format detected: REDCap labelled headers" in reasons
    assert "format detected: REDCap labelled values" in reasons
    inputs = _manifest(run)["inputs"]
    assert set(inputs) == {"responses", "dictionary", "participants"}
    assert inputs["dictionary"] == {
        "path": "../data/dictionary.csv",
        "sha256": _sha(data / "dictionary.csv"),
    }
    assert inputs["responses"]["sha256"] == _sha(data / "labelled.csv")


def test_qualtrics_audit_and_manifest(study: dict[str, Any]) -> None:
    run, data = study["runs"]["qualtrics"], study["root"] / "data"
    audit = _audit(run)
    for wave in WAVES:
        rows = audit[audit["step"] == f"read_qualtrics:waves.{wave}"]
        by_reason = dict(zip(rows["reason"], rows["n_rows"], strict=True))
        assert by_reason.get("survey preview") == 1, (wave, by_reason)
        assert by_reason.get("spam") == 1, (wave, by_reason)
    total = sum(study["qualtrics_rows"].values())
    line = audit[(audit["step"] == "pipeline") & (audit["reason"] == "input")]
    assert line["n_rows"].tolist() == [total]
    inputs = _manifest(run)["inputs"]
    assert set(inputs) == {"waves", "participants"}
    assert list(inputs["waves"]) == list(WAVES)
    for wave in WAVES:
        assert inputs["waves"][wave]["sha256"] == _sha(data / f"{wave}.csv")


def test_input_files_are_protected_from_out(study: dict[str, Any]) -> None:
    """An output folder holding the inputs is refused before any work: every wave export."""
    from coaching_trials._outdir import OutputFolderError

    plan = study["root"] / "plans" / "qualtrics.toml"
    with pytest.raises(OutputFolderError, match="holds this run's own input") as info:
        run_analysis(plan, out=study["root"] / "data", force=True)
    for wave in WAVES:
        assert f"{wave}.csv" in str(info.value)
    assert (study["root"] / "data" / "month6.csv").is_file()


def test_analyze_command_reads_the_exports(study: dict[str, Any], tmp_path: Path) -> None:
    """``coaching-trials analyze plan.toml`` on the Qualtrics plan writes the same effects."""
    from coaching_trials.cli import main

    plan = study["root"] / "plans" / "qualtrics.toml"
    assert main(["analyze", str(plan), "--out", str(tmp_path / "cli")]) == 0
    survey = study["runs"]["survey"]
    name = next(n for n in survey.paths if n.endswith("effects.csv"))
    assert (tmp_path / "cli" / name).read_bytes() == Path(survey.paths[name]).read_bytes()


# --------------------------------------------------------------------------------------------
# config errors: every problem at once, each naming its key
# --------------------------------------------------------------------------------------------


def _problems(plan: dict[str, Any], base: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(plan, base_dir=base)
    return list(info.value.problems)


def _design() -> dict[str, Any]:
    return {
        "immediate": "immediate",
        "delayed": "delayed",
        "baseline_wave": "baseline",
        "endpoint_wave": "month3",
        "followup_waves": ["month6"],
    }


def test_redcap_config_problems_all_at_once(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text("record_id\n1\n", encoding="utf-8")
    plan = {
        "data": {
            "reader": "redcap",
            "responses": "export.csv",
            "dictionary": "no_dictionary.csv",
            "repeating": "sometimes",
            "values": "codes",
            "checkboxes": 1,
            "events": {"baseline_arm_1": "baseline", "month_12_arm_1": "month12", "x": 3},
            "waves": {"baseline": "export.csv"},
            "subject_from": "ResponseId",
            "sep": ";",
            "missing_codes": "UNK",
            "example": "delayed_intervention",
            "colour": "blue",
        },
        "design": _design(),
        "instruments": [{"id": "pfi"}],
    }
    problems = _problems(plan, tmp_path)
    text = "\n".join(problems)
    expected = [
        "`data.dictionary`: file not found",
        "`data.repeating` must be one of 'drop', 'keep', 'only'; got 'sometimes'",
        "`data.values` must be one of 'auto', 'labels', 'raw'; got 'codes'",
        "`data.checkboxes` must be a non-empty string; got 1",
        "`data.events` must be a table of event = wave",
        "`data.waves` applies to reader = 'qualtrics' only",
        "`data.subject_from` applies to reader = 'qualtrics' only",
        "`data.example` applies to reader = 'survey' only",
        "`data.sep` applies to files read as surveys",
        "`data.missing_codes`: `missing_codes` as text must be REDCap's Missing Data Codes",
        "unknown key `data.colour`",
    ]
    for fragment in expected:
        assert fragment in text, fragment
    assert len(problems) == len(expected), problems


def test_redcap_event_waves_checked_against_design(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text("record_id\n1\n", encoding="utf-8")
    plan = {
        "data": {
            "reader": "redcap",
            "responses": "export.csv",
            "values": "labels",
            "events": {"baseline_arm_1": "baseline", "month_12_arm_1": "month12"},
        },
        "design": _design(),
        "instruments": [{"id": "pfi"}],
    }
    problems = _problems(plan, tmp_path)
    assert len(problems) == 2, problems
    assert any(
        "`data.events`: wave 'month12' is not a wave of [design]" in p
        and "map its event to false" in p
        for p in problems
    )
    assert any(
        "`data.values = 'labels'` needs the project's data dictionary" in p for p in problems
    )


def test_qualtrics_config_problems_all_at_once(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_text("x\n", encoding="utf-8")
    plan = {
        "data": {
            "reader": "qualtrics",
            "responses": "r.csv",
            "waves": {"baseline": "b.csv", "month3": "m3.csv", "month9": "b.csv"},
            "columns": {"wave": "timepoint"},
            "record_id": "id",
            "missing_codes": "UNK, Unknown",
            "skiprows": 2,
        },
        "design": _design(),
        "instruments": [{"id": "pfi"}],
    }
    problems = _problems(plan, tmp_path)
    text = "\n".join(problems)
    expected = [
        "`data.responses` applies to reader = 'survey' or 'redcap' only",
        "`data.responses`: file not found",
        "`data.waves.month3`: file not found",
        "`data.columns.wave` does not apply to reader = 'qualtrics'",
        "`data.record_id` applies to reader = 'redcap' only",
        "`data.missing_codes` as text (REDCap's missing data codes) applies to reader = 'redcap'",
        "`data.skiprows` applies to files read as surveys",
        "`data.waves`: wave 'month9' is not a wave of [design]",
    ]
    for fragment in expected:
        assert fragment in text, fragment
    assert len(problems) == len(expected), problems


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"reader": "spss"}, "`data.reader` must be one of 'survey', 'redcap', 'qualtrics'"),
        ({"reader": "qualtrics"}, "reader = 'qualtrics' needs [data.waves]"),
        ({"reader": "redcap"}, "reader = 'redcap' needs `data.responses`"),
        ({"reader": "qualtrics", "waves": {}}, "`data.waves` must be a table of wave = path"),
        ({"reader": "qualtrics", "waves": {"baseline": 3}}, "`data.waves` must be a table"),
    ],
)
def test_reader_choice_and_sources(tmp_path: Path, data: dict[str, Any], fragment: str) -> None:
    plan = {"data": data, "design": _design(), "instruments": [{"id": "pfi"}]}
    problems = _problems(plan, tmp_path)
    assert any(fragment in p for p in problems), problems


def test_survey_reader_is_the_default(tmp_path: Path) -> None:
    config = load_config(
        {"data": {"example": "delayed_intervention"}, "instruments": [{"id": "pfi"}]}
    )
    data = config["data"]
    assert data["reader"] == "survey"
    assert all(
        data[k] is None
        for k in ("dictionary", "events", "record_id", "repeating", "values", "waves")
    )


def test_redcap_record_id_absent_names_the_key(study: dict[str, Any], tmp_path: Path) -> None:
    """A record id field the export lacks is a FileFormatError pointing at `data.record_id`."""
    from coaching_trials._errors import FileFormatError

    plan = (study["root"] / "plans" / "redcap_raw.toml").read_text(encoding="utf-8")
    plan = plan.replace('reader = "redcap"\n', 'reader = "redcap"\nrecord_id = "study_id"\n')
    path = study["root"] / "plans" / "redcap_wrong_id.toml"
    path.write_text(plan, encoding="utf-8")
    with pytest.raises(FileFormatError, match="no record id column 'study_id'") as info:
        run_analysis(path, out=tmp_path / "out")
    assert "`data.record_id`" in str(info.value)


def test_starter_plan_points_at_the_reader(study: dict[str, Any]) -> None:
    from coaching_trials.starter import starter_plan

    data = study["root"] / "data"
    assert 'reader = "redcap"' in starter_plan(data / "redcap_raw.csv")
    assert 'reader = "qualtrics"' in starter_plan(data / "baseline.csv")
    assert "this looks like a" not in starter_plan(data / "responses.csv")


def _redcap_plan(root: Path, export: str) -> Path:
    plan = root / "plans" / f"{export}.toml"
    plan.write_text(
        f'[data]\nreader = "redcap"\nresponses = "../data/{export}.csv"\n'
        'participants = "../data/participants.csv"\n'
        'missing_codes = "UNK, Unknown\\nNASK, Not asked"\n[data.events]\n'
        + "".join(f'{event} = "{wave}"\n' for wave, event in EVENTS.items())
        + "screening_arm_1 = false\n"
        + REST,
        encoding="utf-8",
    )
    return plan


def test_redcap_arm_recorded_at_one_event_fills_the_record(study: dict[str, Any]) -> None:
    """REDCap's randomization field is on the baseline form: later events hold a blank arm,
    filled from the record (counted), and the analysis is the same as with the arm everywhere."""
    root = study["root"]
    raw = pd.read_csv(root / "data" / "redcap_raw.csv", dtype=str, keep_default_na=False)
    later = raw["redcap_event_name"].isin([EVENTS["month3"], EVENTS["month6"]])
    raw.loc[later, "arm"] = ""
    raw.to_csv(root / "data" / "redcap_arm_once.csv", index=False)
    run = run_analysis(_redcap_plan(root, "redcap_arm_once"), out=root / "out_arm_once")
    pd.testing.assert_frame_equal(run.effects, study["runs"]["survey"].effects)
    filled = _audit(run).query("reason == 'arm filled from the record'")
    assert filled["n_rows"].tolist() == [int(later.sum())]
    # a record with two different arms is refused, naming it
    pid = raw.loc[later, "record_id"].iloc[0]
    other = (
        "delayed"
        if (raw.loc[raw["record_id"] == pid, "arm"] == "immediate").any()
        else ("immediate")
    )
    raw.loc[later & (raw["record_id"] == pid), "arm"] = other
    raw.to_csv(root / "data" / "redcap_two_arms.csv", index=False)
    with pytest.raises(DataValidationError, match=f"more than one arm .*{pid}"):
        run_analysis(_redcap_plan(root, "redcap_two_arms"), out=root / "out_two_arms")
