"""Fixtures for the analysis tests: the reference trials and the golden values written by R."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ANALYSIS_REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "analysis"


def _load_golden(name: str) -> dict[str, dict[str, float]]:
    frame = pd.read_csv(ANALYSIS_REFERENCE / f"golden_{name}.csv")
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return {
        case: dict(zip(part["quantity"], part["value"], strict=True))
        for case, part in frame.groupby("case", sort=False)
    }


@pytest.fixture(scope="session")
def golden():
    """``golden(name)[case][quantity]`` from ``tests/reference/analysis/golden_<name>.csv``."""
    cache: dict[str, dict[str, dict[str, float]]] = {}

    def get(name: str) -> dict[str, dict[str, float]]:
        if name not in cache:
            cache[name] = _load_golden(name)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def trials() -> dict[str, pd.DataFrame]:
    """The two reference datasets (``a``: complete; ``b``: dropout) made by ``make_inputs.py``."""
    return {ds: pd.read_csv(ANALYSIS_REFERENCE / f"trial_{ds}.csv") for ds in ("a", "b")}
