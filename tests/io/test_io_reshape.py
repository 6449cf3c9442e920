"""Tests for coaching_trials.io.reshape: to_long / to_wide and their round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coaching_trials._errors import DataValidationError
from coaching_trials.io.reshape import to_long, to_wide

WAVES = ("baseline", "month3", "month6")


@pytest.fixture
def wide() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "participant_id": ["P002", "P001"],
            "arm": ["delayed", "immediate"],
            "pfi_01__baseline": [2, 3],
            "pfi_01__month3": [2, 1],
            "pfi_01__month6": [1, 0],
            "age": [41, 35],
            "qol_01__baseline": [6.0, np.nan],
            "qol_01__month6": [7.0, 8.0],
        }
    )


def test_to_long_layout(wide):
    long = to_long(wide)
    assert list(long.columns) == ["participant_id", "arm", "age", "wave", "pfi_01", "qol_01"]
    assert long["participant_id"].tolist() == ["P002"] * 3 + ["P001"] * 3  # input order kept
    assert long["wave"].tolist() == list(WAVES) * 2
    assert isinstance(long["wave"].dtype, pd.CategoricalDtype)
    assert long["wave"].cat.ordered
    assert long["wave"].cat.categories.tolist() == list(WAVES)
    assert long["pfi_01"].tolist() == [2, 2, 1, 3, 1, 0]
    assert pd.api.types.is_integer_dtype(long["pfi_01"])  # no NaN introduced -> stays int
    # qol_01 has no month3 column: missing there, nothing dropped
    assert long["qol_01"].isna().tolist() == [False, True, False, True, True, False]
    assert long["arm"].tolist() == ["delayed"] * 3 + ["immediate"] * 3
    assert long["age"].tolist() == [41] * 3 + [35] * 3
    assert long.index.tolist() == list(range(6))


def test_to_long_wave_order_follows_waves_argument(wide):
    long = to_long(wide, waves=("month6", "month3", "baseline"))
    assert long["wave"].cat.categories.tolist() == ["month6", "month3", "baseline"]
    assert long["pfi_01"].tolist()[:3] == [1, 2, 2]


def test_to_long_prefix_and_custom_separator():
    wide = pd.DataFrame({"pid": ["a", "b"], "t0.score": [1, 2], "t1.score": [3, 4]})
    long = to_long(
        wide, subject="pid", waves=("t0", "t1"), sep=".", wave_position="prefix", wave="time"
    )
    assert list(long.columns) == ["pid", "time", "score"]
    assert long["score"].tolist() == [1, 3, 2, 4]


def test_to_long_does_not_mutate_input(wide):
    before = wide.copy()
    to_long(wide)
    pd.testing.assert_frame_equal(wide, before)


def test_to_long_reports_every_problem_at_once(wide):
    bad = pd.concat([wide, wide.iloc[[0]]], ignore_index=True)
    bad.loc[1, "participant_id"] = None
    bad["pfi_02__month12"] = 1
    with pytest.raises(DataValidationError) as info:
        to_long(bad)
    cases = info.value.failure_cases
    assert cases["check"].tolist() == ["missing_id", "duplicate_id", "unknown_wave_column"]
    assert cases.loc[0, "rows"] == [1]
    assert cases.loc[1, "rows"] == [0, 2]
    assert "P002" in str(info.value)
    assert "pfi_02__month12" in str(info.value)


def test_to_long_empty_wave(wide):
    with pytest.raises(DataValidationError, match="month12.*have no columns"):
        to_long(wide, waves=(*WAVES, "month12"))


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"wave_position": "middle"}, ValueError, "`wave_position` must be one of"),
        ({"waves": ()}, ValueError, "non-empty sequence"),
        ({"waves": "baseline"}, ValueError, "non-empty sequence"),
        ({"waves": ("baseline", "baseline")}, ValueError, "must not repeat"),
        ({"subject": "record"}, ValueError, "`subject` 'record' is not a column"),
        ({"sep": ""}, ValueError, "`sep` must be a non-empty"),
        ({"wave": "arm"}, ValueError, "already has a column named 'arm'"),
    ],
)
def test_to_long_bad_options(wide, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        to_long(wide, **kwargs)


def test_to_long_rejects_non_frames():
    with pytest.raises(TypeError, match="`data` must be a pandas DataFrame; got dict"):
        to_long({"participant_id": ["a"]})


def test_to_long_stub_clashing_with_constant_column():
    wide = pd.DataFrame({"participant_id": ["a"], "arm": ["x"], "arm__baseline": ["y"]})
    with pytest.raises(DataValidationError, match="clash"):
        to_long(wide, waves=("baseline",))


def test_to_wide_layout(wide):
    long = to_long(wide)
    back = to_wide(long)
    assert back.columns.tolist()[:4] == ["participant_id", "arm", "age", "pfi_01__baseline"]
    assert back["participant_id"].tolist() == ["P002", "P001"]
    assert "qol_01__month3" in back.columns and back["qol_01__month3"].isna().all()


def test_to_wide_unbalanced_long_fills_missing():
    long = pd.DataFrame(
        {
            "participant_id": ["a", "a", "b"],
            "wave": ["baseline", "month3", "baseline"],
            "arm": ["x", "x", "y"],
            "score": [1.0, 2.0, 3.0],
        }
    )
    wide = to_wide(long)
    assert wide["score__month3"].isna().tolist() == [False, True]
    assert wide["arm"].tolist() == ["x", "y"]


def test_to_wide_uses_categorical_order():
    long = pd.DataFrame(
        {
            "participant_id": ["a", "a"],
            "wave": pd.Categorical(["month3", "baseline"], categories=WAVES, ordered=True),
            "score": [2, 1],
        }
    )
    wide = to_wide(long, constant=())
    assert wide.columns.tolist() == ["participant_id", "score__baseline", "score__month3"]


def test_to_wide_prefix():
    long = pd.DataFrame({"pid": ["a", "a"], "t": ["t0", "t1"], "score": [1, 2]})
    wide = to_wide(long, subject="pid", wave="t", sep=".", wave_position="prefix")
    assert wide.columns.tolist() == ["pid", "t0.score", "t1.score"]


def test_to_wide_reports_duplicates_missing_keys_and_varying_constants():
    long = pd.DataFrame(
        {
            "participant_id": ["a", "a", "b", "b", None],
            "wave": ["baseline", "baseline", "baseline", "month3", "month3"],
            "arm": ["x", "x", "y", "z", "y"],
            "score": [1, 2, 3, 4, 5],
        }
    )
    with pytest.raises(DataValidationError) as info:
        to_wide(long, constant=["arm"])
    cases = info.value.failure_cases
    assert cases["check"].tolist() == ["missing_key", "duplicate_rows", "not_constant"]
    assert cases.loc[0, "rows"] == [4]
    assert cases.loc[1, "rows"] == [0, 1]
    assert cases.loc[2, "rows"] == [2, 3]
    assert "a/baseline" in str(info.value)
    assert "'arm'" in str(info.value) and "'b'" in str(info.value)


def test_to_wide_unknown_constant_column():
    long = pd.DataFrame({"participant_id": ["a"], "wave": ["baseline"], "score": [1]})
    with pytest.raises(ValueError, match="`constant` names \\['sex'\\]"):
        to_wide(long, constant=["sex"])


def test_to_wide_missing_wave_column():
    with pytest.raises(ValueError, match="`wave` 'wave' is not a column"):
        to_wide(pd.DataFrame({"participant_id": ["a"]}))


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

values = st.one_of(st.none(), st.integers(0, 4)).map(lambda v: np.nan if v is None else float(v))


@st.composite
def wide_frames(draw) -> tuple[pd.DataFrame, tuple[str, ...]]:
    n = draw(st.integers(1, 6))
    waves = tuple(draw(st.lists(st.sampled_from(WAVES), min_size=1, max_size=3, unique=True)))
    stubs = draw(
        st.lists(
            st.sampled_from(["pfi_01", "svs_02", "qol_01"]), min_size=1, max_size=3, unique=True
        )
    )
    data: dict[str, list] = {
        "participant_id": [f"P{i:03d}" for i in draw(st.permutations(range(n)))],
        "arm": draw(st.lists(st.sampled_from(["immediate", "delayed"]), min_size=n, max_size=n)),
    }
    for stub in stubs:
        for wave in waves:
            data[f"{stub}__{wave}"] = draw(st.lists(values, min_size=n, max_size=n))
    return pd.DataFrame(data), waves


@settings(max_examples=60, deadline=None)
@given(wide_frames())
def test_wide_long_wide_round_trip(case):
    wide, waves = case
    back = to_wide(to_long(wide, waves=waves), constant=["arm"])
    pd.testing.assert_frame_equal(back, wide, check_like=True)


@settings(max_examples=60, deadline=None)
@given(wide_frames())
def test_long_wide_long_round_trip(case):
    wide, waves = case
    long = to_long(wide, waves=waves)
    again = to_long(to_wide(long, constant=["arm"]), waves=waves)
    pd.testing.assert_frame_equal(again, long)


def test_to_wide_infers_constant_columns(wide):
    back = to_wide(to_long(wide))
    assert "arm" in back.columns and "age" in back.columns
    assert not any(c.startswith(("arm__", "age__")) for c in back.columns)
    # pfi_01 varies within participants, so it is spread over waves
    assert {"pfi_01__baseline", "pfi_01__month3", "pfi_01__month6"} <= set(back.columns)


@settings(max_examples=40, deadline=None)
@given(wide_frames(), st.randoms(use_true_random=False))
def test_row_order_changes_nothing_but_the_order(case, rnd):
    wide, waves = case
    order = list(range(len(wide)))
    rnd.shuffle(order)
    shuffled = wide.iloc[order]
    key = ["participant_id", "wave"]
    a = to_long(wide, waves=waves).sort_values(key, ignore_index=True)
    b = to_long(shuffled, waves=waves).sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(a, b)


def test_to_long_drop_empty_makes_long_wide_long_an_identity_on_unbalanced_data():
    long = pd.DataFrame(
        {
            "participant_id": ["P1", "P1", "P2", "P3", "P3"],
            "arm": ["immediate", "immediate", "delayed", "delayed", "delayed"],
            "wave": ["baseline", "month3", "baseline", "baseline", "month6"],
            "pfi_01": [3.0, 2.0, 4.0, np.nan, 1.0],  # P3 baseline answered only qol_01
            "qol_01": [7.0, 8.0, 5.0, 6.0, np.nan],
        }
    )
    wide = to_wide(long, constant=["arm"])
    kept = to_long(wide)
    assert len(kept) == 9  # default: every participant x wave, nothing dropped
    back = to_long(wide, drop_empty=True)
    expected = long.assign(
        wave=pd.Categorical(long["wave"], categories=WAVES, ordered=True)
    ).reset_index(drop=True)
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert back.attrs["audit"] == [
        {
            "step": "to_long",
            "reason": "wave not answered: every wave-specific column missing",
            "n_rows": 4,
            "detail": "rows dropped per wave: month3: 2, month6: 2",
        }
    ]


def test_reshaping_keeps_the_reader_audit_and_source(tmp_path):
    wide = pd.DataFrame(
        {"participant_id": ["P1", "P2"], "pfi_01__baseline": [1, 2], "pfi_01__month3": [3, None]}
    )
    earlier = {"step": "read_qualtrics", "reason": "preview response", "n_rows": 2, "detail": ""}
    wide.attrs = {"source": {"path": "x.csv", "format": "csv"}, "audit": [earlier]}
    long = to_long(wide, waves=("baseline", "month3"), drop_empty=True)
    assert long.attrs["source"] == {"path": "x.csv", "format": "csv"}
    assert long.attrs["audit"][0] == earlier
    assert [r["n_rows"] for r in long.attrs["audit"]] == [2, 1]
    assert wide.attrs["audit"] == [earlier]  # the input's audit list is not extended in place
    again = to_wide(long)
    assert again.attrs["audit"] == long.attrs["audit"]


def test_to_long_drop_empty_must_be_boolean(wide):
    with pytest.raises(TypeError, match="`drop_empty` must be True or False"):
        to_long(wide, drop_empty="yes")


def test_old_keyword_names_still_work_with_a_future_warning():
    """Issue 10: wide/long -> data, id_col -> subject, wave_col -> wave (old names warned)."""
    wide = pd.DataFrame({"pid": ["a", "b"], "x__t0": [1, 2], "x__t1": [3, 4]})
    with pytest.warns(FutureWarning) as caught:
        old = to_long(wide=wide, id_col="pid", waves=("t0", "t1"), wave_col="time")
    assert sorted(str(w.message).split(")")[0] for w in caught) == [
        "to_long(id_col=...",
        "to_long(wave_col=...",
        "to_long(wide=...",
    ]
    new = to_long(wide, subject="pid", waves=("t0", "t1"), wave="time")
    pd.testing.assert_frame_equal(old, new)
    with pytest.warns(FutureWarning) as caught:
        back = to_wide(long=new, id_col="pid", wave_col="time")
    assert "to_wide(long=...) is now to_wide(data=...)" in {str(w.message)[:42] for w in caught}
    pd.testing.assert_frame_equal(back, to_wide(new, subject="pid", wave="time"))
    with pytest.raises(TypeError, match="got both"):
        to_wide(data=new, long=new)
