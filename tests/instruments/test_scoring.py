"""The scoring engine: worked examples computed by hand, properties, and every bad input.

Expected scores are computed by hand in the comments next to each literal frame (or, in the
property tests, by a deliberately naive row-by-row oracle written here), never by our code.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coaching_trials as ct
from coaching_trials import DataValidationError
from coaching_trials._errors import DataValidationWarning
from coaching_trials.instruments.registry import get_instrument, load_instrument
from coaching_trials.instruments.scoring import ScoreAudit, ScoreResult, score, score_with_audit

NA = np.nan
PFI_ITEMS = [f"pfi_{i:02d}" for i in range(1, 17)]


def pfi_frame(rows: dict[str, list[float]]) -> pd.DataFrame:
    """rows: label -> 16 responses in item order."""
    return pd.DataFrame.from_dict(rows, orient="index", columns=PFI_ITEMS)


def mbi_row(ee, dp, pa) -> dict[str, float]:
    mbi = get_instrument("mbi")
    row = {}
    for sid, values in (("ee", ee), ("dp", dp), ("pa", pa)):
        row.update(dict(zip(mbi.subscales[sid].items, values, strict=True)))
    return row


# --------------------------------------------------------------------------------------------
# worked examples (hand-computed)
# --------------------------------------------------------------------------------------------

PFI_EXAMPLE = pfi_frame(
    {
        #     PF (1-6)              WE (7-10)         ID (11-16)
        "a": [4, 3, 3, 4, 2, 3, 1, 2, 1, 0, 0, 1, 1, 2, 1, 0],
        "b": [NA, 2, 2, NA, 3, NA, 3, 3, NA, NA, 2, 2, 2, 2, 2, 2],
        "c": [NA, NA, 1, 1, NA, NA, NA, NA, NA, 4, 0, 0, 0, 0, 0, NA],
    }
)
# a: PF 19/6 = 3.16667; WE 4/4 = 1.0; ID 5/6 = 0.83333; burnout (4+5)/10 = 0.9
# b: PF 3 of 6 answered (k = 3) -> 7/3 = 2.33333; WE 2 of 4 (k = 2) -> 6/2 = 3.0;
#    ID 12/6 = 2.0; burnout 8 of 10 answered -> (6+12)/8 = 2.25
# c: PF 2 of 6 < 3 -> NA; WE 1 of 4 < 2 -> NA; ID 5 of 6 -> 0/5 = 0.0;
#    burnout 6 of 10 (k = 5) -> (4+0)/6 = 0.66667
PFI_EXPECTED = {
    "mean": {
        "pfi_pf": [19 / 6, 7 / 3, NA],
        "pfi_we": [1.0, 3.0, NA],
        "pfi_id": [5 / 6, 2.0, 0.0],
        "pfi_burnout": [0.9, 2.25, 4 / 6],
    },
    # raw sums (prorated: mean x n): b PF 7/3 x 6 = 14, b WE 3 x 4 = 12, b burnout 2.25 x 10
    "sum": {
        "pfi_pf": [19, 14, NA],
        "pfi_we": [4, 12, NA],
        "pfi_id": [5, 12, 0],
        "pfi_burnout": [9, 22.5, 40 / 6],
    },
    # 0-10 = mean x 2.5
    "0-10": {
        "pfi_pf": [19 / 6 * 2.5, 7 / 3 * 2.5, NA],
        "pfi_burnout": [2.25, 5.625, 4 / 6 * 2.5],
    },
    # 0-100 = mean x 25
    "0-100": {
        "pfi_pf": [19 / 6 * 25, 7 / 3 * 25, NA],
        "pfi_burnout": [22.5, 56.25, 4 / 6 * 25],
    },
}
# flags: PF high = mean >= 3.0; WE high = sum >= 7; ID high = sum >= 9; burnout high = mean >= 1.33
PFI_FLAGS = {
    "pfi_pf_high": [True, False, None],
    "pfi_we_high": [False, True, None],  # b: prorated WE sum 12 >= 7
    "pfi_id_high": [False, True, False],  # b: 12 >= 9
    "pfi_burnout_high": [False, True, False],
}


@pytest.mark.parametrize("metric", ["mean", "sum", "0-10", "0-100"])
def test_pfi_worked_example(metric):
    out = score(PFI_EXAMPLE, "pfi", metric=metric)
    for column, expected in PFI_EXPECTED[metric].items():
        np.testing.assert_allclose(out[column].to_numpy(), expected, rtol=1e-12, err_msg=column)
    for column, expected in PFI_FLAGS.items():  # flags do not depend on the metric
        assert out[column].dtype == "boolean"
        assert out[column].tolist() == [pd.NA if e is None else e for e in expected], column


def test_pfi_worked_example_audit():
    res = score_with_audit(PFI_EXAMPLE, "pfi")
    audit = res.audit.set_index(["subscale", "reason"])
    expected = {
        ("pfi_pf", "prorated"): ("b",),
        ("pfi_pf", "unscorable: fewer than 3 of 6 items answered"): ("c",),
        ("pfi_we", "prorated"): ("b",),
        ("pfi_we", "unscorable: fewer than 2 of 4 items answered"): ("c",),
        ("pfi_id", "prorated"): ("c",),
        ("pfi_burnout", "prorated"): ("b", "c"),
    }
    assert set(audit.index) == set(expected)
    for key, rows in expected.items():
        assert tuple(audit.loc[key, "rows"]) == rows
        assert audit.loc[key, "n_rows"] == len(rows)
    assert list(res.audit.columns) == ["step", "subscale", "reason", "n_rows", "rows", "detail"]
    assert set(res.audit["step"]) == {"score:pfi"}
    # the same records travel with the frame
    attached = res.data.attrs["audit"]
    assert isinstance(attached, ScoreAudit)
    pd.testing.assert_frame_equal(attached.to_frame(), res.audit)


MBI_EXAMPLE = pd.DataFrame(
    [
        mbi_row([3] * 9, [2, 2, 2, 2, 1], [4] * 8),  # EE 27 (high), DP 9, PA 32 (low)
        mbi_row([2] * 9, [2] * 5, [5] * 8),  # EE 18, DP 10 (high), PA 40
        mbi_row([1] * 9, [1] * 5, [4] * 7 + [5]),  # EE 9, DP 5, PA 33 (low: <= is inclusive)
        mbi_row([NA] * 9, [2, 2, NA, NA, NA], [6] * 8),  # EE NA, DP 2 of 5 < 3 -> NA, PA 48
        mbi_row([NA] * 9, [3] * 5, [0] * 8),  # EE NA, DP 15 (high), PA 0 (low)
        mbi_row([NA] * 9, [0] * 5, [3] * 8),  # EE NA, DP 0, PA 24 (low)
    ]
)


def test_mbi_worked_example():
    out = score(MBI_EXAMPLE, "mbi")
    np.testing.assert_array_equal(out["mbi_ee"], [27, 18, 9, NA, NA, NA])
    np.testing.assert_array_equal(out["mbi_dp"], [9, 10, 5, NA, 15, 0])
    np.testing.assert_array_equal(out["mbi_pa"], [32, 40, 33, 48, 0, 24])
    n = pd.NA
    assert out["mbi_ee_high"].tolist() == [True, False, False, n, n, n]
    assert out["mbi_dp_high"].tolist() == [False, True, False, n, True, False]
    assert out["mbi_pa_low"].tolist() == [True, False, True, False, True, True]
    # burnout = EE high OR DP high, three-valued: True if either is True; NA if unknown
    assert out["mbi_burnout"].tolist() == [True, True, False, n, True, n]
    # the item mean metric divides the sums by 9 / 5 / 8
    means = score(MBI_EXAMPLE, "mbi", metric="mean")
    np.testing.assert_allclose(means["mbi_ee"], [3, 2, 1, NA, NA, NA])
    assert means["mbi_burnout"].tolist() == out["mbi_burnout"].tolist()


def test_svs_worked_example():
    df = pd.DataFrame(
        {
            "svs_01": [4, 2, NA, 2],
            "svs_02": [3, NA, NA, 2],
            "svs_03": [4, 1, NA, 2],
            "svs_04": [2, 2, 4, 2],
        }
    )
    # 4+3+4+2 = 13; (2+1+2)/3 x 4 = 6.667 (prorated); 1 of 4 < 2 -> NA; 8 (low: <= 8)
    out = score(df, "svs")
    np.testing.assert_allclose(out["svs_total"], [13, 20 / 3, NA, 8])
    assert out["svs_total_low"].tolist() == [False, True, pd.NA, True]
    np.testing.assert_allclose(score(df, "svs", metric="mean")["svs_total"], [3.25, 5 / 3, NA, 2])


def test_cbi_worked_example_with_reverse_key():
    row1 = [4, 4, 3, 3, 2, 2] + [2, 2, 2, 2, 2, 2, 4] + [0, 0, 0, 1, 1, 1]
    row2 = [1, NA, 1, NA, 1, NA] + [4, 4, 4, 4, 4, 4, 0] + [NA] * 6
    df = pd.DataFrame([row1, row2], columns=[f"cbi_{i:02d}" for i in range(1, 20)])
    # personal: 18/6 = 3 -> x25 = 75;   row 2: 3 of 6 answered -> mean 1 -> 25
    # work: cbi_13 reversed 4 -> 0: (12 + 0)/7 x 25 = 42.857;  row 2: 0 -> 4: 28/7 x 25 = 100
    # client: 3/6 x 25 = 12.5;          row 2: nothing answered -> NA
    out = score(df, "cbi")
    np.testing.assert_allclose(out["cbi_personal"], [75, 25])
    np.testing.assert_allclose(out["cbi_work"], [12 / 7 * 25, 100])
    np.testing.assert_allclose(out["cbi_client"], [12.5, NA])


def test_uwes_worked_example():
    values = [6, 5, 4, 3, 2, 1, 0, 6, 5]  # uwes_01 .. uwes_09
    df = pd.DataFrame([values], columns=[f"uwes_{i:02d}" for i in range(1, 10)])
    out = score(df, "uwes9")
    # vigor (1,2,5): 13/3; dedication (3,4,7): 7/3; absorption (6,8,9): 12/3; total 32/9
    assert out["uwes9_vigor"].iloc[0] == pytest.approx(13 / 3)
    assert out["uwes9_dedication"].iloc[0] == pytest.approx(7 / 3)
    assert out["uwes9_absorption"].iloc[0] == pytest.approx(4.0)
    assert out["uwes9_total"].iloc[0] == pytest.approx(32 / 9)
    # UWES-3 (items 1, 3, 8): (6+4+6)/3
    assert score(df, "uwes3")["uwes3_total"].iloc[0] == pytest.approx(16 / 3)


@pytest.mark.parametrize(
    ("iid", "column", "values", "score_col", "flag_col", "flags"),
    [
        ("miniz", "miniz_burnout", [1, 2, 3, 5, NA], "miniz_burnout_score",
         "miniz_burnout_score_high", [False, False, True, True, pd.NA]),
        ("qol", "qol_01", [10, 6, 5, 0, NA], "qol_score",
         "qol_score_deficit", [False, False, True, True, pd.NA]),
        ("iwpr", "iwpr_01", [0, 3, 10, NA, 7], "iwpr_score", None, None),
    ],
)  # fmt: skip
def test_single_item_instruments(iid, column, values, score_col, flag_col, flags):
    out = score(pd.DataFrame({column: values}), iid)
    np.testing.assert_array_equal(out[score_col], values)
    if flag_col:
        assert out[flag_col].tolist() == flags


def test_custom_sum_instrument_with_reverse_and_composite():
    spec = {
        "id": "demo",
        "name": "Demo",
        "items": ["d_1", "d_2", "d_3", "d_4"],
        "response_min": 1,
        "response_max": 5,
        "metrics": {"mean": {}, "sum": {"aggregation": "sum"}},
        "default_metric": "mean",
        "subscales": {
            "a": {"items": ["d_1", "d_2"], "reverse": ["d_2"], "higher_is": "better"},
            "b": {
                "items": ["d_3", "d_4"],
                "higher_is": "worse",
                "cutpoints": {"high": {"value": 4, "op": ">="}},
            },
            "all": {"composite_of": ["a", "b"], "higher_is": "better"},
        },
    }
    df = pd.DataFrame({"d_1": [5, 1], "d_2": [1, 5], "d_3": [2, 4], "d_4": [NA, 5]})
    # row 0: a = (5 + (6-1))/2 = 5; b = 2 (1 of 2 answered, k = 1); all = (5+5+2)/3 = 4
    # row 1: a = (1 + 1)/2 = 1;     b = 4.5 (high);                  all = (1+1+4+5)/4 = 2.75
    out = score(df, spec)
    np.testing.assert_allclose(out[["demo_a", "demo_b", "demo_all"]], [[5, 2, 4], [1, 4.5, 2.75]])
    assert out["demo_b_high"].tolist() == [False, True]
    sums = score(df, spec, metric="sum")
    # prorated sums: b row 0 = 2 x 2 = 4; all row 0 = 4 x 4 = 16
    np.testing.assert_allclose(sums[["demo_a", "demo_b", "demo_all"]], [[10, 4, 16], [2, 9, 11]])


# --------------------------------------------------------------------------------------------
# options
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "expected"),
    [(">=", [True, False, True]), (">", [False, False, True])],
)
def test_inclusive_versus_strict_cutpoint(op, expected):
    # PF item means 3.0 (exactly at the cut), 2.8333, 3.5
    df = pfi_frame(
        {
            0: [3, 3, 3, 3, 3, 3] + [0] * 10,
            1: [3, 3, 3, 3, 3, 2] + [0] * 10,
            2: [4, 3, 4, 3, 4, 3] + [0] * 10,
        }
    )
    inst = get_instrument("pfi").with_cutpoint("pf", "high", op=op)
    assert score(df, inst)["pfi_pf_high"].tolist() == expected


def test_prorate_false_requires_every_item():
    out = score_with_audit(PFI_EXAMPLE, "pfi", prorate=False)
    np.testing.assert_allclose(out.data["pfi_pf"], [19 / 6, NA, NA])
    np.testing.assert_allclose(out.data["pfi_id"], [5 / 6, 2.0, NA])
    reasons = set(out.audit["reason"])
    assert "unscorable: fewer than 6 of 6 items answered" in reasons
    assert "prorated" not in reasons


@pytest.mark.parametrize(
    ("min_answered", "expected_pf"),
    [
        (None, [19 / 6, 7 / 3, NA]),
        (2, [19 / 6, 7 / 3, 1.0]),  # row c: 2 answered is now enough
        ({"pf": 4}, [19 / 6, NA, NA]),  # row b: 3 answered is not
        ({"pf": 6, "we": 2}, [19 / 6, NA, NA]),
    ],
)
def test_min_answered_override(min_answered, expected_pf):
    kwargs = {} if min_answered is None else {"min_answered": min_answered}
    out = score(PFI_EXAMPLE, "pfi", **kwargs)
    np.testing.assert_allclose(out["pfi_pf"], expected_pf)


def test_keep_items_false_drops_item_columns():
    df = PFI_EXAMPLE.assign(participant_id=["P1", "P2", "P3"])
    out = score(df, "pfi", keep_items=False)
    assert not set(PFI_ITEMS) & set(out.columns)
    assert out.columns[0] == "participant_id"
    assert "pfi_burnout" in out.columns


def test_output_keeps_index_and_column_order():
    df = PFI_EXAMPLE.assign(wave="baseline")
    out = score(df, "pfi")
    assert out.index.tolist() == ["a", "b", "c"]
    assert out.columns.tolist() == [*df.columns, *get_instrument("pfi").output_columns()]


def test_instrument_can_be_id_object_path_or_dict(tmp_path):
    pfi = get_instrument("pfi")
    path = tmp_path / "pfi_copy.toml"
    src = pfi.source.replace("definitions/", "")
    from importlib import resources

    text = resources.files("coaching_trials.instruments").joinpath("definitions", src).read_text()
    path.write_text(text, encoding="utf-8")
    expected = score(PFI_EXAMPLE, "pfi")
    for instrument in (pfi, str(path), path, pfi.to_dict()):
        pd.testing.assert_frame_equal(score(PFI_EXAMPLE, instrument), expected)


def test_numeric_text_and_nullable_dtypes_are_accepted():
    df = PFI_EXAMPLE.copy()
    df["pfi_01"] = pd.array([4, None, None], dtype="Int64")
    df["pfi_02"] = pd.Series(["3", "2", None], index=df.index, dtype="string")
    df["pfi_03"] = pd.Series(["3", "2", "1"], index=df.index, dtype=object)
    df["pfi_04"] = pd.Categorical([4, None, 1])
    pd.testing.assert_frame_equal(
        score(df, "pfi")[list(PFI_EXPECTED["mean"])],
        score(PFI_EXAMPLE, "pfi")[list(PFI_EXPECTED["mean"])],
    )


def test_existing_score_columns_are_replaced_with_a_warning():
    first = score(PFI_EXAMPLE, "pfi")
    with pytest.warns(DataValidationWarning, match="pfi_pf"):
        again = score(first, "pfi", metric="0-100")
    assert again.columns.tolist() == first.columns.tolist()
    np.testing.assert_allclose(again["pfi_burnout"], [22.5, 56.25, 4 / 6 * 25])


def test_empty_frame():
    out = score(pd.DataFrame(columns=PFI_ITEMS, dtype="float64"), "pfi")
    assert len(out) == 0
    assert out["pfi_pf"].dtype == "float64"
    assert out["pfi_pf_high"].dtype == "boolean"
    assert len(out.attrs["audit"]) == 0


# --------------------------------------------------------------------------------------------
# immutability, the audit in attrs, the result object
# --------------------------------------------------------------------------------------------


def test_input_is_not_mutated():
    df = PFI_EXAMPLE.copy()
    df.attrs["source"] = "survey.csv"
    snapshot = df.copy(deep=True)
    out = score(df, "pfi", keep_items=True)
    out.loc["a", "pfi_01"] = 0  # writing to the result must not reach the input
    pd.testing.assert_frame_equal(df, snapshot)
    assert df.attrs == {"source": "survey.csv"}
    assert out.attrs["source"] == "survey.csv"


def test_audit_attrs_survive_merge_concat_and_parquet(tmp_path):
    a = score(PFI_EXAMPLE.assign(pid=["P1", "P2", "P3"]), "pfi")
    b = score(PFI_EXAMPLE.assign(pid=["P1", "P2", "P3"]).iloc[:2], "pfi", metric="sum")
    merged = a.merge(b, on="pid")  # two different audits: pandas must be able to compare them
    assert len(merged) == 3 - 1
    pd.concat([a, b])
    pd.concat([a, b], axis=1)
    baseline = a.iloc[:1].merge(a.iloc[1:], how="cross")  # same audit: kept
    assert baseline.attrs["audit"] == a.attrs["audit"]
    path = tmp_path / "scored.parquet"
    a.to_parquet(path)
    back = pd.read_parquet(path)
    assert back.attrs["audit"][0]["subscale"] == "pfi_pf"
    assert back.attrs["audit"][0]["rows"] == ["b"]


def test_audit_accumulates_across_instruments():
    df = pd.concat(
        [PFI_EXAMPLE.reset_index(drop=True), MBI_EXAMPLE.iloc[3:].reset_index(drop=True)], axis=1
    )
    both = score(score(df, "pfi"), "mbi")
    steps = [rec["step"] for rec in both.attrs["audit"]]
    assert steps[0] == "score:pfi" and steps[-1] == "score:mbi"
    frame = both.attrs["audit"].to_frame()
    assert frame.columns.tolist() == ["step", "subscale", "reason", "n_rows", "rows", "detail"]
    assert "ScoreAudit" in repr(both.attrs["audit"])


def test_audit_records_from_a_reader_are_kept_and_readable_by_audit_frame():
    from coaching_trials._audit import audit_frame

    df = PFI_EXAMPLE.copy()
    reader_record = {"step": "read_survey", "reason": "blank row", "n_rows": 2, "detail": "x"}
    df.attrs["audit"] = [reader_record]
    out = score(df, "pfi")
    assert out.attrs["audit"][0] == reader_record
    assert len(out.attrs["audit"]) == 1 + 6
    table = audit_frame(out.attrs["audit"])
    assert table["step"].tolist()[:2] == ["read_survey", "score:pfi"]
    assert df.attrs["audit"] == [reader_record]  # the input's attrs are untouched


def test_score_result_object():
    res = score_with_audit(PFI_EXAMPLE, "pfi", metric="0-10")
    assert isinstance(res, ScoreResult)
    assert res.metric == "0-10"
    assert res.instrument == get_instrument("pfi")
    pd.testing.assert_frame_equal(res.to_frame(), res.data)
    assert res.scores.columns.tolist() == res.columns
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.metric = "mean"  # type: ignore[misc]
    table = res.describe().set_index("column")
    assert table.loc["pfi_pf", "n_scored"] == 2
    assert table.loc["pfi_pf", "n_prorated"] == 1
    assert table.loc["pfi_pf", "n_unscorable"] == 1
    assert table.loc["pfi_pf", "range"] == "0-10"
    assert table.loc["pfi_burnout", "mean"] == pytest.approx((2.25 + 5.625 + 4 / 6 * 2.5) / 3)
    assert "pfi_burnout" in repr(res)
    assert "<table" in res._repr_html_()


def test_public_exports():
    assert ct.score is score
    assert ct.score_with_audit is score_with_audit
    assert ct.ScoreResult is ScoreResult


# --------------------------------------------------------------------------------------------
# bad input: every problem named with column, rows, values and the expected range
# --------------------------------------------------------------------------------------------


def test_missing_item_columns():
    df = PFI_EXAMPLE.drop(columns=["pfi_03", "pfi_16"])
    with pytest.raises(DataValidationError) as info:
        score(df, "pfi")
    message = str(info.value)
    assert "2 problem(s)" in message
    assert "column 'pfi_03'" in message and "column 'pfi_16'" in message
    cases = info.value.failure_cases
    assert cases["check"].tolist() == ["missing_column", "missing_column"]
    assert cases["column"].tolist() == ["pfi_03", "pfi_16"]


def test_missing_columns_are_errors_even_without_validation():
    with pytest.raises(DataValidationError, match="pfi_16"):
        score(PFI_EXAMPLE.drop(columns=["pfi_16"]), "pfi", validate=False)


def test_case_mismatch_hint():
    df = PFI_EXAMPLE.rename(columns={"pfi_01": "PFI_01"})
    with pytest.raises(DataValidationError, match="a column 'PFI_01' exists: rename it"):
        score(df, "pfi")


@pytest.mark.parametrize(
    ("column", "values", "check", "rows", "shown"),
    [
        ("pfi_02", ["three", 2, "n/a"], "non_numeric", ["a", "c"], "['three', 'n/a']"),
        ("pfi_05", [5, 2, -1], "out_of_range", ["a", "c"], "[5.0, -1.0]"),
        ("pfi_07", [2.5, 1, 1], "non_integer", ["a"], "[2.5]"),
        ("pfi_11", [np.inf, 1, 1], "out_of_range", ["a"], "[inf]"),
    ],
)
def test_bad_values_name_column_rows_values_and_range(column, values, check, rows, shown):
    df = PFI_EXAMPLE.copy()
    df[column] = pd.Series(
        values, index=df.index, dtype=object if check == "non_numeric" else float
    )
    with pytest.raises(DataValidationError) as info:
        score(df, "pfi")
    message = str(info.value)
    assert f"column {column!r}" in message
    assert repr(rows).replace('"', "'") in message
    assert shown in message
    assert "expected integers 0-4 or missing" in message
    case = info.value.failure_cases.iloc[0]
    assert case["check"] == check
    assert case["column"] == column
    assert list(case["rows"]) == rows


def test_boolean_column_is_rejected():
    df = PFI_EXAMPLE.copy()
    df["pfi_09"] = [True, False, True]
    with pytest.raises(DataValidationError, match="column 'pfi_09': boolean values"):
        score(df, "pfi")


def test_every_problem_is_reported_at_once():
    df = PFI_EXAMPLE.drop(columns=["pfi_16"]).copy()
    df["pfi_01"] = pd.Series(["x", 1, 1], index=df.index, dtype=object)
    df["pfi_02"] = [9, 1, 1]
    df["pfi_03"] = [1.5, 1, 1]
    with pytest.raises(DataValidationError) as info:
        score(df, "pfi")
    cases = info.value.failure_cases
    assert sorted(zip(cases["check"], cases["column"], strict=True)) == [
        ("missing_column", "pfi_16"),
        ("non_integer", "pfi_03"),
        ("non_numeric", "pfi_01"),
        ("out_of_range", "pfi_02"),
    ]


def test_validate_false_skips_range_checks():
    df = PFI_EXAMPLE.copy()
    df["pfi_01"] = [9, 1, 1]  # outside 0-4; the user asked not to check
    out = score(df, "pfi", validate=False)
    assert out.loc["a", "pfi_pf"] == pytest.approx((19 - 4 + 9) / 6)


def test_duplicate_item_column():
    df = pd.concat([PFI_EXAMPLE, PFI_EXAMPLE[["pfi_04"]]], axis=1)
    with pytest.raises(DataValidationError, match="column 'pfi_04' appears 2 times"):
        score(df, "pfi")


def test_unknown_instrument_lists_ids():
    with pytest.raises(
        ValueError, match=r"`instrument` must be one of 'cbi', .*'pfi'.*; got 'pif'"
    ):
        score(PFI_EXAMPLE, "pif")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"metric": "z-score"}, ValueError, "`metric` must be one of 'mean', 'sum', '0-10'"),
        ({"min_answered": 0}, ValueError, "`min_answered` for subscale 'pf' must be between 1"),
        ({"min_answered": 5}, ValueError, "subscale 'we' must be between 1 and 4"),
        ({"min_answered": 2.5}, TypeError, "`min_answered` must be an integer"),
        ({"min_answered": True}, TypeError, "`min_answered` must be an integer"),
        ({"min_answered": {"xx": 2}}, ValueError, "`min_answered key` must be one of"),
        ({"prorate": False, "min_answered": 2}, ValueError, "no effect when prorate=False"),
        ({"prorate": "yes"}, TypeError, "`prorate` must be True or False"),
        ({"keep_items": None}, TypeError, "`keep_items` must be True or False"),
    ],
)  # fmt: skip
def test_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        score(PFI_EXAMPLE, "pfi", **kwargs)


@pytest.mark.parametrize("data", [PFI_EXAMPLE.to_numpy(), PFI_EXAMPLE.to_dict(), None])
def test_data_must_be_a_dataframe(data):
    with pytest.raises(TypeError, match="`data` must be a pandas DataFrame"):
        score(data, "pfi")


@pytest.mark.parametrize("instrument", [42, ["pfi"]])
def test_instrument_of_wrong_type(instrument):
    with pytest.raises(TypeError, match="`instrument` must be"):
        score(PFI_EXAMPLE, instrument)


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

RESPONSE = st.sampled_from([NA, 0.0, 1.0, 2.0, 3.0, 4.0])
PFI_ROWS = st.lists(st.lists(RESPONSE, min_size=16, max_size=16), min_size=1, max_size=25)


def naive_pfi(row: list[float], metric: str) -> dict[str, float]:
    """Row-by-row oracle straight from the scoring rules (no numpy, no engine code)."""
    groups = {
        "pfi_pf": (range(0, 6), 3),
        "pfi_we": (range(6, 10), 2),
        "pfi_id": (range(10, 16), 3),
        "pfi_burnout": (range(6, 16), 5),
    }
    out = {}
    for name, (positions, k) in groups.items():
        answered = [row[p] for p in positions if not math.isnan(row[p])]
        if len(answered) < k:
            out[name] = math.nan
            continue
        mean = sum(answered) / len(answered)
        out[name] = {
            "mean": mean,
            "sum": mean * len(positions),
            "0-10": mean * 2.5,
            "0-100": mean * 25,
        }[metric]
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PFI_ROWS, st.sampled_from(["mean", "sum", "0-10", "0-100"]))
def test_engine_matches_row_by_row_oracle(rows, metric):
    out = score(pd.DataFrame(rows, columns=PFI_ITEMS), "pfi", metric=metric)
    for i, row in enumerate(rows):
        for name, value in naive_pfi(row, metric).items():
            got = out[name].iloc[i]
            if math.isnan(value):
                assert math.isnan(got)
            else:
                assert got == pytest.approx(value, rel=1e-12, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(PFI_ROWS, st.sampled_from(["mean", "sum", "0-10", "0-100"]))
def test_scores_stay_in_the_metric_range_and_flags_ignore_the_metric(rows, metric):
    pfi = get_instrument("pfi")
    df = pd.DataFrame(rows, columns=PFI_ITEMS)
    out = score(df, "pfi", metric=metric)
    for sid, column in pfi.subscale_columns().items():
        lo, hi = pfi.score_range(sid, metric)
        values = out[column].dropna()
        assert ((values >= lo - 1e-12) & (values <= hi + 1e-12)).all()
    flags = list(pfi.flag_columns().values())
    pd.testing.assert_frame_equal(out[flags], score(df, "pfi")[flags])


@settings(max_examples=40, deadline=None)
@given(PFI_ROWS, st.randoms(use_true_random=False))
def test_row_order_changes_nothing(rows, rnd):
    df = pd.DataFrame(rows, columns=PFI_ITEMS)
    order = list(range(len(df)))
    rnd.shuffle(order)
    shuffled = score(df.iloc[order], "pfi")
    pd.testing.assert_frame_equal(shuffled.sort_index(), score(df, "pfi"))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["pf", "we", "id", "burnout"]), st.data())
def test_prorating_boundary(subscale, data):
    pfi = get_instrument("pfi")
    sub = pfi.subscales[subscale]
    k = data.draw(st.integers(1, sub.n_items), label="min_answered")
    keep = data.draw(st.permutations(sub.items), label="order")
    row = dict.fromkeys(PFI_ITEMS, 2.0)
    at_k = {**row, **{item: NA for item in keep[k:]}}  # exactly k answered
    below = {**row, **{item: NA for item in keep[k - 1 :]}}  # k - 1 answered
    df = pd.DataFrame([at_k, below])
    out = score(df, "pfi", min_answered={subscale: k})
    column = f"pfi_{subscale}"
    assert out[column].iloc[0] == pytest.approx(2.0)
    assert math.isnan(out[column].iloc[1])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.sampled_from([NA, 0.0, 1.0, 2.0, 3.0, 4.0]), min_size=19,
                         max_size=19), min_size=1, max_size=10))  # fmt: skip
def test_reverse_key_equals_scoring_pre_reversed_items(rows):
    cbi = get_instrument("cbi")
    df = pd.DataFrame(rows, columns=list(cbi.items))
    flipped = df.assign(cbi_13=4 - df["cbi_13"])  # reverse by hand, then score as if forward
    forward = load_instrument(
        {**cbi.to_dict(), "subscales": {
            sid: {k: v for k, v in spec.items() if k != "reverse"}
            for sid, spec in cbi.to_dict()["subscales"].items()
        }}
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = score(df, cbi)["cbi_work"]
        b = score(flipped, forward)["cbi_work"]
    pd.testing.assert_series_equal(a, b)


def test_complete_data_has_an_empty_audit_and_a_summary():
    res = score_with_audit(pd.DataFrame({"qol_01": [3, 7]}), "qol")
    assert res.audit.empty
    assert list(res.audit.columns) == ["step", "subscale", "reason", "n_rows", "rows", "detail"]
    row = res.describe().iloc[0]
    assert (row["n_scored"], row["n_prorated"], row["n_unscorable"]) == (2, 0, 0)
    assert row["mean"] == 5.0
    assert row["sd"] == pytest.approx(math.sqrt(8))  # (3-5)^2 + (7-5)^2 = 8, / (2-1)
    assert "no rows prorated or unscorable" in repr(res.data.attrs["audit"])
