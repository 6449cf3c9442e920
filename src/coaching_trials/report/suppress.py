"""Small-cell suppression for tables shown to people outside the analysis team.

A count below ``min_cell`` is replaced by a marker (*primary* suppression) together with every
statistic computed from it (means, SDs, percentages, estimates, confidence limits). When the
table also shows totals (row margins such as an ``overall`` column, or column margins such as a
``randomized`` row), hiding one cell is not enough: it could be worked out as the total minus
the visible cells. Further cells are then hidden (*complementary* suppression) until no hidden
count can be recovered from the visible counts, the totals and what the markers say.

The rule for statistics: a statistic computed from a cell is blanked only when that cell's own
count (the number of people contributing to it) is below ``min_cell``. Complementary
suppression hides COUNTS, so that a small count cannot be worked out from the totals; the mean
or SD of a cell of ``min_cell`` or more people stays visible, because it reveals no small count.
The exception is a statistic that gives its count away, such as a percentage of a known
denominator (``count = percent x denominator``): declared in ``proportion_columns``, it is
blanked whenever its count is hidden, for whatever reason.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import ProblemLog, format_values

__all__ = ["suppress_small_cells", "SUPPRESSION_LOG_COLUMNS", "DEFAULT_COMPLEMENT_MARKER"]

SUPPRESSION_LOG_COLUMNS = ("row", "column", "kind", "reason", "blanked", "protected")
DEFAULT_COMPLEMENT_MARKER = "—"

_COUNT_NAMES = ("n", "count", "freq", "frequency")


def _default_count_columns(table: pd.DataFrame) -> list[str]:
    out = []
    for col in table.columns:
        name = str(col).lower()
        looks = (
            name in _COUNT_NAMES
            or name.startswith(("n_", "count_"))
            or name.endswith(("_n", "_count"))
        )
        if looks and pd.api.types.is_numeric_dtype(table[col]):
            if not pd.api.types.is_bool_dtype(table[col]):
                out.append(col)
    return out


def _as_list(value: Any, name: str) -> list[Any]:
    if isinstance(value, str) or not isinstance(value, (Sequence, pd.Index, np.ndarray)):
        if not isinstance(value, Hashable):
            raise TypeError(f"`{name}` must be a name or a sequence of names; got {value!r}.")
        return [value]
    return list(value)


def _validate(
    table: pd.DataFrame,
    *,
    min_cell: Any,
    count_columns: list[Any],
    dependent_columns: Mapping[Any, Any],
    row_totals: Mapping[Any, Any],
    column_totals: Sequence[Any],
    dep_name: str = "dependent_columns",
) -> tuple[dict[Any, list[Any]], dict[Any, list[Any]], list[tuple[Any, list[Any]]]]:
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)):
        raise TypeError(f"`min_cell` must be a positive integer; got {min_cell!r}.")
    if min_cell < 1:
        raise ValueError(f"`min_cell` must be a positive integer; got {min_cell!r}.")
    log = ProblemLog("suppress_small_cells")
    missing = [c for c in count_columns if c not in table.columns]
    if missing:
        log.add(
            "missing_column",
            f"count column(s) {format_values(missing)} are not in the table "
            f"(columns: {format_values(table.columns, 12)}).",
            values=missing,
            expected="columns of the table",
        )
    for col in count_columns:
        if col in missing:
            continue
        values = table[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            log.add(
                "not_numeric",
                f"count column {col!r} must be numeric; got dtype {values.dtype}.",
                column=str(col),
                expected="non-negative whole numbers",
            )
            continue
        x = values.to_numpy(dtype=float, na_value=np.nan)
        bad = np.isfinite(x) & ((x < 0) | (x != np.round(x)))
        if bad.any():
            rows = table.index[bad]
            log.add(
                "not_a_count",
                f"count column {col!r} has values that are not non-negative whole numbers at "
                f"rows {format_values(rows)}: {format_values(x[bad])}.",
                column=str(col),
                rows=list(rows),
                values=list(x[bad]),
                expected="non-negative whole numbers",
            )
    deps: dict[Any, list[Any]] = {}
    for key, cols in dependent_columns.items():
        cols = _as_list(cols, f"{dep_name}[{key!r}]")
        if key not in count_columns:
            log.add(
                "bad_dependent",
                f"`{dep_name}` key {key!r} is not a count column "
                f"({format_values(count_columns, 12)}).",
                column=str(key),
                expected="one of the count columns",
            )
        unknown = [c for c in cols if c not in table.columns]
        if unknown:
            log.add(
                "missing_column",
                f"`{dep_name}[{key!r}]` names column(s) {format_values(unknown)} that "
                "are not in the table.",
                column=str(key),
                values=unknown,
                expected="columns of the table",
            )
        deps[key] = cols
    totals: dict[Any, list[Any]] = {}
    for key, cols in row_totals.items():
        cols = _as_list(cols, f"row_totals[{key!r}]")
        bad = [c for c in [key, *cols] if c not in count_columns]
        if bad:
            log.add(
                "bad_total",
                f"`row_totals` entry {key!r}: {format_values(bad)} are not count columns "
                f"({format_values(count_columns, 12)}).",
                column=str(key),
                values=bad,
                expected="count columns",
            )
        if not cols:
            log.add("bad_total", f"`row_totals[{key!r}]` lists no component column.")
        totals[key] = cols
    col_totals: list[tuple[Any, list[Any]]] = []
    if column_totals:
        if not table.index.is_unique:
            log.add(
                "duplicate_index",
                "`column_totals` refers to rows by index label, but the table's index has "
                f"duplicates: {format_values(table.index[table.index.duplicated()].unique())}.",
                expected="a unique index (e.g. set_index on the row-label columns)",
            )
        for entry in column_totals:
            if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
                raise TypeError(
                    "`column_totals` must be a sequence of (total_row_label, component_row_labels)"
                    f" pairs; got {entry!r}."
                )
            total, comps = entry[0], _as_list(entry[1], "column_totals components")
            bad = [lab for lab in [total, *comps] if lab not in table.index]
            if bad:
                log.add(
                    "bad_total",
                    f"`column_totals` entry for row {total!r}: row label(s) {format_values(bad)} "
                    "are not in the table's index.",
                    values=bad,
                    expected="index labels of the table",
                )
            if not comps:
                log.add("bad_total", f"`column_totals` entry {total!r} lists no component row.")
            col_totals.append((total, comps))
    log.raise_if_any()
    return deps, totals, col_totals


def _constraints(
    table: pd.DataFrame,
    count_columns: list[Any],
    row_totals: Mapping[Any, list[Any]],
    column_totals: list[tuple[Any, list[Any]]],
) -> list[tuple[tuple[int, int], list[tuple[int, int]]]]:
    """Linear margins as (total cell, component cells) in (row position, column position)."""
    cpos = {c: j for j, c in enumerate(count_columns)}
    out: list[tuple[tuple[int, int], list[tuple[int, int]]]] = []
    for i in range(len(table)):
        for total, comps in row_totals.items():
            out.append(((i, cpos[total]), [(i, cpos[c]) for c in comps]))
    if column_totals:
        rpos = {lab: i for i, lab in enumerate(table.index)}
        for total, comps in column_totals:
            for j in range(len(count_columns)):
                out.append(((rpos[total], j), [(rpos[r], j) for r in comps]))
    return out


def _check_margins(
    values: np.ndarray,
    constraints: list[tuple[tuple[int, int], list[tuple[int, int]]]],
    table: pd.DataFrame,
    count_columns: list[Any],
) -> None:
    log = ProblemLog("suppress_small_cells margins")
    for total, comps in constraints:
        cells = [total, *comps]
        vals = np.array([values[c] for c in cells])
        if np.isfinite(vals).all() and not math.isclose(vals[0], vals[1:].sum()):
            t_row, t_col = table.index[total[0]], count_columns[total[1]]
            log.add(
                "inconsistent_total",
                f"total {t_col!r} at row {t_row!r} is {vals[0]:g} but its components "
                f"{format_values([(table.index[r], count_columns[c]) for r, c in comps])} add up "
                f"to {vals[1:].sum():g}.",
                column=str(t_col),
                rows=[t_row],
                values=[vals[0]],
                expected="a total equal to the sum of its components",
            )
    log.raise_if_any()


Cell = tuple[int, int]
Constraint = tuple[Cell, list[Cell]]


def _system(
    values: np.ndarray, state: np.ndarray, constraints: list[Constraint]
) -> tuple[list[Cell], np.ndarray, np.ndarray]:
    """The margins as equations in the hidden cells: ``A x = b``."""
    unknown = [(int(i), int(j)) for i, j in np.argwhere(state > 0)]
    index = {c: k for k, c in enumerate(unknown)}
    rows, rhs = [], []
    for total, comps in constraints:
        coef = np.zeros(len(unknown))
        known = 0.0
        involved = False
        for cell, sign in [(total, 1.0), *((c, -1.0) for c in comps)]:
            if cell in index:
                coef[index[cell]] += sign
                involved = True
            else:
                known += sign * values[cell]
        if involved:
            rows.append(coef)
            rhs.append(-known)
    if not rows:
        return unknown, np.zeros((0, len(unknown))), np.zeros(0)
    return unknown, np.vstack(rows), np.asarray(rhs)


def _pinned_by_margins(
    values: np.ndarray, state: np.ndarray, constraints: list[Constraint]
) -> list[Cell]:
    """Hidden cells whose value follows exactly from the margins (linear algebra)."""
    from scipy.linalg import null_space

    unknown, a_eq, _ = _system(values, state, constraints)
    if not unknown or a_eq.shape[0] == 0:
        return []
    involved = np.abs(a_eq).sum(axis=0) > 0
    basis = null_space(a_eq)
    free = np.linalg.norm(basis, axis=1) > 1e-9 if basis.size else np.zeros(len(unknown), bool)
    return [c for k, c in enumerate(unknown) if involved[k] and not free[k] and state[c] != 3]


def _pinned_by_bounds(
    values: np.ndarray,
    state: np.ndarray,
    constraints: list[Constraint],
    *,
    min_cell: int,
    zero_floor: int,
) -> list[Cell]:
    """Hidden cells pinned to one integer by the margins AND what the markers say.

    A primary cell lies in ``[zero_floor, min_cell - 1]``, a complementary one is at least
    ``min_cell``; the range of each cell is found by linear programming (the margins of
    two-way tables are totally unimodular, so its bounds are integers).
    """
    from scipy.optimize import linprog

    unknown, a_eq, b_eq = _system(values, state, constraints)
    if not unknown or a_eq.shape[0] == 0:
        return []
    bounds: list[tuple[float, float | None]] = []
    for cell in unknown:
        s = state[cell]
        if s == 1:
            bounds.append((float(zero_floor), float(min_cell - 1)))
        elif s == 2:
            bounds.append((float(min_cell), None))
        elif s == 4:
            bounds.append((0.0, float(min_cell - 1)))
        else:
            bounds.append((0.0, None))
    involved = np.abs(a_eq).sum(axis=0) > 0
    out = []
    for k, cell in enumerate(unknown):
        if state[cell] == 3 or not involved[k]:
            continue
        ends = []
        for sign in (1.0, -1.0):
            cost = np.zeros(len(unknown))
            cost[k] = sign
            res = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            if res.status == 3:  # unbounded
                ends.append(math.inf)
            elif res.status != 0:  # pragma: no cover - margins were checked to be consistent
                raise RuntimeError(f"small-cell suppression check failed: {res.message}")
            else:
                ends.append(sign * res.fun)
        lo, hi = ends[0], ends[1]
        if math.isfinite(lo) and math.isfinite(hi):
            if math.floor(hi + 1e-7) - math.ceil(lo - 1e-7) < 1:
                out.append(cell)
    return out


def _complementary(
    values: np.ndarray,
    state: np.ndarray,
    constraints: list[Constraint],
    *,
    min_cell: int,
    zero_floor: int,
) -> tuple[dict[Cell, Cell], set[Cell]]:
    """Hide further cells until no hidden cell is pinned; returns {added: protected}.

    ``state`` (changed in place): 0 visible, 1 primary, 2 complementary (>= ``min_cell``),
    3 missing in the input, 4 a zero hidden as a last resort (nothing else could protect).
    """
    added: dict[Cell, Cell] = {}
    skip: set[Cell] = set()
    if not constraints:
        return added, skip
    is_total = np.zeros(values.shape, dtype=bool)
    for total, _ in constraints:
        is_total[total] = True
    if min_cell - 1 <= zero_floor:  # the marker itself tells the value: nothing to protect
        skip.update((int(i), int(j)) for i, j in np.argwhere(state == 1))
    while True:
        pinned = [c for c in _pinned_by_margins(values, state, constraints) if c not in skip]
        if not pinned:
            pinned = [
                c
                for c in _pinned_by_bounds(
                    values, state, constraints, min_cell=min_cell, zero_floor=zero_floor
                )
                if c not in skip
            ]
        if not pinned:
            return added, skip
        cell = pinned[0]
        candidates = sorted(
            {
                cand
                for total, comps in constraints
                if cell == total or cell in comps
                for cand in (total, *comps)
                if state[cand] == 0 and values[cand] >= min_cell
            }
        )
        new_state = 2
        if not candidates:  # only zeros left to hide next to it: hide them (state 4)
            new_state = 4
            candidates = sorted(
                {
                    cand
                    for total, comps in constraints
                    if cell == total or cell in comps
                    for cand in (total, *comps)
                    if state[cand] == 0 and values[cand] == 0
                }
            )
        if not candidates:
            skip.add(cell)
            continue
        keys = []
        for cand in candidates:  # one step of look-ahead: fewest cells left pinned
            state[cand] = new_state
            left = len([c for c in _pinned_by_margins(values, state, constraints) if c not in skip])
            state[cand] = 0
            keys.append((left, bool(is_total[cand]), values[cand], cand))
        best = min(keys)
        state[best[-1]] = new_state
        added[best[-1]] = cell


def _unprotected_cells(
    values: np.ndarray,
    state: np.ndarray,
    constraints: list,
    *,
    min_cell: int,
    zero_floor: int,
) -> set[Cell]:
    """Hidden counts still pinned to one value (only when every cell around them is small:
    nothing was left to hide)."""
    unprotected: set[Cell] = set()
    if constraints:
        unprotected.update(_pinned_by_margins(values, state, constraints))
        unprotected.update(
            _pinned_by_bounds(values, state, constraints, min_cell=min_cell, zero_floor=zero_floor)
        )
    if min_cell - 1 <= zero_floor:  # "<2" with zeros shown can only mean 1
        unprotected.update((int(i), int(j)) for i, j in np.argwhere(state == 1))
    return unprotected


def _with_markers(
    table: pd.DataFrame,
    counts: list[str],
    values: np.ndarray,
    state: np.ndarray,
    marker: str,
    complement_marker: str,
) -> pd.DataFrame:
    """A copy of ``table`` whose count columns hold whole numbers and the two markers."""
    out = table.copy(deep=True)
    for j, col in enumerate(counts):
        out[col] = pd.Series(
            [
                (int(v) if np.isfinite(v) else np.nan)
                if s in (0, 3)
                else (marker if s in (1, 4) else complement_marker)
                for v, s in zip(values[:, j], state[:, j], strict=True)
            ],
            index=out.index,
            dtype=object,
        )
    return out


def _blank_and_log(
    out: pd.DataFrame,
    counts: list[str],
    state: np.ndarray,
    deps: Mapping[str, list[str]],
    props: Mapping[str, list[str]],
    reason_of: Mapping[Cell, str],
    unprotected: set[Cell],
    *,
    min_cell: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Blank the statistics of hidden counts (in place on ``out``) and log every hidden count."""
    log_rows = []
    blank_mask = {c: np.zeros(len(out), dtype=bool) for c in out.columns}
    for i, j in sorted(tuple(c) for c in np.argwhere(np.isin(state, (1, 2, 4)))):
        col = counts[j]
        dep = [d for d in props.get(col, []) if d not in counts]
        if state[i, j] in (1, 4):  # below min_cell: its statistics go too
            dep = [d for d in deps.get(col, []) if d not in counts and d not in dep] + dep
        for d in dep:
            blank_mask[d][i] = True
        log_rows.append(
            dict(
                row=out.index[i],
                column=col,
                kind="primary" if state[i, j] == 1 else "complementary",
                reason=(
                    f"count below {min_cell}" if state[i, j] == 1 else reason_of.get((i, j), "")
                ),
                blanked=", ".join(str(d) for d in dep),
                protected=(int(i), int(j)) not in unprotected,
            )
        )
    for col, mask in blank_mask.items():
        if mask.any():
            if pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
                new = out[col].astype(float)
                new[mask] = np.nan
            else:
                new = out[col].astype(object)
                new[mask] = None
            out[col] = new
    log = pd.DataFrame(log_rows, columns=list(SUPPRESSION_LOG_COLUMNS))
    log["row"] = log["row"].astype(object)
    return out, log


def suppress_small_cells(
    table: pd.DataFrame,
    *,
    min_cell: int = 5,
    count_columns: str | Sequence[str] | None = None,
    dependent_columns: Mapping[str, str | Sequence[str]] | None = None,
    proportion_columns: Mapping[str, str | Sequence[str]] | None = None,
    marker: str | None = None,
    complement_marker: str = DEFAULT_COMPLEMENT_MARKER,
    suppress_zero: bool = False,
    row_totals: Mapping[str, Sequence[str]] | None = None,
    column_totals: Sequence[tuple[Hashable, Sequence[Hashable]]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hide counts below ``min_cell``, the statistics computed from them, and their complements.

    Parameters
    ----------
    table : pandas.DataFrame
        The table to publish. Not changed.
    min_cell : int, default 5
        Smallest count that may be shown.
    count_columns : str or sequence of str, optional
        Columns holding counts (non-negative whole numbers; NaN allowed). Default: numeric
        columns named ``n``, ``count``, ``freq``, ``n_*``, ``*_n``, ``count_*`` or ``*_count``.
    dependent_columns : mapping, optional
        ``{count column: statistics computed from it}``: when the count of a row is below
        ``min_cell`` (primary suppression, or a zero hidden as a last resort), these columns of
        the same row are blanked too (NaN in numeric columns, ``None`` in others), e.g.
        ``{"n": ["mean", "sd"]}``. A count hidden only as a complement (it is at least
        ``min_cell``) keeps its statistics: they describe enough people to reveal no small
        count.
    proportion_columns : mapping, optional
        ``{count column: columns that give the count away}``, e.g. ``{"n": ["percent"]}``
        (with the denominator known, the percentage IS the count): blanked whenever the count
        is hidden, by primary or complementary suppression.
    marker : str, optional
        What a count below ``min_cell`` is replaced by (default ``f"<{min_cell}"``).
    complement_marker : str, default ``"—"``
        What a count hidden only to protect another one is replaced by (it is at least
        ``min_cell``, so ``marker`` would be untrue).
    suppress_zero : bool, default False
        Whether zero counts are hidden too. By default a zero is shown: a count of nobody
        discloses nothing about a person, and hiding zeros makes tables hard to read. Set
        ``True`` when "nobody in this group has the attribute" is itself sensitive.
    row_totals : mapping, optional
        Row margins: ``{"overall": ["immediate", "delayed"]}`` declares that in every row the
        count in ``overall`` is the sum of the counts in ``immediate`` and ``delayed``.
    column_totals : sequence of (label, labels) pairs, optional
        Column margins by index label: ``[("randomized", ["assessed", "lost"])]`` declares that,
        in every count column, the row labelled ``"randomized"`` is the sum of the rows
        ``"assessed"`` and ``"lost"``. A row may be the total of several groups.

    Returns
    -------
    table : pandas.DataFrame
        A new table: count columns become object columns of integers and markers; dependent
        cells of counts below ``min_cell`` and proportion cells of every hidden count are
        blank.
    log : pandas.DataFrame
        One row per hidden count: ``row`` (index label), ``column``, ``kind`` (``"primary"``
        or ``"complementary"``), ``reason``, ``blanked`` (the dependent columns cleared) and
        ``protected`` (False when the count can still be worked out: this happens only when
        every count around it is also small, e.g. a margin whose cells are all below
        ``min_cell``, or ``min_cell=2`` with zeros shown). The log never holds the hidden
        values, so it may be shared with the table.

    Raises
    ------
    DataValidationError
        If count columns are missing, not numeric or hold non-counts, a dependency or margin
        names an unknown column or row, or a declared total does not equal the sum of its
        components (every problem listed at once).

    Notes
    -----
    Complementary suppression: while some hidden count is pinned to a single value by the
    declared margins, the visible counts and what the markers say (a primary cell lies in
    ``[1, min_cell - 1]``, or ``[0, min_cell - 1]`` with ``suppress_zero=True``; a complementary
    one is at least ``min_cell``), one more visible count of at least ``min_cell`` from a margin
    containing that cell is hidden: the one that leaves the fewest cells pinned, then a cell
    that is not a total, then the smallest. Whether a cell is pinned is decided exactly: by
    linear algebra for the margins alone, then from the range of values the cell can take
    under the margins and the markers' bounds (linear programming; the margins of two-way
    tables are totally unimodular, so the bounds are integers). When only zeros are left to
    hide next to a pinned count, a zero is hidden and shown with ``marker`` (it is below
    ``min_cell``). This is the usual cell-suppression heuristic of statistical agencies (see
    Hundepool et al., *Statistical Disclosure Control*, Wiley 2012, ch. 4): no hidden count
    can be worked out exactly unless the log says ``protected=False``, which happens only when
    all counts around it are small, so that nothing else could hide it; the width of the range
    is not guaranteed. Cells that are NaN in the input count as unknown to the reader and are
    left as they are. Counts that are shown are never below ``min_cell`` (except zeros when
    ``suppress_zero=False``).

    Statistics: ``dependent_columns`` follow the rule "blank a statistic only when its own
    cell has fewer than ``min_cell`` people"; ``proportion_columns`` are blanked with every
    hidden count. Keeping the mean of a complementary cell is safe for disclosure of small
    counts; note only that a pooled mean printed beside its group means carries the ratio of
    the group sizes approximately (to the precision of the printed means), which narrows but
    does not pin the hidden sizes.

    Examples
    --------
    >>> import pandas as pd
    >>> from coaching_trials.report import suppress_small_cells
    >>> t = pd.DataFrame({"arm": ["immediate", "delayed", "overall"],
    ...                   "n": [3, 40, 43], "mean": [1.2, 1.5, 1.48]}).set_index("arm")
    >>> shown, log = suppress_small_cells(
    ...     t, dependent_columns={"n": ["mean"]},
    ...     column_totals=[("overall", ["immediate", "delayed"])])
    >>> shown
                n  mean
    arm
    immediate  <5   NaN
    delayed     —  1.50
    overall    43  1.48
    >>> log[["row", "column", "kind"]]
             row column           kind
    0  immediate      n        primary
    1    delayed      n  complementary
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"`table` must be a pandas DataFrame; got {type(table).__name__}.")
    if not isinstance(suppress_zero, bool):
        raise TypeError(f"`suppress_zero` must be True or False; got {suppress_zero!r}.")
    if count_columns is None:
        counts = _default_count_columns(table)
        if not counts:
            raise ValueError(
                "no count column found: name them with `count_columns=` (no numeric column is "
                f"called n, count, n_* or *_n among {format_values(table.columns, 12)})."
            )
    else:
        counts = _as_list(count_columns, "count_columns")
    deps, totals, col_totals = _validate(
        table,
        min_cell=min_cell,
        count_columns=counts,
        dependent_columns=dependent_columns or {},
        row_totals=row_totals or {},
        column_totals=column_totals or (),
    )
    props, _, _ = _validate(
        table,
        min_cell=min_cell,
        count_columns=counts,
        dependent_columns=proportion_columns or {},
        row_totals={},
        column_totals=(),
        dep_name="proportion_columns",
    )
    if marker is None:
        marker = f"<{min_cell}"
    values = (
        table[counts].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    )
    constraints = _constraints(table, counts, totals, col_totals)
    _check_margins(values, constraints, table, counts)

    finite = np.isfinite(values)
    state = np.zeros(values.shape, dtype=np.int8)
    small = finite & (values < min_cell)
    if not suppress_zero:
        small &= values > 0
    state[small] = 1
    state[~finite] = 3
    zero_floor = 0 if suppress_zero else 1

    # complementary suppression until no hidden count is pinned to one value
    protects, _ = _complementary(
        values, state, constraints, min_cell=min_cell, zero_floor=zero_floor
    )
    unprotected = _unprotected_cells(
        values, state, constraints, min_cell=min_cell, zero_floor=zero_floor
    )
    reason_of = {
        cell: (
            ("a zero, hidden as a last resort: " if values[cell] == 0 else "")
            + f"protects the hidden count at row {table.index[p[0]]!r}, column {counts[p[1]]!r} "
            "from being worked out from a total"
        )
        for cell, p in protects.items()
    }
    out = _with_markers(table, counts, values, state, marker, complement_marker)
    return _blank_and_log(
        out, counts, state, deps, props, reason_of, unprotected, min_cell=min_cell
    )
