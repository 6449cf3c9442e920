"""The missing-value policy, id checks, sniffing details and the sessions plausibility check."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coaching_trials as ct
from coaching_trials._errors import DataValidationError, DataValidationWarning, FileFormatError
from coaching_trials.io.ids import id_collisions, ids_as_text
from coaching_trials.io.missing import apply_missing_policy, missing_codes, missingness
from coaching_trials.io.readers import read_survey

# ---- declared codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "error", "fragment"),
    [
        ({"": "blank"}, ValueError, "blank cells are always missing"),
        ({"N/A": ""}, TypeError, "must be non-empty text"),
        ({True: "yes"}, TypeError, "keys must be text or numbers"),
        ({99: "refused", "99": "not applicable"}, ValueError, "two reasons"),
        (["N/A"], TypeError, "must be a mapping"),
    ],
)
def test_bad_declarations_are_refused(declared, error, fragment):
    with pytest.raises(error, match=fragment):
        missing_codes(declared)


def test_numeric_codes_match_numbers_and_text_codes_match_exactly():
    codes = missing_codes({"N/A": "not applicable", "99": "refused", -9: "not applicable"})
    assert codes.reason_of("99.0") == "refused"
    assert codes.reason_of(99) == "refused"
    assert codes.reason_of("-9") == "not applicable"
    assert codes.reason_of("n/a") is None  # text codes are exact: 'n/a' is not 'N/A'
    assert codes.reason_of("NaN") is None


def test_undeclared_text_keeps_the_column_text_and_names_it():
    frame = pd.DataFrame({"q": pd.Series(["1", "NA", "3", ""], dtype="str")})
    out = apply_missing_policy(frame, missing_codes())
    assert out.data["q"].tolist()[:3] == ["1", "NA", "3"] and pd.isna(out.data["q"].iloc[3])
    assert "NA" in out.text_columns["q"]
    assert out.audit == []


def test_numeric_columns_must_be_numeric_when_asked():
    from coaching_trials._errors import ProblemLog

    frame = pd.DataFrame({"q": pd.Series(["1", "nan", "inf", "2"], dtype="str")})
    log = ProblemLog("x")
    apply_missing_policy(frame, missing_codes(), numeric=["q"], log=log)
    problem = log.to_frame().iloc[0]
    assert problem["check"] == "non_numeric"
    assert problem["rows"] == [1, 2]
    assert problem["values"] == ["nan", "inf"]
    assert "missing_codes=" in problem["message"]


def test_input_frame_is_not_modified():
    frame = pd.DataFrame({"q": pd.Series(["1", "N/A"], dtype="str")})
    frame.attrs["source"] = {"path": "x"}
    before = frame.copy()
    apply_missing_policy(frame, missing_codes({"N/A": "not applicable"}))
    pd.testing.assert_frame_equal(frame, before)
    assert frame.attrs == {"source": {"path": "x"}}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(["0", "1", "2", "3", "4", "", "N/A", "99", " 2 "]), min_size=1),
    st.randoms(use_true_random=False),
)
def test_row_order_changes_nothing(cells, rnd):
    """Permuting rows permutes the values and leaves the audit counts unchanged."""
    codes = missing_codes({"N/A": "not applicable", 99: "refused"})
    frame = pd.DataFrame({"q": pd.Series(cells, dtype="str")})
    order = list(range(len(cells)))
    rnd.shuffle(order)
    a = apply_missing_policy(frame, codes)
    b = apply_missing_policy(frame.iloc[order], codes)
    pd.testing.assert_series_equal(a.data["q"].iloc[order], b.data["q"], check_dtype=False)
    count = {(r["reason"], r["n_rows"]) for r in a.audit}
    assert count == {(r["reason"], r["n_rows"]) for r in b.audit}
    expected_refused = sum(c.strip() == "99" for c in cells)
    got = sum(r["n_rows"] for r in a.audit if r["reason"] == "declared missing: refused")
    assert got == expected_refused


def test_missingness_by_reason_and_wave(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text(
        "participant_id,wave,q1,q2\nA,w1,N/A,1\nB,w1,,99\nA,w2,99,N/A\nB,w2,2,\n",
        encoding="utf-8",
    )
    df = read_survey(path, missing_codes={"N/A": "not applicable", 99: "refused"})
    table = missingness(df, wave="wave")
    got = {(r.column, r.wave, r.reason): r.n for r in table.itertuples()}
    assert got == {
        ("q1", "w1", "not applicable"): 1,
        ("q1", "w1", "blank"): 1,
        ("q1", "w2", "refused"): 1,
        ("q2", "w1", "refused"): 1,
        ("q2", "w2", "not applicable"): 1,
        ("q2", "w2", "blank"): 1,
    }
    assert set(table["n_rows"]) == {2}
    # rows dropped later are not counted; reasons follow the row labels
    kept = df[df["wave"] == "w2"]
    assert set(missingness(kept)["reason"]) == {"refused", "not applicable", "blank"}
    assert table.columns.tolist() == ["column", "wave", "reason", "n", "n_rows", "percent"]


def test_score_records_declared_codes_and_they_change_the_score():
    df = pd.DataFrame({"svs_01": [4, 4], "svs_02": [4, 99], "svs_03": [0, 0], "svs_04": [0, 0]})
    with pytest.raises(DataValidationError, match="outside 0-4"):
        ct.score(df, "svs")
    out = ct.score(df, "svs", missing_codes={99: "refused"})
    assert out["svs_total"].tolist() == [8.0, pytest.approx(4 / 3 * 4)]
    reasons = [r["reason"] for r in out.attrs["audit"]]
    assert reasons == ["declared missing: refused", "prorated"]
    assert missingness(out, columns=["svs_02"])["reason"].tolist() == ["refused"]


def test_instrument_declares_its_own_codes():
    spec = ct.get_instrument("svs").to_dict()
    spec["id"] = "svs_coded"
    spec["missing_codes"] = {"N/A": "not applicable"}
    inst = ct.load_instrument(spec)
    assert dict(inst.missing_codes) == {"N/A": "not applicable"}
    df = pd.DataFrame(
        {"svs_01": ["1", "N/A"], "svs_02": ["1", "2"], "svs_03": ["1", "2"], "svs_04": ["1", "2"]}
    )
    out = ct.score(df, inst)
    assert out["svs_coded_total"].tolist() == [4.0, 8.0]
    assert ct.load_instrument(inst.to_dict()).missing_codes == inst.missing_codes


# ---- ids -------------------------------------------------------------------------------------


def test_ids_as_text_from_numbers():
    assert ids_as_text(pd.Series([7, 8800007], dtype="int64")).tolist() == ["7", "8800007"]


@pytest.mark.parametrize(
    ("ids", "other", "kinds"),
    [
        (["007", "7"], None, ["leading zeros"]),
        (["P01"], ["p01"], ["case"]),
        (["P01 "], ["P01"], ["whitespace"]),
        (["P001", "P002"], ["P001", "P003"], []),
        (["10", "100", "1"], None, []),  # trailing zeros are meaningful
    ],
)
def test_id_collisions(ids, other, kinds):
    assert id_collisions(ids, other)["differs_by"].tolist() == kinds


def test_check_ids_names_both_files():
    with pytest.raises(DataValidationError) as info:
        ct.check_ids(["001", "002"], ["1", "002"])
    assert "'001' (responses) ~ '1' (participants)" in str(info.value)
    assert info.value.failure_cases["check"].tolist() == ["id_collision"]


def test_ids_option_names_the_id_columns(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("code,q\n007,1\n008,2\n", encoding="utf-8")
    assert read_survey(path)["code"].tolist() == ["007", "008"]  # kept: leading zeros
    assert read_survey(path, ids="code").attrs["format"]["id_columns"] == ["code"]
    with pytest.raises(FileFormatError, match="'nope'"):
        read_survey(path, ids="nope")


# ---- sniffing ----------------------------------------------------------------------------------


def test_given_options_are_not_reported_as_detected(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("a;b\n1,5;2\n", encoding="utf-8")
    df = read_survey(path, sep=";", decimal=",")
    assert df["a"].tolist() == [1.5]
    assert df.attrs["audit"] == []
    assert df.attrs["format"]["sep"] == ";"


def test_excel_out_of_range_sheet(tmp_path):
    path = tmp_path / "b.xlsx"
    pd.DataFrame({"participant_id": ["P1"], "q": [1]}).to_excel(path, index=False)
    with pytest.raises(FileFormatError, match="sheet_name=3 is out of range"):
        read_survey(path, sheet_name=3)


# ---- sessions ------------------------------------------------------------------------------------


def test_sessions_above_planned_warn_and_audit():
    df = pd.DataFrame({"participant_id": ["P1", "P2", "P3"], "sessions_attended": [6, 9, np.nan]})
    with pytest.warns(DataValidationWarning, match="P2: 9 of 6"):
        records = ct.check_sessions(df, planned=6)
    assert [(r["reason"], r["n_rows"]) for r in records] == [("sessions attended above planned", 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ct.check_sessions(df.assign(planned=[6, 10, 6]), planned="planned") == []
    with pytest.raises(ValueError, match="'sessions'"):
        ct.check_sessions(df, attended="sessions", planned=6)


def test_excel_numeric_id_cells_become_text(tmp_path):
    path = tmp_path / "ids.xlsx"
    pd.DataFrame({"participant_id": [7, 8800007], "record_id": ["007", "008"]}).to_excel(
        path, index=False
    )
    df = read_survey(path)
    assert df["participant_id"].tolist() == ["7", "8800007"]
    assert df["record_id"].tolist() == ["007", "008"]
    assert df.attrs["format"]["id_columns"] == ["participant_id", "record_id"]


def test_threaded_conversion_matches_sequential(tmp_path, monkeypatch):
    from coaching_trials.io import missing as missing_module

    rng = np.random.default_rng(3)
    cells = rng.choice(["0", "1", "2", "", "N/A", "99"], size=(200, 6))
    frame = pd.DataFrame(cells, columns=[f"q{i}" for i in range(6)])
    frame.insert(0, "participant_id", [f"P{i:03d}" for i in range(200)])
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    codes = {"N/A": "not applicable", 99: "refused"}
    monkeypatch.setattr(missing_module, "_THREADED_ROWS", 1)
    threaded = read_survey(path, missing_codes=codes)
    monkeypatch.setattr(missing_module, "_THREADED_ROWS", 10**9)
    sequential = read_survey(path, missing_codes=codes)
    pd.testing.assert_frame_equal(threaded, sequential)
    assert threaded.attrs["audit"] == sequential.attrs["audit"]
    assert list(threaded.attrs["missing"]) == list(sequential.attrs["missing"])
