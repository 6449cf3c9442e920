"""The result objects of the delayed-intervention trial's methods.

:class:`TrialEffects` (rows of the fixed effects table with their audit),
:class:`TrialComparison` (the randomized comparison, with descriptives and standardized effects),
:class:`TrialResponders` (the responders result at the endpoint) and :class:`BaselineTable`
(Table 1). They only hold and show numbers; the trial's modules compute them.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

import pandas as pd

from coaching_trials._audit import audit_frame
from coaching_trials._results import ResultMixin, effects_frame, format_table
from coaching_trials.analysis.responders import RespondersResult

__all__ = ["TrialEffects", "TrialComparison", "TrialResponders", "BaselineTable"]

SEP = "__"  # wide columns are named f"{outcome}{SEP}{wave}", as in ``ct.to_wide``


def check_conf_level(conf_level: float) -> float:
    """``conf_level`` as a float in (0, 1), else a TypeError/ValueError naming it."""
    if isinstance(conf_level, bool) or not isinstance(conf_level, (int, float)):
        raise TypeError(f"`conf_level` must be a number in (0, 1); got {conf_level!r}.")
    if not 0.0 < float(conf_level) < 1.0:
        raise ValueError(f"`conf_level` must be in (0, 1); got {conf_level!r}.")
    return float(conf_level)


# ---------------------------------------------------------------------------------------------
# result objects
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, repr=False)
class TrialEffects(ResultMixin):
    """Rows of the effects table from one trial method, with the exclusions behind them.

    Attributes
    ----------
    effects : pandas.DataFrame
        The fixed effects schema (``EFFECT_COLUMNS``); one row per outcome x contrast.
    audit : pandas.DataFrame
        Participants left out of each row and why (``step, reason, n_rows, detail``).
    conf_level : float
        Confidence level of every interval.
    title : str
        What the table is (used by ``summary()``).

    The headline attributes (``estimate``, ``std_error``, ``df``, ``statistic``, ``p_value``,
    ``conf_low``, ``conf_high``) are those of the first row.
    """

    effects: pd.DataFrame
    audit: pd.DataFrame
    conf_level: float
    title: str = "Trial effects"

    @property
    def _title(self) -> str:  # type: ignore[override]
        return self.title

    def to_frame(self) -> pd.DataFrame:
        """The effects table (a copy)."""
        return self.effects.copy()

    def _repr_html_(self) -> str:
        parts = [f"<strong>{html.escape(self.title)}</strong>", _html_table(self.to_frame())]
        parts += [
            f"<p><em>{html.escape(caption)}</em></p>{_html_table(frame)}"
            for caption, frame in self._html_sections()
        ]
        return f"<div>{''.join(parts)}</div>"

    def _html_sections(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Exclusions (audit)", self.audit)] if len(self.audit) else []

    def _first(self, col: str) -> float:
        return float(self.effects[col].iloc[0]) if len(self.effects) else float("nan")

    estimate = property(lambda self: self._first("estimate"))
    std_error = property(lambda self: self._first("std_error"))
    df = property(lambda self: self._first("df"))
    statistic = property(lambda self: self._first("statistic"))
    p_value = property(lambda self: self._first("p_value"))
    conf_low = property(lambda self: self._first("conf_low"))
    conf_high = property(lambda self: self._first("conf_high"))


def trial_effects(
    rows: Sequence[Mapping[str, Any]],
    audit: Sequence[Mapping[str, Any]],
    *,
    conf_level: float,
    title: str,
) -> TrialEffects:
    """A :class:`TrialEffects` from effects-table rows and audit entries (dicts)."""
    return TrialEffects(
        effects=effects_frame(rows),
        audit=audit_frame(audit),
        conf_level=conf_level,
        title=title,
    )


@dataclass(frozen=True, eq=False, repr=False)
class TrialComparison(TrialEffects):
    """The randomized comparison of :meth:`DelayedInterventionTrial.compare`.

    Attributes
    ----------
    effects : pandas.DataFrame
        One row per outcome (per outcome x visit for ``method="mmrm"``) in the fixed effects
        schema; ``p_adjusted`` holds the multiplicity-adjusted p of secondary outcomes (the
        primary keeps its raw p).
    descriptives : pandas.DataFrame
        Per outcome x arm: baseline and endpoint n, mean and SD (all available data at each
        wave) and the percent change of the arm means on paired complete cases with its CI.
    standardized : pandas.DataFrame
        Per outcome: Morris (2008) d_ppc2 (difference in mean change over the pooled baseline
        SD, small-sample corrected) with its CI.
    fits : Mapping[str, object]
        The underlying estimator result per outcome (read-only mapping).
    method, adjust, primary : str or None
        The options used.
    """

    descriptives: pd.DataFrame = field(default_factory=pd.DataFrame)
    standardized: pd.DataFrame = field(default_factory=pd.DataFrame)
    fits: Any = field(default_factory=lambda: MappingProxyType({}))
    method: str = "ancova"
    adjust: str | None = "holm"
    primary: str | None = None

    def summary(self, digits: int = 3) -> str:
        base = super().summary(digits)
        return (
            f"{base}\n\nPer-arm descriptives\n{format_table(self.descriptives, digits)}"
            f"\n\nStandardized effect sizes\n{format_table(self.standardized, digits)}"
        )

    def _html_sections(self) -> list[tuple[str, pd.DataFrame]]:
        return [
            ("Per-arm descriptives", self.descriptives),
            ("Standardized effect sizes", self.standardized),
            *super()._html_sections(),
        ]


@dataclass(frozen=True, eq=False, repr=False)
class TrialResponders(RespondersResult):
    """:class:`~coaching_trials.analysis.responders.RespondersResult` of a trial's endpoint.

    Adds ``wave`` (the endpoint) to every effects-table row; ``outcome`` is the score name and
    ``event`` names the endpoint (e.g. ``"pfi_burnout >= 1.33 at month3"``).
    """

    wave: str | None = None

    @property
    def _title(self) -> str:  # type: ignore[override]
        return f"Responders: {self.event} ({self.event_is} event)"

    def to_frame(self) -> pd.DataFrame:
        out = super().to_frame()
        out["wave"] = self.wave
        return out

    def _repr_html_(self) -> str:
        title = self._title
        nnt = f"{self.nnt_label} {self.nnt:.1f} ({self.nnt_conf_text})"
        return (
            f"<div><strong>{html.escape(title)}</strong>{_html_table(self.to_frame())}"
            f"<p><em>Proportions by arm</em></p>{_html_table(self.proportions)}"
            f"<p>{html.escape(nnt)}</p></div>"
        )


def _html_table(frame: pd.DataFrame) -> str:
    keep = [c for c in frame.columns if not frame[c].isna().all()]
    return frame[keep].to_html(index=False, float_format=lambda x: f"{x:.3f}", na_rep="")


@dataclass(frozen=True, eq=False, repr=False)
class BaselineTable:
    """Table 1 of a trial: tidy numbers and a formatted display table.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy: one row per variable (x level) x arm (the two arms and ``"overall"``) with
        ``n, n_missing, mean, sd, median, q1, q3`` (continuous) or ``count, percent``
        (categorical, percent of non-missing) and ``smd`` (immediate minus delayed).
    formatted : pandas.DataFrame
        Strings ready to print: ``variable, level``, one column per arm and overall with the
        arm size in the header, and ``SMD``.
    continuous : str
        ``"mean_sd"`` or ``"median_iqr"``.
    """

    table: pd.DataFrame
    formatted: pd.DataFrame
    continuous: str = "mean_sd"
    _title: ClassVar[str] = "Baseline characteristics by arm"

    def to_frame(self) -> pd.DataFrame:
        """The tidy table (a copy)."""
        return self.table.copy()

    def summary(self) -> str:
        with pd.option_context("display.width", 140, "display.max_columns", 20):
            return f"{self._title}\n{self.formatted.to_string(index=False)}"

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        title = html.escape(self._title)
        return f"<div><strong>{title}</strong>{self.formatted.to_html(index=False)}</div>"


# ---------------------------------------------------------------------------------------------
