"""The release step: one decision, over every table published together, of what a reader sees.

``compute -> release -> render``: the analysis computes full tables; :func:`release_publication`
receives all of them at once (a :class:`~coaching_trials.release._model.Publication`, in which
every count is tied to the participants it counts) and decides jointly what is shown; the
renderers draw only the released tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials.release._lp import atoms, count_bounds
from coaching_trials.release._model import Publication
from coaching_trials.release.policy import ReleasePolicy

__all__ = ["HIDDEN", "LOG_COLUMNS", "Release", "is_hidden", "release_publication"]

#: What a hidden cell holds in every released table (the same marker whatever the reason, so
#: that a reader cannot tell a small count from one hidden to protect it).
HIDDEN = "[hidden]"
LOG_COLUMNS = ("table", "row", "column", "label", "rule", "reason", "low", "high")


def is_hidden(value: Any) -> bool:
    """Whether a released cell was hidden by the release step."""
    return isinstance(value, str) and value == HIDDEN


@dataclass(frozen=True, eq=False)
class Release:
    """What the release step decided.

    Attributes
    ----------
    tables : Mapping[str, pandas.DataFrame]
        The released tables (hidden cells hold :data:`HIDDEN`; counts rounded under the
        ``"round"`` policy). Only these may be rendered or shared.
    log : pandas.DataFrame
        The disclosure log, for the analyst only: one row per hidden or changed cell with
        ``table, row, column, label, rule, reason`` and, for hidden counts, the interval
        ``low``-``high`` a reader could still work out from everything published.
    policy : ReleasePolicy
    """

    tables: Mapping[str, pd.DataFrame]
    log: pd.DataFrame
    policy: ReleasePolicy
    notes: tuple[str, ...] = field(default=())

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name].copy()

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def to_frame(self) -> pd.DataFrame:
        """The disclosure log (a copy)."""
        return self.log.copy()

    def summary(self) -> str:
        n_hidden = int((self.log["rule"] != "rounded").sum()) if len(self.log) else 0
        return (
            f"Release ({self.policy.name}: {self.policy.describe()})\n"
            f"tables: {', '.join(self.tables)}\n"
            f"cells hidden: {n_hidden}"
        )

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"


def _labels(tables: Mapping[str, pd.DataFrame], log: pd.DataFrame) -> list[str]:
    """A readable key of each logged row: its text columns (first five)."""
    text_cols = {
        name: [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        for name, frame in tables.items()
    }
    out = []
    for table, row in zip(log["table"], log["row"], strict=True):
        frame = tables[table]
        parts = []
        for col in text_cols[table]:
            value = frame[col].iat[row]
            if isinstance(value, str) and value and value != HIDDEN and len(value) <= 60:
                parts.append(f"{col}={value}")
        out.append(", ".join(parts[:5]))
    return out


class _Audit:
    """Counts hidden so far and the interval audit of each."""

    def __init__(self, pub: Publication, policy: ReleasePolicy) -> None:
        self.policy = policy
        self.values = pub.values
        self.incidence = atoms(pub.masks) if len(self.values) else np.zeros((0, 0))
        self.hidden: dict[int, tuple[str, str]] = {}  # quantity -> (rule, reason)
        self.primary: set[int] = set()
        self.bounds: dict[int, tuple[float, float]] = {}
        self.weights = pub.weights
        self.cells = np.bincount(
            [c.quantity for c in pub.counts], minlength=len(self.values)
        ).tolist()

    def hide(self, q: int, rule: str, reason: str) -> None:
        self.hidden.setdefault(q, (rule, reason))

    def _known(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows, low, high = [], [], []
        for q, v in enumerate(self.values):
            if q in self.hidden:
                if self.policy.name == "round" and q in self.primary:
                    rows.append(q)  # the reader knows a redacted count is small
                    low.append(0.0)
                    high.append(float(self.policy.redact_at_most))
                continue
            lo, hi = self.policy.known_interval(int(v))
            rows.append(q)
            low.append(lo)
            high.append(hi)
        return np.asarray(rows, dtype=int), np.asarray(low), np.asarray(high)

    def ok(self, q: int, low: float, high: float) -> bool:
        """A hidden small count keeps ``min_possibilities`` values open and (suppression) may
        be at least the threshold; counts hidden only to protect others need not (as in
        sdcTable and tau-ARGUS, only the sensitive cells carry protection requirements)."""
        pol = self.policy
        if q not in self.primary or self.values[q] == 0:
            return True  # a zero hidden with its group describes nobody
        if np.isnan(low):  # not solved: the maximum alone was far enough above the value
            low = float(self.values[q])
        if high - low + 1 < pol.min_possibilities:
            return False
        return pol.name != "suppress" or high >= pol.threshold

    def protect(self) -> None:
        """Hide further counts until every hidden count passes the audit."""
        work = sorted(self.hidden)
        guard = 0
        while work:
            q = work.pop(0)
            while True:
                guard += 1
                if guard > 20 * (len(self.values) + 1):
                    raise RuntimeError("complementary suppression did not settle.")
                rows, low, high = self._known()
                # the maximum alone proves the width when it is far enough above the value
                enough = float(self.values[q] + self.policy.min_possibilities - 1)
                bounds = count_bounds(
                    self.incidence[rows], low, high, self.incidence[q], low_needed=enough
                )
                self.bounds[q] = (bounds.low, bounds.high)
                if self.ok(q, bounds.low, bounds.high):
                    break
                order = bounds.binding_high + bounds.binding_low
                candidates = [int(rows[i]) for i in order if int(rows[i]) not in self.hidden]
                if not candidates:
                    # nothing published narrows it further; it is as protected as it can be
                    self.hidden[q] = (
                        self.hidden[q][0],
                        self.hidden[q][1] + " (not fully protected: the interval audit "
                        "could not widen it)",
                    )
                    break
                # the cheapest protector: a count printed in few places, then the smallest
                pick = min(
                    candidates,
                    key=lambda c: (self.weights.get(c, 10), self.cells[c], self.values[c], c),
                )
                self.hide(
                    pick,
                    "complementary",
                    "hidden so that another hidden count cannot be worked out from the "
                    "published numbers",
                )

    def reveal_implied(self) -> None:
        """Show again the counts hidden only to protect others that are a linear combination
        of exactly published counts (they are pinned anyway, so hiding them protects nothing:
        the feasible set is unchanged). Exact counts only; rounded counts pin nothing."""
        if self.policy.rounding > 1:
            return
        extra = [q for q in sorted(self.hidden) if q not in self.primary]
        if not extra:
            return
        rows, _, _ = self._known()
        basis = self.incidence[rows]
        rank = np.linalg.matrix_rank(basis) if len(rows) else 0
        for q in extra:
            stacked = np.vstack([basis, self.incidence[q]])
            if np.linalg.matrix_rank(stacked) == rank:
                del self.hidden[q]


def _apply_families(pub: Publication, stat_hidden: list[bool], log: list[dict]) -> None:
    """Hide shown means from which a hidden mean of the same family follows."""
    families: dict[str, list[int]] = {}
    for i, st in enumerate(pub.stats):
        if st.family is not None and st.mask is not None:
            families.setdefault(st.family, []).append(i)
    for members in families.values():
        changed = True
        while changed:
            changed = False
            shown = [i for i in members if not stat_hidden[i]]
            hidden = [i for i in members if stat_hidden[i]]
            if not shown or not hidden:
                break
            basis = np.vstack([pub.stats[i].mask for i in shown]).astype(float)
            rank = np.linalg.matrix_rank(basis)
            for h in hidden:
                target = pub.stats[h].mask.astype(float)
                if not target.any():
                    continue
                if np.linalg.matrix_rank(np.vstack([basis, target])) > rank:
                    continue
                coef, *_ = np.linalg.lstsq(basis.T, target, rcond=None)
                used = [shown[j] for j in np.flatnonzero(np.abs(coef) > 1e-8)]
                pick = max(used, key=lambda i: (pub.stats[i].mask.sum(), -i))
                stat_hidden[pick] = True
                st = pub.stats[pick]
                for col in st.columns:
                    log.append(
                        dict(
                            table=st.table,
                            row=st.row,
                            column=col,
                            rule="complementary statistic",
                            reason="hidden so that a hidden group's statistic cannot be worked "
                            "out from this one and the others of the same variable",
                        )
                    )
                changed = True
                break


def release_publication(pub: Publication, policy: ReleasePolicy) -> Release:
    """Decide jointly what each table of ``pub`` shows under ``policy``."""
    audit = _Audit(pub, policy)
    values = audit.values
    # primary: sensitive counts, and every count describing a sensitive group
    for q, v in enumerate(values):
        if policy.is_sensitive(int(v)):
            audit.primary.add(q)
            small = (
                f"at most {policy.redact_at_most}"
                if policy.name == "round"
                else f"fewer than {policy.threshold}"
            )
            audit.hide(q, "primary", f"{small} people")
    for q, groups in pub.groups.items():
        small = [g for g in groups if policy.is_sensitive(int(values[g])) and values[g] > 0]
        if small and q not in audit.hidden:
            audit.primary.add(q)
            audit.hide(q, "group", "describes a group too small to show")
    audit.protect()
    audit.reveal_implied()

    tables = {name: frame.copy() for name, frame in pub.tables.items()}
    for name, frame in tables.items():
        tables[name] = frame.astype(
            {c: object for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
        )
    log: list[dict[str, Any]] = []
    for cell in pub.counts:
        q = cell.quantity
        frame = tables[cell.table]
        if q in audit.hidden:
            rule, reason = audit.hidden[q]
            frame.at[cell.row, cell.column] = HIDDEN
            lo, hi = audit.bounds.get(q, (np.nan, np.nan))
            log.append(
                dict(
                    table=cell.table,
                    row=cell.row,
                    column=cell.column,
                    rule=rule,
                    reason=reason,
                    low=lo,
                    high=hi,
                )
            )
        elif policy.rounding > 1:
            shown = policy.shown(int(values[q]))
            frame.at[cell.row, cell.column] = shown
            if shown != values[q]:
                log.append(
                    dict(
                        table=cell.table,
                        row=cell.row,
                        column=cell.column,
                        rule="rounded",
                        reason=f"rounded to the nearest {policy.rounding}",
                    )
                )
        else:
            frame.at[cell.row, cell.column] = int(values[q])

    stat_hidden = [
        any(q in audit.hidden for q in st.needs) or (policy.rounding > 1 and st.reveals_count)
        for st in pub.stats
    ]
    for i, st in enumerate(pub.stats):
        if stat_hidden[i]:
            rule = (
                "exact count"
                if not any(q in audit.hidden for q in st.needs)
                else "statistic of a hidden count"
            )
            reason = (
                "pins an exact count, which rounding must not reveal"
                if rule == "exact count"
                else "computed from a hidden count"
            )
            for col in st.columns:
                log.append(dict(table=st.table, row=st.row, column=col, rule=rule, reason=reason))
    _apply_families(pub, stat_hidden, log)
    for i, st in enumerate(pub.stats):
        frame = tables[st.table]
        if stat_hidden[i]:
            for col in st.columns:
                frame.at[st.row, col] = HIDDEN
        elif st.percent_of is not None and policy.rounding > 1:
            num, den, scale = st.percent_of
            d = policy.shown(int(values[den]))
            value = scale * policy.shown(int(values[num])) / d if d else np.nan
            for col in st.columns:
                frame.at[st.row, col] = value
    for name, frame in tables.items():
        tables[name] = _restore_dtypes(frame, pub.tables[name])
    out = pd.DataFrame(log, columns=list(LOG_COLUMNS[:3]) + list(LOG_COLUMNS[4:]))
    out = out.sort_values(["table", "row", "column"], kind="stable").reset_index(drop=True)
    out = out.drop_duplicates(["table", "row", "column"], keep="first").reset_index(drop=True)
    out.insert(3, "label", _labels(pub.tables, out))
    return Release(tables=MappingProxyType(tables), log=out, policy=policy, notes=())


def _restore_dtypes(frame: pd.DataFrame, original: pd.DataFrame) -> pd.DataFrame:
    """Columns with nothing hidden get their original numeric dtype back."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object and pd.api.types.is_numeric_dtype(original[col]):
            if not any(is_hidden(v) for v in out[col]):
                values = pd.to_numeric(out[col])
                try:
                    out[col] = values.astype(original[col].dtype)
                except (TypeError, ValueError):
                    out[col] = values
    return out
