"""Published coaching trials kept as data (``data/trials.toml``), as rows of the effects table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from coaching_trials.analysis._common import critical_value
from coaching_trials.decision._common import read_data_toml

__all__ = ["published_trials"]

TRIAL_COLUMNS = (
    "study",
    "outcome",
    "measure",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "conf_level",
    "n_treated",
    "n_control",
    "derivation",
    "citation",
    "location",
    "verified",
    "verified_against",
    "note",
    "id",
)


def _row(entry: dict) -> dict:
    from coaching_trials.analysis.summary_stats import from_summary

    n = entry.get("n", [np.nan, np.nan])
    row = {k: entry.get(k, "") for k in ("study", "outcome", "measure", "citation", "location")}
    row.update(
        id=entry["id"],
        verified=bool(entry["verified"]),
        verified_against=entry.get("verified_against", ""),
        note=entry.get("note", ""),
        n_treated=float(n[0]),
        n_control=float(n[1]),
    )
    if "estimate" in entry:
        level = float(entry.get("conf_level", 0.95))
        z = critical_value(level)
        row.update(
            estimate=float(entry["estimate"]),
            conf_low=float(entry["conf_low"]),
            conf_high=float(entry["conf_high"]),
            conf_level=level,
            std_error=(float(entry["conf_high"]) - float(entry["conf_low"])) / (2 * z),
            derivation="reported difference; standard error = CI width / (2 z)",
        )
    elif "change_sd" in entry:
        res = from_summary(
            n=tuple(n), change_mean=tuple(entry["change_mean"]), change_sd=tuple(entry["change_sd"])
        )
        row.update(
            estimate=res.estimate,
            std_error=res.std_error,
            conf_low=res.conf_low,
            conf_high=res.conf_high,
            conf_level=res.conf_level,
            derivation="from_summary: pooled-variance t on the arm change summaries",
        )
    else:
        mean = entry["change_mean"]
        row.update(
            estimate=float(mean[0]) - float(mean[1]),
            std_error=np.nan,
            conf_low=np.nan,
            conf_high=np.nan,
            conf_level=np.nan,
            derivation="difference of reported mean changes; no standard error available",
        )
    return row


def published_trials(outcome: str | None = None, *, verified_only: bool = True) -> pd.DataFrame:
    """Between-arm effects of published coaching trials, one row per trial and outcome.

    Parameters
    ----------
    outcome : str, optional
        Keep one outcome (e.g. ``"pfi_burnout"``, ``"mbi_ee"``); effects on different
        instruments or metrics must not be pooled together.
    verified_only : bool
        Keep only entries whose every number was checked against the published text (the
        default; unverified entries are shown with ``verified_only=False``).

    Returns
    -------
    pandas.DataFrame
        ``study, outcome, measure, estimate, std_error, conf_low, conf_high, conf_level,
        n_treated, n_control, derivation, citation, location, verified, verified_against,
        note, id``. Differences are coaching minus control. Ready for :func:`meta_analysis`
        together with the user's own trial (same outcome and metric).

    Notes
    -----
    Sources and where each number was read are in ``decision/data/trials.toml``. A reported
    difference gives the standard error from its CI width; arm summaries go through
    :func:`coaching_trials.from_summary` (pooled-variance t).

    Examples
    --------
    >>> import coaching_trials as ct
    >>> from coaching_trials.decision import published_trials
    >>> tab = published_trials("mbi_ee")
    >>> tab[["study", "estimate"]].round(2).to_dict("records")
    [{'study': 'Dyrbye 2019', 'estimate': -6.7}]
    """
    spec = read_data_toml("trials.toml")
    frame = pd.DataFrame([_row(e) for e in spec["trials"]], columns=list(TRIAL_COLUMNS))
    if outcome is not None:
        frame = frame[frame["outcome"] == outcome]
    if verified_only:
        frame = frame[frame["verified"]]
    return frame.reset_index(drop=True)
