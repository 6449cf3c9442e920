"""report layer (see DESIGN.md): render released tables (report, exports)."""

from coaching_trials.report.html import ReportResult, build_report
from coaching_trials.report.suppress import suppress_small_cells
from coaching_trials.report.tables import export_table

__all__ = ["ReportResult", "build_report", "export_table", "suppress_small_cells"]
