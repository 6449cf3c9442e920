"""Score, alpha and omega results keep their tables however a caller edits what they hand out."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import coaching_trials as ct

PFI_PF = [f"pfi_{i:02d}" for i in range(1, 7)]


@pytest.fixture(scope="module")
def responses() -> pd.DataFrame:
    return ct.load_example("delayed_intervention").responses


BUILDERS = {
    "score": lambda r: ct.score_with_audit(r, "pfi"),
    "alpha": lambda r: ct.cronbach_alpha(r[PFI_PF]),
    "omega": lambda r: ct.mcdonald_omega(r[PFI_PF], n_boot=50, seed=3),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_result_tables_cannot_be_edited_through_attributes(responses, name):
    result = BUILDERS[name](responses)
    summary = result.summary()
    html = result._repr_html_()
    tables = [
        f.name
        for f in dataclasses.fields(result)
        if isinstance(getattr(result, f.name), pd.DataFrame)
    ]
    assert tables
    for attr in tables:
        snapshot = getattr(result, attr).copy(deep=True)
        handed_out = getattr(result, attr)
        if len(handed_out.columns):
            handed_out[handed_out.columns[0]] = None
        pd.testing.assert_frame_equal(getattr(result, attr), snapshot)
    assert result.summary() == summary
    assert result._repr_html_() == html


def test_score_data_edit_does_not_change_describe(responses):
    res = ct.score_with_audit(responses, "pfi")
    before = res.describe()
    data = res.data
    data["pfi_burnout"] = 0.0
    data.loc[:, "pfi_pf"] = 4.0
    pd.testing.assert_frame_equal(res.describe(), before)


def test_single_min_answered_too_large_for_a_subscale_suggests_a_dict(responses):
    with pytest.raises(ValueError, match=r"subscale 'we'.*between 1 and 4.*got 5.*pass a dict"):
        ct.score(responses, "pfi", min_answered=5)
    out = ct.score(responses, "pfi", min_answered={"pf": 5, "burnout": 9})
    assert out["pfi_pf"].notna().sum() <= ct.score(responses, "pfi")["pfi_pf"].notna().sum()
