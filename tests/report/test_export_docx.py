"""export_table(..., "x.docx"): a Word table read back with python-docx."""

from __future__ import annotations

import pandas as pd
import pytest

from coaching_trials.report.tables import export_table

docx = pytest.importorskip("docx")  # the `test` extra installs python-docx


def test_docx_round_trip_cells_literal_and_rounded(tmp_path):
    table = pd.DataFrame(
        {
            "outcome": ["pfi_burnout", '=HYPERLINK("x")', "<b>&amp;</b>"],
            "estimate": [-0.43591, 0.2, None],
            "n": [120.0, 61.0, 7.0],
        }
    )
    before = table.copy()
    path = export_table(table, tmp_path / "effects.docx", digits=2, caption="Table 2")
    pd.testing.assert_frame_equal(table, before)  # the caller's frame is not changed
    doc = docx.Document(str(path))
    assert doc.paragraphs[0].text == "Table 2"
    (word,) = doc.tables
    rows = [[c.text for c in r.cells] for r in word.rows]
    assert rows == [
        ["outcome", "estimate", "n"],
        ["pfi_burnout", "-0.44", "120"],
        ['=HYPERLINK("x")', "0.20", "61"],  # literal text, not a field or formula
        ["<b>&amp;</b>", "", "7"],
    ]


def test_docx_unknown_extension_still_rejected(tmp_path):
    with pytest.raises(ValueError, match="docx"):
        export_table(pd.DataFrame({"a": [1]}), tmp_path / "x.doc")
