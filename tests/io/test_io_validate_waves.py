"""validate_responses: a declared wave without any row is a problem, like an empty arm."""

from __future__ import annotations

import pandas as pd
import pytest

from coaching_trials._errors import DataValidationError
from coaching_trials.io.validate import validate_responses

FRAME = pd.DataFrame(
    {
        "participant_id": ["P1", "P1", "P2", "P2"],
        "arm": ["immediate", "immediate", "delayed", "delayed"],
        "wave": ["baseline", "month3", "baseline", "month3"],
    }
)


@pytest.mark.parametrize(
    ("waves", "empty"),
    [
        (("baseline", "month3"), []),
        (("baseline", "month3", "month6"), ["month6"]),
        (("baseline", "month6", "month12", "month3"), ["month6", "month12"]),
    ],
)
def test_waves_without_rows(waves: tuple[str, ...], empty: list[str]) -> None:
    report = validate_responses(FRAME, waves=waves, raise_on_error=False)
    problems = report.problems[report.problems["check"] == "empty_wave"]
    assert [list(v) for v in problems["values"]] == ([empty] if empty else [])
    if empty:
        assert (
            f"column 'wave': expected wave(s) {empty!r} have no rows" in problems.iloc[0]["message"]
        )
        with pytest.raises(DataValidationError, match="have no rows"):
            validate_responses(FRAME, waves=waves)
