"""The messy-file corpus: every file's expected values, error and audit rows (manifest.toml)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pandas as pd
import pytest
import tomllib

import coaching_trials as ct
from coaching_trials._errors import DataValidationError
from coaching_trials.io.readers import read_qualtrics, read_redcap, read_survey

MESSY = Path(__file__).resolve().parents[1] / "data" / "messy"
CASES = tomllib.loads((MESSY / "manifest.toml").read_text(encoding="utf-8"))["case"]
READERS = {"survey": read_survey, "redcap": read_redcap, "qualtrics": read_qualtrics}


def _kwargs(case: dict) -> dict:
    """The reader's keyword arguments; a REDCap data dictionary is a file of the corpus."""
    kwargs = dict(case.get("kwargs", {}))
    if "dictionary" in kwargs:
        kwargs["dictionary"] = MESSY / kwargs["dictionary"]
    return kwargs


def _run(case: dict) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(frame read, frame after the step); the step may raise."""
    reader = READERS[case.get("reader", "survey")]
    frame = reader(MESSY / case["file"], **_kwargs(case))
    step = case.get("step", "read")
    kwargs = {k: (v or None) for k, v in case.get("step_kwargs", {}).items()}
    if step == "read":
        return frame, frame
    if step == "score":
        return frame, ct.score(frame, kwargs.pop("instrument"), **kwargs)
    if step == "validate":
        ct.validate_responses(frame, **kwargs)
        return frame, frame
    if step == "check_ids":
        other = read_survey(MESSY / case["other"])
        ct.check_ids(frame["participant_id"], other["participant_id"])
        return frame, frame
    raise AssertionError(step)  # pragma: no cover


def _same(got: list, want: list) -> bool:
    if len(got) != len(want):
        return False
    for g, w in zip(got, want, strict=True):
        if isinstance(w, float) and math.isnan(w):
            if not pd.isna(g):
                return False
        elif pd.isna(g) or g != w or isinstance(g, str) != isinstance(w, str):
            return False
    return True


def test_manifest_covers_the_corpus():
    assert len(CASES) >= 60
    assert len({c["file"] for c in CASES}) >= 50
    files = {p.name for p in MESSY.iterdir() if p.suffix not in (".py", ".toml")}
    dictionaries = {c.get("kwargs", {}).get("dictionary") for c in CASES}
    assert files <= {c["file"] for c in CASES} | {c.get("other") for c in CASES} | dictionaries
    for case in CASES:
        assert "error" in case or "values" in case, case["name"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_messy_file(case):
    frame = after = None
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.PerformanceWarning)
        if "error" in case:
            # the package's own error class, naming what went wrong
            with pytest.raises(DataValidationError) as info:
                frame, after = _run(case)
            assert case["error"] in str(info.value), str(info.value)
            if "values" in case or "audit" in case:
                # the read itself succeeded; check what it returned
                reader = READERS[case.get("reader", "survey")]
                frame = after = reader(MESSY / case["file"], **_kwargs(case))
        else:
            frame, after = _run(case)
    for column, want in case.get("values", {}).items():
        assert column in after.columns, (column, list(after.columns)[:10])
        got = after[column].tolist()
        assert _same(got, want), (column, got, want)
    if "audit" in case:
        records = list(after.attrs.get("audit", ()))
        got = [[r["reason"], int(r["n_rows"])] for r in records]
        assert got == case["audit"]


def test_100000_participants_generated(tmp_path):
    """A large export (generated here, not committed): every row and every id kept as text."""
    n = 100_000
    ids = [f"{i:06d}" for i in range(n)]
    arm = ["immediate", "delayed"] * (n // 2)
    item = ["N/A" if i % 97 == 0 else str(i % 5) for i in range(n)]
    lines = ["participant_id,arm,wave,svs_01"]
    lines += [f"{p},{a},baseline,{v}" for p, a, v in zip(ids, arm, item, strict=True)]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    df = read_survey(path, missing_codes={"N/A": "not applicable"})
    assert len(df) == n
    assert df["participant_id"].iloc[[0, 12345, n - 1]].tolist() == ["000000", "012345", "099999"]
    n_declared = sum(1 for i in range(n) if i % 97 == 0)
    assert int(df["svs_01"].isna().sum()) == n_declared
    audit = {r["reason"]: int(r["n_rows"]) for r in df.attrs["audit"]}
    assert audit["declared missing: not applicable"] == n_declared
    table = ct.missingness(df, wave="wave", columns=["svs_01"])
    assert table["n"].tolist() == [n_declared] and table["n_rows"].tolist() == [n]
