"""Format sniffing for text exports: encoding, separator, decimal comma, rows above the header.

Each function returns what it found and whether it was detected (rather than given by the
caller), so the reader can record detections in ``attrs["format"]`` and in the audit.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from coaching_trials._errors import FileFormatError

SEPARATORS = (",", ";", "\t", "|")
SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SAMPLE_LINES = 60
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^[+-]?\d+\.\d+$")


def _fail(path: Path, message: str) -> FileFormatError:
    return FileFormatError(f"{str(path)!r}: {message}")


def sniff_encoding(path: Path, raw: bytes, encoding: str | None) -> tuple[str, str, str]:
    """(encoding to use, decoded text, note). ``note`` is empty for plain UTF-8 or a given one.

    UTF-8 with or without a byte-order mark is tried first; a file that is not valid UTF-8 is
    read as cp1252 (Windows Western European, a superset of Latin-1's printable characters),
    or as Latin-1 when cp1252 cannot decode it.
    """
    if encoding is not None:
        try:
            return encoding, raw.decode(encoding), ""
        except LookupError as exc:
            raise _fail(path, f"unknown encoding {encoding!r} (encoding=).") from exc
        except UnicodeDecodeError as exc:
            raise _fail(
                path,
                f"cannot be decoded as {encoding!r}: byte {raw[exc.start : exc.start + 1]!r} at "
                f"position {exc.start} ({_where(raw, exc.start)}). Leave `encoding=` unset to "
                "detect it, or pass the file's encoding, e.g. encoding='cp1252' or 'latin-1'.",
            ) from exc
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return "utf-16", raw.decode("utf-16"), "UTF-16 with byte-order mark"
        except UnicodeDecodeError:
            pass
    if b"\x00" in raw[:4096]:
        raise _fail(
            path,
            "holds NUL bytes: it is UTF-16/UTF-32 text without a byte-order mark or not a text "
            "file. Save it as UTF-8 CSV, or pass encoding= (e.g. encoding='utf-16-le').",
        )
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return "utf-8-sig", raw.decode("utf-8-sig"), "UTF-8 with byte-order mark"
        except UnicodeDecodeError:
            pass
    try:
        return "utf-8", raw.decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        why = (
            f"not valid UTF-8: byte {raw[exc.start : exc.start + 1]!r} at {_where(raw, exc.start)}"
        )
    for enc in ("cp1252", "latin-1"):
        try:
            return enc, raw.decode(enc), f"{enc} ({why}); pass encoding= to override"
        except UnicodeDecodeError:
            continue
    raise _fail(path, f"{why}; pass encoding=.")  # pragma: no cover - latin-1 decodes anything


def _where(raw: bytes, position: int) -> str:
    line = raw.count(b"\n", 0, position) + 1
    return f"line {line}"


def _sample(text: str) -> list[str]:
    lines = text.splitlines()[:_SAMPLE_LINES]
    return [line for line in lines]


def _rows(lines: Sequence[str], sep: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO("\n".join(lines)), delimiter=sep))


def sniff_separator(
    path: Path, text: str, sep: str | None, default: str
) -> tuple[str, list[list[str]], bool]:
    """(separator, parsed sample rows, detected?). The separator that splits most lines into
    the same, largest number of fields wins; ``default`` when nothing splits."""
    lines = [line for line in _sample(text) if line.strip()]
    if sep is not None:
        return sep, _rows(lines, sep), False
    best: tuple[float, int, str] | None = None
    for cand in SEPARATORS:
        rows = _rows(lines, cand)
        counts = Counter(len(r) for r in rows[1:] or rows)
        if not counts:
            continue
        width, freq = counts.most_common(1)[0]
        if width < 2:
            continue
        score = (freq / max(1, len(rows[1:] or rows)), width, cand)
        if best is None or score[:2] > best[:2]:
            best = score
    chosen = best[2] if best is not None else default
    return chosen, _rows(lines, chosen), chosen != default


def find_header(rows: Sequence[Sequence[Any]]) -> int:
    """Index of the header row: the first row whose cells are all filled across the table's
    usual width (a title line or merged group headings above it are skipped)."""
    if not rows:
        return 0

    def filled(row: Sequence[Any]) -> int:
        return sum(1 for cell in row if str(cell).strip() not in ("", "None", "nan"))

    # the table's usual width: the most common number of fields (a ragged line or a title
    # line does not set it); the header names every one of them
    width = Counter(len(r) for r in rows).most_common(1)[0][0]
    for i, row in enumerate(rows):
        if filled(row) >= max(2, width):
            return i
    for i, row in enumerate(rows):  # a header with a blank name: most of the width
        if filled(row) >= max(2, 0.8 * width):
            return i
    return 0


def sniff_decimal(rows: Sequence[Sequence[str]], sep: str, decimal: str | None) -> tuple[str, bool]:
    """(decimal mark, detected?): a comma when numbers are written ``3,5`` and never ``3.5``."""
    if decimal is not None:
        return decimal, False
    if sep == ",":
        return ".", False
    comma = dot = 0
    for row in rows:
        for cell in row:
            cell = cell.strip()
            if _COMMA_DECIMAL.match(cell):
                comma += 1
            elif _DOT_DECIMAL.match(cell):
                dot += 1
    if comma and not dot:
        return ",", True
    return ".", False
