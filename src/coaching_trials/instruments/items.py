"""Map a file's item columns onto an instrument's item ids by pattern, and suggest a pattern.

Exports rarely name items as an instrument does: ``pfi_1`` ... ``pfi_16`` (no zero-padding),
``PFI01``, or Qualtrics' ``Q12_1`` ... ``Q12_16``. :func:`map_items` renames them from an
explicit pattern, in which ``{n}`` is the item's position in the instrument (1 = first
item); :func:`item_name_hint` turns a "columns missing" error into a "did you mean" one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from coaching_trials._errors import ProblemLog, format_values
from coaching_trials._results import ResultMixin

__all__ = ["ItemMapping", "item_name_hint", "item_pattern", "map_items"]

_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<n>\d+)$")


def item_pattern(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    """Compile ``pattern``: a template with ``{n}`` (``"pfi_{n}"``) or a regex with one group.

    ``{n}`` matches a whole number with or without zero-padding; a regex must match the whole
    column name and capture the item number in its one group (or in a group named ``n``).

    Examples
    --------
    >>> item_pattern("pfi_{n}").pattern
    'pfi_(?P<n>\\\\d+)'
    >>> bool(item_pattern(r"Q12_(\\d+)").fullmatch("Q12_3"))
    True
    """
    if isinstance(pattern, re.Pattern):
        compiled = pattern
    elif not isinstance(pattern, str) or not pattern:
        raise TypeError(
            "`items` must be a pattern such as 'pfi_{n}' or a regex capturing the item number "
            f"(e.g. r'Q12_(\\d+)'); got {pattern!r}."
        )
    elif "{n}" in pattern:
        head, _, tail = pattern.partition("{n}")
        if "{n}" in tail:
            raise ValueError(f"`items` pattern {pattern!r} has '{{n}}' more than once.")
        compiled = re.compile(re.escape(head) + r"(?P<n>\d+)" + re.escape(tail))
    else:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f"`items` pattern {pattern!r} is neither a template with '{{n}}' nor a valid "
                f"regex ({exc})."
            ) from exc
    if "n" not in compiled.groupindex and compiled.groups != 1:
        raise ValueError(
            f"`items` regex {compiled.pattern!r} must capture the item number in exactly one "
            f"group (or a group named 'n'); it has {compiled.groups}."
        )
    return compiled


def _number(match: re.Match[str]) -> int:
    return int(match.group("n") if "n" in match.re.groupindex else match.group(1))


@dataclass(frozen=True, repr=False)
class ItemMapping(ResultMixin):
    """The outcome of :func:`map_items`.

    Attributes
    ----------
    data : pandas.DataFrame
        A copy of the input with the matched columns renamed to the instrument's item ids.
    mapping : dict
        File column -> item id.
    audit : pandas.DataFrame
        One row (``step, reason, n_rows, detail``) saying which columns were renamed.
    """

    data: pd.DataFrame
    mapping: Mapping[str, str]
    audit: pd.DataFrame

    _title = "Item mapping"

    def to_frame(self) -> pd.DataFrame:
        """The mapping as a table: ``column, item``."""
        return pd.DataFrame(list(self.mapping.items()), columns=["column", "item"])

    def summary(self) -> str:
        pairs = ", ".join(f"{c} -> {i}" for c, i in self.mapping.items())
        return f"Item mapping ({len(self.mapping)} column(s)): {pairs}"

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return (
            "<div><strong>Item mapping</strong>" + self.to_frame().to_html(index=False) + "</div>"
        )


def _resolve(instrument: Any) -> Any:
    from coaching_trials.instruments.registry import resolve_instrument

    return resolve_instrument(instrument)


def item_columns(
    columns: Sequence[Any], items: Sequence[str], pattern: str | re.Pattern[str], log: ProblemLog
) -> dict[str, str]:
    """File column -> item id for the columns matching ``pattern``; problems go to ``log``."""
    compiled = item_pattern(pattern)
    n_items = len(items)
    by_number: dict[int, list[str]] = {}
    for col in columns:
        match = compiled.fullmatch(str(col))
        if match:
            by_number.setdefault(_number(match), []).append(str(col))
    shown = compiled.pattern if not isinstance(pattern, str) else pattern
    if not by_number:
        log.add(
            "items_pattern",
            f"`items` pattern {shown!r} matches no column; columns found: "
            f"{format_values(list(columns), limit=8)}.",
            expected=f"columns matching {shown!r}",
        )
        return {}
    outside = sorted(n for n in by_number if not 1 <= n <= n_items)
    if outside:
        cols = [c for n in outside for c in by_number[n]]
        log.add(
            "items_pattern",
            f"`items` pattern {shown!r}: column(s) {format_values(cols)} give item numbers "
            f"{format_values(outside)} outside 1 to {n_items} (the instrument has {n_items} "
            "items).",
            column=cols[0],
            values=cols,
            expected=f"item numbers 1..{n_items}",
        )
    twice = {n: cols for n, cols in by_number.items() if len(cols) > 1}
    for n, cols in sorted(twice.items()):
        log.add(
            "items_pattern",
            f"`items` pattern {shown!r}: columns {format_values(cols)} all give item {n} "
            f"({items[n - 1] if 1 <= n <= n_items else '?'}); expected one column per item.",
            column=cols[0],
            values=cols,
            expected="one column per item",
        )
    absent = [items[n - 1] for n in range(1, n_items + 1) if n not in by_number]
    if absent:
        log.add(
            "missing_items",
            f"`items` pattern {shown!r}: no column for item number(s) "
            f"{format_values([items.index(a) + 1 for a in absent], limit=8)} "
            f"({format_values(absent, limit=8)}).",
            column=absent[0],
            values=absent,
            expected=f"a column matching {shown!r} for every item",
        )
    mapping = {
        cols[0]: items[n - 1]
        for n, cols in sorted(by_number.items())
        if 1 <= n <= n_items and len(cols) == 1
    }
    targets = set(mapping.values())
    clashes = [c for c in columns if str(c) in targets and str(c) not in mapping]
    if clashes:
        log.add(
            "items_pattern",
            f"`items` pattern {shown!r} would rename columns onto {format_values(clashes)}, "
            "which the data already has; drop or rename those first.",
            column=str(clashes[0]),
            values=clashes,
            expected="no existing column with an item id",
        )
    return mapping


def map_items(
    data: pd.DataFrame, instrument: Any, *, pattern: str | re.Pattern[str]
) -> ItemMapping:
    """Rename a file's item columns to the instrument's item ids, by pattern.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses. Not modified.
    instrument : str, Instrument, path or dict
        The instrument whose items the columns hold.
    pattern : str or compiled regex
        ``"pfi_{n}"`` (``{n}``: the item's position in the instrument, 1 = first, with or
        without zero-padding) or a regex matching the whole column name with one group
        capturing that number, e.g. ``r"Q12_(\\d+)"`` for a Qualtrics matrix question.

    Returns
    -------
    ItemMapping
        ``data`` (renamed copy), ``mapping`` (column -> item) and ``audit``.

    Raises
    ------
    DataValidationError
        Listing every problem at once: no column matches; a number outside 1..n; two columns
        for one item (``pfi_1`` and ``pfi_01``); an item with no column; a renamed column
        landing on an existing one.

    Notes
    -----
    Tested in ``tests/instruments/test_items.py`` (padding, Qualtrics matrices, every error).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({f"Q5_{i}": [1] for i in range(1, 5)})
    >>> res = map_items(df, "svs", pattern=r"Q5_(\\d+)")
    >>> list(res.data.columns)
    ['svs_01', 'svs_02', 'svs_03', 'svs_04']
    >>> res.audit["detail"].iloc[0]
    'Q5_1 -> svs_01, Q5_2 -> svs_02, Q5_3 -> svs_03, Q5_4 -> svs_04'
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    inst = _resolve(instrument)
    log = ProblemLog(f"the item columns of instrument {inst.id!r}")
    mapping = item_columns(list(data.columns), list(inst.items), pattern, log)
    log.raise_if_any()
    renamed = data.rename(columns=mapping)
    audit = pd.DataFrame(
        [
            {
                "step": f"map_items:{inst.id}",
                "reason": "item columns renamed",
                "n_rows": 0,
                "detail": ", ".join(f"{c} -> {i}" for c, i in mapping.items()),
            }
        ]
    )
    return ItemMapping(data=renamed, mapping=dict(mapping), audit=audit)


def _parts(name: str) -> tuple[str, int] | None:
    match = _NUMBERED.match(str(name).strip())
    if not match:
        return None
    return match["prefix"], int(match["n"])


def _norm(prefix: str) -> str:
    return re.sub(r"[^0-9a-z]", "", prefix.casefold())


def item_name_hint(columns: Sequence[Any], items: Sequence[str], missing: Sequence[str]) -> str:
    """A "did you mean" sentence for item columns that differ by zero-padding, case or prefix.

    Returns ``""`` when no column looks like the missing items.

    Examples
    --------
    >>> cols = [f"pfi_{i}" for i in range(1, 17)]
    >>> items = [f"pfi_{i:02d}" for i in range(1, 17)]
    >>> print(item_name_hint(cols, items, items[:9]))
    did you mean 'pfi_1' for 'pfi_01', 'pfi_2' for 'pfi_02', ... (9 in all)?
    Pass items='pfi_{n}' (to score/validate_responses, or map_items) to map them.
    """
    missing = list(missing)
    if not missing:
        return ""
    position = {item: i + 1 for i, item in enumerate(items)}
    cols = [str(c) for c in columns]
    col_parts = {c: _parts(c) for c in cols}
    exact_norm: dict[tuple[str, int], str] = {}
    for c, p in col_parts.items():
        if p is not None:
            exact_norm.setdefault((_norm(p[0]), p[1]), c)
    pairs = []
    for item in missing:
        p = _parts(item)
        if p is None:
            continue
        cand = exact_norm.get((_norm(p[0]), p[1]))
        if cand is not None and cand != item:
            pairs.append((cand, item))
    # a prefix whose numbers cover the missing items' positions (e.g. Q12_1..Q12_16)
    by_prefix: dict[str, set[int]] = {}
    for p in col_parts.values():
        if p is not None:
            by_prefix.setdefault(p[0], set()).add(p[1])
    wanted = {position[m] for m in missing if m in position}
    pattern = None
    if pairs:
        prefixes = {_parts(c)[0] for c, _ in pairs}  # type: ignore[index]
        if len(prefixes) == 1:
            pattern = f"{prefixes.pop()}{{n}}"
    if pattern is None:
        covering = [
            pre
            for pre, numbers in by_prefix.items()
            if wanted <= numbers
            and _norm(pre) not in {_norm(_parts(i)[0]) for i in missing if _parts(i)}
        ]
        if len(covering) == 1:
            pattern = f"{covering[0]}{{n}}"
    if not pairs and pattern is None:
        return ""
    text = ""
    if pairs:
        shown = ", ".join(f"{c!r} for {i!r}" for c, i in pairs[:2])
        more = f", ... ({len(pairs)} in all)" if len(pairs) > 2 else ""
        text = f"did you mean {shown}{more}? "
    elif pattern is not None:
        first = pattern.replace("{n}", "1")
        text = f"columns {first!r}... look like the items numbered 1 to {len(items)}. "
    if pattern is not None:
        text += f"Pass items={pattern!r} (to score/validate_responses, or map_items) to map them."
    else:
        text += "Rename the columns, or pass items= with a pattern such as 'pfi_{n}'."
    return text
