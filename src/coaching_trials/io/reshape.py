"""Wide <-> long reshaping of responses.

Wide: one row per participant, wave-specific columns named ``{stub}{sep}{wave}`` (suffix) or
``{wave}{sep}{stub}`` (prefix), e.g. ``pfi_01__baseline``. Long: one row per participant x wave
(the package's ``responses`` layout), with the wave as an ordered Categorical. Columns that do
not vary by wave (arm, demographics) are carried unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from coaching_trials._errors import ProblemLog, format_values, one_of
from coaching_trials._vocab import renamed

__all__ = ["to_long", "to_wide"]


def _require_frame(data: object, name: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`{name}` must be a pandas DataFrame; got {type(data).__name__}.")


def _split(column: str, sep: str, wave_position: str) -> tuple[str, str] | None:
    if sep not in column:
        return None
    if wave_position == "suffix":
        stub, _, wave = column.rpartition(sep)
    else:
        wave, _, stub = column.partition(sep)
    if not stub or not wave:
        return None
    return stub, wave


def _check_ids(frame: pd.DataFrame, subject: str, context: str) -> None:
    if subject not in frame.columns:
        raise ValueError(
            f"`subject` {subject!r} is not a column of {context}; columns found: "
            f"{format_values(frame.columns, limit=8)}."
        )


def _flag_missing(
    log: ProblemLog, check: str, data: pd.DataFrame, col: str, what: str, expected: str
) -> None:
    """One problem naming the rows where ``col`` is missing (nothing when none is)."""
    miss = data[col].isna()
    if miss.any():
        noun = "id" if what == "an id" else "value"
        log.add(
            check,
            f"column {col!r}: {int(miss.sum())} row(s) with a missing {noun} at rows "
            f"{format_values(data.index[miss])}; expected {what} on every row.",
            column=col,
            rows=data.index[miss],
            expected=expected,
        )


def _check_wide_ids(data: pd.DataFrame, subject: str, log: ProblemLog) -> None:
    """One row per participant: ids present and unique (problems added to ``log``)."""
    ids = data[subject]
    missing = ids.isna()
    _flag_missing(log, "missing_id", data, subject, "an id", "non-missing id")
    dup = ids.duplicated(keep=False) & ~missing
    if dup.any():
        log.add(
            "duplicate_id",
            f"column {subject!r}: ids {format_values(ids[dup].unique())} appear on more than one "
            f"row (rows {format_values(data.index[dup])}); expected one row per participant.",
            column=subject,
            rows=data.index[dup],
            values=ids[dup].unique(),
            expected="unique ids",
        )


@renamed(wide="data", id_col="subject", wave_col="wave")
def to_long(
    data: pd.DataFrame,
    *,
    subject: str = "participant_id",
    waves: Sequence[str] = ("baseline", "month3", "month6"),
    sep: str = "__",
    wave_position: Literal["suffix", "prefix"] = "suffix",
    wave: str = "wave",
    drop_empty: bool = False,
) -> pd.DataFrame:
    """Reshape one row per participant into one row per participant x wave.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant. Wave-specific columns are named ``{stub}{sep}{wave}``
        (``wave_position="suffix"``, e.g. ``pfi_01__baseline``) or ``{wave}{sep}{stub}``
        (``"prefix"``). Every other column (arm, demographics) does not vary by wave and is
        repeated on each of the participant's rows.
    subject : str, default "participant_id"
        The participant id column; must be unique and non-missing.
    waves : sequence of str, default ("baseline", "month3", "month6")
        The waves, in time order; this order becomes the order of the Categorical.
    sep : str, default "__"
        Separator between stub and wave in the wide column names.
    wave_position : {"suffix", "prefix"}, default "suffix"
        Where the wave sits in a wide column name.
    wave : str, default "wave"
        Name of the wave column in the result.
    drop_empty : bool, default False
        Drop the participant x wave rows in which every wave-specific column is missing (a
        wave the participant did not answer), so that ``to_long(to_wide(long))`` gives back
        ``long``. The dropped rows are counted in ``attrs["audit"]``.

    Returns
    -------
    pandas.DataFrame
        Columns: ``subject``, the wave-invariant columns, ``wave`` (ordered Categorical
        with categories ``waves``), then one column per stub in order of first appearance.
        Rows are ordered by the participant's position in ``data`` and then by wave. By
        default every participant gets a row for every wave; values absent for a wave are
        missing (NaN), nothing is dropped. ``attrs["source"]`` and ``attrs["audit"]`` of
        ``data`` (e.g. from :func:`read_survey`) are carried over; other ``attrs`` (labels
        keyed by wide column names) are not.

    Raises
    ------
    ValueError
        If ``subject`` is missing, duplicated or has missing values; if a column carries
        ``sep`` with a wave that is not in ``waves``; or if a wave has no columns.

    See Also
    --------
    to_wide : the inverse.

    Notes
    -----
    Checked by round trips with :func:`to_wide` (wide -> long -> wide gives back the input) and
    hand-written layouts in ``tests/io/test_io_reshape.py``.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({
    ...     "participant_id": ["P001", "P002"],
    ...     "arm": ["immediate", "delayed"],
    ...     "pfi_01__baseline": [3, 2],
    ...     "pfi_01__month6": [1, 2],
    ... })
    >>> to_long(data, waves=("baseline", "month6"))
      participant_id        arm      wave  pfi_01
    0           P001  immediate  baseline       3
    1           P001  immediate    month6       1
    2           P002    delayed  baseline       2
    3           P002    delayed    month6       2
    """
    _require_frame(data, "data")
    if wave_position not in ("suffix", "prefix"):
        raise one_of("wave_position", wave_position, ("suffix", "prefix"))
    if isinstance(waves, str) or len(waves) == 0:
        raise ValueError(f"`waves` must be a non-empty sequence of wave labels; got {waves!r}.")
    waves = [str(w) for w in waves]
    if len(set(waves)) != len(waves):
        raise ValueError(f"`waves` must not repeat a label; got {format_values(waves)}.")
    if not sep:
        raise ValueError("`sep` must be a non-empty string.")
    if not isinstance(drop_empty, (bool, np.bool_)):
        raise TypeError(f"`drop_empty` must be True or False; got {drop_empty!r}.")
    _check_ids(data, subject, "`data`")
    if wave in data.columns:
        raise ValueError(f"`data` already has a column named {wave!r}; pass another `wave`.")

    log = ProblemLog("wide responses")
    _check_wide_ids(data, subject, log)

    wave_set = set(waves)
    mapping: dict[str, dict[str, str]] = {w: {} for w in waves}  # wave -> {column: stub}
    stubs: list[str] = []
    constant: list[str] = []
    stray: list[str] = []
    for col in data.columns:
        if col == subject:
            continue
        parts = _split(str(col), sep, wave_position) if isinstance(col, str) else None
        if parts is None:
            constant.append(col)
            continue
        stub, label = parts
        if label not in wave_set:
            stray.append(col)
            continue
        mapping[label][col] = stub
        if stub not in stubs:
            stubs.append(stub)
    if stray:
        log.add(
            "unknown_wave_column",
            f"columns {format_values(stray)} contain the separator {sep!r} but their wave is not "
            f"in `waves`; expected waves {format_values(waves)} (add the wave to `waves` or "
            "rename the columns).",
            values=stray,
            expected=f"waves {waves}",
        )
    empty = [w for w in waves if not mapping[w]]
    if empty:
        example = f"x{sep}{empty[0]}" if wave_position == "suffix" else f"{empty[0]}{sep}x"
        log.add(
            "empty_wave",
            f"waves {format_values(empty)} have no columns (expected names like {example!r}); "
            "pass only the waves present in `waves`.",
            values=empty,
            expected="at least one column per wave",
        )
    clashes = sorted(set(stubs) & set(map(str, constant)) | ({subject, wave} & set(stubs)))
    if clashes:
        log.add(
            "name_clash",
            f"stubs {format_values(clashes)} would clash with existing column names; "
            "expected stubs distinct from the id, wave and wave-invariant columns.",
            values=clashes,
            expected="distinct names",
        )
    log.raise_if_any()

    n = len(data)
    pieces = []
    for position, w in enumerate(waves):
        part = data[list(mapping[w])].rename(columns=mapping[w]).reindex(columns=stubs)
        part = part.set_axis(np.arange(n) * len(waves) + position, axis=0)
        pieces.append(part)
    varying = pd.concat(pieces, axis=0).sort_index(kind="stable")
    fixed = data[[subject, *constant]]
    fixed = fixed.iloc[np.repeat(np.arange(n), len(waves))].set_axis(varying.index, axis=0)
    codes = np.tile(np.arange(len(waves)), n)
    wave_values = pd.Categorical.from_codes(codes, categories=waves, ordered=True)
    out = pd.concat([fixed, varying], axis=1)
    out.insert(1 + len(constant), wave, wave_values)
    audit = list(data.attrs.get("audit") or [])
    if drop_empty:
        empty = varying.isna().all(axis=1).to_numpy()
        if empty.any():
            out = out.loc[~empty]
            per_wave = pd.Series(wave_values[empty]).value_counts(sort=False)
            detail = ", ".join(f"{w}: {int(k)}" for w, k in per_wave.items() if k)
            audit.append(
                {
                    "step": "to_long",
                    "reason": "wave not answered: every wave-specific column missing",
                    "n_rows": int(empty.sum()),
                    "detail": f"rows dropped per wave: {detail}",
                }
            )
    out = out.reset_index(drop=True)
    out.attrs = _carried_attrs(data, audit)
    return out


def _carried_attrs(source: pd.DataFrame, audit: list[dict]) -> dict:
    """The ``attrs`` a reshaped frame keeps: where the data came from and what was dropped."""
    attrs: dict = {}
    if "source" in source.attrs:
        attrs["source"] = source.attrs["source"]
    if audit or "audit" in source.attrs:
        attrs["audit"] = audit
    return attrs


@renamed(long="data", id_col="subject", wave_col="wave")
def to_wide(
    data: pd.DataFrame,
    *,
    subject: str = "participant_id",
    wave: str = "wave",
    sep: str = "__",
    wave_position: Literal["suffix", "prefix"] = "suffix",
    constant: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Reshape one row per participant x wave into one row per participant.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant x wave.
    subject : str, default "participant_id"
        The participant id column.
    wave : str, default "wave"
        The wave column. If it is a Categorical, its category order (restricted to the waves
        present) orders the wide columns; otherwise the order of first appearance does.
    sep : str, default "__"
        Separator between stub and wave in the wide column names.
    wave_position : {"suffix", "prefix"}, default "suffix"
        Whether wide names are ``{column}{sep}{wave}`` or ``{wave}{sep}{column}``.
    constant : sequence of str, optional
        Columns that do not vary by wave and are kept once per participant (e.g. ``arm``).
        By default, every column whose value (missing counted as a value) is the same on all
        of a participant's rows, for every participant. Inference cannot tell a wave-specific
        column that happens not to change from a truly constant one (with a single wave, every
        column looks constant), so name the constant columns when you know them. A column named
        here that does vary is an error.

    Returns
    -------
    pandas.DataFrame
        ``subject``, the constant columns, then ``{column}{sep}{wave}`` for each varying column
        and wave (column-major). One row per participant in order of first appearance; a
        participant without a row for some wave gets missing values there.

    Raises
    ------
    DataValidationError
        If ids or waves are missing, a participant-wave pair occurs twice, or a column given
        in ``constant`` varies within a participant.

    See Also
    --------
    to_long : the inverse; ``to_long(to_wide(data, constant=...), waves=...)`` returns
        ``data`` for a balanced ``long`` (every participant observed at every wave).

    Notes
    -----
    Checked by round trips with :func:`to_long` and hand-written layouts in
    ``tests/io/test_io_reshape.py``.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({
    ...     "participant_id": ["P001", "P001", "P002", "P002"],
    ...     "arm": ["immediate", "immediate", "delayed", "delayed"],
    ...     "wave": ["baseline", "month6", "baseline", "month6"],
    ...     "pfi_01": [3, 1, 2, 2],
    ... })
    >>> to_wide(data)
      participant_id        arm  pfi_01__baseline  pfi_01__month6
    0           P001  immediate                 3               1
    1           P002    delayed                 2               2
    """
    _require_frame(data, "data")
    if wave_position not in ("suffix", "prefix"):
        raise one_of("wave_position", wave_position, ("suffix", "prefix"))
    _check_ids(data, subject, "`data`")
    if wave not in data.columns:
        raise ValueError(
            f"`wave` {wave!r} is not a column of `data`; columns found: "
            f"{format_values(data.columns, limit=8)}."
        )

    log = ProblemLog("long responses")
    keys = data[[subject, wave]]
    for col in (subject, wave):
        _flag_missing(log, "missing_key", data, col, "a value", "non-missing")
    complete = keys.notna().all(axis=1)
    dup = keys.duplicated(keep=False) & complete
    if dup.any():
        pairs = keys[dup].drop_duplicates()
        shown = [f"{i}/{w}" for i, w in pairs.itertuples(index=False)]
        log.add(
            "duplicate_rows",
            f"{len(pairs)} {subject}-{wave} pair(s) occur more than once: "
            f"{format_values(shown)} at rows {format_values(data.index[dup])}; expected one "
            "row per participant and wave.",
            column=subject,
            rows=data.index[dup],
            values=pairs[subject].unique(),
            expected="one row per participant x wave",
        )

    others = [c for c in data.columns if c not in (subject, wave)]
    kept = data.loc[complete]
    if constant is None:
        constant_cols = [c for c in others if _is_constant(kept, subject, c).all()]
    else:
        constant_cols = list(constant)
        unknown = [c for c in constant_cols if c not in others]
        if unknown:
            raise ValueError(
                f"`constant` names {format_values(unknown)}, which are not columns of `data` "
                f"(other than {subject!r} and {wave!r})."
            )
        for c in constant_cols:
            varies = ~_is_constant(kept, subject, c)
            if varies.any():
                bad_ids = varies.index[varies]
                rows = kept.index[kept[subject].isin(bad_ids)]
                log.add(
                    "not_constant",
                    f"column {c!r} is listed in `constant` but varies within participants "
                    f"{format_values(bad_ids)} (rows {format_values(rows)}); expected one value "
                    "per participant.",
                    column=c,
                    rows=rows,
                    values=bad_ids,
                    expected="one value per participant",
                )
    log.raise_if_any()

    varying = [c for c in others if c not in constant_cols]
    wave_series = kept[wave]
    if isinstance(wave_series.dtype, pd.CategoricalDtype):
        present = set(wave_series.dropna().unique())
        wave_order = [w for w in wave_series.cat.categories if w in present]
    else:
        wave_order = list(pd.unique(wave_series))
    id_order = pd.unique(kept[subject])
    base = kept.drop_duplicates(subset=subject, keep="first")[[subject, *constant_cols]]
    base = base.set_index(subject).reindex(id_order)

    blocks: dict[str, pd.Series] = {}
    by_wave = {
        w: kept.loc[wave_series == w].set_index(subject).reindex(id_order) for w in wave_order
    }
    for c in varying:
        for w in wave_order:
            name = f"{c}{sep}{w}" if wave_position == "suffix" else f"{w}{sep}{c}"
            blocks[name] = by_wave[w][c]
    out = pd.concat([base, pd.DataFrame(blocks, index=base.index)], axis=1)
    out.index.name = subject
    out = out.reset_index()
    out.attrs = _carried_attrs(data, list(data.attrs.get("audit") or []))
    return out


def _is_constant(data: pd.DataFrame, subject: str, column: str) -> pd.Series:
    """Per id: True when ``column`` takes one value (missing counted as a value)."""
    values = data[column]
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    key = values.isna()
    frame = pd.DataFrame({"id": data[subject].to_numpy(), "na": key.to_numpy()})
    frame["value"] = values.where(~key, None).to_numpy(dtype=object)
    n_values = frame.groupby("id", sort=False, dropna=False)["value"].nunique(dropna=True)
    any_na = frame.groupby("id", sort=False, dropna=False)["na"].any()
    all_na = frame.groupby("id", sort=False, dropna=False)["na"].all()
    return (n_values.eq(1) & ~any_na) | all_na
