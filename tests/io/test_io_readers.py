"""Tests for coaching_trials.io.readers: every format round-trips; REDCap and Qualtrics exports."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat  # in the `test` extra
import pytest

from coaching_trials._audit import audit_frame
from coaching_trials._errors import DataValidationError, FileFormatError
from coaching_trials.io.readers import SUPPORTED_FORMATS, read_qualtrics, read_redcap, read_survey


@pytest.fixture
def responses() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "participant_id": ["P001", "P001", "P002", "P003"],
            "arm": ["immediate", "immediate", "delayed", "delayed"],
            "wave": ["baseline", "month3", "baseline", "baseline"],
            "pfi_01": [3, 2, 4, 0],
            "qol_01": [7.0, np.nan, 5.5, 10.0],
        }
    )


def _write(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "excel":
        frame.to_excel(path, index=False, sheet_name="wave1")
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "spss":
        pyreadstat.write_sav(frame, str(path))
    elif fmt == "stata":
        frame.to_stata(path, write_index=False)
    else:  # pragma: no cover - guard for the parametrisation below
        raise AssertionError(fmt)


@pytest.mark.parametrize(
    ("fmt", "filename"),
    [
        ("csv", "survey.csv"),
        ("tsv", "survey.tsv"),
        ("tsv", "survey.TAB"),
        ("excel", "survey.xlsx"),
        ("parquet", "survey.parquet"),
        ("spss", "survey.sav"),
        ("stata", "survey.dta"),
    ],
)
def test_every_format_round_trips(tmp_path, responses, fmt, filename):
    path = tmp_path / filename
    _write(responses, path, fmt)
    got = read_survey(path)
    assert got.attrs["source"]["format"] == fmt
    assert got.attrs["source"]["path"] == str(path)
    assert got.attrs["audit"] == []
    assert list(got.columns) == list(responses.columns)
    # numeric columns stay numeric in every format
    assert pd.api.types.is_numeric_dtype(got["pfi_01"])
    assert pd.api.types.is_numeric_dtype(got["qol_01"])
    pd.testing.assert_frame_equal(
        got.astype({"participant_id": object, "arm": object, "wave": object}),
        responses.astype({"participant_id": object, "arm": object, "wave": object}),
        check_dtype=False,
    )


def test_supported_formats_cover_the_brief():
    assert set(SUPPORTED_FORMATS) == {"csv", "tsv", "excel", "parquet", "spss", "stata"}


def test_format_argument_overrides_extension(tmp_path, responses):
    path = tmp_path / "export.txt"
    responses.to_csv(path, index=False, sep="\t")
    got = read_survey(path, format="tsv")
    assert got["pfi_01"].tolist() == [3, 2, 4, 0]
    assert got.attrs["source"]["format"] == "tsv"


def test_kwargs_reach_the_reader(tmp_path, responses):
    path = tmp_path / "semi.csv"
    responses.to_csv(path, index=False, sep=";")
    got = read_survey(path, sep=";")
    assert got.shape == responses.shape


def test_unknown_extension_lists_supported_formats(tmp_path):
    path = tmp_path / "survey.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match="Cannot tell the format") as info:
        read_survey(path)
    message = str(info.value)
    for fmt, exts in SUPPORTED_FORMATS.items():
        assert fmt in message
        for ext in exts:
            assert ext in message
    assert "format=" in message


def test_unknown_format_option_uses_the_single_template(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("a\n1\n")
    with pytest.raises(ValueError, match=r"`format` must be one of 'csv', 'tsv'.*got 'json'"):
        read_survey(path, format="json")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.csv"):
        read_survey(tmp_path / "nothere.csv")


def test_excel_sheet_by_name_and_position(tmp_path, responses):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        responses.head(1).to_excel(writer, sheet_name="first", index=False)
        responses.to_excel(writer, sheet_name="second", index=False)
    assert len(read_survey(path)) == 1
    by_name = read_survey(path, sheet_name="second")
    assert len(by_name) == 4
    assert by_name.attrs["source"]["sheet_name"] == "second"
    assert len(read_survey(path, sheet_name=1)) == 4


@pytest.mark.parametrize("sheet", [["first", "second"], ("first",)])
def test_excel_needs_a_single_sheet(tmp_path, responses, sheet):
    path = tmp_path / "book.xlsx"
    responses.to_excel(path, index=False)
    with pytest.raises(TypeError, match="`sheet_name` must name one sheet"):
        read_survey(path, sheet_name=sheet)


def test_spss_value_labels_are_not_applied(tmp_path):
    frame = pd.DataFrame({"participant_id": ["P001", "P002"], "pfi_01": [0.0, 4.0]})
    path = tmp_path / "labelled.sav"
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels=["Participant", "PFI item 1"],
        variable_value_labels={"pfi_01": {0.0: "lowest", 4.0: "highest"}},
    )
    got = read_survey(path)
    assert pd.api.types.is_numeric_dtype(got["pfi_01"])
    assert got["pfi_01"].tolist() == [0.0, 4.0]
    assert got.attrs["value_labels"] == {"pfi_01": {0.0: "lowest", 4.0: "highest"}}
    assert got.attrs["column_labels"]["pfi_01"] == "PFI item 1"


def test_stata_value_labels_are_not_applied(tmp_path):
    frame = pd.DataFrame(
        {"participant_id": ["P001", "P002"], "pfi_01": np.array([0, 4], dtype="int32")}
    )
    path = tmp_path / "labelled.dta"
    frame.to_stata(
        path,
        write_index=False,
        value_labels={"pfi_01": {0: "lowest", 4: "highest"}},
        variable_labels={"pfi_01": "PFI item 1"},
    )
    got = read_survey(path)
    assert pd.api.types.is_integer_dtype(got["pfi_01"])
    assert got["pfi_01"].tolist() == [0, 4]
    assert got.attrs["value_labels"] == {"pfi_01": {0: "lowest", 4: "highest"}}
    assert got.attrs["column_labels"] == {"pfi_01": "PFI item 1"}


def test_spss_without_pyreadstat_says_which_extra_to_install(tmp_path, monkeypatch, responses):
    path = tmp_path / "survey.sav"
    pyreadstat.write_sav(responses, str(path))
    monkeypatch.setitem(sys.modules, "pyreadstat", None)  # makes `import pyreadstat` fail
    with pytest.raises(ImportError, match=r'pip install "coaching-trials\[spss\]"'):
        read_survey(path)


def test_reader_returns_a_fresh_frame_each_time(tmp_path, responses):
    path = tmp_path / "survey.csv"
    responses.to_csv(path, index=False)
    first = read_survey(path)
    first.loc[0, "pfi_01"] = 99
    first.attrs["source"]["path"] = "changed"
    second = read_survey(path)
    assert second.loc[0, "pfi_01"] == 3
    assert second.attrs["source"]["path"] == str(path)


# --------------------------------------------------------------------------------------------
# REDCap
# --------------------------------------------------------------------------------------------

REDCAP_RAW = """\
record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,pfi_01,pfi_02,coach_type___1,coach_type___2,survey_complete
001,baseline_arm_1,,,3,2,1,0,2
001,month_3_arm_1,,,2,2,0,1,2
001,month_3_arm_1,session_log,1,,,,,
001,month_3_arm_1,session_log,2,,,,,
002,baseline_arm_1,,,4,1,0,0,2
002,screening_arm_1,,,,,0,0,0
010,baseline_arm_2,,,1,0,1,1,1
"""


@pytest.fixture
def redcap_file(tmp_path) -> Path:
    path = tmp_path / "redcap.csv"
    path.write_text(REDCAP_RAW)
    return path


def test_redcap_default_waves_strip_the_arm_suffix(redcap_file):
    df = read_redcap(redcap_file)
    assert list(df.columns[:2]) == ["participant_id", "wave"]
    assert df["participant_id"].tolist() == ["001", "001", "002", "002", "010"]  # zeros kept
    assert df["wave"].tolist() == ["baseline", "month_3", "baseline", "screening", "baseline"]
    assert "redcap_event_name" not in df.columns
    assert "redcap_repeat_instrument" not in df.columns
    assert df["pfi_01"].tolist()[:3] == [3, 2, 4]
    assert df["survey_complete"].tolist() == [2, 2, 2, 0, 1]
    assert df.attrs["source"] == {"path": str(redcap_file), "format": "redcap"}


def test_redcap_repeating_rows_dropped_with_an_audit_entry(redcap_file):
    df = read_redcap(redcap_file)
    audit = audit_frame(df.attrs["audit"])
    assert audit["n_rows"].tolist() == [2]
    assert audit["reason"].tolist() == ["repeating instrument row"]
    assert "session_log" in audit["detail"].iloc[0]


@pytest.mark.parametrize(("repeating", "n_rows"), [("keep", 7), ("only", 2), ("drop", 5)])
def test_redcap_repeating_options(redcap_file, repeating, n_rows):
    df = read_redcap(redcap_file, repeating=repeating)
    assert len(df) == n_rows
    has_columns = "redcap_repeat_instrument" in df.columns
    assert has_columns == (repeating != "drop")
    if repeating == "only":
        assert df["redcap_repeat_instance"].tolist() == [1, 2]
        assert df.attrs["audit"] == []


def test_redcap_only_without_repeating_instruments(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text("record_id,pfi_01\n1,3\n")
    with pytest.raises(ValueError, match="no 'redcap_repeat_instrument' column"):
        read_redcap(path, repeating="only")


def test_redcap_event_mapping_and_dropping(redcap_file):
    events = {
        "baseline_arm_1": "baseline",
        "baseline_arm_2": "baseline",
        "month_3_arm_1": "month3",
        "screening_arm_1": None,
    }
    df = read_redcap(redcap_file, events=events)
    assert df["wave"].tolist() == ["baseline", "month3", "baseline", "baseline"]
    audit = audit_frame(df.attrs["audit"])
    assert audit.set_index("reason")["n_rows"].to_dict() == {
        "repeating instrument row": 2,
        "event mapped to None": 1,
    }
    assert (
        "screening_arm_1" in audit.loc[audit["reason"] == "event mapped to None", "detail"].iloc[0]
    )


def test_redcap_unknown_event_names_rows_and_values(redcap_file):
    with pytest.raises(DataValidationError) as info:
        read_redcap(redcap_file, events={"baseline_arm_1": "baseline"})
    message = str(info.value)
    assert "redcap_event_name" in message
    for value in ("month_3_arm_1", "screening_arm_1", "baseline_arm_2"):
        assert value in message
    cases = info.value.failure_cases
    assert cases["check"].tolist() == ["unknown_event"]
    assert cases["n"].tolist() == [3]


def test_redcap_checkboxes_become_booleans(redcap_file):
    df = read_redcap(redcap_file)
    assert df.attrs["checkboxes"] == {"coach_type": ["1", "2"]}
    assert str(df["coach_type___1"].dtype) == "boolean"
    assert df["coach_type___1"].tolist() == [True, False, False, False, True]
    raw = read_redcap(redcap_file, checkboxes="raw")
    assert raw["coach_type___1"].tolist() == [1, 0, 0, 0, 1]


def test_redcap_labelled_checkboxes(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("record_id,coach___a,coach___b\nP1,Checked,Unchecked\nP2,Unchecked,\n")
    df = read_redcap(path)
    assert df["coach___a"].tolist() == [True, False]
    assert df["coach___b"].isna().tolist() == [False, True]
    assert "wave" not in df.columns  # not longitudinal


def test_redcap_bad_checkbox_values_reported_together(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("record_id,coach___1,coach___2\n1,yes,0\n2,1,7\n")
    with pytest.raises(DataValidationError) as info:
        read_redcap(path)
    cases = info.value.failure_cases
    assert cases["column"].tolist() == ["coach___1", "coach___2"]
    assert cases["rows"].tolist() == [[0], [1]]
    assert "'yes'" in str(info.value)
    assert "Checked/Unchecked" in str(info.value)


def test_redcap_missing_record_id(tmp_path):
    path = tmp_path / "noid.csv"
    path.write_text("id,pfi_01\n1,3\n")
    with pytest.raises(ValueError, match="no record id column 'record_id'"):
        read_redcap(path)
    assert read_redcap(path, record_id="id")["participant_id"].tolist() == ["1"]


@pytest.mark.parametrize(("option", "value"), [("repeating", "all"), ("checkboxes", "labels")])
def test_redcap_bad_options(redcap_file, option, value):
    with pytest.raises(ValueError, match=f"`{option}` must be one of"):
        read_redcap(redcap_file, **{option: value})


# --------------------------------------------------------------------------------------------
# Qualtrics
# --------------------------------------------------------------------------------------------

QUALTRICS = (
    "StartDate,Status,Progress,Finished,ResponseId,ExternalReference,DistributionChannel,"
    "pfi_01,pfi_02,comment\n"
    "Start Date,Response Type,Progress,Finished,Response ID,External Data Reference,"
    'Distribution Channel,"Item one, with a comma","Item two\nover two lines",Comment\n'
    '"{""ImportId"":""startDate"",""timeZone"":""America/Los_Angeles""}",'
    '"{""ImportId"":""status""}","{""ImportId"":""progress""}","{""ImportId"":""finished""}",'
    '"{""ImportId"":""_recordId""}","{""ImportId"":""externalDataReference""}",'
    '"{""ImportId"":""distributionChannel""}","{""ImportId"":""QID1_1""}",'
    '"{""ImportId"":""QID1_2""}","{""ImportId"":""QID2_TEXT""}"\n'
    "2024-01-02 10:00:00,{preview},100,1,R_prev,,preview,4,4,\n"
    "2024-01-02 11:00:00,{normal},100,1,R_a,P001,email,3,2,fine\n"
    "2024-01-02 12:00:00,{test},100,1,R_test,,test,0,0,\n"
    "2024-01-03 09:00:00,{normal},50,0,R_b,P002,email,1,,\n"
    '2024-01-03 09:30:00,{normal},100,1,R_c,P003,email,2,4,"a, b"\n'
)


def _qualtrics_text(**codes: str) -> str:
    text = QUALTRICS
    for key, code in codes.items():
        text = text.replace("{" + key + "}", code)
    return text


@pytest.fixture(params=["numeric", "text"])
def qualtrics_file(tmp_path, request) -> Path:
    codes = (
        {"preview": "1", "normal": "0", "test": "2"}
        if request.param == "numeric"
        else {"preview": "Survey Preview", "normal": "IP Address", "test": "Survey Test"}
    )
    path = tmp_path / "qualtrics.csv"
    path.write_text(_qualtrics_text(**codes), encoding="utf-8-sig")
    return path


def test_qualtrics_header_rows_removed_and_types_inferred(qualtrics_file):
    df = read_qualtrics(qualtrics_file)
    assert df["participant_id"].tolist() == ["P001", "P002", "P003"]
    assert df["response_id"].tolist() == ["R_a", "R_b", "R_c"]
    assert "ExternalReference" not in df.columns and "ResponseId" not in df.columns
    assert df.columns[0] == "participant_id"
    assert pd.api.types.is_integer_dtype(df["pfi_01"])
    assert pd.api.types.is_float_dtype(df["pfi_02"])  # a blank answer -> NaN
    assert df["pfi_02"].isna().tolist() == [False, True, False]
    assert df["comment"].tolist()[2] == "a, b"
    assert df.attrs["question_text"]["pfi_02"] == "Item two\nover two lines"
    assert df.attrs["import_ids"]["pfi_01"] == "QID1_1"
    assert df.attrs["source"]["format"] == "qualtrics"


def test_qualtrics_preview_and_test_rows_dropped_with_counts(qualtrics_file):
    df = read_qualtrics(qualtrics_file)
    audit = audit_frame(df.attrs["audit"])
    assert audit["reason"].tolist() == ["survey preview", "survey test"]
    assert audit["n_rows"].tolist() == [1, 1]
    assert "R_prev" in audit["detail"].iloc[0]
    assert "R_test" in audit["detail"].iloc[1]
    kept = read_qualtrics(qualtrics_file, drop_previews=False, subject_from="ResponseId")
    assert len(kept) == 5
    assert kept.attrs["audit"] == []
    assert kept["participant_id"].tolist()[0] == "R_prev"
    assert kept["response_id"].tolist() == kept["participant_id"].tolist()


def test_qualtrics_preview_detected_by_channel_alone(tmp_path):
    text = _qualtrics_text(preview="0", normal="0", test="0")
    path = tmp_path / "q.csv"
    path.write_text(text)
    audit = audit_frame(read_qualtrics(path).attrs["audit"])
    assert audit["n_rows"].tolist() == [1, 1]


def test_qualtrics_wave_label_and_concatenation(qualtrics_file):
    base = read_qualtrics(qualtrics_file, wave="baseline")
    follow = read_qualtrics(qualtrics_file, wave="month3")
    assert base.columns[:2].tolist() == ["participant_id", "wave"]
    both = pd.concat([base, follow], ignore_index=True)  # attrs must not break concat
    assert both["wave"].tolist() == ["baseline"] * 3 + ["month3"] * 3


def test_qualtrics_rejects_a_plain_csv(tmp_path):
    path = tmp_path / "plain.csv"
    pd.DataFrame({"ResponseId": ["R_1", "R_2"], "pfi_01": [1, 2]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="does not look like a Qualtrics CSV export"):
        read_qualtrics(path)


def test_qualtrics_missing_subject_column(qualtrics_file):
    with pytest.raises(ValueError, match="no column 'StudyId'"):
        read_qualtrics(qualtrics_file, subject_from="StudyId")


def test_qualtrics_numeric_external_reference_stays_text(tmp_path):
    text = _qualtrics_text(preview="1", normal="0", test="2").replace("P00", "100")
    text = text.replace("R_b,1002,", "R_b,,")  # one blank id: a float column if inferred
    path = tmp_path / "q.csv"
    path.write_text(text)
    # a blank id is reported at read time (it used to become NA silently) ...
    with pytest.raises(FileFormatError, match=r"1 response\(s\) have a blank ExternalRef") as info:
        read_qualtrics(path)
    assert "response(s) [4]" in str(info.value) and "R_b" in str(info.value)
    assert info.value.failure_cases["values"].iloc[0] == ["R_b"]
    # ... and the numeric ids that are there stay text
    path.write_text(_qualtrics_text(preview="1", normal="0", test="2").replace("P00", "100"))
    assert read_qualtrics(path)["participant_id"].tolist() == ["1001", "1002", "1003"]


@pytest.mark.parametrize(
    ("kwargs", "clash"),
    [({"wave": "baseline"}, "wave"), ({"subject": "comment"}, "comment")],
)
def test_qualtrics_refuses_to_overwrite_columns(tmp_path, kwargs, clash):
    text = _qualtrics_text(preview="1", normal="0", test="2")
    if clash == "wave":
        text = text.replace(",comment\n", ",wave\n", 1)
    path = tmp_path / "q.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"already has column\\(s\\) \\['{clash}'\\]"):
        read_qualtrics(path, **kwargs)


def test_redcap_refuses_to_overwrite_columns(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("record_id,redcap_event_name,participant_id\n1,baseline_arm_1,P1\n")
    with pytest.raises(ValueError, match="already has column\\(s\\) \\['participant_id'\\]"):
        read_redcap(path)
    df = read_redcap(path, subject="record")
    assert df.columns.tolist() == ["record", "wave", "participant_id"]
