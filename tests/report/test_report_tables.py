"""export_table: formats by extension, deterministic text bytes, rounding, escaping, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coaching_trials.report import export_table, suppress_small_cells
from coaching_trials.report.tables import format_cell


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "outcome": ["pfi_burnout", "qol & 50%"],
            "estimate": [-0.435904, 1.0 / 3.0],
            "n": [120, 3],
            "p": [0.000031, np.nan],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".tex", ".html", ".htm"])
def test_text_formats_are_byte_identical(tmp_path, table, suffix):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = export_table(table, tmp_path / "a" / f"t{suffix}").read_bytes()
    b = export_table(table.copy(), tmp_path / "b" / f"t{suffix}").read_bytes()
    assert a == b and len(a) > 0


@pytest.mark.parametrize(("digits", "expected"), [(2, "-0.44"), (3, "-0.436"), (None, "-0.435904")])
def test_csv_rounds_numbers(tmp_path, table, digits, expected):
    text = export_table(table, tmp_path / "t.csv", digits=digits).read_text()
    assert text.splitlines()[0] == "outcome,estimate,n,p"
    assert text.splitlines()[1].split(",")[1] == expected
    back = pd.read_csv(tmp_path / "t.csv")
    assert back["n"].tolist() == [120, 3]


def test_excel_round_trip(tmp_path, table):
    path = export_table(table, tmp_path / "t.xlsx", digits=3)
    back = pd.read_excel(path)
    assert back["outcome"].tolist() == table["outcome"].tolist()
    np.testing.assert_allclose(back["estimate"], table["estimate"].round(3))
    assert back["n"].tolist() == [120, 3] and np.isnan(back.loc[1, "p"])


def test_latex_escapes_and_aligns(tmp_path, table):
    text = export_table(table, tmp_path / "t.tex", caption="Effects_1").read_text()
    assert "\\begin{tabular}{lrrr}" in text
    assert "pfi\\_burnout & -0.44 & 120 & 0.00 \\\\" in text
    assert "qol \\& 50\\%" in text
    assert "\\caption{Effects\\_1}" in text and "\\toprule" in text


def test_html_escapes_and_is_standalone(tmp_path, table):
    shown, _ = suppress_small_cells(table, count_columns=["n"])
    text = export_table(shown, tmp_path / "t.html").read_text()
    assert text.startswith("<!DOCTYPE html>") and "<script" not in text
    assert "&lt;5" in text and "qol &amp; 50%" in text
    assert '<td class="num">120</td>' in text  # suppressed count column still right-aligned


def test_index_is_written_when_meaningful(tmp_path):
    t = pd.DataFrame({"n": [10, 20]}, index=pd.Index(["a", "b"], name="arm"))
    text = export_table(t, tmp_path / "t.csv").read_text()
    assert text.splitlines() == ["arm,n", "a,10", "b,20"]


def test_input_not_mutated(tmp_path, table):
    before = table.copy(deep=True)
    for suffix in (".csv", ".xlsx", ".tex", ".html"):
        export_table(table, tmp_path / f"t{suffix}")
    pd.testing.assert_frame_equal(table, before)


@pytest.mark.parametrize(
    ("path", "kwargs", "error", "match"),
    [
        ("t.doc", {}, ValueError, "must be one of"),
        ("t", {}, ValueError, "must be one of"),
        ("t.csv", {"digits": -1}, ValueError, "digits"),
        ("t.csv", {"digits": 1.5}, ValueError, "digits"),
    ],
)
def test_errors(tmp_path, table, path, kwargs, error, match):
    with pytest.raises(error, match=match):
        export_table(table, tmp_path / path, **kwargs)


def test_not_a_dataframe(tmp_path):
    with pytest.raises(TypeError, match="DataFrame"):
        export_table({"a": [1]}, tmp_path / "t.csv")


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (None, {}, ""),
        (float("nan"), {}, ""),
        (pd.NA, {}, ""),
        (3, {}, "3"),
        (np.int64(7), {}, "7"),
        (2.0, {"whole": True}, "2"),
        (2.0, {}, "2.00"),
        (-0.0001, {}, "0.00"),
        (1.23456, {"digits": 3}, "1.235"),
        (True, {}, "True"),
        ("<5", {}, "<5"),
        (float("inf"), {}, "inf"),
    ],
)
def test_format_cell(value, kwargs, expected):
    assert format_cell(value, **kwargs) == expected
