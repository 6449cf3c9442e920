"""Design validation, immutability and wave order of DelayedInterventionTrial."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from design_fixtures import DESIGN, make_trial_frames

from coaching_trials._errors import DataValidationError
from coaching_trials.design.delayed import DelayedInterventionTrial


def _build(long, participants=None, **overrides):
    kwargs = {**DESIGN, **overrides}
    return DelayedInterventionTrial(long, participants=participants, **kwargs)


# ---------------------------------------------------------------------------------------------
# bad designs: each mutation of valid data -> one DataValidationError naming the problem
# ---------------------------------------------------------------------------------------------
def _both_arms(long):
    out = long.copy()
    row = out.index[(out["participant_id"] == "P001") & (out["wave"] == "month3")][0]
    out.loc[row, "arm"] = "delayed" if out.loc[row, "arm"] == "immediate" else "immediate"
    return out, {}


def _no_post_crossover(long):
    out = long[~((long["arm"] == "delayed") & (long["wave"] == "month6"))]
    return out, {}


def _endpoint_equals_baseline(long):
    return long[long["wave"] != "month3"], {"endpoint_wave": "baseline"}


def _unknown_arm(long):
    out = long.copy()
    out.loc[out.index[:2], "arm"] = "placebo"
    return out, {}


def _unknown_wave(long):
    out = long.copy()
    out.loc[out.index[5], "wave"] = "month12"
    return out, {}


def _duplicate_rows(long):
    return pd.concat([long, long.iloc[[0, 3]]], ignore_index=True), {}


def _empty_arm(long):
    return long[long["arm"] == "immediate"], {"followup_waves": ()}


def _missing_column(long):
    return long.drop(columns="arm"), {}


def _missing_ids(long):
    out = long.copy()
    out.loc[out.index[[4, 9]], "participant_id"] = None
    return out, {}


def _endpoint_before_baseline(long):
    out = long.copy()
    out["wave"] = pd.Categorical(out["wave"], ["month3", "baseline", "month6"], ordered=True)
    return out, {}


def _wave_without_data(long):
    return long, {"followup_waves": ("month6", "month12")}


BAD = [
    # (mutation, check code, fragments the message must contain)
    (_both_arms, "subject_in_two_arms", ["P001", "delayed/immediate"]),
    (_no_post_crossover, "no_post_crossover_wave", ["delayed", "month6"]),
    (
        _endpoint_equals_baseline,
        "endpoint_not_after_baseline",
        ["endpoint_wave equals baseline_wave"],
    ),
    (_unknown_arm, "unknown_arm", ["'placebo'", "row(s) [0, 1]"]),
    (_unknown_wave, "unknown_wave", ["'month12'", "row(s) [5]"]),
    (_duplicate_rows, "duplicate_subject_wave", ["P001 @ baseline", "one row per"]),
    (_empty_arm, "empty_arm", ["delayed arm 'delayed' has no participants"]),
    (_missing_column, "missing_column", ["'arm'"]),
    (_missing_ids, "missing_value", ["'participant_id'", "[4, 9]"]),
    (_endpoint_before_baseline, "endpoint_not_after_baseline", ["comes before baseline_wave"]),
    (_wave_without_data, "wave_without_data", ["'month12' has no rows"]),
]


@pytest.mark.parametrize(
    "mutate, check, fragments", BAD, ids=[b[1] + ":" + b[0].__name__ for b in BAD]
)
def test_bad_design_is_named(frames, mutate, check, fragments):
    long, _ = frames
    bad, overrides = mutate(long)
    with pytest.raises(DataValidationError) as info:
        _build(bad, **overrides)
    err = info.value
    assert check in err.failure_cases["check"].tolist()
    for fragment in fragments:
        assert fragment in str(err)


def test_all_problems_reported_at_once(frames):
    long, _ = frames
    bad, _ = _both_arms(long)
    bad, _ = _unknown_arm(bad)
    bad, _ = _duplicate_rows(bad)
    with pytest.raises(DataValidationError) as info:
        _build(bad)
    checks = set(info.value.failure_cases["check"])
    assert {"subject_in_two_arms", "unknown_arm", "duplicate_subject_wave"} <= checks
    assert str(info.value).startswith(f"{len(info.value.failure_cases)} problem(s)")


def test_participants_disagreeing_with_responses(frames):
    long, part = frames
    part = part.copy()
    part.loc[0, "arm"] = "delayed" if part.loc[0, "arm"] == "immediate" else "immediate"
    extra = pd.DataFrame({"participant_id": ["P999"], "arm": ["immediate"], "wave": ["baseline"]})
    with pytest.raises(DataValidationError) as info:
        _build(pd.concat([long, extra], ignore_index=True), part)
    checks = set(info.value.failure_cases["check"])
    assert {"arm_mismatch", "unknown_participant"} <= checks
    assert "P001: responses" in str(info.value)
    assert "'P999'" in str(info.value)


@pytest.mark.parametrize(
    "overrides, exc, fragment",
    [
        ({"immediate": "delayed"}, ValueError, "two different arms"),
        ({"subject": 3}, TypeError, "`subject` must be a column name"),
        ({"followup_waves": [1]}, TypeError, "`followup_waves` must contain strings"),
        ({"arm": "wave"}, ValueError, "three different columns"),
    ],
)
def test_bad_options(frames, overrides, exc, fragment):
    long, _ = frames
    with pytest.raises(exc, match=fragment):
        _build(long, **overrides)


def test_responses_must_be_a_frame():
    with pytest.raises(TypeError, match="`responses` must be a pandas DataFrame"):
        DelayedInterventionTrial([1, 2], **DESIGN)


@pytest.mark.parametrize(
    "method", ["compare", "delayed_arm_prepost", "pooled_prepost", "durability", "flow"]
)
def test_outcome_not_scored_is_named(trial, method):
    with pytest.raises(DataValidationError) as info:
        getattr(trial, method)("pfi_we")
    msg = str(info.value)
    assert "'pfi_we' is not a column" in msg and "ct.score" in msg
    assert info.value.failure_cases["column"].tolist() == ["pfi_we"]


def test_outcome_not_numeric_is_named(frames):
    long, _ = frames
    long = long.assign(note="x")
    trial = _build(long)
    with pytest.raises(DataValidationError, match="'note' has dtype"):
        trial.compare("note")


def test_prepost_without_followup_wave_is_explained(frames):
    long, _ = frames
    trial = _build(long[long["wave"] != "month6"], followup_waves=())
    for method in ("delayed_arm_prepost", "pooled_prepost", "durability"):
        with pytest.raises(ValueError, match="needs a post-crossover wave"):
            getattr(trial, method)("pfi_burnout")


# ---------------------------------------------------------------------------------------------
# immutability and copies
# ---------------------------------------------------------------------------------------------
def test_inputs_not_mutated_and_trial_frozen(frames):
    long, part = frames
    long_before, part_before = long.copy(deep=True), part.copy(deep=True)
    trial = _build(long, part)
    trial.flow("pfi_burnout")
    trial.baseline_table()
    trial.delayed_arm_prepost("pfi_burnout")
    pd.testing.assert_frame_equal(long, long_before)
    pd.testing.assert_frame_equal(part, part_before)
    with pytest.raises(AttributeError, match="immutable"):
        trial.endpoint = "month6"
    with pytest.raises(AttributeError, match="immutable"):
        del trial._responses
    # changing the caller's frame after construction changes nothing inside the trial
    before = trial.delayed_arm_prepost("pfi_burnout").to_frame()
    long.loc[:, "pfi_burnout"] = 0.0
    view = trial.responses
    view.loc[:, "pfi_burnout"] = 99.0
    pd.testing.assert_frame_equal(trial.delayed_arm_prepost("pfi_burnout").to_frame(), before)


# ---------------------------------------------------------------------------------------------
# wave order and participants
# ---------------------------------------------------------------------------------------------
def test_wave_order_from_declaration_and_categorical(frames):
    long, _ = frames
    assert _build(long).waves == ("baseline", "month3", "month6")
    cat = long.assign(
        wave=pd.Categorical(long["wave"], ["baseline", "month1", "month3", "month6"], ordered=True)
    )
    trial = _build(cat, followup_waves=("month6",))
    assert trial.waves == ("baseline", "month3", "month6")
    assert trial.responses["wave"].cat.ordered


def test_participants_without_responses_are_randomized_not_assessed(frames):
    long, part = frames
    extra = pd.DataFrame({"participant_id": ["P900"], "arm": ["delayed"], "age": [50.0]})
    trial = _build(long, pd.concat([part, extra], ignore_index=True))
    flow = trial.flow()
    rand = flow.query("stage == 'randomized' and arm == 'delayed'")["n"].item()
    assert rand == (part["arm"] == "delayed").sum() + 1
    assert "randomized participant without any response row" in trial.audit["reason"].tolist()


def test_session_log_is_counted(frames):
    long, part = frames
    log = pd.DataFrame({"participant_id": ["P001", "P001", "P002"]})
    trial = _build(long, part.drop(columns="sessions_attended"), sessions=log)
    got = trial.participants.set_index("participant_id")["sessions_attended"]
    assert got["P001"] == 2 and got["P002"] == 1 and got["P003"] == 0


def test_derived_participants_one_row_each(frames):
    long, _ = frames
    trial = _build(long)
    p = trial.participants
    assert p["participant_id"].is_unique and len(p) == long["participant_id"].nunique()
    assert np.all(p["arm"].isin(["immediate", "delayed"]))


def test_make_trial_frames_is_deterministic():
    a, b = make_trial_frames(3), make_trial_frames(3)
    pd.testing.assert_frame_equal(a[0], b[0])
