"""Render released tables: the leadership report page (Jinja2, autoescaped) and its figures.

Nothing here sees participant data or computes a statistic: numbers come from the released
tables as they are, formatted to text; hidden cells are drawn as a dash with a footnote.
The page is built in three rooms: :mod:`._rows` (released tables -> formatted table blocks),
:mod:`._prose` (headline, summary and methods sentences) and :mod:`._sections` (one builder
per section, in page order); this module lays them out with the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coaching_trials.release.core import Release
from coaching_trials.report._prose import headline
from coaching_trials.report._rows import Text, outcome_info
from coaching_trials.report._sections import SECTIONS

__all__ = ["outcome_info", "render_report"]

_CSS = """
body{font-family:"Segoe UI",Helvetica,Arial,sans-serif;color:#1d1d1f;max-width:980px;
margin:2em auto;padding:0 1em;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:2px solid #0072B2;
padding-bottom:.15em;margin-top:1.8em}h3{font-size:1.05em}
.headline{font-size:1.15em;font-weight:600;margin:.3em 0}.subtitle{color:#555}
.notice{background:#fff4e0;border-left:5px solid #E69F00;padding:.6em 1em}
.summary{background:#eef6fc;border-left:5px solid #0072B2;padding:.6em 1em}
.nonrandomized{background:#f6f0f6;border-left:5px solid #CC79A7;padding:.6em 1em}
.table-wrap{overflow-x:auto;max-width:100%}
table.ct-table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
table.ct-table th{border-bottom:2px solid #444;text-align:left;padding:3px 8px}
table.ct-table td{border-bottom:1px solid #ddd;padding:3px 8px}
table.ct-table td.num,table.ct-table th.num{text-align:right}
table.ct-table td.num{white-space:nowrap}td.hidden{color:#777}
img{max-width:min(100%,760px);height:auto}figure{margin:1em 0;overflow-x:auto}
figcaption{font-size:.85em;color:#555}
.note{font-size:.85em;color:#444}footer{margin-top:3em;font-size:.8em;color:#666;
border-top:1px solid #ccc;padding-top:.6em}code{font-size:.95em}
details.appendix{margin-top:2em;font-size:.85em}
@media (max-width:600px){figure img{max-width:none;width:600px}}
@media print{body{max-width:none;margin:0;font-size:10pt}section{break-inside:auto}
h2,h3{break-after:avoid}tr,figure,img{break-inside:avoid}thead{display:table-header-group}
.table-wrap,figure{overflow:visible}table.ct-table{font-size:7.5pt;width:100%}
table.ct-table td.num{white-space:normal}figure img{max-width:100%;width:auto}
details.appendix{display:none}}
"""


def render_report(
    rel: Release, meta: Mapping[str, Any], figures: Mapping[str, str] | None = None
) -> str:
    """The report page (HTML text) from released tables, plain-text facts and figure URIs."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from coaching_trials import __version__

    figures = dict(figures or {})
    arms = list(meta["arms"])
    sections = [s for build in SECTIONS if (s := build(rel, meta, figures)) is not None]

    env = Environment(
        loader=PackageLoader("coaching_trials.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )
    template = env.get_template("report.html.j2")
    n = meta.get("n_randomized")
    subtitle: Text = [
        (
            "",
            f"Randomized delayed-intervention trial: {arms[0]} (coached first) vs {arms[1]} "
            "(wait-list, coached after the waiting period), "
            + (f"{n} participants randomized" if n is not None else "participants randomized")
            + f"; waves {', '.join(map(str, meta['waves']))}.",
        )
    ]
    return template.render(
        title=meta["title"],
        headline=headline(rel, meta),
        subtitle=subtitle,
        synthetic=bool(meta.get("synthetic")),
        sections=sections,
        css=_CSS,
        options=sorted((str(k), str(v)) for k, v in meta.get("options", {}).items()),
        version=__version__,
        policy=rel.policy.describe(),
    )
