"""SPSS and Stata files: user-missing codes (SPSS) and extended missing values (Stata) become
declared missing codes with their value labels as reasons; labels are kept, not applied."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials.io._read_common import (
    _missing_codes,
)
from coaching_trials.io.missing import MissingCodes

_SPSS_HINT = 'Reading SPSS files needs pyreadstat: pip install "coaching-trials[spss]"'


def _stata_missing(
    frame: pd.DataFrame, labels: Mapping[str, Mapping[Any, str]]
) -> tuple[pd.DataFrame, dict[str, MissingCodes]]:
    """Stata's extended missing values (.a-.z) become declared codes with their labels."""
    per_column: dict[str, MissingCodes] = {}
    for col in frame.columns:
        series = frame[col]
        if series.dtype != object:
            continue
        flags = series.map(lambda v: isinstance(v, pd.io.stata.StataMissingValue))
        if not flags.any():
            continue
        tokens = {}
        for value in series[flags]:
            name = value.string
            if name == ".":  # system-missing: blank, no declared reason
                continue
            reason = labels.get(col, {}).get(value.value) or f"Stata missing value {name}"
            tokens[name] = reason
        frame[col] = series.map(
            lambda v: (
                (np.nan if v.string == "." else v.string)
                if isinstance(v, pd.io.stata.StataMissingValue)
                else v
            )
        )
        if tokens:
            per_column[col] = _missing_codes(tokens)
        else:
            frame[col] = pd.to_numeric(frame[col])
    return frame, per_column


def _read_spss(
    path: Path, kwargs: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, MissingCodes]]:
    try:
        import pyreadstat
    except ImportError as exc:
        raise ImportError(_SPSS_HINT) from exc
    kwargs = {"apply_value_formats": False, "user_missing": True, **kwargs}
    frame, meta = pyreadstat.read_sav(str(path), **kwargs)
    value_labels = {k: dict(v) for k, v in (meta.variable_value_labels or {}).items()}
    extra = {
        "value_labels": value_labels,
        "column_labels": {
            name: label
            for name, label in zip(meta.column_names, meta.column_labels or [], strict=False)
            if label
        },
    }
    per_column: dict[str, MissingCodes] = {}
    declared = {**(meta.missing_ranges or {})}
    for col, values in (meta.missing_user_values or {}).items():
        declared.setdefault(col, [{"lo": v, "hi": v} for v in values])
    for col, ranges in declared.items():
        if col not in frame.columns:
            continue
        labels = value_labels.get(col, {})
        codes: dict[Any, str] = {}
        numbers = pd.to_numeric(frame[col], errors="coerce")
        for rng in ranges:
            lo, hi = rng["lo"], rng["hi"]
            if isinstance(lo, str):  # string user-missing codes
                codes[lo] = labels.get(lo) or f"user-missing code {lo!r}"
                continue
            present = [lo] if lo == hi else pd.unique(numbers[(numbers >= lo) & (numbers <= hi)])
            for v in present:
                default = (
                    f"user-missing code {v:g}" if lo == hi else f"user-missing ({lo:g} to {hi:g})"
                )
                codes[float(v)] = labels.get(v) or default
        per_column[col] = _missing_codes(codes)
    return frame, extra, per_column


def _read_stata(
    path: Path, kwargs: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, MissingCodes]]:
    kwargs = {"convert_categoricals": False, "convert_missing": True, **kwargs}
    with pd.io.stata.StataReader(path) as reader:
        all_labels = reader.variable_labels()
        column_labels = {k: v for k, v in all_labels.items() if v}
        label_sets = reader.value_labels()
        # pandas has no public variable -> label-set map; fall back to same-named label sets
        varlist = list(getattr(reader, "_varlist", None) or all_labels)
        lbllist = getattr(reader, "_lbllist", None) or varlist
        lbl_names = dict(zip(varlist, lbllist, strict=False))
    frame = pd.read_stata(path, **kwargs)
    value_labels = {
        col: {int(k): v for k, v in label_sets[name].items()}
        for col, name in lbl_names.items()
        if name and name in label_sets
    }
    frame, per_column = _stata_missing(frame, value_labels)
    return frame, {"value_labels": value_labels, "column_labels": column_labels}, per_column
