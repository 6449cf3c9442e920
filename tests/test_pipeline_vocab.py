"""write_table takes the house name ``data``; the old ``frame=`` still works, with a warning."""

from __future__ import annotations

import pandas as pd
import pytest

from coaching_trials.pipeline import write_table


def test_write_table_old_keyword_warns_and_writes_the_same_bytes(tmp_path):
    table = pd.DataFrame({"outcome": ["pfi_burnout", "=1+1"], "estimate": [0.1234567891, -2.0]})
    new = write_table(data=table, path=tmp_path / "new.csv")
    with pytest.warns(FutureWarning, match=r"write_table\(frame=\.\.\.\) is now write_table\(data"):
        old = write_table(frame=table, path=tmp_path / "old.csv")
    assert old.read_bytes() == new.read_bytes()
    assert new.read_text().splitlines() == [
        "outcome,estimate",
        "pfi_burnout,0.123457",
        "'=1+1,-2.0",
    ]


def test_write_table_refuses_both_names(tmp_path):
    table = pd.DataFrame({"x": [1]})
    with pytest.raises(TypeError, match="both frame= and data="):
        write_table(frame=table, data=table, path=tmp_path / "t.csv")
