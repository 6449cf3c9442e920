"""The one scoring engine: item responses -> subscale scores and cut-point flags.

Every instrument (shipped TOML, custom TOML or dict) is scored by :func:`score`. The engine
works on the item block as numpy arrays, one pass per subscale, with no per-respondent Python.

Missing-item rule
    A subscale is scored when at least ``min_answered`` of its ``n`` items are answered
    (default per subscale in the definition; half the items rounded up unless stated). The
    score of a row with some items missing is *prorated*: the mean of the answered items
    (for sum aggregation, that mean times ``n``). Rows with fewer answered items get NA and
    are counted as unscorable. Both are recorded, with their row labels, in the audit.
Reverse keys
    ``r' = response_min + response_max - r``.
Metrics
    ``offset + factor * base`` where base is the (prorated) item mean or sum; cut-points are
    evaluated on the metric they were declared on, so flags never depend on the reporting
    metric (see :mod:`coaching_trials.instruments.registry`).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import DataValidationWarning, ProblemLog, format_values, one_of
from coaching_trials._results import ResultMixin, format_table
from coaching_trials.instruments._score_input import (
    item_arrays,
    json_safe,
    resolve_min_answered,
    span,
)
from coaching_trials.instruments.items import item_columns
from coaching_trials.instruments.registry import (
    Instrument,
    Subscale,
    resolve_instrument,
)
from coaching_trials.io.missing import MissingCodes, chain_missing
from coaching_trials.io.missing import missing_codes as build_missing_codes

__all__ = ["AUDIT_COLUMNS", "ScoreAudit", "ScoreResult", "score", "score_with_audit"]

AUDIT_COLUMNS: tuple[str, ...] = ("step", "subscale", "reason", "n_rows", "rows", "detail")

_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3 or bool(
    getattr(pd.options.mode, "copy_on_write", False) is True
)

InstrumentLike = str | Path | Mapping[str, Any] | Instrument


# --------------------------------------------------------------------------------------------
# result objects
# --------------------------------------------------------------------------------------------


class ScoreAudit(tuple):
    """Audit records attached to a scored frame as ``frame.attrs["audit"]``.

    An immutable sequence of dict records with the keys ``step, subscale, reason, n_rows,
    rows, detail``; ``to_frame()`` (or ``pandas.DataFrame(audit)``) gives the table, and it
    displays as a table. It is a tuple rather than a DataFrame on purpose: pandas deep-copies
    ``attrs`` on every operation, compares them in ``merge``/``concat`` and writes them as
    JSON in ``to_parquet``; a DataFrame there makes all three slow or fail (pandas issue
    #60455), while this record tuple is free to propagate, compares as a bool and serialises.
    """

    __slots__ = ()

    def __deepcopy__(self, _memo: dict[int, Any] | None = None) -> ScoreAudit:
        return self  # immutable by contract: sharing is safe and costs nothing

    def __copy__(self) -> ScoreAudit:
        return self

    def to_frame(self) -> pd.DataFrame:
        """The audit as a DataFrame (``step, subscale, reason, n_rows, rows, detail``)."""
        frame = pd.DataFrame(list(self), columns=list(AUDIT_COLUMNS))
        return frame.astype({"n_rows": "int64"})

    def __repr__(self) -> str:
        frame = self.to_frame()
        if frame.empty:
            return "ScoreAudit(no rows prorated or unscorable)"
        shown = frame.assign(rows=frame["rows"].map(lambda r: format_values(r, limit=5)))
        return "ScoreAudit\n" + format_table(shown)

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        frame = frame.assign(rows=frame["rows"].map(lambda r: format_values(r, limit=5)))
        return "<div><strong>Scoring audit</strong>" + frame.to_html(index=False) + "</div>"


@dataclass(frozen=True, repr=False)
class ScoreResult(ResultMixin):
    """Scores of one instrument with the audit of prorated and unscorable rows.

    Attributes
    ----------
    data : pandas.DataFrame
        A copy of the input plus the subscale and flag columns.
    audit : pandas.DataFrame
        Columns ``step, subscale, reason, n_rows, rows, detail``: one row per subscale and
        reason (``"prorated"`` or ``"unscorable: fewer than k of n items answered"``).
    instrument : Instrument
    metric : str
        The reporting metric of the score columns.
    """

    data: pd.DataFrame
    audit: pd.DataFrame
    instrument: Instrument
    metric: str

    _title = "Scores"

    @property
    def columns(self) -> list[str]:
        """The columns added by scoring (subscales, then flags)."""
        return self.instrument.output_columns()

    @property
    def scores(self) -> pd.DataFrame:
        """Only the added subscale and flag columns."""
        return self.data.loc[:, self.columns]

    def to_frame(self) -> pd.DataFrame:
        """The scored data (input columns plus subscale and flag columns)."""
        return self.data

    def describe(self) -> pd.DataFrame:
        """One row per subscale: metric range, n scored / prorated / unscorable, mean, sd."""
        inst = self.instrument
        rows = []
        audit = self.audit
        data = self.data  # one (copy-on-write) read, not one per subscale
        for sid, col in inst.subscale_columns().items():
            lo, hi = inst.score_range(sid, self.metric)
            values = data[col]

            def count(reason_prefix: str, col: str = col) -> int:
                sel = (audit["subscale"] == col) & audit["reason"].str.startswith(reason_prefix)
                return int(audit.loc[sel, "n_rows"].sum())

            rows.append(
                {
                    "column": col,
                    "metric": self.metric,
                    "range": f"{lo:g}-{hi:g}",
                    "n_scored": int(values.notna().sum()),
                    "n_prorated": count("prorated"),
                    "n_unscorable": count("unscorable"),
                    "mean": float(values.mean()) if values.notna().any() else np.nan,
                    "sd": float(values.std()) if values.notna().sum() > 1 else np.nan,
                }
            )
        return pd.DataFrame(rows)

    def summary(self, digits: int = 3) -> str:
        title = f"Scores: {self.instrument.id} ({self.instrument.name}), metric {self.metric!r}"
        return f"{title}\n{format_table(self.describe(), digits)}"

    def _repr_html_(self) -> str:
        body = self.describe().to_html(index=False, float_format=lambda x: f"{x:.3f}")
        return (
            f"<div><strong>Scores: {self.instrument.id}</strong> (metric "
            f"{self.metric!r}){body}</div>"
        )


# --------------------------------------------------------------------------------------------
# the engine
# --------------------------------------------------------------------------------------------


def _on_metric(
    inst: Instrument,
    sub: Subscale,
    metric_name: str,
    total: np.ndarray,
    count: np.ndarray,
    scorable: np.ndarray,
    bases: dict[str, np.ndarray],
) -> np.ndarray:
    """Subscale score on one metric; NaN where unscorable. ``bases`` caches mean / sum."""
    m = inst.metrics[metric_name]
    agg = m.aggregation or sub.aggregation
    if agg not in bases:
        n = sub.n_items
        with np.errstate(invalid="ignore", divide="ignore"):
            if agg == "sum":
                # complete rows keep the exact integer sum; others are prorated (mean x n)
                base = np.where(count == n, total, total * n / count)
            else:
                base = total / count
        base[~scorable] = np.nan
        bases[agg] = base
    base = bases[agg]
    if m.factor == 1.0 and m.offset == 0.0:
        return base
    return m.offset + m.factor * base


def _declared_audit(
    declared: list[tuple[str, Any, str, np.ndarray]], index: pd.Index, step: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The declared missing codes found: one record per column and token, and one audit entry
    per token (and reason)."""
    missing_records = [
        {"column": col, "token": token, "reason": reason, "rows": tuple(index[mask])}
        for col, token, reason, mask in declared
    ]
    per_token: dict[tuple[Any, str], list[tuple[str, np.ndarray]]] = {}
    for col, token, reason, mask in declared:
        per_token.setdefault((token, reason), []).append((col, mask))
    audit = []
    for (token, reason), hits in per_token.items():
        rows_mask = np.logical_or.reduce([m for _, m in hits])
        cells = sum(int(m.sum()) for _, m in hits)
        shown = ", ".join(f"{c} ({int(m.sum())})" for c, m in hits[:6])
        audit.append(
            {
                "step": step,
                "subscale": None,
                "reason": f"declared missing: {reason}",
                "n_rows": int(rows_mask.sum()),
                "rows": json_safe(index[rows_mask]),
                "detail": f"{cells} item response(s) {token!r} in {len(hits)} column(s): {shown}",
            }
        )
    return missing_records, audit


def _answered_tally(count: np.ndarray, rows: np.ndarray, high: int, low: int) -> str:
    """``"c answered: rows"`` for c from ``high`` down to ``low`` (counts that occur only)."""
    tally = np.bincount(count[rows], minlength=high + 1)
    return ", ".join(f"{c} answered: {int(tally[c])}" for c in range(high, low - 1, -1) if tally[c])


def _coverage_audit(
    step: str,
    column: str,
    count: np.ndarray,
    k: int,
    n: int,
    prorate: bool,
    is_sum: bool,
    index: pd.Index,
) -> list[dict[str, Any]]:
    """Audit entries of one subscale: rows prorated (some items missing) and rows unscorable
    (fewer than ``k`` of ``n`` items answered)."""
    entries = []
    lacking = count < k
    partly = ~lacking & (count < n)
    if prorate and partly.any():
        how = "mean of answered items" + (f" x {n}" if is_sum else "")
        entries.append(
            {
                "step": step,
                "subscale": column,
                "reason": "prorated",
                "n_rows": int(partly.sum()),
                "rows": json_safe(index[partly]),
                "detail": (
                    f"{span(k, n - 1)} of {n} items answered "
                    f"({_answered_tally(count, partly, n - 1, k)}); score = {how}"
                ),
            }
        )
    if lacking.any():
        entries.append(
            {
                "step": step,
                "subscale": column,
                "reason": f"unscorable: fewer than {k} of {n} items answered",
                "n_rows": int(lacking.sum()),
                "rows": json_safe(index[lacking]),
                "detail": f"score set to NA ({_answered_tally(count, lacking, k - 1, 0)})",
            }
        )
    return entries


def _flag_columns(
    inst: Instrument, cut_flags: Mapping[tuple[str, str], pd.arrays.BooleanArray]
) -> dict[str, pd.arrays.BooleanArray]:
    """The cut-point flag columns and the composite flags built from them."""
    flag_cols = inst.flag_columns()
    out = {flag_cols[f"{sid}.{cname}"]: flag for (sid, cname), flag in cut_flags.items()}
    for fname, fl in inst.flags.items():
        parts = [cut_flags[t] for t in fl.terms]
        combined = parts[0]
        for p in parts[1:]:
            combined = (combined | p) if fl.rule == "any" else (combined & p)
        out[flag_cols[fname]] = combined
    return out


def _score_arrays(
    data: pd.DataFrame,
    inst: Instrument,
    metric: str,
    k_by_sub: Mapping[str, int],
    prorate: bool,
    validate: bool,
    codes: MissingCodes | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], dict[str, np.ndarray]]:
    arrays, answered, declared = item_arrays(data, inst, validate, codes)
    lohi = float(inst.response_min) + float(inst.response_max)
    reverse = set(inst.reverse_items)
    n_rows = len(data)
    index = data.index
    out_metric = inst.metric(metric)
    columns = inst.subscale_columns()
    new: dict[str, Any] = {}
    cut_flags: dict[tuple[str, str], pd.arrays.BooleanArray] = {}
    step = f"score:{inst.id}"
    missing_records, audit = _declared_audit(declared, index, step)
    count_dtype = np.int16 if len(inst.items) < 32_000 else np.int64
    sums: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def item_sums(sub: Subscale) -> tuple[np.ndarray, np.ndarray]:
        """Sum of answered (reverse-keyed) responses and number answered, per row."""
        if sub.composite_of:  # reuse the parts' sums: a composite is their union
            parts = [
                sums[p] if p in sums else item_sums(inst.subscales[p]) for p in sub.composite_of
            ]
            total = parts[0][0].copy()
            count = parts[0][1].copy()
            for t, c in parts[1:]:
                total += t
                count += c
            return total, count
        total = np.zeros(n_rows, dtype="float64")
        count = np.zeros(n_rows, dtype=count_dtype)
        for col in sub.items:  # a loop over items; each step is vectorised over respondents
            arr = (lohi - arrays[col]) if col in reverse else arrays[col]
            np.add(total, arr, out=total, where=answered[col])
            count += answered[col]
        sums[sub.id] = (total, count)
        return total, count

    for sid, sub in inst.subscales.items():
        n = sub.n_items
        k = k_by_sub[sid]
        total, count = item_sums(sub)
        scorable = count >= k
        bases: dict[str, np.ndarray] = {}
        values = _on_metric(inst, sub, metric, total, count, scorable, bases)
        new[columns[sid]] = values
        for cname, cut in sub.cutpoints.items():
            on_cut = (
                values
                if cut.metric == metric
                else _on_metric(inst, sub, cut.metric, total, count, scorable, bases)
            )
            cut_flags[(sid, cname)] = pd.arrays.BooleanArray(cut.compare(on_cut), ~scorable)

        is_sum = (out_metric.aggregation or sub.aggregation) == "sum"
        audit += _coverage_audit(step, columns[sid], count, k, n, prorate, is_sum, index)

    new.update(_flag_columns(inst, cut_flags))
    replaced = {col: arrays[col] for col in dict.fromkeys(c for c, *_ in declared)}
    return new, audit, missing_records, replaced


def _prepare(
    data: Any,
    instrument: InstrumentLike,
    metric: str | None,
    min_answered: int | Mapping[str, int] | None,
    prorate: bool,
) -> tuple[Instrument, str, dict[str, int]]:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    inst = resolve_instrument(instrument)
    if metric is None:
        metric = inst.default_metric
    if not isinstance(metric, str) or metric not in inst.metrics:
        raise one_of("metric", metric, tuple(inst.metrics))
    k_by_sub = resolve_min_answered(inst, min_answered, prorate)
    return inst, metric, k_by_sub


def _assemble(
    data: pd.DataFrame, inst: Instrument, new: dict[str, Any], keep_items: bool
) -> pd.DataFrame:
    if not isinstance(keep_items, (bool, np.bool_)):
        raise TypeError(f"`keep_items` must be True or False, got {keep_items!r}.")
    clash = [c for c in new if c in data.columns]
    drop = list(clash)
    if clash:
        warnings.warn(
            f"Columns {clash} already exist in the data and are replaced by the new scores of "
            f"{inst.id!r}.",
            DataValidationWarning,
            stacklevel=4,
        )
    if not keep_items:
        drop += [c for c in inst.items if c not in drop]
    base = data.drop(columns=drop) if drop else data.copy(deep=not _COPY_ON_WRITE)
    added = pd.DataFrame(new, index=data.index)
    out = pd.concat([base, added], axis=1)
    return out


def _chain_audit(previous: Any, audit: ScoreAudit) -> ScoreAudit:
    """Append this step's records to an audit already carried in ``attrs`` (e.g. a reader's)."""
    if previous is None:
        return audit
    if isinstance(previous, pd.DataFrame):
        previous = previous.to_dict("records")
    if isinstance(previous, (list, tuple)) and all(isinstance(r, Mapping) for r in previous):
        return ScoreAudit((*previous, *audit))
    warnings.warn(
        f"data.attrs['audit'] holds a {type(previous).__name__}, not audit records; it is "
        "replaced by the scoring audit.",
        DataValidationWarning,
        stacklevel=4,
    )
    return audit


def score_with_audit(
    data: pd.DataFrame,
    instrument: InstrumentLike,
    *,
    metric: str | None = None,
    min_answered: int | Mapping[str, int] | None = None,
    prorate: bool = True,
    keep_items: bool = True,
    validate: bool = True,
    items: str | re.Pattern[str] | None = None,
    missing_codes: Mapping[Any, str] | None = None,
) -> ScoreResult:
    """Score an instrument and return the scores with their audit as a :class:`ScoreResult`.

    Same parameters as :func:`score`.

    Notes
    -----
    Scores and flags agree to 1e-12 with an independent base-R implementation of the rules
    (``tests/reference/instruments/make_golden.R``) for the PFI (all metrics), CBI (reverse key)
    and MBI (sums, composite flag); see :func:`score`.

    Examples
    --------
    >>> import pandas as pd
    >>> import coaching_trials as ct
    >>> df = pd.DataFrame({"svs_01": [4, 2], "svs_02": [3, None], "svs_03": [4, 1],
    ...                    "svs_04": [2, 2]})
    >>> res = ct.score_with_audit(df, "svs")
    >>> res.data["svs_total"].tolist()      # 4+3+4+2 = 13; (2+1+2)/3 x 4 = 6.67
    [13.0, 6.666666666666667]
    >>> res.audit[["subscale", "reason", "n_rows", "rows"]].to_string(index=False)
    ' subscale   reason  n_rows rows\\nsvs_total prorated       1 (1,)'
    """
    inst, metric, k_by_sub = _prepare(data, instrument, metric, min_answered, prorate)
    codes = build_missing_codes(inst.missing_codes, missing_codes)
    mapping: dict[str, str] = {}
    source = data
    if items is not None:
        log = ProblemLog(f"the item columns of instrument {inst.id!r}")
        mapping = item_columns(list(data.columns), list(inst.items), items, log)
        log.raise_if_any()
        source = data.rename(columns=mapping)
    new, records, missing_records, replaced = _score_arrays(
        source, inst, metric, k_by_sub, prorate, validate, codes
    )
    out = _assemble(source, inst, new, keep_items)
    if replaced and keep_items:  # item cells holding a declared code are missing in the output
        out = out.assign(**{col: arr for col, arr in replaced.items()})
    if mapping:
        back = {item: col for col, item in mapping.items()}
        out = out.rename(columns={k: v for k, v in back.items() if k in out.columns})
        records = [
            {
                "step": f"score:{inst.id}",
                "subscale": None,
                "reason": "item columns mapped",
                "n_rows": 0,
                "rows": (),
                "detail": f"items={str(getattr(items, 'pattern', items))!r}: "
                + ", ".join(f"{c} -> {i}" for c, i in mapping.items()),
            },
            *records,
        ]
    audit = ScoreAudit(records)
    attrs = dict(data.attrs)
    attrs["audit"] = _chain_audit(data.attrs.get("audit"), audit)
    if missing_records:
        attrs["missing"] = chain_missing(data.attrs.get("missing"), missing_records)
    out.attrs = attrs
    return ScoreResult(data=out, audit=audit.to_frame(), instrument=inst, metric=metric)


def score(
    data: pd.DataFrame,
    instrument: InstrumentLike,
    *,
    metric: str | None = None,
    min_answered: int | Mapping[str, int] | None = None,
    prorate: bool = True,
    keep_items: bool = True,
    validate: bool = True,
    items: str | re.Pattern[str] | None = None,
    missing_codes: Mapping[Any, str] | None = None,
) -> pd.DataFrame:
    """Score the subscales of an instrument; return a copy of ``data`` with score columns.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per response (e.g. participant x wave) with the instrument's item columns
        (e.g. ``pfi_01`` ... ``pfi_16``). Not modified.
    instrument : str, Instrument, path or dict
        A shipped id (see :func:`~coaching_trials.list_instruments`), an
        :class:`~coaching_trials.Instrument`, a TOML path or a dict definition.
    metric : str, optional
        Reporting metric of the score columns (default: the instrument's, e.g. ``"mean"``
        for the PFI; PFI also offers ``"sum"``, ``"0-10"``, ``"0-100"``).
    min_answered : int or dict, optional
        Minimum number of answered items for a score; an int applies to every subscale, a
        dict ``{subscale_id: k}`` to some. Default: per subscale from the definition.
    prorate : bool, default True
        Score rows with missing items from the mean of the answered items (x n for sums).
        ``False`` requires every item of a subscale.
    keep_items : bool, default True
        Keep the item columns in the output.
    validate : bool, default True
        Check response ranges and integer codes. Missing or non-numeric item columns are
        always errors.
    items : str or compiled regex, optional
        The file's item names as a pattern, when they differ from the instrument's ids:
        ``"pfi_{n}"`` (``{n}``: the item's position, 1 = first, with or without
        zero-padding) or a regex with one group capturing it (``r"Q12_(\\d+)"``). The output
        keeps the file's column names. See :func:`~coaching_trials.map_items`.
    missing_codes : mapping, optional
        Further missing-value codes ``{token_or_number: reason}`` for the item cells, on top
        of the instrument's own (``Instrument.missing_codes``): e.g. ``{"N/A": "not
        applicable", 99: "refused"}``. Each code is counted per token and reason in the
        audit. Blank cells are always missing; any other text is an error.

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` plus one float column per subscale (``{id}_{subscale}``) and one
        nullable boolean column per cut-point (``{id}_{subscale}_{cut}``) and composite flag
        (``{id}_{flag}``); NA where the score is NA. ``result.attrs["audit"]`` holds a
        :class:`ScoreAudit` (``.to_frame()``: ``step, subscale, reason, n_rows, rows,
        detail``) counting prorated and unscorable rows with their row labels, and item
        responses made missing by a declared code (reason ``"declared missing: <reason>"``);
        those cells are also added to ``attrs["missing"]`` (see
        :func:`~coaching_trials.missingness`).

    Raises
    ------
    DataValidationError
        Listing every problem at once (missing columns, non-numeric text, values outside
        the response range, non-integer codes), each with column, rows and values.
    ValueError
        Unknown instrument id (the message lists the known ids) or metric.

    Notes
    -----
    Reverse keys are applied as ``min + max - r``. Cut-points are evaluated on the metric
    they were declared on, so flags are identical whatever the reporting metric. Scores
    are checked against hand-computed examples in ``tests/instruments/test_scoring.py`` and,
    to 1e-12, against an independent base-R implementation of the rules (reverse keys,
    ``rowMeans`` with the minimum-answered rule, prorated sums, metric transforms, cut-point
    flags) for the PFI (every metric), CBI and MBI: ``tests/reference/instruments/``.

    Examples
    --------
    >>> import pandas as pd
    >>> import coaching_trials as ct
    >>> row = {f"pfi_{i:02d}": v for i, v in enumerate(
    ...     [3, 3, 4, 4, 3, 3,  2, 2, 1, 1,  1, 0, 1, 2, 1, 1], start=1)}
    >>> out = ct.score(pd.DataFrame([row]), "pfi")
    >>> out[["pfi_pf", "pfi_we", "pfi_id", "pfi_burnout"]].round(3).iloc[0].tolist()
    [3.333, 1.5, 1.0, 1.2]
    >>> bool(out["pfi_pf_high"].iloc[0]), bool(out["pfi_burnout_high"].iloc[0])
    (True, False)
    >>> float(ct.score(pd.DataFrame([row]), "pfi", metric="0-100")["pfi_burnout"].iloc[0])
    30.0
    """
    return score_with_audit(
        data,
        instrument,
        metric=metric,
        min_answered=min_answered,
        prorate=prorate,
        keep_items=keep_items,
        validate=validate,
        items=items,
        missing_codes=missing_codes,
    ).data
