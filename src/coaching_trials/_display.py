"""Notebook displays of objects that are not effects results: a titled card, autoescaped.

Text goes through Jinja2 with autoescaping (STYLE.md); tables are rendered by pandas, which
escapes cell text, and are marked safe only after that.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pandas as pd

__all__ = ["html_card"]

_CARD = """<div class="ct-card">
<strong>{{ title }}</strong>
{%- if lines %}
<ul>
{%- for key, value in lines %}
<li>{% if key %}<em>{{ key }}</em>: {% endif %}{{ value }}</li>
{%- endfor %}
</ul>
{%- endif %}
{%- for caption, table in tables %}
<div><em>{{ caption }}</em>{{ table }}</div>
{%- endfor %}
{%- if note %}
<p><small>{{ note }}</small></p>
{%- endif %}
</div>"""


@lru_cache(maxsize=1)
def _template() -> Any:
    from jinja2 import Environment

    return Environment(autoescape=True).from_string(_CARD)


def html_card(
    title: str,
    lines: Sequence[tuple[str, Any]] = (),
    tables: Sequence[tuple[str, pd.DataFrame]] = (),
    note: str = "",
) -> str:
    """HTML for ``_repr_html_``: a bold title, a list of ``key: value`` lines, small tables.

    Examples
    --------
    >>> print(html_card("<x>", [("n", 3)]))
    <div class="ct-card">
    <strong>&lt;x&gt;</strong>
    <ul>
    <li><em>n</em>: 3</li>
    </ul>
    </div>
    """
    from markupsafe import Markup

    rendered = [
        (caption, Markup(table.to_html(index=False, na_rep="", escape=True, border=0)))
        for caption, table in tables
    ]
    return _template().render(title=title, lines=list(lines), tables=rendered, note=note)
