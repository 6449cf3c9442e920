"""The wording of the scoring audit: item counts as a reader would write them.

The audit is what a user reads to learn which scores were prorated or set to NA, so its
``detail`` must count rows by the number of items answered, without ranges like "2-2" and
without double negatives ("0 of these row(s) answered no item").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coaching_trials.instruments.scoring import score_with_audit

NAN = np.nan


def _uwes_rows(rows: list[list[float]]) -> pd.DataFrame:
    """UWES-9 item rows; vigor is uwes_01, uwes_02, uwes_05 (3 items, at least 2 answered)."""
    return pd.DataFrame(rows, columns=[f"uwes_{j:02d}" for j in range(1, 10)])


@pytest.mark.parametrize(
    ("rows", "reason", "detail"),
    [
        (  # one vigor item missing in two rows: prorated from exactly 2 of 3
            [[NAN, 3, 3, 3, 3, 3, 3, 3, 3], [3, NAN, 3, 3, 3, 3, 3, 3, 3], [3] * 9],
            "prorated",
            "2 of 3 items answered (2 answered: 2); score = mean of answered items",
        ),
        (  # two vigor items missing (one answered) and all three missing
            [[NAN, NAN, 3, 3, 3, 3, 3, 3, 3], [NAN, NAN, 3, 3, NAN, 3, 3, 3, 3], [3] * 9],
            "unscorable: fewer than 2 of 3 items answered",
            "score set to NA (1 answered: 1, 0 answered: 1)",
        ),
    ],
)
def test_vigor_audit_detail(rows: list[list[float]], reason: str, detail: str) -> None:
    audit = score_with_audit(_uwes_rows(rows), "uwes9").audit
    vigor = audit[(audit["subscale"] == "uwes9_vigor") & (audit["reason"] == reason)]
    assert vigor["detail"].tolist() == [detail]


def test_a_range_of_answered_counts_keeps_its_range() -> None:
    """Total (9 items, at least 5): rows with 8 and 7 answered give '5-8 of 9'."""
    rows = [[NAN, 3, 3, 3, 3, 3, 3, 3, 3], [NAN, NAN, 3, 3, 4, 3, 3, 3, 3], [3] * 9]
    audit = score_with_audit(_uwes_rows(rows), "uwes9").audit
    total = audit[(audit["subscale"] == "uwes9_total") & (audit["reason"] == "prorated")]
    assert total["detail"].tolist() == [
        "5-8 of 9 items answered (8 answered: 1, 7 answered: 1); score = mean of answered items"
    ]


def test_single_item_unscorable_detail() -> None:
    audit = score_with_audit(pd.DataFrame({"qol_01": [NAN, 5.0, NAN]}), "qol").audit
    assert audit["detail"].tolist() == ["score set to NA (0 answered: 2)"]
    assert audit["n_rows"].tolist() == [2]
