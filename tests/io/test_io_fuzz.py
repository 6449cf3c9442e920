"""Fuzz: messy small exports through read_survey -> score -> the trial's compare.

Every generated export either gives a result whose rows are all accounted for (rows read plus
rows dropped by the reader's audit = data rows written; randomized participants = analysed
plus excluded in the comparison's audit; declared codes counted cell by cell) or stops with
one of the package's own error classes: never a bare ValueError, KeyError, IndexError or
LinAlgError, and never a NaN estimate without a warning.

The examples run under a fixed-seed profile (``derandomize=True``): 4 tests x 500 examples =
2,000 examples, the same ones on every machine and every run.
Frames are small (at most 7 participants per arm, two waves).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coaching_trials as ct
from coaching_trials._audit import audit_frame
from coaching_trials.io.readers import read_survey

pytestmark = pytest.mark.filterwarnings("ignore")

INSTRUMENT = ct.get_instrument("svs")
ITEMS = list(INSTRUMENT.items)
LOW, HIGH = int(INSTRUMENT.response_min), int(INSTRUMENT.response_max)
OUTCOME = next(iter(INSTRUMENT.subscale_columns().values()))
CODES = {"99": "refused", "-9": "not applicable"}
WAVES = ("baseline", "month3")
#: 4 tests x 500 = 2,000 fixed-seed examples (about 25 s on 2 cores); ``CT_FUZZ_EXAMPLES=N``
#: sets the number per test.
EXAMPLES_PER_TEST = int(os.environ.get("CT_FUZZ_EXAMPLES", "500"))

settings.register_profile(
    "intake-fuzz",
    max_examples=EXAMPLES_PER_TEST,
    derandomize=True,  # a fixed seed: the same examples on every run (CI)
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
FUZZ = settings.get_profile("intake-fuzz")

#: cells that are valid, declared missing, blank, or wrong in the ways exports are wrong
CLEAN_CELLS = st.integers(0, 14).flatmap(
    lambda k: st.sampled_from(["", "99", "-9"]) if k == 0 else st.integers(LOW, HIGH).map(str)
)
DIRTY_CELLS = st.one_of(
    CLEAN_CELLS,
    CLEAN_CELLS,
    CLEAN_CELLS,
    st.sampled_from(["N/A", "refused", "-", " 3 ", "2.5", str(HIGH + 1), str(LOW - 1), "1e400"]),
    st.text(alphabet="ab ;,\"'\t", max_size=3),
)


@st.composite
def exports(draw: st.DrawFn, cells: st.SearchStrategy[str], messy_rows: bool) -> dict:
    """A long export as text lines, with what it should read to."""
    n_imm = draw(st.integers(0, 7) if draw(st.integers(0, 9)) == 0 else st.integers(2, 7))
    n_del = draw(st.integers(0, 7) if draw(st.integers(0, 9)) == 0 else st.integers(2, 7))
    arms = ["immediate"] * n_imm + ["delayed"] * n_del
    if draw(st.integers(0, 7)) == 0 and arms:
        arms[draw(st.integers(0, len(arms) - 1))] = draw(st.sampled_from(["control", ""]))
    width = draw(st.sampled_from([3, 4]))
    ids = [f"{i + 1:0{width}d}" for i in range(len(arms))]
    if draw(st.integers(0, 9)) == 0 and len(ids) > 1:
        ids[-1] = ids[0].lstrip("0")  # a zero twin: '001' and '1'
    lines = ["participant_id,arm,wave," + ",".join(ITEMS)]
    n_data = 0
    for pid, arm in zip(ids, arms, strict=True):
        for wave in WAVES:
            if draw(st.integers(0, 5)) == 0:
                continue  # this participant missed this wave
            row = [draw(cells) for _ in ITEMS]
            lines.append(",".join([pid, arm, wave, *(_quote(c) for c in row)]))
            n_data += 1
    n_dropped = 0
    if messy_rows:
        for _ in range(draw(st.integers(0, 2))):
            at = draw(st.integers(1, len(lines)))
            lines.insert(at, draw(st.sampled_from([",,," + "," * (len(ITEMS) - 1), lines[0]])))
            n_dropped += 1
    return {"lines": lines, "n_data": n_data, "n_dropped": n_dropped}


def _quote(cell: str) -> str:
    if any(ch in cell for ch in ',"\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _package_error(exc: BaseException) -> bool:
    """One of the package's own error classes (not numpy's, pandas' or a builtin)."""
    return type(exc).__module__.startswith("coaching_trials")


def _run(export: dict, tmp: Path) -> None:
    path = tmp / "export.csv"
    path.write_text("\n".join(export["lines"]) + "\n", encoding="utf-8")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = read_survey(path, missing_codes=CODES)
            scored = ct.score(frame, "svs")
            trial = ct.DelayedInterventionTrial(
                scored,
                subject="participant_id",
                arm="arm",
                wave="wave",
                immediate="immediate",
                delayed="delayed",
                baseline_wave=WAVES[0],
                endpoint_wave=WAVES[1],
            )
            result = trial.compare(OUTCOME)
    except Exception as exc:  # noqa: BLE001 - the point of the test
        assert _package_error(exc), f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
        assert str(exc).strip(), "an error without a message"
        return
    _check_accounting(export, frame, trial, result, caught)


def _check_accounting(export, frame, trial, result, caught) -> None:
    audit = audit_frame(frame.attrs["audit"]) if frame.attrs.get("audit") else None
    dropped = 0
    if audit is not None:
        rows = audit["reason"].isin(["blank row", "repeated header row"])
        dropped = int(audit.loc[rows, "n_rows"].sum())
    # every data row written is read, and every blank or repeated header row is dropped with
    # an audit row
    assert len(frame) == export["n_data"]
    assert dropped == export["n_dropped"]
    # every declared code is counted: the cells written as 99 / -9 are missing, with their reason
    body = [line.split(",")[3:] for line in export["lines"][1:]]
    n_codes = sum(cell in CODES for row in body if row and row[0] != ITEMS[0] for cell in row)
    table = ct.missingness(frame, columns=ITEMS)
    declared = int(table.loc[table["reason"].isin(list(CODES.values())), "n"].sum())
    assert declared == n_codes
    if n_codes:
        assert audit is not None and audit["reason"].str.startswith("declared missing").any()
    # the comparison: randomized participants = analysed + excluded in its audit
    effects = result.effects
    assert len(effects) == 1
    row = effects.iloc[0]
    randomized = scored_participants(trial)
    excluded = int(result.audit["n_rows"].sum()) if len(result.audit) else 0
    assert int(row["n_treated"]) + int(row["n_control"]) + excluded == randomized
    if not np.isfinite(row["estimate"]):
        assert caught, "a NaN estimate without a warning"


def scored_participants(trial) -> int:
    responses = trial.responses
    return int(
        responses.loc[responses["arm"].isin(["immediate", "delayed"]), "participant_id"].nunique()
    )


@FUZZ
@given(export=exports(CLEAN_CELLS, messy_rows=False))
def test_fuzz_clean_cells(export):
    _run(export, _tmp())


@FUZZ
@given(export=exports(CLEAN_CELLS, messy_rows=True))
def test_fuzz_blank_and_repeated_header_rows(export):
    _run(export, _tmp())


@FUZZ
@given(export=exports(DIRTY_CELLS, messy_rows=False))
def test_fuzz_dirty_cells(export):
    _run(export, _tmp())


@FUZZ
@given(export=exports(DIRTY_CELLS, messy_rows=True))
def test_fuzz_everything(export):
    _run(export, _tmp())


_TMP: list[Path] = []


def _tmp() -> Path:
    if not _TMP:
        import tempfile

        _TMP.append(Path(tempfile.mkdtemp(prefix="ct-fuzz-")))
    return _TMP[0]
