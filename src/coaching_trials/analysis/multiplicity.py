"""Multiplicity adjustment of p-values and of the ``p_adjusted`` column of an effects table."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import format_values, one_of
from coaching_trials._results import EFFECT_COLUMNS

__all__ = ["ADJUST_METHODS", "adjust_effects", "adjust_pvalues"]

#: The one list of adjustment methods; callers that also allow "no adjustment" extend it
#: (``(*ADJUST_METHODS, None)``) rather than writing their own.
ADJUST_METHODS: tuple[str, ...] = ("holm", "hochberg", "bh", "bonferroni", "fixed_sequence")


def _adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Adjust a vector of p-values without missing values (input order kept)."""
    m = p.size
    if m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(1.0, m * p)
    if method == "fixed_sequence":
        return np.maximum.accumulate(p)
    if method == "holm":
        order = np.argsort(p, kind="stable")
        adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    else:  # step-up methods work from the largest p down
        order = np.argsort(p, kind="stable")[::-1]
        rank = np.arange(m, 0, -1)  # rank of each sorted p, largest first
        factor = (m - rank + 1) if method == "hochberg" else m / rank
        adj = np.minimum.accumulate(factor * p[order])
    out = np.empty(m)
    out[order] = np.minimum(1.0, adj)
    return out


def adjust_pvalues(p: Any, *, method: str = "holm", alpha: float = 0.05) -> Any:
    r"""Adjust p-values for multiple testing.

    Parameters
    ----------
    p : array-like or pandas.Series
        Raw p-values in [0, 1]. Missing values (NaN) stay missing and do not count towards the
        number of tests.
    method : {"holm", "hochberg", "bh", "bonferroni", "fixed_sequence"}
        ``"holm"`` (step-down), ``"hochberg"`` (step-up), ``"bh"`` (Benjamini-Hochberg false
        discovery rate), ``"bonferroni"``, or ``"fixed_sequence"``: the hypotheses are tested
        in the given order, each at level ``alpha``, and testing stops at the first
        :math:`p > \alpha`. Adjusted p-values follow the usual convention
        :math:`\tilde p_k = \max(p_1, \dots, p_k)`, so hypothesis *k* is rejected exactly when
        :math:`\tilde p_k \le \alpha`; hypotheses after the first non-rejection therefore get
        an adjusted p above ``alpha``.
    alpha : float
        Family-wise level of the fixed sequence. Under the max-so-far convention it does not
        change the adjusted values (it is validated, and documents the level of the decisions
        ``adjusted <= alpha``).

    Returns
    -------
    numpy.ndarray or pandas.Series
        Adjusted p-values in the input order (a Series keeps its index and name).

    Notes
    -----
    Validated against R ``p.adjust`` (methods ``"holm"``, ``"hochberg"``, ``"BH"``,
    ``"bonferroni"``) with a missing value and ties, to 1e-12.

    Examples
    --------
    >>> import coaching_trials as ct
    >>> ct.adjust_pvalues([0.01, 0.04, 0.03], method="holm")
    array([0.03, 0.06, 0.06])
    >>> ct.adjust_pvalues([0.01, float("nan"), 0.03], method="bonferroni")
    array([0.02,  nan, 0.06])
    >>> ct.adjust_pvalues([0.01, 0.20, 0.03], method="fixed_sequence")
    array([0.01, 0.2 , 0.2 ])
    """
    if method not in ADJUST_METHODS:
        raise one_of("method", method, ADJUST_METHODS)
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 < alpha < 1:
        raise ValueError(f"`alpha` must be a number strictly between 0 and 1; got {alpha!r}.")
    series = p if isinstance(p, pd.Series) else None
    try:
        values = np.asarray(p, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`p` must be numeric p-values; got {type(p).__name__}.") from exc
    if values.ndim != 1:
        raise ValueError(f"`p` must be one-dimensional; got shape {values.shape}.")
    present = ~np.isnan(values)
    bad = present & ((values < 0) | (values > 1))
    if bad.any():
        raise ValueError(
            f"`p` must hold p-values in [0, 1]; got {format_values(values[bad])} at positions "
            f"{format_values(np.flatnonzero(bad))}."
        )
    out = np.full(values.shape, np.nan)
    out[present] = _adjust(values[present], method)
    if series is not None:
        return pd.Series(out, index=series.index, name=series.name)
    return out


def adjust_effects(
    effects: pd.DataFrame,
    *,
    method: str = "holm",
    primary: str | Sequence[str] | None = None,
    family: str | Sequence[str] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Fill the ``p_adjusted`` column of an effects table.

    Parameters
    ----------
    effects : pandas.DataFrame
        An effects table (the fixed schema of ``coaching_trials.EFFECT_COLUMNS``).
    method : str
        See :func:`adjust_pvalues`. For ``"fixed_sequence"`` the row order is the testing order.
    primary : str or sequence of str, optional
        Primary outcome(s): their rows keep the raw p-value in ``p_adjusted`` and are not part
        of any family.
    family : str or sequence of str, optional
        Column(s) whose values define separate families (for example ``"wave"`` or
        ``"analysis"``); by default all non-primary rows form one family.
    alpha : float
        Passed to :func:`adjust_pvalues`.

    Returns
    -------
    pandas.DataFrame
        A copy of ``effects`` with ``p_adjusted`` filled; rows with a missing ``p_value`` keep a
        missing ``p_adjusted``.

    Notes
    -----
    Adjusted p-values come from :func:`adjust_pvalues`, validated against R ``p.adjust``
    (``tests/reference/analysis/golden_padjust.csv``, 1e-12).

    Examples
    --------
    >>> import coaching_trials as ct
    >>> from coaching_trials._results import effects_frame
    >>> eff = effects_frame([
    ...     {"outcome": "pfi_burnout", "p_value": 0.01},
    ...     {"outcome": "pfi_pf", "p_value": 0.02},
    ...     {"outcome": "svs_total", "p_value": 0.04},
    ... ])
    >>> ct.adjust_effects(eff, method="holm", primary="pfi_burnout")["p_adjusted"].tolist()
    [0.01, 0.04, 0.04]
    """
    if not isinstance(effects, pd.DataFrame):
        raise TypeError(f"`effects` must be a pandas DataFrame; got {type(effects).__name__}.")
    if method not in ADJUST_METHODS:
        raise one_of("method", method, ADJUST_METHODS)
    missing = [c for c in ("outcome", "p_value") if c not in effects.columns]
    if missing:
        raise ValueError(
            f"`effects` lacks column(s) {missing}; expected an effects table with {EFFECT_COLUMNS}."
        )
    primaries = [] if primary is None else [primary] if isinstance(primary, str) else list(primary)
    unknown = [o for o in primaries if not (effects["outcome"] == o).any()]
    if unknown:
        raise ValueError(
            f"`primary` outcome(s) {format_values(unknown)} not found in the `outcome` column "
            f"{format_values(pd.unique(effects['outcome']), limit=10)}."
        )
    families = [] if family is None else [family] if isinstance(family, str) else list(family)
    absent = [c for c in families if c not in effects.columns]
    if absent:
        raise ValueError(f"`family` column(s) {absent} not found in `effects`.")

    out = effects.copy()
    p = pd.to_numeric(out["p_value"], errors="coerce").astype("float64").to_numpy()
    adjusted = p.copy()
    is_primary = out["outcome"].isin(primaries).to_numpy()
    positions = np.flatnonzero(~is_primary)
    if positions.size:
        if families:
            keys = out.iloc[positions][families].astype(str).agg("\x1f".join, axis=1)
            groups = pd.factorize(keys)[0]
        else:
            groups = np.zeros(positions.size, dtype=int)
        for g in np.unique(groups):
            pos = positions[groups == g]
            adjusted[pos] = adjust_pvalues(p[pos], method=method, alpha=alpha)
    out["p_adjusted"] = adjusted
    return out
