"""Audit tables: every row excluded, prorated or altered by a step is counted with its reason."""

from __future__ import annotations

import pandas as pd

AUDIT_COLUMNS = ("step", "reason", "n_rows", "detail")


def audit_frame(entries: list[dict] | None = None) -> pd.DataFrame:
    """Build an audit table with the fixed columns ``step, reason, n_rows, detail``."""
    frame = pd.DataFrame(entries or [], columns=list(AUDIT_COLUMNS))
    return frame.astype({"n_rows": "int64"})
