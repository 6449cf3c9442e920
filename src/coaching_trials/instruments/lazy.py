"""Scoring and summarising survey data that do not fit in memory (Dask DataFrames).

For consortium-sized PFI surveys across institutions and years: :func:`score_lazy` scores a
``dask.dataframe.DataFrame`` partition by partition with the same engine as
:func:`~coaching_trials.score` (so every score equals the in-memory one), staying lazy;
:func:`score_audit_lazy` counts prorated, unscorable and declared-missing rows per subscale and
reason over all partitions; :func:`summarize_lazy` gives n, mean and SD of the scores and the
prevalence above each cut-point by any grouping (wave, site, department), also lazily. Memory is
bounded by the partition size, not by the data size (``benchmarks/dask_bench.py``).

Dask is an optional extra: ``pip install "coaching-trials[parallel]"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from coaching_trials.instruments.scoring import score_with_audit

__all__ = ["score_audit_lazy", "score_lazy", "summarize_lazy"]


def _dask() -> Any:
    try:
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - the extra is in the test environment
        raise ImportError(
            'lazy scoring needs dask: pip install "coaching-trials[parallel]"'
        ) from exc
    return dd


def _score_part(part: pd.DataFrame, instrument: Any, options: Mapping[str, Any]) -> pd.DataFrame:
    out = score_with_audit(part, instrument, **options).data
    out.attrs = {}
    return out


def score_lazy(data: Any, instrument: Any, **options: Any) -> Any:
    """Score a Dask DataFrame lazily; every partition goes through :func:`~coaching_trials.score`.

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        One row per response with the instrument's item columns.
    instrument : str, Instrument, path or dict
        As for :func:`~coaching_trials.score`.
    **options
        The options of :func:`~coaching_trials.score` (``metric``, ``min_answered``,
        ``prorate``, ``keep_items``, ``validate``, ``items``, ``missing_codes``).

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; the same columns as :func:`~coaching_trials.score` gives. A data problem is
        raised when the partition holding it is computed. The audit is
        :func:`score_audit_lazy`.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import coaching_trials as ct
    >>> from coaching_trials.instruments.lazy import score_lazy
    >>> responses = ct.load_example().responses
    >>> lazy = score_lazy(dd.from_pandas(responses, npartitions=3), "pfi")
    >>> eager = ct.score(responses, "pfi")
    >>> bool((lazy.compute()["pfi_burnout"] - eager["pfi_burnout"]).abs().max() < 1e-12)
    True
    """
    dd = _dask()
    if not isinstance(data, dd.DataFrame):
        raise TypeError(f"`data` must be a dask DataFrame; got {type(data).__name__}.")
    meta = _score_part(data._meta_nonempty, instrument, options).iloc[:0]
    return data.map_partitions(_score_part, instrument, dict(options), meta=meta)


def _audit_part(part: pd.DataFrame, instrument: Any, options: Mapping[str, Any]) -> pd.DataFrame:
    audit = score_with_audit(part, instrument, **options).audit
    columns = ["step", "subscale", "reason", "n_rows"]
    if not len(audit):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns[:3]}).assign(
            n_rows=pd.Series(dtype="int64")
        )
    out = audit[columns].copy()
    out["subscale"] = out["subscale"].astype(object).where(out["subscale"].notna(), "")
    return out.astype({"step": object, "subscale": object, "reason": object, "n_rows": "int64"})


def score_audit_lazy(data: Any, instrument: Any, **options: Any) -> pd.DataFrame:
    """The scoring audit of a Dask DataFrame, counted over every partition (computed).

    Returns one row per ``step, subscale, reason`` with the total ``n_rows``, the same counts
    :func:`~coaching_trials.score_with_audit` reports for the whole data in memory.
    """
    dd = _dask()
    if not isinstance(data, dd.DataFrame):
        raise TypeError(f"`data` must be a dask DataFrame; got {type(data).__name__}.")
    meta = _audit_part(data._meta_nonempty.iloc[:0], instrument, options)
    parts = data.map_partitions(_audit_part, instrument, dict(options), meta=meta)
    table = parts.compute()
    return (
        table.groupby(["step", "subscale", "reason"], sort=True)["n_rows"]
        .sum()
        .reset_index()
        .astype({"n_rows": "int64"})
    )


def summarize_lazy(
    scored: Any,
    outcomes: Sequence[str],
    *,
    by: Sequence[str] = ("wave",),
    flags: Sequence[str] = (),
) -> Any:
    """n, mean and SD of each outcome, and the prevalence of each flag, per group (lazy).

    Parameters
    ----------
    scored : dask.dataframe.DataFrame
        Scored responses (:func:`score_lazy`).
    outcomes : sequence of str
        Score columns.
    by : sequence of str
        Grouping columns (e.g. ``("wave", "site")``).
    flags : sequence of str
        Cut-point flag columns (e.g. ``"pfi_burnout_high"``): the share of scored rows flagged.

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; ``.compute()`` gives one row per group with ``{outcome}_n``, ``{outcome}_mean``,
        ``{outcome}_sd`` and ``{flag}_prevalence`` (missing scores and flags not counted).
    """
    dd = _dask()
    if not isinstance(scored, dd.DataFrame):
        raise TypeError(f"`scored` must be a dask DataFrame; got {type(scored).__name__}.")
    columns = list(by) + list(outcomes)
    frame = scored[columns]
    for flag in flags:
        frame = frame.assign(**{flag: scored[flag].astype("float64")})
    grouped = frame.groupby(list(by))
    spec = {o: ["count", "mean", "std"] for o in outcomes} | {f: ["mean"] for f in flags}
    table = grouped.agg(spec)
    names = []
    for column, stat in table.columns:
        if column in flags:
            names.append(f"{column}_prevalence")
        else:
            names.append(f"{column}_{ {'count': 'n', 'mean': 'mean', 'std': 'sd'}[stat] }")
    table.columns = names
    return table
