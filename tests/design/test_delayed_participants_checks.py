"""Checks of the ``participants`` table (withdrawal waves, sessions attended) and the level order
of categorical variables in Table 1 when participants come from text (CSV)."""

from __future__ import annotations

import io
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from design_fixtures import DESIGN, make_trial_frames
from hypothesis import given
from hypothesis import strategies as st

from coaching_trials._errors import DataValidationError
from coaching_trials.datasets import load_example
from coaching_trials.design._tables import natural_level_order
from coaching_trials.design.delayed import DelayedInterventionTrial

AGE_BANDS = ["<40", "40-49", "50-59", "60+"]


def _build(long, participants, **overrides):
    return DelayedInterventionTrial(long, participants=participants, **{**DESIGN, **overrides})


def _with_admin(part: pd.DataFrame) -> pd.DataFrame:
    """The fixture's participants with text withdrawal columns, as read from a CSV."""
    out = part.copy()
    out["withdrawn_before"] = pd.Series([None] * len(out), dtype=object)
    out["last_wave"] = pd.Series(["month6"] * len(out), dtype=object)
    out["sessions_attended"] = out["sessions_attended"].astype(object)
    return out


def _set(column, rows, values):
    def change(part):
        out = _with_admin(part)
        for row, value in zip(rows, values, strict=True):
            out.loc[row, column] = value
        return out

    change.__name__ = f"{column}={values!r}"
    return change


# ---------------------------------------------------------------------------------------------
# 1. bad participants values raise, naming column, participant ids, rows, values, expectation
# ---------------------------------------------------------------------------------------------
BAD_PARTICIPANTS = [
    # (change, check code, column, rows, fragments of the message)
    (
        _set("withdrawn_before", [3], ["T5"]),
        "unknown_wave",
        "withdrawn_before",
        [3],
        ["'withdrawn_before'", "['T5']", "P004 (row 3)", "['baseline', 'month3', 'month6']"],
    ),
    (
        _set("withdrawn_before", [0, 8], ["month12", " month3"]),
        "unknown_wave",
        "withdrawn_before",
        [0, 8],
        ["[' month3', 'month12']", "P001 (row 0)", "P009 (row 8)"],
    ),
    (
        _set("last_wave", [5], ["week2"]),
        "unknown_wave",
        "last_wave",
        [5],
        ["'last_wave'", "['week2']", "P006 (row 5)"],
    ),
    (
        _set("sessions_attended", [1], ["six"]),
        "not_numeric",
        "sessions_attended",
        [1],
        ["'sessions_attended'", "['six']", "P002 (row 1)", "whole number >= 0"],
    ),
    (
        _set("sessions_attended", [2, 6], [-1, 2.5]),
        "invalid_count",
        "sessions_attended",
        [2, 6],
        ["[-1, 2.5]", "P003 (row 2)", "P007 (row 6)", "whole numbers >= 0"],
    ),
    (
        _set("sessions_attended", [4], ["-3"]),
        "invalid_count",
        "sessions_attended",
        [4],
        ["[-3]", "P005 (row 4)"],
    ),
    (
        _set("sessions_attended", [7], [np.inf]),
        "invalid_count",
        "sessions_attended",
        [7],
        ["[inf]", "P008 (row 7)"],
    ),
]


@pytest.mark.parametrize(
    "change, check, column, rows, fragments",
    BAD_PARTICIPANTS,
    ids=[f"{b[1]}:{b[0].__name__}" for b in BAD_PARTICIPANTS],
)
def test_bad_participants_value_is_named(frames, change, check, column, rows, fragments):
    long, part = frames
    with pytest.raises(DataValidationError) as info:
        _build(long, change(part))
    cases = info.value.failure_cases
    assert cases["check"].tolist() == [check]
    assert cases["column"].tolist() == [column]
    assert cases["rows"].iloc[0] == rows
    for fragment in fragments:
        assert fragment in str(info.value)


def test_numeric_sessions_column_with_negative_and_fraction(frames):
    long, part = frames
    part = part.assign(sessions_attended=part["sessions_attended"].astype(float))
    part.loc[[0, 9], "sessions_attended"] = [-2.0, 3.25]
    with pytest.raises(DataValidationError) as info:
        _build(long, part)
    cases = info.value.failure_cases
    assert cases["check"].tolist() == ["invalid_count"]
    assert cases["values"].iloc[0] == [-2, 3.25]
    assert cases["rows"].iloc[0] == [0, 9]


def test_every_participants_problem_reported_at_once(frames):
    long, part = frames
    bad = _with_admin(part)
    bad.loc[3, "withdrawn_before"] = "T5"
    bad.loc[1, "sessions_attended"] = "six"
    bad.loc[2, "sessions_attended"] = -1
    bad.loc[0, "arm"] = "placebo"
    with pytest.raises(DataValidationError) as info:
        _build(long, bad)
    checks = info.value.failure_cases["check"].tolist()
    assert {"unknown_wave", "not_numeric", "invalid_count", "unknown_arm"} <= set(checks)
    assert str(info.value).startswith(f"{len(checks)} problem(s)")


def test_named_sessions_column_is_checked(frames):
    long, part = frames
    part = part.assign(n_sessions=part["sessions_attended"].astype(object))
    part.loc[5, "n_sessions"] = "a few"
    with pytest.raises(DataValidationError) as info:
        _build(long, part, sessions="n_sessions")
    assert info.value.failure_cases["column"].tolist() == ["n_sessions"]
    assert "['a few']" in str(info.value)


def test_row_labels_are_the_callers_index(frames):
    long, part = frames
    bad = _with_admin(part).set_axis([f"r{i}" for i in range(len(part))])
    bad.loc["r3", "withdrawn_before"] = "T5"
    with pytest.raises(DataValidationError) as info:
        _build(long, bad)
    assert info.value.failure_cases["rows"].iloc[0] == ["r3"]
    assert "P004 (row 'r3')" in str(info.value)


# ---------------------------------------------------------------------------------------------
# 2. valid values are accepted (no false alarms)
# ---------------------------------------------------------------------------------------------
def test_valid_text_values_accepted_and_feed_dose_response(frames):
    long, part = frames
    good = _with_admin(part)
    good.loc[3, "withdrawn_before"] = "month3"
    good.loc[4, "withdrawn_before"] = np.nan
    good.loc[1, "sessions_attended"] = " 4 "  # text from a CSV
    good.loc[2, "sessions_attended"] = "5.0"
    good.loc[6, "sessions_attended"] = ""  # blank cell: missing
    good.loc[7, "sessions_attended"] = None
    trial = _build(long, good)
    res = trial.dose_response("pfi_burnout").to_frame()
    numbers = part["sessions_attended"].astype(float)
    numbers[[1, 2, 6, 7]] = [4.0, 5.0, np.nan, np.nan]
    ref = _build(long, part.assign(sessions_attended=numbers)).dose_response("pfi_burnout")
    assert res["estimate"].iloc[0] == pytest.approx(ref.estimate, rel=1e-12)
    assert res["n_treated"].iloc[0] == ref.to_frame()["n_treated"].iloc[0]


def test_sample_participants_read_from_csv_are_accepted():
    ex = load_example()
    text = (resources.files("coaching_trials") / "data" / "sample" / "participants.csv").read_text(
        encoding="utf-8"
    )
    part = pd.read_csv(io.StringIO(text))
    assert part["withdrawn_before"].notna().any()  # the check is exercised
    trial = DelayedInterventionTrial(ex.responses, participants=part, **ex.design)
    assert len(trial.participants) == len(part)


def test_withdrawal_before_a_declared_but_unanalysed_category_is_accepted(frames):
    # an ordered wave column declares the waves that exist, observed or not
    long, part = frames
    long = long.assign(
        wave=pd.Categorical(long["wave"], ["baseline", "month3", "month6", "month12"], ordered=True)
    )
    good = _with_admin(part)
    good.loc[2, "withdrawn_before"] = "month12"
    trial = _build(long, good)
    assert trial.waves == ("baseline", "month3", "month6")


def test_session_log_replaces_the_participants_column(frames):
    # counted from the log, the participants' own column is not used (nor checked)
    long, part = frames
    bad = _with_admin(part)
    bad.loc[1, "sessions_attended"] = "six"
    log = pd.DataFrame({"participant_id": ["P001", "P001", "P002"]})
    trial = _build(long, bad, sessions=log)
    got = trial.participants.set_index("participant_id")["sessions_attended"]
    assert got[["P001", "P002", "P003"]].tolist() == [2, 1, 0]


# ---------------------------------------------------------------------------------------------
# 3. natural level order
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "levels, expected",
    [
        (["60+", "50-59", "<40", "40-49"], ["<40", "40-49", "50-59", "60+"]),
        (["10+ years", "1-5 years", "6-9 years"], ["1-5 years", "6-9 years", "10+ years"]),
        (["40+", "<40"], ["<40", "40+"]),
        ([">=65", "<65"], ["<65", ">=65"]),
        ([">40", "40", "<=40"], ["<=40", "40", ">40"]),
        (["1.5-2", "<1.5", "0.5-1"], ["0.5-1", "<1.5", "1.5-2"]),
        ([" 9", "10"], [" 9", "10"]),
        (["\u226540", "\u226440"], ["\u226440", "\u226540"]),
        (["male", "female", "nonbinary"], ["female", "male", "nonbinary"]),
        (["<40", "unknown", "40-49"], ["40-49", "<40", "unknown"]),  # not all numeric: alphabetical
        ([3, 1, 2], [1, 2, 3]),
        ([], []),
    ],
)
def test_natural_level_order(levels, expected):
    assert natural_level_order(levels) == expected


@given(
    st.lists(
        st.one_of(
            st.from_regex(r"\A(<|>|<=|>=)?[0-9]{1,3}(\+|-[0-9]{1,3})?( years)?\Z"),
            st.text(alphabet="<>=+-. 0123456789abc", max_size=4),
        ),
        unique=True,
        max_size=8,
    ),
    st.randoms(use_true_random=False),
)
def test_natural_level_order_is_a_permutation_independent_of_input_order(levels, rnd):
    got = natural_level_order(levels)
    assert sorted(got) == sorted(levels)
    shuffled = list(levels)
    rnd.shuffle(shuffled)
    assert natural_level_order(shuffled) == got


# ---------------------------------------------------------------------------------------------
# 4. Table 1 level order
# ---------------------------------------------------------------------------------------------
def _bands(age: pd.Series) -> np.ndarray:
    return np.select([age < 40, age < 50, age < 60], AGE_BANDS[:3], AGE_BANDS[3])


@pytest.fixture
def banded(frames):
    long, part = frames
    part = part.assign(age_band=_bands(part["age"]).astype(object))
    assert set(part["age_band"]) == set(AGE_BANDS)
    return long, part


def _levels(result, variable="age_band"):
    tidy = result.to_frame()
    return tidy.loc[(tidy["variable"] == variable) & (tidy["arm"] == "overall"), "level"].tolist()


def test_text_age_band_ordered_naturally_with_right_counts(banded):
    long, part = banded
    res = _build(long, part).baseline_table(["age_band"])
    assert _levels(res) == AGE_BANDS
    assert res.formatted["level"].tolist() == ["n (%)", *AGE_BANDS]
    tidy = res.to_frame().set_index(["arm", "level"])
    for arm in ("immediate", "delayed"):
        counts = part.loc[part["arm"] == arm, "age_band"].value_counts()
        for band in AGE_BANDS:
            assert tidy.loc[(arm, band), "count"] == counts.get(band, 0)


def test_text_age_band_from_a_csv_round_trip(banded):
    long, part = banded
    buffer = io.StringIO()
    part.to_csv(buffer, index=False)
    from_csv = pd.read_csv(io.StringIO(buffer.getvalue()))
    res = _build(long, from_csv).baseline_table()
    assert _levels(res) == AGE_BANDS


@pytest.mark.parametrize("ordered", [True, False])
def test_categorical_order_wins_over_natural_order(banded, ordered):
    long, part = banded
    own = ["60+", "<40", "50-59", "40-49"]
    part = part.assign(age_band=pd.Categorical(part["age_band"], own, ordered=ordered))
    assert _levels(_build(long, part).baseline_table(["age_band"])) == own


def test_text_levels_not_starting_with_numbers_stay_alphabetical(banded):
    long, part = banded
    res = _build(long, part).baseline_table(["gender"])
    assert _levels(res, "gender") == sorted(part["gender"].unique())


@pytest.mark.parametrize(
    "categorical",
    [False, True],
    ids=["text", "categorical"],
)
def test_explicit_levels_set_the_order_and_show_empty_levels(banded, categorical):
    long, part = banded
    if categorical:  # an explicit order wins over a Categorical's own order too
        part = part.assign(age_band=pd.Categorical(part["age_band"], AGE_BANDS, ordered=True))
    order = ["60+", "50-59", "40-49", "<40", "not reported"]
    res = _build(long, part).baseline_table(["age_band"], levels={"age_band": order})
    assert _levels(res) == order
    tidy = res.to_frame()
    empty = tidy[tidy["level"] == "not reported"]
    assert (empty["count"] == 0).all() and (empty["percent"] == 0).all()


def test_explicit_levels_make_a_numeric_column_categorical(frames):
    long, part = frames
    res = _build(long, part).baseline_table(
        ["sessions_attended"], levels={"sessions_attended": [6, 5, 4, 3, 2]}
    )
    tidy = res.to_frame()
    assert set(tidy["kind"]) == {"categorical"}
    assert _levels(res, "sessions_attended") == ["6", "5", "4", "3", "2"]


def test_level_order_does_not_change_the_multinomial_smd(banded):
    # Yang & Dalton's SMD does not depend on which level is the reference (dropped) one
    long, part = banded
    trial = _build(long, part)
    natural = trial.baseline_table(["age_band"]).to_frame()
    reverse = trial.baseline_table(["age_band"], levels={"age_band": AGE_BANDS[::-1]}).to_frame()
    rows = natural.set_index(["arm", "level"]).sort_index()
    rrows = reverse.set_index(["arm", "level"]).sort_index()
    assert np.allclose(rows["count"], rrows["count"])
    assert np.allclose(rows["smd"], rrows["smd"], rtol=1e-12)
    fmt_n = trial.baseline_table(["age_band"]).formatted
    fmt_r = trial.baseline_table(["age_band"], levels={"age_band": AGE_BANDS[::-1]}).formatted
    assert fmt_n.loc[0, "SMD"] == fmt_r.loc[0, "SMD"] != ""


@pytest.mark.parametrize(
    "levels, exc, check, fragments",
    [
        (
            {"age_band": ["<40", "40-49", "50-59"]},
            DataValidationError,
            "unlisted_level",
            ["['60+']", "not in `levels['age_band']`"],
        ),
        (
            {"age_band": [*AGE_BANDS, "<40"]},
            DataValidationError,
            "duplicate_level",
            ["['<40'] more than once"],
        ),
        (
            {"bmi_band": ["low", "high"]},
            DataValidationError,
            "unknown_variable",
            ["'bmi_band'", "not a variable of the table"],
        ),
        ({"age_band": "<40"}, DataValidationError, "bad_levels", ["must be a list of levels"]),
        (["<40", "40-49"], TypeError, None, ["`levels` must be a mapping"]),
    ],
)
def test_bad_levels_are_named(banded, levels, exc, check, fragments):
    long, part = banded
    trial = _build(long, part)
    with pytest.raises(exc) as info:
        trial.baseline_table(["age_band", "gender"], levels=levels)
    if check is not None:
        assert info.value.failure_cases["check"].tolist() == [check]
    for fragment in fragments:
        assert fragment in str(info.value)


def test_unlisted_level_names_the_participants(banded):
    long, part = banded
    part = part.copy()
    part.loc[0, "age_band"] = "unknown"
    with pytest.raises(DataValidationError) as info:
        _build(long, part).baseline_table(["age_band"], levels={"age_band": AGE_BANDS})
    assert "['unknown']" in str(info.value) and "['P001']" in str(info.value)
    assert info.value.failure_cases["values"].iloc[0] == ["unknown"]


def test_inputs_not_mutated(banded):
    long, part = banded
    before = part.copy(deep=True)
    _build(long, part).baseline_table(["age_band"], levels={"age_band": AGE_BANDS[::-1]})
    pd.testing.assert_frame_equal(part, before)


def test_make_trial_frames_fixture_is_unchanged():
    # guard: the tests above rely on the fixture's ids P001.. in row order
    _, part = make_trial_frames()
    assert part["participant_id"].iloc[:10].tolist() == [f"P{i:03d}" for i in range(1, 11)]
