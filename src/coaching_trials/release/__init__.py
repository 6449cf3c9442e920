"""Disclosure control: one step decides what a reader may see, over every table at once.

``compute -> release -> render``. :func:`release` receives every table that will be published
together, ties each count to the participants it counts, applies a named policy jointly
(threshold suppression with complementary suppression checked by an interval audit, or
OpenSAFELY-style redaction and rounding), checks every released cell for identifiers, and
returns the released tables with a disclosure log for the analyst.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from coaching_trials._vocab import renamed
from coaching_trials.release._lp import count_bounds
from coaching_trials.release._model import LinkageError, Publication
from coaching_trials.release.core import HIDDEN, Release, is_hidden, release_publication
from coaching_trials.release.identifiers import IdentifierError, scan_released
from coaching_trials.release.linkage import LINKED_TABLES, link_trial_tables
from coaching_trials.release.policy import POLICIES, ReleasePolicy, get_policy

__all__ = [
    "HIDDEN",
    "LINKED_TABLES",
    "POLICIES",
    "IdentifierError",
    "LinkageError",
    "Publication",
    "Release",
    "ReleasePolicy",
    "count_bounds",
    "get_policy",
    "is_hidden",
    "numeric_view",
    "release",
]


def release(
    tables: Mapping[str, pd.DataFrame],
    *,
    trial: Any,
    policy: str | ReleasePolicy = "suppress",
    min_cell: int = 5,
    primary: str | None = None,
    method: str = "ancova",
    covariates: Sequence[str] = (),
    responders: Sequence[Mapping[str, Any]] = (),
) -> Release:
    """Release every table published together under one disclosure policy.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        The tables to publish, by name: any of ``flow``, ``baseline``, ``effects``,
        ``standardized``, ``descriptives``, ``exclusions``, ``summary``, ``trajectories``,
        ``nonrandomized``, ``responder_proportions``, ``responders``, ``reliability`` (the
        tables of :class:`~coaching_trials.DelayedInterventionTrial` and the pipeline). A
        table the step cannot link to the trial's participants is refused.
    trial : DelayedInterventionTrial
        The trial the tables were computed from (its data stay on the analyst's side).
    policy : {"suppress", "round"} or ReleasePolicy
        ``"suppress"`` (default): counts below ``min_cell`` hidden with their statistics,
        plus the counts and statistics that would reveal them (complementary suppression
        solved across all tables, checked by an interval audit). ``"round"``: counts of 7 or
        fewer hidden, every other count rounded to the nearest 5 (OpenSAFELY).
    min_cell : int, default 5
    primary, method, covariates, responders
        How the tables were computed (the primary outcome of the flow; the estimator, its
        covariates and the responder definitions of the effects tables).

    Returns
    -------
    Release
        ``tables`` (hidden cells hold ``"[hidden]"``), ``log`` (the disclosure log, for the
        analyst only) and ``policy``.

    Raises
    ------
    IdentifierError
        A released text cell would hold a participant id, an e-mail address, a phone number
        or a long digit run.
    LinkageError
        A printed count is not the size of the set of participants it should count.

    Notes
    -----
    Every printed count is tied to its set of participants; the sets cut the participants into
    atoms, so every linear relation between the tables holds by construction. For each hidden
    small count the step minimises and maximises it by linear programming over everything
    published (the interval audit of tau-ARGUS and sdcTable) and hides further counts, the
    least informative first, until no small count can be narrowed to fewer than ``min_cell``
    values or shown to be below ``min_cell``. A statistic is hidden with any count it
    describes, and a mean, SD or percentage that would let a hidden one be worked out (an
    overall mean next to the other arm's) is hidden too. Counts hidden only to protect
    others and pinned exactly by the published numbers anyway are shown again.

    Examples
    --------
    >>> import coaching_trials as ct
    >>> ex = ct.load_example("delayed_intervention")
    >>> trial = ct.DelayedInterventionTrial(ct.score(ex.responses, "pfi"),
    ...                                     participants=ex.participants, **ex.design)
    >>> rel = ct.release({"flow": trial.flow("pfi_burnout")}, trial=trial,
    ...                  primary="pfi_burnout", min_cell=5)
    >>> rel.tables["flow"]["n"].head(3).tolist()
    [67, 67, 61]
    >>> sorted(set(rel.log["rule"]))
    ['complementary', 'primary']
    """
    pol = get_policy(policy, min_cell=min_cell)
    pub = link_trial_tables(
        trial,
        tables,
        primary=primary,
        method=method,
        covariates=covariates,
        responders=responders,
    )
    result = release_publication(pub, pol)
    ids = trial.participants[trial.design["subject"]].astype(str).tolist()
    scan_released(result.tables, ids)
    return result


@renamed(frame="data")
def numeric_view(data: pd.DataFrame) -> pd.DataFrame:
    """A released table with hidden cells as NaN and numeric columns as numbers (for drawing)."""
    out = data.copy()
    for col in out.columns:
        if out[col].dtype == object and any(is_hidden(v) for v in out[col]):
            out[col] = pd.to_numeric(out[col].where(~out[col].map(is_hidden)), errors="coerce")
    return out


class _CallableModule(types.ModuleType):
    """``ct.release(...)`` is the release function and ``coaching_trials.release`` this
    package (DESIGN.md names both): once the package is imported it is the attribute
    ``coaching_trials.release``, so calling it calls :func:`release`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Release:
        return release(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
