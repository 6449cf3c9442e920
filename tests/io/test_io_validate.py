"""Tests for coaching_trials.io.validate: every rule, all problems reported together."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coaching_trials._errors import FAILURE_COLUMNS, DataValidationError, ProblemLog
from coaching_trials.io.validate import (
    ValidationReport,
    check_duplicates,
    check_instrument_items,
    check_one_arm_per_subject,
    validate_responses,
)

ARMS = ("immediate", "delayed")
WAVES = ("baseline", "month3", "month6")


@dataclass(frozen=True)
class FakeInstrument:
    """Stands in for an Instrument: only the attributes the item checks read."""

    id: str = "toy"
    items: tuple[str, ...] = ("toy_01", "toy_02")
    response_min: float = 0
    response_max: float = 4
    integer_responses: bool = True


TOY = FakeInstrument()


@pytest.fixture
def clean() -> pd.DataFrame:
    ids = ["P001", "P002", "P003", "P004"]
    arm = {"P001": "immediate", "P002": "immediate", "P003": "delayed", "P004": "delayed"}
    rows = [(pid, arm[pid], wave) for pid in ids for wave in WAVES]
    frame = pd.DataFrame(rows, columns=["participant_id", "arm", "wave"])
    rng = np.random.default_rng(1)
    frame["toy_01"] = rng.integers(0, 5, len(frame))
    frame["toy_02"] = rng.integers(0, 5, len(frame)).astype(float)
    frame.loc[3, "toy_02"] = np.nan  # a missing answer is not a validation problem
    return frame


def _validate(frame: pd.DataFrame, **kwargs) -> ValidationReport:
    options = {"arms": ARMS, "waves": WAVES, "instruments": (TOY,), "raise_on_error": False}
    return validate_responses(frame, **{**options, **kwargs})


def test_clean_frame_passes(clean):
    report = validate_responses(clean, arms=ARMS, waves=WAVES, instruments=(TOY,))
    assert report.ok
    assert report.n_rows == len(clean)
    assert report.problems.empty
    assert list(report.problems.columns) == [*FAILURE_COLUMNS, "message"]
    report.raise_if_problems()  # no-op
    assert "no problems found" in repr(report)
    assert "no problems found" in report._repr_html_()


def _drop_column(df):
    return df.drop(columns="wave")


def _missing_arm(df):
    df.loc[[2, 5], "arm"] = None
    return df


def _blank_id(df):
    df.loc[7, "participant_id"] = "  "
    return df


def _unknown_arm(df):
    df.loc[[0, 1, 2], "arm"] = "placebo"
    return df


def _unknown_wave(df):
    df.loc[4, "wave"] = "month12"
    return df


def _duplicate(df):
    return pd.concat([df, df.iloc[[0]]])  # row label 0 appears twice


def _two_arms(df):
    df.loc[1, "arm"] = "delayed"
    return df


def _empty_arm(df):
    return df[df["arm"] != "delayed"]


def _missing_item(df):
    return df.drop(columns="toy_02")


def _text_item(df):
    df["toy_01"] = df["toy_01"].astype(object)
    df.loc[[3, 4], "toy_01"] = "often"
    return df


def _out_of_range(df):
    df.loc[[5, 9], "toy_01"] = 7
    return df


def _fraction(df):
    df.loc[6, "toy_02"] = 2.5
    return df


CASES = [
    # (mutation, check code, column, rows, phrases the message must contain)
    (_drop_column, "missing_column", "wave", [], ["'wave' is missing"]),
    (_missing_arm, "missing_value", "arm", [2, 5], ["'arm'", "2 row(s)", "[2, 5]"]),
    (_blank_id, "missing_value", "participant_id", [7], ["'participant_id'", "[7]"]),
    (_unknown_arm, "unknown_arm", "arm", [0, 1, 2], ["'placebo'", "[0, 1, 2]", "'immediate'"]),
    (_unknown_wave, "unknown_wave", "wave", [4], ["'month12'", "[4]", "'month6'"]),
    (_duplicate, "duplicate_rows", "participant_id", [0, 0], ["P001/baseline", "[0, 0]"]),
    (_two_arms, "subject_in_several_arms", "arm", [0, 1, 2], ["P001 in ['delayed', 'immediate']"]),
    (_empty_arm, "empty_arm", "arm", [], ["'delayed'", "have no rows"]),
    (_missing_item, "missing_items", "toy_02", [], ["instrument 'toy'", "'toy_02'"]),
    (_text_item, "non_numeric", "toy_01", [3, 4], ["'often'", "[3, 4]", "0 to 4"]),
    (_out_of_range, "out_of_range", "toy_01", [5, 9], ["[7]", "[5, 9]", "outside 0 to 4"]),
    (_fraction, "non_integer", "toy_02", [6], ["[2.5]", "[6]", "whole-number"]),
]


@pytest.mark.parametrize(
    ("mutate", "check", "column", "rows", "phrases"), CASES, ids=[c[1] for c in CASES]
)
def test_each_rule(clean, mutate, check, column, rows, phrases):
    frame = mutate(clean.copy())
    report = _validate(frame)
    assert not report.ok
    assert report.problems["check"].tolist() == [check]
    problem = report.problems.iloc[0]
    assert problem["column"] == column
    assert list(problem["rows"]) == rows
    assert problem["n"] == len(rows)
    assert problem["expected"]
    for phrase in phrases:
        assert phrase in problem["message"]
    with pytest.raises(DataValidationError) as info:
        report.raise_if_problems()
    assert problem["message"] in str(info.value)
    assert info.value.failure_cases["check"].tolist() == [check]


def test_all_problems_reported_in_one_error(clean):
    frame = clean.copy()
    for mutate, *_ in CASES:
        if mutate not in (_drop_column, _empty_arm, _missing_item):
            frame = mutate(frame)
    with pytest.raises(DataValidationError) as info:
        validate_responses(frame, arms=ARMS, waves=WAVES, instruments=(TOY,))
    checks = info.value.failure_cases["check"].tolist()
    assert set(checks) == {
        "missing_value",
        "unknown_arm",
        "unknown_wave",
        "duplicate_rows",
        "subject_in_several_arms",
        "non_numeric",
        "out_of_range",
        "non_integer",
    }
    message = str(info.value)
    assert message.startswith(f"{len(checks)} problem(s) found in responses:")
    assert message.count("\n  - ") == len(checks)


def test_required_columns_and_missing_instrument_items_together(clean):
    frame = clean.drop(columns=["arm", "toy_01"])
    report = _validate(frame, required=("site", "coach_id"))
    assert report.problems["check"].tolist() == [
        "missing_column",
        "missing_column",
        "missing_column",
        "missing_items",
    ]
    assert report.problems["column"].tolist()[:3] == ["arm", "site", "coach_id"]


def test_rows_are_truncated_with_a_count_in_the_message(clean):
    frame = clean.copy()
    frame["toy_01"] = 9
    report = _validate(frame)
    message = report.problems.loc[0, "message"]
    assert "... (7 more)" in message
    assert report.problems.loc[0, "n"] == 12
    assert len(report.problems.loc[0, "rows"]) == 12  # the table keeps every label


def test_string_index_labels_are_named(clean):
    frame = clean.set_axis([f"r{i}" for i in range(len(clean))])
    frame.loc["r3", "arm"] = "placebo"
    report = _validate(frame)
    assert "['r3']" in report.problems.loc[0, "message"]


def test_raise_on_error_default_raises(clean):
    frame = _unknown_arm(clean.copy())
    with pytest.raises(DataValidationError, match="placebo") as info:
        validate_responses(frame, arms=ARMS)
    assert list(info.value.failure_cases.columns) == [*FAILURE_COLUMNS, "message"]


def test_optional_keys_can_be_skipped(clean):
    single = clean[clean["wave"] == "baseline"].drop(columns="wave")
    assert validate_responses(single, wave=None, arms=ARMS).ok
    # without the wave key, a participant's repeated rows are duplicates
    report = validate_responses(clean.drop(columns="wave"), wave=None, raise_on_error=False)
    assert report.problems["check"].tolist() == ["duplicate_rows"]


def test_registered_instrument_by_id(clean):
    frame = clean[["participant_id", "arm", "wave"]].copy()
    for i in range(1, 17):
        frame[f"pfi_{i:02d}"] = 2
    frame.loc[0, "pfi_16"] = 5
    report = validate_responses(frame, instruments="pfi", raise_on_error=False)
    assert report.problems["check"].tolist() == ["out_of_range"]
    assert report.problems.loc[0, "column"] == "pfi_16"


def test_unknown_instrument_id_is_an_option_error(clean):
    with pytest.raises(ValueError, match="`instrument` must be one of"):
        validate_responses(clean, instruments=("no_such_scale",))


def test_instrument_entry_of_wrong_type(clean):
    with pytest.raises(TypeError, match="instrument id \\(str\\) or an Instrument; got int"):
        validate_responses(clean, instruments=(3,))


def test_non_frame_input():
    with pytest.raises(TypeError, match="`data` must be a pandas DataFrame; got list"):
        validate_responses([1, 2])


def test_validation_does_not_mutate(clean):
    frame = _text_item(_unknown_arm(clean.copy()))
    before = frame.copy()
    _validate(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_categorical_and_string_key_columns(clean):
    frame = clean.astype({"wave": pd.CategoricalDtype(WAVES, ordered=True), "arm": "string"})
    assert _validate(frame).ok


def test_report_is_frozen(clean):
    report = _validate(clean)
    with pytest.raises(AttributeError):
        report.ok = False  # type: ignore[misc]


def test_report_problems_table_cannot_be_edited_in_place(clean):
    bad = clean.copy()
    bad = pd.concat([bad, bad.iloc[[0]]], ignore_index=True)
    report = _validate(bad)
    assert not report.problems.empty
    before = report.problems.copy(deep=True)
    problems = report.problems
    problems["check"] = "edited"
    pd.testing.assert_frame_equal(report.problems, before)


def test_check_functions_are_reusable_on_their_own(clean):
    log = ProblemLog("design")
    frame = _two_arms(clean.copy())
    check_one_arm_per_subject(frame, "participant_id", "arm", log)
    check_duplicates(frame, ["participant_id", "wave"], log)
    check_instrument_items(frame, FakeInstrument(response_max=3), log)
    assert [p["check"] for p in log.problems] == [
        "subject_in_several_arms",
        "out_of_range",
        "out_of_range",
    ]
    with pytest.raises(DataValidationError, match="3 problem\\(s\\) found in design"):
        log.raise_if_any()


@settings(max_examples=40, deadline=None)
@given(st.permutations(range(12)))
def test_row_order_does_not_change_which_problems_are_found(order):
    ids = ["P001", "P002", "P003", "P004"]
    rows = [(pid, "immediate" if pid < "P003" else "delayed", w) for pid in ids for w in WAVES]
    frame = pd.DataFrame(rows, columns=["participant_id", "arm", "wave"])
    frame["toy_01"] = [0, 1, 2, 3, 4, 9, 0, 1, 2, 3, 4, 0]
    frame["toy_02"] = 1
    frame.loc[4, "arm"] = "delayed"
    shuffled = frame.iloc[list(order)]
    a = _validate(frame).problems
    b = _validate(shuffled).problems
    assert a["check"].tolist() == b["check"].tolist()
    for rows_a, rows_b in zip(a["rows"], b["rows"], strict=True):
        assert sorted(rows_a) == sorted(rows_b)


def test_validate_is_the_design_name_for_validate_responses():
    import coaching_trials as ct

    assert ct.validate is ct.validate_responses


def test_df_keyword_is_now_data():
    frame = pd.DataFrame({"participant_id": ["P1"], "arm": ["a"], "wave": ["w"]})
    with pytest.warns(FutureWarning, match=r"validate_responses\(df=\.\.\.\) is now"):
        report = validate_responses(df=frame, raise_on_error=False)
    assert report.ok and validate_responses(data=frame).ok
