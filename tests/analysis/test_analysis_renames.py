"""Retired keyword names of the analysis layer still work, with a FutureWarning (issue 10)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct


def _trial() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 40
    arm = np.where(np.arange(n) % 2 == 0, "immediate", "delayed")
    base = rng.normal(3.0, 0.5, n)
    follow = base - 0.3 * (arm == "immediate") + rng.normal(0, 0.3, n)
    return pd.DataFrame({"id": range(n), "arm": arm, "baseline": base, "followup": follow})


def test_percent_change_ci_is_now_ci_method():
    data = _trial()
    args = {"outcome": "followup", "baseline": "baseline", "arm": "arm", "treated": "immediate"}
    new = ct.percent_change(data, **args, ci_method="delta")
    with pytest.warns(FutureWarning, match=r"percent_change\(ci=\.\.\.\) is now"):
        old = ct.percent_change(data, **args, ci="delta")
    assert old.estimate == new.estimate and old.ci == new.ci == "delta"
    with pytest.raises(TypeError, match="both ci= and ci_method="):
        ct.percent_change(data, **args, ci="delta", ci_method="delta")


def test_impute_waves_long_df_and_visit_are_now_data_and_wave():
    wide = _trial()
    long = pd.concat(
        [
            wide.assign(wave="m3", y=wide["followup"]),
            wide.assign(wave="m6", y=wide["followup"].where(wide["id"] % 5 != 0)),
        ],
        ignore_index=True,
    )
    args = {"outcome": "y", "arm": "arm", "subject": "id", "treated": "immediate", "m": 2}
    new = ct.impute_waves(long, **args, wave="wave", seed=1)
    with pytest.warns(FutureWarning) as record:
        old = ct.impute_waves(long_df=long, **args, visit="wave", seed=1)
    messages = " ".join(str(w.message) for w in record)
    assert "long_df=...) is now impute_waves(data=" in messages
    assert "visit=...) is now impute_waves(wave=" in messages
    np.testing.assert_array_equal(old.complete()["y"], new.complete()["y"])
