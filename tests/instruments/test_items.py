"""Item mapping by pattern and "did you mean" hints."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials._errors import DataValidationError
from coaching_trials.instruments.items import item_name_hint, item_pattern

PFI = [f"pfi_{i:02d}" for i in range(1, 17)]


def _frame(names, value=1):
    return pd.DataFrame({n: [value, value] for n in names})


@pytest.mark.parametrize(
    ("names", "pattern"),
    [
        ([f"pfi_{i}" for i in range(1, 17)], "pfi_{n}"),
        ([f"PFI{i:02d}" for i in range(1, 17)], "PFI{n}"),
        ([f"Q12_{i}" for i in range(1, 17)], r"Q12_(\d+)"),
        ([f"Q12_{i}" for i in range(1, 17)], re.compile(r"Q12_(?P<n>\d+)")),
    ],
)
def test_map_items(names, pattern):
    res = ct.map_items(_frame(names), "pfi", pattern=pattern)
    assert list(res.data.columns) == PFI
    assert list(res.mapping) == names
    assert res.to_frame().shape == (16, 2)
    assert "16 column(s)" in res.summary()


@pytest.mark.parametrize(
    ("names", "fragment"),
    [
        (["x1"], "matches no column"),
        ([f"pfi_{i}" for i in range(1, 18)], "outside 1 to 16"),
        ([f"pfi_{i}" for i in range(1, 17)] + ["pfi_01"], "all give item 1"),
        ([f"pfi_{i}" for i in range(2, 17)], "no column for item number(s) [1]"),
    ],
)
def test_map_items_errors(names, fragment):
    with pytest.raises(DataValidationError, match=re.escape(fragment)):
        ct.map_items(_frame(names), "pfi", pattern="pfi_{n}")


def test_map_items_refuses_to_overwrite_an_item_column():
    frame = _frame([f"pfi_{i}" for i in range(1, 17)]).assign(pfi_01=0)
    with pytest.raises(DataValidationError, match="already has"):
        ct.map_items(frame, "pfi", pattern=r"pfi_(\d)$")


@pytest.mark.parametrize("bad", ["pfi_{n}_{n}", r"Q(\d)_(\d)", "(", 3])
def test_bad_patterns(bad):
    with pytest.raises((ValueError, TypeError)):
        item_pattern(bad)


def test_score_with_items_keeps_the_file_names_and_matches_renamed_scoring():
    names = [f"pfi_{i}" for i in range(1, 17)]
    frame = pd.DataFrame({n: [i % 5, (i + 2) % 5] for i, n in enumerate(names)})
    mapped = ct.score(frame, "pfi", items="pfi_{n}")
    direct = ct.score(frame.set_axis(PFI, axis=1), "pfi")
    assert names[0] in mapped.columns and "pfi_01" not in mapped.columns
    pd.testing.assert_frame_equal(
        mapped[["pfi_pf", "pfi_burnout"]], direct[["pfi_pf", "pfi_burnout"]]
    )


def test_validate_with_items():
    frame = _frame([f"Q3_{i}" for i in range(1, 5)], value=9)
    report = ct.validate_responses(
        frame,
        subject=None,
        arm=None,
        wave=None,
        instruments=["svs"],
        items=r"Q3_(\d+)",
        raise_on_error=False,
    )
    assert report.problems["check"].tolist() == ["out_of_range"] * 4
    assert report.problems["column"].tolist()[0] == "svs_01"
    with pytest.raises(ValueError, match="exactly one instrument"):
        ct.validate_responses(
            frame, subject=None, arm=None, wave=None, instruments=["svs", "pfi"], items="x{n}"
        )


@pytest.mark.parametrize(
    ("columns", "missing", "fragment"),
    [
        ([f"pfi_{i}" for i in range(1, 17)], PFI[:9], "items='pfi_{n}'"),
        ([f"PFI_{i:02d}" for i in range(1, 17)], PFI, "did you mean 'PFI_01' for 'pfi_01'"),
        ([f"Q12_{i}" for i in range(1, 17)], PFI, "items='Q12_{n}'"),
        (["age", "sex"], PFI, ""),
    ],
)
def test_item_name_hint(columns, missing, fragment):
    hint = item_name_hint(columns, PFI, missing)
    assert (fragment in hint) if fragment else hint == ""
