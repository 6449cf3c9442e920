"""Writing tables deterministically, and the score summaries of the run."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from coaching_trials._vocab import renamed
from coaching_trials.pipeline._schema import FLOAT_DIGITS

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".xlsx")


def check_table_path(path: str | Path) -> Path:
    """``path`` as a Path if :func:`write_table` can write its extension; else a ValueError.

    Examples
    --------
    >>> check_table_path("scores.xlsx").suffix
    '.xlsx'
    >>> check_table_path("scores.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: cannot write a table to 'scores.json': expected a file ending in .csv, ...
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ("", *TABLE_SUFFIXES):
        raise ValueError(
            f"cannot write a table to {str(path)!r}: expected a file ending in "
            f"{', '.join(TABLE_SUFFIXES[:-1])} or {TABLE_SUFFIXES[-1]}; got {path.suffix!r}."
        )
    return path


@renamed(frame="data")
def write_table(data: pd.DataFrame, path: str | Path) -> Path:
    """Write a table deterministically; the format follows the extension (default CSV).

    Floats are rounded to ``FLOAT_DIGITS`` decimals and lines end in ``\\n`` on every platform,
    so the same table always gives the same bytes. Extensions: ``.csv`` (or none), ``.tsv``,
    ``.parquet``, ``.xlsx``; any other is a ValueError (nothing is written). Text cells that
    a spreadsheet would run as a formula get a leading apostrophe in CSV, TSV and Excel
    (:mod:`coaching_trials._safe_text`).

    Parameters
    ----------
    data : pandas.DataFrame
        The table (written without its index). ``frame=`` is the old name of this argument.
    path : str or Path
        Where to write; the extension picks the format.
    """
    from coaching_trials._safe_text import neutralize_frame

    path = check_table_path(path)
    frame = data.round(FLOAT_DIGITS)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".xlsx", ""):
        frame = neutralize_frame(frame)
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t", lineterminator="\n")
    else:
        frame.to_csv(path, index=False, lineterminator="\n")
    return path


def summarize_scores(
    scores: pd.DataFrame, outcomes: Sequence[str], *, by: Sequence[str] = ("wave", "arm")
) -> pd.DataFrame:
    """n, mean and SD of each outcome per group, one row per outcome x group (long format).

    Groups follow the order of the ``by`` columns (the categories of an ordered wave column,
    otherwise sorted); missing scores are not counted.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"wave": ["b", "b", "b"], "arm": ["x", "x", "y"], "s": [1.0, 3.0, 2.0]})
    >>> summarize_scores(df, ["s"])
      outcome wave arm  n  mean       sd
    0       s    b   x  2   2.0  1.414214
    1       s    b   y  1   2.0       NaN
    """
    long = scores.melt(id_vars=list(by), value_vars=list(outcomes), var_name="outcome")
    long["outcome"] = pd.Categorical(long["outcome"], categories=list(outcomes), ordered=True)
    table = (
        long.groupby(["outcome", *by], observed=True, sort=True)["value"]
        .agg(n="count", mean="mean", sd="std")
        .reset_index()
    )
    for col in ("outcome", *by):
        if isinstance(table[col].dtype, pd.CategoricalDtype):
            table[col] = table[col].astype(str)
    table["n"] = table["n"].astype("int64")
    return table


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
