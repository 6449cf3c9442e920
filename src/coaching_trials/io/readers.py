"""Read survey exports into plain pandas DataFrames.

The readers live one format to a module (``_read_survey``: CSV, TSV, Excel, Parquet, SPSS,
Stata through ``_read_text``, ``_read_excel``, ``_read_stats``; ``_redcap`` with
``_redcap_dictionary``; ``_qualtrics``), sharing ``_read_common``; this module is their public
face, and the names below are the ones to import.

Every reader returns a new DataFrame whose ``attrs`` record where it came from:

- ``attrs["source"]``: ``{"path": str, "format": str}`` (plus ``"sheet_name"`` for Excel).
- ``attrs["audit"]``: a list of audit records (dicts with keys ``step, reason, n_rows,
  detail``) for every row a reader dropped, every declared missing code it applied (per token
  and reason) and every format setting it detected; ``audit_frame(df.attrs["audit"])`` (from
  ``coaching_trials._audit``) turns it into the package's audit table. Records are plain dicts,
  not a DataFrame, because pandas compares ``attrs`` when concatenating frames and cannot
  compare DataFrames.
- ``attrs["format"]``: what the reader used (encoding, separator, decimal mark, rows skipped
  above the header, sheet, id columns, columns kept as text and why).
- ``attrs["missing"]``: cells made missing by a declared code (see
  :func:`coaching_trials.io.missing.missingness`).
- ``attrs["value_labels"]`` / ``attrs["column_labels"]`` (SPSS and Stata only): the labels that
  were *not* applied, so numeric item columns keep their numeric codes.
"""

from __future__ import annotations

from coaching_trials.io._qualtrics import read_qualtrics
from coaching_trials.io._read_survey import SUPPORTED_FORMATS, read_survey
from coaching_trials.io._redcap import read_redcap
from coaching_trials.io._redcap_dictionary import read_redcap_dictionary

__all__ = [
    "SUPPORTED_FORMATS",
    "read_qualtrics",
    "read_redcap",
    "read_redcap_dictionary",
    "read_survey",
]
