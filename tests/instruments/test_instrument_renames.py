"""Retired keyword names of the instruments layer still work, with a FutureWarning (issue 10)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct


def _pfi_items() -> pd.DataFrame:
    pfi = ct.get_instrument("pfi")
    rng = np.random.default_rng(2)
    return pd.DataFrame(rng.integers(0, 5, size=(40, len(pfi.items))), columns=list(pfi.items))


def test_reliability_df_is_now_data():
    items = _pfi_items()
    new = ct.reliability(items, "pfi", omega=False)
    with pytest.warns(FutureWarning, match=r"reliability\(df=\.\.\.\) is now reliability\(data="):
        old = ct.reliability(df=items, instrument="pfi", omega=False)
    pd.testing.assert_frame_equal(old, new)


def test_reverse_keyed_frame_is_now_data():
    pfi = ct.get_instrument("pfi")
    items = _pfi_items()
    with pytest.warns(FutureWarning, match=r"reverse_keyed\(frame=\.\.\.\) is now"):
        old = pfi.reverse_keyed(frame=items)
    pd.testing.assert_frame_equal(old, pfi.reverse_keyed(data=items))
