"""Delimited text files read cell by cell as text, with the encoding, separator, decimal mark
and header row sniffed when not given (Arrow's CSV reader first, pandas as the fallback)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import FileFormatError, format_values
from coaching_trials.io import _sniff


def _read_text_table(
    path: Path,
    fmt: str,
    *,
    encoding: str | None,
    sep: str | None,
    decimal: str | None,
    skiprows: int | None,
    kwargs: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any], str]:
    """Read a delimited text file with every cell as text; sniff what was not given."""
    raw = path.read_bytes()
    if not raw[:4096].strip(b" \t\r\n\xef\xbb\xbf") and not raw.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FileFormatError(
            f"{str(path)!r} is empty: no header row and no data (0 columns). Check that the "
            "export finished, or that you picked the right file."
        )
    enc, text, enc_note = _sniff.sniff_encoding(path, raw, encoding)
    default_sep = "\t" if fmt == "tsv" else ","
    sep, rows, sep_detected = _sniff.sniff_separator(path, text[:200_000], sep, default_sep)
    report: dict[str, Any] = {"encoding": enc, "sep": sep}
    if enc_note:
        report["encoding_note"] = enc_note
    if sep_detected:
        report["sep_note"] = (
            f"separator {_sniff.SEP_NAMES.get(sep, sep)} ({sep!r}); pass sep= to override"
        )
    if skiprows is None:
        header_at = _sniff.find_header(rows)
        lines = text[:200_000].splitlines()
        nonblank = [i for i, line in enumerate(lines) if line.strip()]
        skip = nonblank[header_at] if header_at < len(nonblank) else 0
        if skip:
            report["header_note"] = (
                f"{skip} line(s) above the header skipped (title or group headings: "
                f"{format_values([ln.strip()[:40] for ln in lines[:skip] if ln.strip()], 3)}); "
                "pass skiprows= to override"
            )
    else:
        skip, header_at = int(skiprows), 0
    report["skiprows"] = skip
    dec, dec_detected = _sniff.sniff_decimal(rows[header_at + 1 :], sep, decimal)
    report["decimal"] = dec
    if dec_detected:
        report["decimal_note"] = "decimal comma ('3,5' = 3.5); pass decimal='.' to override"
    frame = None
    if not kwargs and header_at < len(rows):
        frame = _read_arrow(path, rows[header_at], sep=sep, encoding=enc, skip=skip)
    try:
        if frame is not None:
            return frame, report, dec
        frame = pd.read_csv(
            path,
            **{
                "sep": sep,
                "encoding": enc,
                "skiprows": skip,
                "dtype": str,
                "keep_default_na": False,
                "na_filter": False,
                **kwargs,
            },
        )
    except pd.errors.EmptyDataError as exc:
        raise FileFormatError(
            f"{str(path)!r} has no columns to read after skipping {skip} line(s); pass "
            "skiprows= to say where the header is."
        ) from exc
    except pd.errors.ParserError as exc:
        raise FileFormatError(
            f"{str(path)!r} could not be split into columns with separator {sep!r} ({exc}). "
            "Pass sep= (',', ';' or '\\t') or skiprows= (lines above the header)."
        ) from exc
    except UnicodeDecodeError as exc:  # pragma: no cover - the whole file was decoded above
        raise FileFormatError(f"{str(path)!r}: {exc}; pass encoding=.") from exc
    return frame, report, dec


def _pandas_names(header: Sequence[str]) -> list[str]:
    """Column names as pandas makes them: blank -> ``Unnamed: i``, repeats -> ``x.1``."""
    names = [str(c) if str(c) != "" else f"Unnamed: {i}" for i, c in enumerate(header)]
    seen: dict[str, int] = {}
    taken = set(names)
    out = []
    for name in names:
        if name in seen:
            k = seen[name] + 1
            while f"{name}.{k}" in taken:
                k += 1
            seen[name] = k
            new = f"{name}.{k}"
            taken.add(new)
            out.append(new)
        else:
            seen[name] = 0
            out.append(name)
    return out


def _read_arrow(
    path: Path, header: Sequence[str], *, sep: str, encoding: str, skip: int
) -> pd.DataFrame | None:
    """Every cell as text with Arrow's multithreaded CSV reader; None if Arrow cannot (the
    pandas reader then reads the file, or reports the problem)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    names = _pandas_names(header)
    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(
                skip_rows=skip + 1,
                column_names=names,
                encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
            ),
            parse_options=pa_csv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, LookupError, ValueError):
        return None
    text = pd.StringDtype("pyarrow", na_value=np.nan)
    frame = table.to_pandas(types_mapper=lambda t: text if t == pa.string() else None)
    frame.columns = names
    return frame
