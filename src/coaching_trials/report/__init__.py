"""report layer (see DESIGN.md): small-cell suppression, table export, the leadership report."""

from coaching_trials.report.html import ReportResult, SuppressedFlow, build_report, suppressed_flow
from coaching_trials.report.suppress import suppress_small_cells
from coaching_trials.report.tables import export_table

__all__ = [
    "ReportResult",
    "SuppressedFlow",
    "build_report",
    "export_table",
    "suppress_small_cells",
    "suppressed_flow",
]
