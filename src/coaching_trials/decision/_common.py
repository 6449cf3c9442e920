"""Shared helpers of the decision layer: effects-table input, numbers, data files."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
import tomllib

from coaching_trials._results import EFFECT_COLUMNS

__all__ = ["as_effects", "check_number", "read_data_toml"]


def read_data_toml(name: str) -> dict[str, Any]:
    """Parse ``decision/data/<name>`` (shipped with the package)."""
    text = resources.files("coaching_trials.decision").joinpath("data", name).read_text("utf-8")
    return tomllib.loads(text)


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite float inside the stated bounds, else ``TypeError``/``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise TypeError(f"`{name}` must be a number; got {value!r}.")
    x = float(value)
    if not np.isfinite(x):
        raise ValueError(f"`{name}` must be finite; got {value!r}.")
    bad_low = low is not None and (x <= low if low_open else x < low)
    bad_high = high is not None and (x >= high if high_open else x > high)
    if bad_low or bad_high:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        interval = f"{left}{lo}, {hi}{right}"
        raise ValueError(f"`{name}` must be in {interval}; got {value!r}.")
    return x


def as_effects(effects: Any, *, name: str = "effects") -> pd.DataFrame:
    """An effects table (copy) from a DataFrame, one row (Series/mapping) or a result object.

    Columns of the fixed schema that are absent are added as missing; ``estimate`` and
    ``std_error`` must be present.
    """
    if isinstance(effects, pd.DataFrame):
        frame = effects.copy()
    elif isinstance(effects, pd.Series):
        frame = effects.to_frame().T.reset_index(drop=True)
    elif isinstance(effects, Mapping):
        frame = pd.DataFrame([dict(effects)])
    elif callable(getattr(effects, "to_frame", None)):
        frame = effects.to_frame()
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"`{name}.to_frame()` did not return a DataFrame.")
        frame = frame.copy()
    else:
        raise TypeError(
            f"`{name}` must be an effects table (DataFrame), one row of it (Series or dict) or a "
            f"result with `to_frame()`; got {type(effects).__name__}."
        )
    missing = [c for c in ("estimate", "std_error") if c not in frame.columns]
    if missing:
        raise ValueError(
            f"`{name}` is missing column(s) {missing}; an effects table has "
            f"{', '.join(EFFECT_COLUMNS)}."
        )
    for col in EFFECT_COLUMNS:
        if col not in frame.columns:
            frame[col] = np.nan
    for col in ("estimate", "std_error"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame.reset_index(drop=True)
