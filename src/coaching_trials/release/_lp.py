"""The interval audit: how far a hidden count can move given every published number.

Every count a release prints is the size of a set of participants. The sets cut the
participants into *atoms* (people who belong to exactly the same sets); a printed count is then
the sum of the sizes of the atoms inside its set, so every linear relation between the
published numbers (arm sums, overall totals, randomized minus not assessed equals assessed,
paired n at most wave n, category counts summing to the arm) holds automatically. The audit
minimises and maximises a hidden count over non-negative atom sizes subject to what was
published, by linear programming (the standard SDC interval audit, as in tau-ARGUS and R's
sdcTable). The bounds are those of the LP relaxation, rounded inward to whole numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

__all__ = ["Bounds", "atoms", "count_bounds"]


@dataclass(frozen=True)
class Bounds:
    """Smallest and largest value of a hidden count consistent with what was published.

    ``binding_low`` / ``binding_high`` index the published constraints whose removal could
    widen the bound (non-zero LP duals), most influential first.
    """

    low: float
    high: float
    binding_low: tuple[int, ...]
    binding_high: tuple[int, ...]

    @property
    def possibilities(self) -> float:
        return self.high - self.low + 1


def atoms(masks: np.ndarray) -> np.ndarray:
    """Quantity x atom incidence matrix of boolean ``masks`` (quantity x participant).

    Participants in exactly the same sets form one atom; atoms in no set at all are dropped
    (nothing published constrains them).
    """
    masks = np.asarray(masks, dtype=bool)
    if masks.shape[1] == 0:
        return np.zeros((masks.shape[0], 0))
    sig, first = np.unique(masks.T, axis=0, return_index=True)
    keep = sig.any(axis=1)
    order = np.argsort(first[keep])
    return sig[keep][order].T.astype(float)


def _solve(c: np.ndarray, a_eq, b_eq, a_ub, b_ub) -> tuple[float, np.ndarray, np.ndarray]:
    res = linprog(
        c,
        A_eq=a_eq if a_eq.shape[0] else None,
        b_eq=b_eq if a_eq.shape[0] else None,
        A_ub=a_ub if a_ub.shape[0] else None,
        b_ub=b_ub if a_ub.shape[0] else None,
        bounds=(0, None),
        method="highs-ds",
        options={"presolve": False},  # these LPs are small: presolve costs more than it saves
    )
    if res.status == 3:  # unbounded
        return float("inf"), np.zeros(a_eq.shape[0]), np.zeros(a_ub.shape[0])
    if res.status != 0:
        raise RuntimeError(f"interval audit: the linear program failed ({res.message}).")
    eq = np.asarray(res.eqlin.marginals) if a_eq.shape[0] else np.zeros(0)
    ub = np.asarray(res.ineqlin.marginals) if a_ub.shape[0] else np.zeros(0)
    return float(res.fun), eq, ub


def count_bounds(
    incidence: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    query: np.ndarray,
    *,
    low_needed: float | None = None,
) -> Bounds:
    """Bounds of ``query @ x`` over ``x >= 0`` with ``low <= incidence @ x <= high``.

    Parameters
    ----------
    incidence : (k, atoms) array
        The published quantities (rows) as sums of atoms.
    low, high : (k,) arrays
        What the reader knows of each published quantity (equal for an exact count; the
        rounding interval for a rounded one).
    query : (atoms,) array
        The hidden quantity.
    low_needed : float, optional
        Solve the minimisation only when the maximum is below this value (the minimum is then
        reported as NaN, not solved: callers that only need ``high - low`` to reach a width
        pass ``true value + width - 1``, which the maximum alone proves).
    """
    incidence = np.asarray(incidence, dtype=float)
    low = np.asarray(low, dtype=float)
    high = np.asarray(high, dtype=float)
    exact = low == high
    eq_rows = np.flatnonzero(exact)
    ub_rows = np.flatnonzero(~exact)
    a_eq, b_eq = incidence[eq_rows], low[eq_rows]
    a_ub = np.vstack([incidence[ub_rows], -incidence[ub_rows]])
    b_ub = np.concatenate([high[ub_rows], -low[ub_rows]])
    n_ub = len(ub_rows)

    def binding(eq: np.ndarray, ub: np.ndarray) -> tuple[int, ...]:
        weight = np.zeros(len(low))
        weight[eq_rows] += np.abs(eq)
        if n_ub:
            weight[ub_rows] += np.abs(ub[:n_ub]) + np.abs(ub[n_ub:])
        idx = np.flatnonzero(weight > 1e-9)
        return tuple(int(i) for i in idx[np.argsort(-weight[idx], kind="stable")])

    neg_hi, eq_hi, ub_hi = _solve(-query, a_eq, b_eq, a_ub, b_ub)
    hi = -neg_hi
    if low_needed is not None and hi >= low_needed:
        lo, eq_lo, ub_lo = float("nan"), np.zeros(len(eq_rows)), np.zeros(2 * n_ub)
    else:
        lo, eq_lo, ub_lo = _solve(query, a_eq, b_eq, a_ub, b_ub)
    return Bounds(
        low=float(np.ceil(lo - 1e-7)) if np.isfinite(lo) else lo,
        high=float(np.floor(hi + 1e-7)) if np.isfinite(hi) else float("inf"),
        binding_low=binding(eq_lo, ub_lo),
        binding_high=binding(eq_hi, ub_hi) if np.isfinite(hi) else (),
    )
