"""Audit tables: every row excluded, prorated or altered by a step is counted with its reason."""

from __future__ import annotations

import numpy as np
import pandas as pd

AUDIT_COLUMNS = ("step", "reason", "n_rows", "detail")


def audit_frame(entries: list[dict] | None = None) -> pd.DataFrame:
    """Build an audit table with the fixed columns ``step, reason, n_rows, detail``."""
    entries = entries or []
    columns = {col: [entry.get(col) for entry in entries] for col in ("step", "reason", "detail")}
    n_rows = np.array([int(entry.get("n_rows", 0)) for entry in entries], dtype=np.int64)
    return pd.DataFrame(
        {
            "step": pd.Series(columns["step"], dtype=object),
            "reason": pd.Series(columns["reason"], dtype=object),
            "n_rows": n_rows,
            "detail": pd.Series(columns["detail"], dtype=object),
        }
    )
