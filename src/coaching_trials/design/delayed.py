"""The randomized delayed-intervention (wait-list) trial.

One arm is coached between the baseline and the endpoint wave (``immediate``); the other waits
and is coached after the endpoint (``delayed``). The only randomized comparison is the two arms
at the end of the waiting period (:meth:`DelayedInterventionTrial.compare`). Everything that uses
waves after the crossover (:meth:`~DelayedInterventionTrial.delayed_arm_prepost`,
:meth:`~DelayedInterventionTrial.pooled_prepost`, :meth:`~DelayedInterventionTrial.durability`)
or the number of sessions attended (:meth:`~DelayedInterventionTrial.dose_response`) is
non-randomized and labelled so in the ``estimand`` column of every row (Cunningham et al.,
BMC Med Res Methodol 2013: regression to the mean, secular trend, wait-list bias).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from coaching_trials._audit import audit_frame
from coaching_trials._errors import ProblemLog, format_values, one_of
from coaching_trials._results import EFFECT_COLUMNS, ResultMixin, effects_frame, format_table
from coaching_trials.analysis.responders import RespondersResult
from coaching_trials.design._prepost import ols_cluster, ols_slope, paired_t
from coaching_trials.design._tables import baseline_summary, flow_table
from coaching_trials.design._validate import (
    as_name_tuple,
    check_design_options,
    raise_missing_outcomes,
    subscale_info,
    validate_design,
)

__all__ = [
    "DelayedInterventionTrial",
    "TrialEffects",
    "TrialComparison",
    "TrialResponders",
    "BaselineTable",
]

SEP = "__"  # wide columns are named f"{outcome}{SEP}{wave}", as in ``ct.to_wide``
_ADMIN_COLUMNS = (
    "sessions_attended",
    "coach_id",
    "withdrawal_reason",
    "withdrawn_before",
    "last_wave",
    "randomization_date",
)
_METHODS = ("ancova", "change", "mmrm")
_ADJUST = ("holm", "hochberg", "bh", "bonferroni", "fixed_sequence", None)


def _check_conf_level(conf_level: float) -> float:
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


def _trial_effects(
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
# the trial
# ---------------------------------------------------------------------------------------------
class DelayedInterventionTrial:
    """A randomized delayed-intervention (wait-list) coaching trial.

    Parameters
    ----------
    responses : pandas.DataFrame
        Long responses: one row per participant x wave with the subject, arm and wave columns
        and scored outcome columns (score items first with :func:`coaching_trials.score`).
    subject, arm, wave : str, keyword-only
        Column names (defaults follow the package's naming contract).
    immediate, delayed : str
        The arm labels of the arm coached first and of the wait-list arm.
    baseline_wave, endpoint_wave : str
        The wave before randomized coaching and the wave at the end of the waiting period.
    followup_waves : sequence of str, optional
        Waves after the endpoint (after the delayed arm's coaching).
    participants : pandas.DataFrame, optional
        One row per randomized participant (``subject`` column, optionally ``arm``,
        demographics, ``sessions_attended``, ``coach_id``, ``withdrawal_reason``). Participants
        without any response rows count as randomized but not assessed.
    sessions : str or pandas.DataFrame, optional
        Either the ``participants`` column holding the number of coaching sessions attended
        (default ``"sessions_attended"`` when present) or a session log with one row per session
        attended (a ``subject`` column); the log is counted into ``sessions_attended``.

    Raises
    ------
    DataValidationError
        Listing every design problem at once: missing columns, missing ids/arms/waves, unknown
        arms or waves, an empty arm, duplicate participant-wave rows, a participant in two arms
        (ids and arms named), an endpoint not after the baseline, a delayed arm without rows at
        the declared follow-up waves, disagreements with ``participants``, a ``participants``
        wave column (``withdrawn_before``, ``last_wave``) naming a wave the design does not
        know, and a sessions-attended column holding text or counts that are not whole numbers
        >= 0 (participant ids and row labels named; missing values are allowed).

    Notes
    -----
    Wave order: the categories of an ordered Categorical wave column if given, else baseline,
    endpoint, then follow-ups as declared. Inputs are copied; the trial never changes them and
    cannot itself be changed (its attributes return copies).

    Examples
    --------
    >>> import pandas as pd
    >>> import coaching_trials as ct
    >>> df = pd.DataFrame({
    ...     "participant_id": ["P1", "P1", "P2", "P2", "P3", "P3", "P4", "P4"],
    ...     "arm": ["immediate"] * 4 + ["delayed"] * 4,
    ...     "wave": ["baseline", "month3"] * 4,
    ...     "pfi_burnout": [2.0, 1.2, 1.8, 1.4, 1.9, 2.0, 1.6, 1.7],
    ... })
    >>> trial = ct.DelayedInterventionTrial(
    ...     df, immediate="immediate", delayed="delayed",
    ...     baseline_wave="baseline", endpoint_wave="month3")
    >>> trial.waves
    ('baseline', 'month3')
    >>> trial.flow().query("stage == 'analysed'")[["arm", "n"]].to_string(index=False)
    '      arm  n\\nimmediate  2\\n  delayed  2\\n  overall  4'
    """

    __slots__ = (
        "_responses",
        "_participants",
        "_subject",
        "_arm",
        "_wave",
        "_immediate",
        "_delayed",
        "_baseline",
        "_endpoint",
        "_followups",
        "_waves",
        "_sessions",
        "_audit",
        "_frozen",
    )

    def __init__(
        self,
        responses: pd.DataFrame,
        *,
        subject: str = "participant_id",
        arm: str = "arm",
        wave: str = "wave",
        immediate: str,
        delayed: str,
        baseline_wave: str,
        endpoint_wave: str,
        followup_waves: Sequence[str] | str = (),
        participants: pd.DataFrame | None = None,
        sessions: str | pd.DataFrame | None = None,
    ) -> None:
        if not isinstance(responses, pd.DataFrame):
            raise TypeError(
                f"`responses` must be a pandas DataFrame; got {type(responses).__name__}."
            )
        if participants is not None and not isinstance(participants, pd.DataFrame):
            raise TypeError(
                f"`participants` must be a pandas DataFrame or None; got "
                f"{type(participants).__name__}."
            )
        followups = as_name_tuple(followup_waves, "followup_waves")
        check_design_options(
            subject=subject,
            arm=arm,
            wave=wave,
            immediate=immediate,
            delayed=delayed,
            baseline_wave=baseline_wave,
            endpoint_wave=endpoint_wave,
            followup_waves=followups,
        )
        order = validate_design(
            responses,
            participants,
            subject=subject,
            arm=arm,
            wave=wave,
            immediate=immediate,
            delayed=delayed,
            baseline_wave=baseline_wave,
            endpoint_wave=endpoint_wave,
            followup_waves=followups,
            sessions=(
                sessions
                if isinstance(sessions, str)
                else "sessions_attended"
                if sessions is None
                else None
            ),
        )
        resp = responses.copy(deep=True)
        resp[wave] = pd.Categorical(
            resp[wave].astype("string"), categories=list(order), ordered=True
        )
        resp[arm] = resp[arm].astype("string")
        audit: list[dict[str, Any]] = []

        # participants: given (copied) or derived from the responses
        resp_arms = resp.drop_duplicates(subject)[[subject, arm]].set_index(subject)[arm]
        if participants is None:
            part = resp_arms.reset_index()
        else:
            part = participants.copy(deep=True)
            if arm in part.columns:
                part[arm] = part[arm].astype("string").fillna(part[subject].map(resp_arms))
            else:
                part[arm] = part[subject].map(resp_arms).astype("string")
            no_rows = ~part[subject].isin(resp[subject])
            if no_rows.any():
                audit.append(
                    dict(
                        step="design",
                        reason="randomized participant without any response row",
                        n_rows=int(no_rows.sum()),
                        detail=f"ids {format_values(part.loc[no_rows, subject])}",
                    )
                )
        part = part.sort_values(subject, kind="stable").reset_index(drop=True)

        sessions_col = self._resolve_sessions(sessions, part, subject, audit)
        if isinstance(sessions, pd.DataFrame):
            part = part.copy()
            counts = sessions.groupby(subject).size()
            part[sessions_col] = part[subject].map(counts).fillna(0).astype("int64")

        unknown_arm = part[arm].isna()
        if unknown_arm.any():  # participants with no arm anywhere
            raise ValueError(
                f"participant(s) {format_values(part.loc[unknown_arm, subject])} have no arm in "
                "`participants` nor in `responses`."
            )
        audit.insert(
            0,
            dict(
                step="design",
                reason="input",
                n_rows=len(resp),
                detail=(
                    f"{len(resp)} response rows; {len(part)} randomized participants "
                    f"({int((part[arm] == immediate).sum())} {immediate}, "
                    f"{int((part[arm] == delayed).sum())} {delayed}); waves {list(order)}"
                ),
            ),
        )
        set_ = object.__setattr__
        set_(self, "_responses", resp)
        set_(self, "_participants", part)
        set_(self, "_subject", subject)
        set_(self, "_arm", arm)
        set_(self, "_wave", wave)
        set_(self, "_immediate", immediate)
        set_(self, "_delayed", delayed)
        set_(self, "_baseline", baseline_wave)
        set_(self, "_endpoint", endpoint_wave)
        set_(self, "_followups", tuple(w for w in order if w in followups))
        set_(self, "_waves", order)
        set_(self, "_sessions", sessions_col)
        set_(self, "_audit", audit_frame(audit))
        set_(self, "_frozen", True)

    @staticmethod
    def _resolve_sessions(
        sessions: str | pd.DataFrame | None,
        part: pd.DataFrame,
        subject: str,
        audit: list[dict[str, Any]],
    ) -> str | None:
        if sessions is None:
            return "sessions_attended" if "sessions_attended" in part.columns else None
        if isinstance(sessions, str):
            if sessions not in part.columns:
                raise ValueError(
                    f"`sessions` names column {sessions!r}, which is not in `participants` "
                    f"(columns: {format_values(part.columns, 12)})."
                )
            return sessions
        if isinstance(sessions, pd.DataFrame):
            if subject not in sessions.columns:
                raise ValueError(
                    f"the session log `sessions` has no {subject!r} column "
                    f"(columns: {format_values(sessions.columns, 12)})."
                )
            unknown = ~sessions[subject].isin(part[subject])
            if unknown.any():
                raise ValueError(
                    f"the session log `sessions` has {int(unknown.sum())} row(s) for unknown "
                    f"participant(s) {format_values(sessions.loc[unknown, subject].unique())}."
                )
            audit.append(
                dict(
                    step="design",
                    reason="sessions counted from the session log",
                    n_rows=len(sessions),
                    detail="participants without a logged session counted as 0 sessions",
                )
            )
            return "sessions_attended"
        raise TypeError(
            f"`sessions` must be a column name, a session-log DataFrame or None; got "
            f"{type(sessions).__name__}."
        )

    # -- immutability ---------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"DelayedInterventionTrial is immutable; cannot set {name!r}.")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"DelayedInterventionTrial is immutable; cannot delete {name!r}.")

    # -- read-only views ------------------------------------------------------------------------
    @property
    def responses(self) -> pd.DataFrame:
        """A copy of the long responses (wave as an ordered Categorical)."""
        return self._responses.copy()

    @property
    def participants(self) -> pd.DataFrame:
        """A copy of the one-row-per-participant table (derived from responses if not given)."""
        return self._participants.copy()

    @property
    def audit(self) -> pd.DataFrame:
        """A copy of the design audit (``step, reason, n_rows, detail``)."""
        return self._audit.copy()

    @property
    def waves(self) -> tuple[str, ...]:
        """Design waves in time order."""
        return self._waves

    @property
    def arms(self) -> tuple[str, str]:
        """``(immediate, delayed)`` arm labels."""
        return (self._immediate, self._delayed)

    @property
    def design(self) -> dict[str, Any]:
        """The design options as a plain dict."""
        return dict(
            subject=self._subject,
            arm=self._arm,
            wave=self._wave,
            immediate=self._immediate,
            delayed=self._delayed,
            baseline_wave=self._baseline,
            endpoint_wave=self._endpoint,
            followup_waves=self._followups,
        )

    def __repr__(self) -> str:
        n = self._participants[self._arm].value_counts()
        return (
            f"DelayedInterventionTrial({len(self._participants)} participants: "
            f"{int(n.get(self._immediate, 0))} {self._immediate!r} (coached {self._baseline} -> "
            f"{self._endpoint}), {int(n.get(self._delayed, 0))} {self._delayed!r} (waiting); "
            f"waves {list(self._waves)})"
        )

    def _repr_html_(self) -> str:
        n = self._participants[self._arm].value_counts()
        rows = [
            (
                "immediate arm",
                f"{self._immediate} (n={int(n.get(self._immediate, 0))}), coached "
                f"{self._baseline} -> {self._endpoint}",
            ),
            (
                "delayed arm",
                f"{self._delayed} (n={int(n.get(self._delayed, 0))}), waiting until "
                f"{self._endpoint}, then coached",
            ),
            ("waves", ", ".join(self._waves)),
            ("randomized comparison", f"{self._immediate} vs {self._delayed} at {self._endpoint}"),
            ("follow-up waves", ", ".join(self._followups) or "none"),
            ("response rows", str(len(self._responses))),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        return f"<div><strong>Delayed-intervention trial</strong><table>{body}</table></div>"

    # -- data alignment -------------------------------------------------------------------------
    def _outcomes(self, outcomes: str | Sequence[str], what: str = "outcomes") -> tuple[str, ...]:
        names = as_name_tuple(outcomes, what)
        if not names:
            raise ValueError(f"`{what}` must name at least one scored column.")
        dup = sorted({o for o in names if names.count(o) > 1})
        if dup:
            raise ValueError(f"`{what}` lists {format_values(dup)} more than once.")
        raise_missing_outcomes(self._responses, names, what=what)
        return names

    def wide(
        self, outcomes: str | Sequence[str], waves: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """One row per randomized participant with ``{outcome}__{wave}`` columns.

        Parameters
        ----------
        outcomes : str or sequence of str
            Scored numeric columns of the responses.
        waves : sequence of str, optional
            Waves to include (default: all design waves, in order).

        Returns
        -------
        pandas.DataFrame
            Columns ``subject``, ``arm`` then ``{outcome}__{wave}`` (NaN where the participant
            has no row or a missing score at that wave). Sorted by subject.
        """
        names = self._outcomes(outcomes)
        waves = self._waves if waves is None else as_name_tuple(waves, "waves")
        unknown = [w for w in waves if w not in self._waves]
        if unknown:
            raise ValueError(
                f"wave(s) {format_values(unknown)} are not design waves {list(self._waves)}."
            )
        s, a, w = self._subject, self._arm, self._wave
        out = self._participants[[s, a]].copy()
        resp = self._responses
        for name in names:
            piv = resp.pivot(index=s, columns=w, values=name)
            piv.columns = [str(c) for c in piv.columns]
            piv = piv.reindex(index=out[s], columns=list(waves))
            for wv in waves:
                out[f"{name}{SEP}{wv}"] = pd.to_numeric(piv[wv], errors="coerce").to_numpy(
                    dtype=float
                )
        return out.reset_index(drop=True)

    def _covariate_frame(self, covariates: tuple[str, ...]) -> pd.DataFrame:
        """Covariates per participant: from ``participants`` or else the baseline responses."""
        s = self._subject
        out = self._participants[[s]].copy()
        log = ProblemLog("covariates")
        base = self._responses[self._responses[self._wave] == self._baseline].set_index(s)
        for cov in covariates:
            if cov in (s, self._arm, self._wave):
                log.add("bad_covariate", f"covariate {cov!r} is a design column.", column=cov)
            elif cov in self._participants.columns:
                out[cov] = self._participants[cov]  # same index: keeps a Categorical's levels
            elif cov in base.columns:
                out[cov] = base[cov].reindex(out[s]).set_axis(out.index)
            else:
                log.add(
                    "missing_column",
                    f"covariate {cov!r} is neither a column of `participants` nor of the "
                    "responses.",
                    column=cov,
                    expected="a participants column or a responses column measured at baseline",
                )
        log.raise_if_any()
        return out

    # -- CONSORT flow ---------------------------------------------------------------------------
    def flow(
        self, outcome: str | None = None, *, reason: str = "withdrawal_reason"
    ) -> pd.DataFrame:
        """CONSORT counts per arm (and overall) as a tidy table.

        Parameters
        ----------
        outcome : str, optional
            When given, "assessed" means a non-missing ``outcome`` at that wave and "analysed"
            means non-missing at both baseline and endpoint (the complete cases of the primary
            ANCOVA). Otherwise it means a response row at the wave.
        reason : str, default ``"withdrawal_reason"``
            Column of ``participants`` giving why a participant was lost; missing reasons are
            reported as ``"reason not given"``; a participant with a row at the wave but no
            ``outcome`` score is reported as ``"<outcome> missing"``.

        Returns
        -------
        pandas.DataFrame
            Columns ``arm, stage, wave, reason, n``; stages ``randomized``, ``assessed`` and
            ``not assessed`` (per wave, with reasons), ``analysed`` and ``not analysed`` (at the
            endpoint, with reasons).
        """
        if outcome is not None:
            outcome = self._outcomes(outcome, "outcome")[0]
        return flow_table(
            self._participants,
            self._responses,
            subject=self._subject,
            arm=self._arm,
            wave=self._wave,
            arms=self.arms,
            waves=self._waves,
            baseline_wave=self._baseline,
            endpoint_wave=self._endpoint,
            outcome=outcome,
            reason=reason,
        )

    # -- Table 1 --------------------------------------------------------------------------------
    def baseline_table(
        self,
        variables: Sequence[str] | None = None,
        *,
        continuous: str = "mean_sd",
        smd: bool = True,
        categorical: Sequence[str] = (),
        levels: Mapping[str, Sequence[Any]] | None = None,
        digits: int = 2,
    ) -> BaselineTable:
        """Baseline characteristics by arm and overall (Table 1).

        Parameters
        ----------
        variables : sequence of str, optional
            Columns of ``participants`` or of the baseline-wave responses. Default: every
            ``participants`` column except the id, arm and administrative columns
            (``sessions_attended``, ``coach_id``, ``withdrawal_reason``, ``withdrawn_before``,
            ``last_wave``, dates), then every
            numeric non-item column of the responses (item columns end in ``_<digits>``).
        continuous : {"mean_sd", "median_iqr"}
            Summary shown for continuous variables (both are in the tidy table; quartiles are
            R's default type-7 quantiles).
        smd : bool, default True
            Standardized mean differences (immediate minus delayed): continuous
            ``(m1 - m2) / sqrt((s1^2 + s2^2) / 2)``; per categorical level the same with
            ``p(1 - p)`` variances; per categorical variable the Yang & Dalton (2012)
            multinomial SMD. No p-values (CONSORT advises against baseline tests).
        categorical : sequence of str
            Numeric columns to treat as categorical (text, category and boolean columns always
            are).
        levels : mapping of str to sequence, optional
            Explicit level order per categorical variable, e.g.
            ``{"age_band": ["<40", "40-49", "50-59", "60+"]}``; it must list every observed
            value of the variable (once each); listed levels nobody has are shown with 0. A
            variable given here is treated as categorical.
        digits : int
            Decimals in the formatted table.

        Returns
        -------
        BaselineTable
            ``.table`` (tidy), ``.formatted`` (strings).

        Notes
        -----
        Level order of a categorical variable: ``levels`` when given; else a pandas
        Categorical's own categories (ordered or not); else "natural" order: when every level
        starts with a number, optionally after a comparison sign (``"<40"``, ``"40-49"``,
        ``"60+"``, ``"1-5 years"``), by that number with ``<`` first among equal numbers;
        otherwise alphabetical. So a band read from CSV text is listed as ``<40, 40-49, 50-59,
        60+``, not alphabetically.

        Examples
        --------
        >>> import coaching_trials as ct
        >>> ex = ct.load_example()
        >>> part = ex.participants.assign(age_band=ex.participants["age_band"].astype(str))
        >>> trial = ct.DelayedInterventionTrial(ex.responses, participants=part, **ex.design)
        >>> tab = trial.baseline_table(["age_band"]).to_frame()
        >>> tab.loc[tab["arm"] == "overall", "level"].tolist()
        ['<40', '40-49', '50-59', '60+']
        >>> tab = trial.baseline_table(
        ...     ["age_band"], levels={"age_band": ["60+", "50-59", "40-49", "<40"]}).to_frame()
        >>> tab.loc[tab["arm"] == "overall", "level"].tolist()
        ['60+', '50-59', '40-49', '<40']
        """
        if continuous not in ("mean_sd", "median_iqr"):
            raise one_of("continuous", continuous, ("mean_sd", "median_iqr"))
        s, a = self._subject, self._arm
        part = self._participants
        base = self._responses[self._responses[self._wave] == self._baseline].set_index(s)
        if variables is None:
            pvars = [
                c
                for c in part.columns
                if c not in (s, a, self._sessions, *_ADMIN_COLUMNS)
                and not c.endswith("_date")
                and not pd.api.types.is_datetime64_any_dtype(part[c])
            ]
            rvars = [
                c
                for c in base.columns
                if c not in (a, self._wave, *pvars)
                and pd.api.types.is_numeric_dtype(base[c])
                and not pd.api.types.is_bool_dtype(base[c])
                and not _is_item_column(c)
            ]
            variables = [*pvars, *rvars]
        else:
            variables = list(as_name_tuple(variables, "variables"))
        log = ProblemLog("baseline_table variables")
        frame = part[[s, a]].copy()
        for v in variables:
            if v in (s, a):
                log.add("bad_variable", f"variable {v!r} is a design column.", column=v)
            elif v in part.columns:
                frame[v] = part[v]  # same index; keeps a Categorical's level order
            elif v in base.columns:
                frame[v] = base[v].reindex(frame[s]).set_axis(frame.index)
            else:
                log.add(
                    "missing_column",
                    f"variable {v!r} is neither a column of `participants` nor of the responses.",
                    column=v,
                    expected="a participants column or a responses column",
                )
        log.raise_if_any()
        level_order = _check_levels(levels, frame, variables, subject=s)
        table, formatted = baseline_summary(
            frame,
            variables,
            arm=a,
            arms=self.arms,
            continuous=continuous,
            smd=smd,
            categorical=tuple(categorical),
            levels=level_order,
            digits=digits,
        )
        return BaselineTable(table=table, formatted=formatted, continuous=continuous)

    # -- randomized comparison -------------------------------------------------------------------
    def compare(
        self,
        outcomes: str | Sequence[str],
        *,
        method: str = "ancova",
        adjust: str | None = "holm",
        primary: str | None = None,
        covariates: Sequence[str] = (),
        cluster: str | None = None,
        partially_nested: bool = True,
        conf_level: float = 0.95,
    ) -> TrialComparison:
        """The randomized comparison at the end of the waiting period, for many outcomes.

        Parameters
        ----------
        outcomes : str or sequence of str
            Scored outcome columns.
        method : {"ancova", "change", "mmrm"}
            ``"ancova"`` (default; endpoint on arm + baseline, Vickers & Altman 2001),
            ``"change"`` (difference in mean change, pooled-variance t) or ``"mmrm"`` (all
            post-baseline waves up to the endpoint, baseline-adjusted, unstructured covariance;
            one row per visit).
        adjust : {"holm", "hochberg", "bh", "bonferroni", "fixed_sequence"} or None
            Multiplicity adjustment of the secondary outcomes' endpoint p-values, written to
            ``p_adjusted``; the ``primary`` outcome keeps its raw p there. ``None``: no
            adjustment (``p_adjusted`` stays NaN).
        primary : str, optional
            The primary outcome (must be one of ``outcomes``). ``None``: all outcomes form one
            family.
        covariates : sequence of str
            Extra adjustment covariates from ``participants`` or the baseline responses.
        cluster : str, optional
            Column of ``participants`` (or of the baseline responses) identifying clusters, e.g.
            ``"coach_id"`` or a coaching-group id. Standard errors are then cluster-robust CR1
            with ``G - 1`` df (``G`` clusters among the analysed participants) and ``analysis``
            reads ``"ancova_cr1"`` / ``"change_score_cr1"``. Participants with no cluster id
            count as their own cluster (reported in ``audit``). Not available for
            ``method="mmrm"``. For ``method="change"`` the clustered fit is an OLS of the change
            on arm, and ``fits[outcome]`` is its one-row :class:`TrialEffects`.
        partially_nested : bool, default True
            With ``cluster``: the wait-list arm is not coached before the endpoint, so by default
            each of its participants is its own cluster (the partially nested design; Candlish
            et al., BMC Med Res Methodol 2018;18:105). ``False`` uses the given ids in both arms
            (for clusters that exist in both arms, such as a clinic or department).
        conf_level : float

        Returns
        -------
        TrialComparison
            ``effects`` (``estimand = "randomized: <immediate> vs <delayed> at <endpoint>"``),
            ``descriptives``, ``standardized``, ``audit``, ``fits``.

        Notes
        -----
        Each row is the standalone estimator (:func:`coaching_trials.ancova`,
        :func:`~coaching_trials.change_score`, :func:`~coaching_trials.mmrm`) applied to one row
        per randomized participant; participants without the endpoint or baseline score are
        counted per arm in ``audit``. ANCOVA rows, adjusted means, change scores, percent change
        and Holm-adjusted p were validated against R (``lm`` + ``emmeans``, ``t.test``,
        ``p.adjust``) on the sample trial to 1e-6 (``tests/reference/design/make_golden.R``);
        the clustered ANCOVA and change rows against ``sandwich::vcovCL(type = "HC1")`` with
        ``lmtest::coeftest(df = G - 1)`` to 1e-6 and the MMRM rows against ``nlme::gls``
        (``corSymm`` + ``varIdent``, REML) + ``emmeans`` to 1e-4 for estimates and SEs
        (``tests/reference/design/make_golden_extra.R``).

        Examples
        --------
        >>> import coaching_trials as ct
        >>> ex = ct.load_example("delayed_intervention")
        >>> scored = ct.score(ex.responses, "pfi")
        >>> trial = ct.DelayedInterventionTrial(
        ...     scored, participants=ex.participants, immediate="immediate", delayed="delayed",
        ...     baseline_wave="baseline", endpoint_wave="month3", followup_waves=("month6",))
        >>> res = trial.compare(["pfi_burnout", "pfi_pf", "pfi_id"], primary="pfi_burnout")
        >>> res.to_frame()[["outcome", "analysis", "wave"]]
               outcome analysis    wave
        0  pfi_burnout   ancova  month3
        1       pfi_pf   ancova  month3
        2       pfi_id   ancova  month3
        >>> res.to_frame()["estimand"].iloc[0]
        'randomized: immediate vs delayed at month3'
        >>> bool(res.conf_low < res.estimate < res.conf_high)
        True
        >>> sorted(res.descriptives.columns)[:3]
        ['arm', 'baseline_mean', 'baseline_n']
        """
        names = self._outcomes(outcomes)
        if method not in _METHODS:
            raise one_of("method", method, _METHODS)
        if adjust not in _ADJUST:
            raise one_of("adjust", adjust, _ADJUST)
        if primary is not None and primary not in names:
            raise ValueError(
                f"`primary` must be one of the outcomes {list(names)}; got {primary!r}."
            )
        covs = as_name_tuple(covariates, "covariates")
        conf_level = _check_conf_level(conf_level)
        if not isinstance(partially_nested, bool):
            raise TypeError(f"`partially_nested` must be True or False; got {partially_nested!r}.")
        if cluster is not None and method == "mmrm":
            raise ValueError(
                "`cluster` is not supported with method='mmrm' (cluster-robust standard errors "
                "for the MMRM are not implemented); use method='ancova' or 'change' with "
                "`cluster`, or method='mmrm' without it."
            )
        if cluster is not None and method == "change" and covs:
            raise ValueError("`covariates` are not used by method='change'; use 'ancova'.")
        from coaching_trials.analysis.change import percent_change
        from coaching_trials.analysis.effect_size import ppc_effect_size

        s, a = self._subject, self._arm
        imm, dly, b, e = self._immediate, self._delayed, self._baseline, self._endpoint
        cov_frame = self._covariate_frame(covs)
        audit_rows: list[dict[str, Any]] = []
        if cluster is not None:
            cov_frame[cluster] = self._cluster_labels(cluster, covs, partially_nested, audit_rows)
        post = [w for w in self._waves if self._waves.index(b) < self._waves.index(w)]
        post = post[: post.index(e) + 1]
        wide = self.wide(names, waves=[b, *post])
        rows: list[dict[str, Any]] = []
        desc: list[dict[str, Any]] = []
        std: list[dict[str, Any]] = []
        audit: list[dict[str, Any]] = list(audit_rows)
        fits: dict[str, Any] = {}
        for name in names:
            yb, ye = f"{name}{SEP}{b}", f"{name}{SEP}{e}"
            data = wide[[s, a, yb, ye]].merge(cov_frame, on=s, how="left")
            cov_ok = data[list(covs)].notna().all(axis=1) if covs else pd.Series(True, data.index)
            miss = {
                f"no {e} score": data[ye].isna(),
                f"no {b} score ({e} observed)": data[ye].notna() & data[yb].isna(),
                "missing covariate (scores observed)": data[ye].notna()
                & data[yb].notna()
                & ~cov_ok,
            }
            detail = (
                f"not in the {method} analysis of {name}"
                if method != "mmrm"
                else f"no {e} contribution to the mmrm of {name} (other visits still used)"
            )
            for reason, m in miss.items():
                for arm_label in (imm, dly):
                    k = int((m & (data[a] == arm_label)).sum())
                    if k:
                        audit.append(
                            dict(
                                step=f"compare[{name}]",
                                reason=f"{reason}, {arm_label}",
                                n_rows=k,
                                detail=detail,
                            )
                        )
            if method == "mmrm":
                fit, effect_rows = self._fit_mmrm(name, wide, cov_frame, covs, post, conf_level)
            else:
                fit, effect_rows = self._fit_wide(name, data, method, covs, cluster, conf_level)
            fits[name] = fit
            for r in effect_rows:
                r.update(outcome=name)
                r["estimand"] = f"randomized: {imm} vs {dly} at {r['wave']}"
            rows.extend(effect_rows)

            # descriptives: all available data per wave; percent change on paired completes
            pc = _percent_change_table(
                percent_change(
                    data, outcome=ye, baseline=yb, arm=a, treated=imm, conf_level=conf_level
                ),
                arms=(imm, dly),
            )
            for arm_label in (imm, dly):
                m = (data[a] == arm_label).to_numpy()
                xb = data.loc[m, yb].dropna().to_numpy()
                xe = data.loc[m, ye].dropna().to_numpy()
                desc.append(
                    dict(
                        outcome=name,
                        arm=arm_label,
                        baseline_n=xb.size,
                        baseline_mean=xb.mean() if xb.size else np.nan,
                        baseline_sd=xb.std(ddof=1) if xb.size > 1 else np.nan,
                        endpoint_n=xe.size,
                        endpoint_mean=xe.mean() if xe.size else np.nan,
                        endpoint_sd=xe.std(ddof=1) if xe.size > 1 else np.nan,
                        **pc.get(arm_label, {}),
                    )
                )
            es = ppc_effect_size(
                data, outcome=ye, baseline=yb, arm=a, treated=imm, conf_level=conf_level
            )
            std.append(
                dict(
                    outcome=name,
                    measure="d_ppc2",
                    estimate=float(es.estimate),
                    conf_low=float(es.conf_low),
                    conf_high=float(es.conf_high),
                    conf_level=conf_level,
                )
            )
        effects = effects_frame(rows)
        if adjust is not None:
            effects = self._adjust(effects, adjust, primary)
        descriptives = pd.DataFrame(desc)
        standardized = pd.DataFrame(std)
        return TrialComparison(
            effects=effects,
            audit=audit_frame(audit),
            conf_level=conf_level,
            title=f"Randomized comparison at {e} ({method}"
            + (f", CR1 clustered by {cluster})" if cluster is not None else ")"),
            descriptives=descriptives,
            standardized=standardized,
            fits=MappingProxyType(fits),
            method=method,
            adjust=adjust,
            primary=primary,
        )

    def _fit_wide(
        self,
        name: str,
        data: pd.DataFrame,
        method: str,
        covs: tuple[str, ...],
        cluster: str | None,
        conf_level: float,
    ) -> tuple[Any, list[dict[str, Any]]]:
        a, b, e, imm = self._arm, self._baseline, self._endpoint, self._immediate
        yb, ye = f"{name}{SEP}{b}", f"{name}{SEP}{e}"
        if method == "change" and cluster is not None:
            return self._fit_change_clustered(name, data, cluster, conf_level)
        if method == "ancova":
            from coaching_trials.analysis.ancova import ancova

            fit = ancova(
                data,
                outcome=ye,
                arm=a,
                baseline=yb,
                treated=imm,
                covariates=covs,
                cluster=cluster,
                conf_level=conf_level,
            )
        else:
            if covs:
                raise ValueError("`covariates` are not used by method='change'; use 'ancova'.")
            from coaching_trials.analysis.change import change_score

            fit = change_score(
                data,
                outcome=ye,
                baseline=yb,
                arm=a,
                treated=imm,
                method="pooled",
                conf_level=conf_level,
            )
        frame = fit.to_frame()
        rows = [_effect_row(frame.iloc[0], wave=e, analysis=method)]
        if cluster is not None:
            rows[0]["analysis"] = "ancova_cr1"
        return fit, rows

    def _fit_change_clustered(
        self, name: str, data: pd.DataFrame, cluster: str, conf_level: float
    ) -> tuple[Any, list[dict[str, Any]]]:
        """Difference in mean change (OLS of change on arm) with CR1 standard errors."""
        a, b, e = self._arm, self._baseline, self._endpoint
        imm, dly = self._immediate, self._delayed
        change = (data[f"{name}{SEP}{e}"] - data[f"{name}{SEP}{b}"]).to_numpy(dtype=float)
        ok = np.isfinite(change)
        is_imm = (data[a] == imm).to_numpy()
        res = ols_cluster(
            change[ok],
            is_imm[ok].astype(float),
            data[cluster].to_numpy(dtype=object)[ok],
            conf_level=conf_level,
        )
        res.pop("n")
        n_clusters = res.pop("n_clusters")
        row = dict(
            outcome=name,
            analysis="change_score_cr1",
            contrast=f"{imm} - {dly}",
            wave=e,
            conf_level=conf_level,
            n_treated=int((ok & is_imm).sum()),
            n_control=int((ok & ~is_imm).sum()),
            **res,
        )
        fit = _trial_effects(
            [dict(row, estimand=f"randomized: {imm} vs {dly} at {e}")],
            [
                dict(
                    step="change_score_cr1",
                    reason="clusters",
                    n_rows=int(ok.sum()),
                    detail=f"{n_clusters} clusters of {cluster!r}; df = {n_clusters - 1}",
                )
            ],
            conf_level=conf_level,
            title=f"Change score, CR1 clustered by {cluster} ({name})",
        )
        return fit, [row]

    def _cluster_labels(
        self,
        cluster: Any,
        covs: tuple[str, ...],
        partially_nested: bool,
        audit: list[dict[str, Any]],
    ) -> pd.Series:
        """Cluster id per participant (participants order); singletons where documented."""
        if not isinstance(cluster, str):
            raise TypeError(f"`cluster` must be a column name (str) or None; got {cluster!r}.")
        if cluster in covs:
            raise ValueError(f"`cluster` {cluster!r} is also listed in `covariates`.")
        s, a = self._subject, self._arm
        ids = self._covariate_frame((cluster,))[cluster].astype("string")
        no_id = ids.isna().to_numpy()
        subj = self._participants[s].astype("string").to_numpy(dtype=object)
        is_dly = (self._participants[a] == self._delayed).to_numpy()
        nested_out = is_dly if partially_nested else np.zeros(len(subj), dtype=bool)
        own = no_id | nested_out
        labels = np.array(
            [f"(own cluster) {i}" if o else str(c) for i, c, o in zip(subj, ids, own, strict=True)],
            dtype=object,
        )
        if partially_nested:
            audit.append(
                dict(
                    step="cluster",
                    reason=f"partially nested: {self._delayed} arm participants are their own "
                    "cluster",
                    n_rows=int(is_dly.sum()),
                    detail=f"{self._delayed} arm not coached before {self._endpoint}; "
                    f"{cluster!r} not used in that arm",
                )
            )
        lone = no_id & ~nested_out
        if lone.any():
            audit.append(
                dict(
                    step="cluster",
                    reason=f"no {cluster!r}: analysed as its own cluster",
                    n_rows=int(lone.sum()),
                    detail=f"ids {format_values(subj[lone])}",
                )
            )
        n_given = len(set(labels[~own]))
        audit.append(
            dict(
                step="cluster",
                reason=f"CR1 standard errors clustered by {cluster!r}",
                n_rows=len(subj),
                detail=f"{n_given} clusters from {cluster!r} + {int(own.sum())} single-participant "
                "clusters before exclusions; df = analysed clusters - 1",
            )
        )
        return pd.Series(labels, index=self._participants.index, dtype=object)

    def _fit_mmrm(
        self,
        name: str,
        wide: pd.DataFrame,
        cov_frame: pd.DataFrame,
        covs: tuple[str, ...],
        post: list[str],
        conf_level: float,
    ) -> tuple[Any, list[dict[str, Any]]]:
        from coaching_trials.analysis.mmrm import mmrm

        s, a, w, b = self._subject, self._arm, self._wave, self._baseline
        base_col = f"{name}{SEP}{b}"
        long = self._responses.loc[self._responses[w].isin(post), [s, w, name]].copy()
        long[w] = pd.Categorical(long[w].astype("string"), categories=post, ordered=True)
        long = long.merge(wide[[s, a, base_col]], on=s, how="left").merge(cov_frame, on=s)
        long = long.sort_values([s, w]).reset_index(drop=True)
        fit = mmrm(
            long,
            outcome=name,
            arm=a,
            visit=w,
            subject=s,
            treated=self._immediate,
            baseline=base_col,
            covariates=covs,
            conf_level=conf_level,
        )
        frame = fit.to_frame()
        rows = [_effect_row(r, wave=str(r["wave"]), analysis="mmrm") for _, r in frame.iterrows()]
        return fit, rows

    def _adjust(self, effects: pd.DataFrame, adjust: str, primary: str | None) -> pd.DataFrame:
        from coaching_trials.analysis.multiplicity import adjust_effects

        at_end = (effects["wave"] == self._endpoint).to_numpy()
        adjusted = adjust_effects(
            effects.loc[at_end].reset_index(drop=True), method=adjust, primary=primary
        )
        out = effects.copy()
        out.loc[at_end, "p_adjusted"] = adjusted["p_adjusted"].to_numpy(dtype=float)
        return out

    # -- non-randomized analyses -----------------------------------------------------------------
    def _first_followup(self, followup: str | None, method: str) -> str:
        if not self._followups:
            raise ValueError(
                f"{method} needs a post-crossover wave, but the design declares no follow-up wave "
                f"after the endpoint {self._endpoint!r} (followup_waves=()); pass "
                "followup_waves=(...) when creating the trial."
            )
        if followup is None:
            return self._followups[0]
        if followup not in self._followups:
            raise ValueError(
                f"`followup` must be one of the follow-up waves {list(self._followups)}; "
                f"got {followup!r}."
            )
        return followup

    def _paired_rows(
        self,
        wide: pd.DataFrame,
        *,
        name: str,
        arm_label: str | None,
        post: str | np.ndarray,
        pre: str | np.ndarray,
        contrast: str,
        wave: str | None,
        estimand: str,
        conf_level: float,
        audit: list[dict[str, Any]],
        step: str,
    ) -> dict[str, Any]:
        m = (
            np.ones(len(wide), dtype=bool)
            if arm_label is None
            else (wide[self._arm] == arm_label).to_numpy()
        )
        x_post = wide[post].to_numpy(dtype=float) if isinstance(post, str) else post
        x_pre = wide[pre].to_numpy(dtype=float) if isinstance(pre, str) else pre
        d = (x_post - x_pre)[m]
        ok = np.isfinite(d)
        if (~ok).any():
            audit.append(
                dict(
                    step=step,
                    reason="missing a wave of the contrast",
                    n_rows=int((~ok).sum()),
                    detail=f"{name}: {contrast}",
                )
            )
        res = paired_t(d[ok], conf_level=conf_level)
        n = res.pop("n")
        return dict(
            outcome=name,
            analysis="paired_t",
            contrast=contrast,
            wave=wave,
            conf_level=conf_level,
            n_treated=n,
            estimand=estimand,
            **res,
        )

    def delayed_arm_prepost(
        self,
        outcomes: str | Sequence[str],
        *,
        followup: str | None = None,
        conf_level: float = 0.95,
    ) -> TrialEffects:
        """The delayed arm's change after coaching, and against its own waiting period.

        For each outcome two rows (paired t on the delayed participants observed at the needed
        waves; ``n_treated`` = number of pairs):

        1. ``followup - endpoint``: change across the delayed arm's coaching;
        2. ``(followup - endpoint) - (endpoint - baseline)``: the within-person contrast of the
           change after coaching minus the change while waiting.

        Both are non-randomized (``estimand`` starts with ``"non-randomized:"``).

        Parameters
        ----------
        outcomes : str or sequence of str
        followup : str, optional
            The post-crossover wave (default: the first follow-up wave).
        conf_level : float

        Notes
        -----
        Validated against R ``t.test(post, pre, paired = TRUE)`` on the sample trial
        (``tests/reference/design/``).
        """
        names = self._outcomes(outcomes)
        fu = self._first_followup(followup, "delayed_arm_prepost")
        conf_level = _check_conf_level(conf_level)
        b, e, dly = self._baseline, self._endpoint, self._delayed
        wide = self.wide(names, waves=[b, e, fu])
        rows, audit = [], []
        for name in names:
            cb, ce, cf = (f"{name}{SEP}{w}" for w in (b, e, fu))
            rows.append(
                self._paired_rows(
                    wide,
                    name=name,
                    arm_label=dly,
                    post=cf,
                    pre=ce,
                    contrast=f"{fu} - {e}",
                    wave=fu,
                    estimand=f"non-randomized: {dly} arm pre/post coaching ({e} -> {fu})",
                    conf_level=conf_level,
                    audit=audit,
                    step="delayed_arm_prepost",
                )
            )
            after = wide[cf].to_numpy(dtype=float) - wide[ce].to_numpy(dtype=float)
            waiting = wide[ce].to_numpy(dtype=float) - wide[cb].to_numpy(dtype=float)
            rows.append(
                self._paired_rows(
                    wide,
                    name=name,
                    arm_label=dly,
                    post=after,
                    pre=waiting,
                    contrast=f"({fu} - {e}) - ({e} - {b})",
                    wave=fu,
                    estimand=(
                        f"non-randomized: {dly} arm change after coaching ({e} -> {fu}) minus "
                        f"change while waiting ({b} -> {e})"
                    ),
                    conf_level=conf_level,
                    audit=audit,
                    step="delayed_arm_prepost",
                )
            )
        return _trial_effects(
            rows,
            audit,
            conf_level=conf_level,
            title="Delayed arm before/after coaching (non-randomized)",
        )

    def pooled_prepost(
        self,
        outcomes: str | Sequence[str],
        *,
        followup: str | None = None,
        conf_level: float = 0.95,
    ) -> TrialEffects:
        """Both arms' change across their own coaching period, aligned to coaching start.

        Immediate arm: baseline -> endpoint; delayed arm: endpoint -> ``followup``. The
        changes are pooled and tested with a one-sample (paired) t; ``n_treated`` counts the
        pooled pairs. Non-randomized (no concurrent control).
        """
        names = self._outcomes(outcomes)
        fu = self._first_followup(followup, "pooled_prepost")
        conf_level = _check_conf_level(conf_level)
        b, e, imm, dly = self._baseline, self._endpoint, self._immediate, self._delayed
        wide = self.wide(names, waves=[b, e, fu])
        is_imm = (wide[self._arm] == imm).to_numpy()
        rows, audit = [], []
        for name in names:
            cb, ce, cf = (wide[f"{name}{SEP}{w}"].to_numpy(dtype=float) for w in (b, e, fu))
            pre = np.where(is_imm, cb, ce)
            post = np.where(is_imm, ce, cf)
            rows.append(
                self._paired_rows(
                    wide,
                    name=name,
                    arm_label=None,
                    post=post,
                    pre=pre,
                    contrast="post - pre coaching",
                    wave=None,
                    estimand=(
                        f"non-randomized: pooled pre/post aligned to coaching start ({imm}: {b} -> "
                        f"{e}; {dly}: {e} -> {fu})"
                    ),
                    conf_level=conf_level,
                    audit=audit,
                    step="pooled_prepost",
                )
            )
        return _trial_effects(
            rows,
            audit,
            conf_level=conf_level,
            title="Pooled pre/post coaching, both arms (non-randomized)",
        )

    def durability(
        self, outcomes: str | Sequence[str], *, conf_level: float = 0.95
    ) -> TrialEffects:
        """The immediate arm from the end of coaching (endpoint) to each follow-up wave.

        One row per outcome x follow-up wave (paired t, ``followup - endpoint``). A mean change
        near zero means the gain was kept. Non-randomized.
        """
        names = self._outcomes(outcomes)
        self._first_followup(None, "durability")
        conf_level = _check_conf_level(conf_level)
        e, imm = self._endpoint, self._immediate
        wide = self.wide(names, waves=[e, *self._followups])
        rows, audit = [], []
        for name in names:
            for fu in self._followups:
                rows.append(
                    self._paired_rows(
                        wide,
                        name=name,
                        arm_label=imm,
                        post=f"{name}{SEP}{fu}",
                        pre=f"{name}{SEP}{e}",
                        contrast=f"{fu} - {e}",
                        wave=fu,
                        estimand=(
                            f"non-randomized: {imm} arm durability after coaching ({e} -> {fu})"
                        ),
                        conf_level=conf_level,
                        audit=audit,
                        step="durability",
                    )
                )
        return _trial_effects(
            rows,
            audit,
            conf_level=conf_level,
            title="Durability in the immediate arm (non-randomized)",
        )

    def responders(
        self,
        outcome: str,
        *,
        cutpoint: float,
        direction: str = ">=",
        adjust_baseline: bool = False,
        event_is: str | None = None,
        conf_level: float = 0.95,
    ) -> TrialResponders:
        """Proportion meeting a cut-point at the endpoint, by arm (randomized).

        Delegates to :func:`coaching_trials.analysis.responders.responders` on one row per
        participant (endpoint score, baseline score); see there for the risk difference
        (Newcombe), ratios and NNT. Participants without the baseline score are left out of
        every measure so that the unadjusted and adjusted analyses use the same rows (counted
        in ``audit``).

        Parameters
        ----------
        outcome : str
            A scored outcome column.
        cutpoint : float
            Threshold on the endpoint score; an event is ``outcome <direction> cutpoint``.
        direction : {">=", ">", "<=", "<"}
        adjust_baseline : bool
            Also report the baseline-adjusted odds ratio (logistic regression).
        event_is : {"good", "bad"}, optional
            Whether an event is desirable (decides NNTB versus NNTH). Default: inferred from the
            instrument when ``outcome`` is a registered score (``higher_is`` of the subscale and
            ``direction``), else ``"good"``.
        conf_level : float

        Returns
        -------
        TrialResponders
            The analysis layer's responders result with ``outcome`` set to the score name,
            ``wave`` (the endpoint) in every row and the endpoint in ``event``/``estimand``.

        Examples
        --------
        >>> import coaching_trials as ct
        >>> ex = ct.load_example("delayed_intervention")
        >>> trial = ct.DelayedInterventionTrial(
        ...     ct.score(ex.responses, "pfi"), participants=ex.participants, **ex.design)
        >>> res = trial.responders("pfi_burnout", cutpoint=1.33)
        >>> res.event, res.event_is, res.nnt_label
        ('pfi_burnout >= 1.33 at month3', 'bad', 'NNTB')
        >>> res.to_frame()[["outcome", "analysis", "wave"]].iloc[0].tolist()
        ['pfi_burnout', 'risk_difference', 'month3']
        """
        from coaching_trials.analysis.responders import responders

        name = self._outcomes(outcome, "outcome")[0]
        if event_is is None:
            info = subscale_info(name)
            event_is = "good"
            if info is not None and direction in (">=", ">", "<=", "<"):
                high_event = direction in (">=", ">")
                event_is = "good" if (info[1] == "better") == high_event else "bad"
        b, e = self._baseline, self._endpoint
        wide = self.wide(name, waves=[b, e])
        data = pd.DataFrame(
            {
                self._arm: wide[self._arm].to_numpy(),
                name: wide[f"{name}{SEP}{e}"].to_numpy(),
                f"{name} at {b}": wide[f"{name}{SEP}{b}"].to_numpy(),
            },
            index=pd.Index(wide[self._subject].to_numpy(), name=self._subject),
        )  # indexed by participant so the audit names participants, not row numbers
        res = responders(
            data,
            outcome=name,
            arm=self._arm,
            treated=self._immediate,
            cutpoint=cutpoint,
            direction=direction,
            baseline=f"{name} at {b}",
            adjust_baseline=adjust_baseline,
            event_is=event_is,
            conf_level=conf_level,
        )
        values = {f.name: getattr(res, f.name) for f in fields(res)}
        values["event"] = f"{res.event} at {e}"
        return TrialResponders(**values, wave=e)

    def dose_response(
        self,
        outcome: str | Sequence[str],
        *,
        sessions: str | None = None,
        period: str = "pooled",
        adjust_baseline: bool = False,
        conf_level: float = 0.95,
    ) -> TrialEffects:
        """Change across coaching regressed on the number of sessions attended (observational).

        Parameters
        ----------
        outcome : str or sequence of str
        sessions : str, optional
            Column of ``participants`` with sessions attended (default: the trial's sessions
            column, ``"sessions_attended"``).
        period : {"pooled", "immediate", "delayed"}
            Whose coaching period: the immediate arm (baseline -> endpoint), the delayed arm
            (endpoint -> first follow-up) or both aligned to coaching start (default; the
            immediate arm alone when there is no follow-up wave).
        adjust_baseline : bool
            Add the pre-coaching score as a covariate.
        conf_level : float

        Returns
        -------
        TrialEffects
            One row per outcome: the OLS slope (change per session), t-based CI, residual df;
            ``estimand`` starts with ``"non-randomized (observational):"`` because attendance
            is not randomized.

        Notes
        -----
        Validated against R ``lm`` + ``confint`` on the sample trial to 1e-6 for every
        ``period`` and with ``adjust_baseline=True`` (``tests/reference/design/``).
        """
        names = self._outcomes(outcome, "outcome")
        if period not in ("pooled", "immediate", "delayed"):
            raise one_of("period", period, ("pooled", "immediate", "delayed"))
        conf_level = _check_conf_level(conf_level)
        col = sessions if sessions is not None else self._sessions
        if col is None or col not in self._participants.columns:
            raise ValueError(
                f"dose_response needs the number of sessions attended per participant: column "
                f"{(col or 'sessions_attended')!r} is not in `participants` (columns: "
                f"{format_values(self._participants.columns, 12)})."
            )
        x_all = pd.to_numeric(self._participants[col], errors="coerce").to_numpy(dtype=float)
        b, e, imm, dly = self._baseline, self._endpoint, self._immediate, self._delayed
        if period != "immediate" and not self._followups:
            if period == "delayed":
                self._first_followup(None, "dose_response(period='delayed')")
            period_used = "immediate"
        else:
            period_used = period
        fu = self._followups[0] if self._followups else None
        wide = self.wide(names, waves=[w for w in (b, e, fu) if w is not None])
        is_imm = (wide[self._arm] == imm).to_numpy()
        include = {"pooled": np.ones(len(wide), bool), "immediate": is_imm, "delayed": ~is_imm}[
            period_used
        ]
        rows, audit = [], []
        for name in names:
            cb = wide[f"{name}{SEP}{b}"].to_numpy(dtype=float)
            ce = wide[f"{name}{SEP}{e}"].to_numpy(dtype=float)
            cf = (
                wide[f"{name}{SEP}{fu}"].to_numpy(dtype=float) if fu else np.full(len(wide), np.nan)
            )
            pre = np.where(is_imm, cb, ce)
            post = np.where(is_imm, ce, cf)
            y = post - pre
            ok = include & np.isfinite(y) & np.isfinite(x_all)
            if adjust_baseline:
                ok &= np.isfinite(pre)
            n_out = int((include & ~ok).sum())
            if n_out:
                audit.append(
                    dict(
                        step="dose_response",
                        reason="missing change or sessions attended",
                        n_rows=n_out,
                        detail=f"{name}: {period_used} coaching period",
                    )
                )
            res = ols_slope(
                y[ok],
                x_all[ok],
                pre[ok][:, None] if adjust_baseline else None,
                conf_level=conf_level,
            )
            n = res.pop("n")
            span = {
                "pooled": f"{imm}: {b} -> {e}; {dly}: {e} -> {fu}",
                "immediate": f"{imm}: {b} -> {e}",
                "delayed": f"{dly}: {e} -> {fu}",
            }[period_used]
            rows.append(
                dict(
                    outcome=name,
                    analysis="ols",
                    contrast=f"per {col}"
                    + (" (adjusted for pre-coaching score)" if adjust_baseline else ""),
                    wave=None,
                    conf_level=conf_level,
                    n_treated=n,
                    estimand=(
                        f"non-randomized (observational): change across coaching ({span}) per "
                        "session attended"
                    ),
                    **res,
                )
            )
        return _trial_effects(
            rows,
            audit,
            conf_level=conf_level,
            title="Dose-response: change per session attended (observational)",
        )


# ---------------------------------------------------------------------------------------------
# adapters to the analysis layer's result objects
# ---------------------------------------------------------------------------------------------
def _check_levels(
    levels: Mapping[str, Sequence[Any]] | None,
    frame: pd.DataFrame,
    variables: Sequence[str],
    *,
    subject: str,
) -> dict[str, tuple[Any, ...]]:
    """Validate ``baseline_table(levels=...)``; every problem is reported at once."""
    if levels is None:
        return {}
    if not isinstance(levels, Mapping):
        raise TypeError(
            f"`levels` must be a mapping of variable name to a sequence of levels, e.g. "
            f"{{'age_band': ['<40', '40-49']}}; got {type(levels).__name__}."
        )
    log = ProblemLog("baseline_table levels")
    out: dict[str, tuple[Any, ...]] = {}
    for var, order in levels.items():
        if var not in variables:
            log.add(
                "unknown_variable",
                f"`levels` names variable {var!r}, which is not a variable of the table "
                f"(variables: {format_values(variables, 12)}).",
                column=str(var),
                values=[var],
                expected="a variable of the baseline table",
            )
            continue
        if isinstance(order, (str, bytes)) or not isinstance(order, Sequence):
            log.add(
                "bad_levels",
                f"`levels[{var!r}]` must be a list of levels; got {order!r}.",
                column=var,
                values=[repr(order)],
                expected="a list of levels",
            )
            continue
        order = tuple(order)
        dupl = [lv for lv in dict.fromkeys(order) if order.count(lv) > 1]
        if dupl:
            log.add(
                "duplicate_level",
                f"`levels[{var!r}]` lists level(s) {format_values(dupl)} more than once.",
                column=var,
                values=dupl,
                expected="each level once",
            )
        observed = pd.Series(frame[var].dropna().unique(), dtype=object)
        unlisted = observed[~observed.isin(list(order))]
        if len(unlisted):
            vals = sorted(unlisted.tolist(), key=lambda v: (str(type(v)), v))
            who = frame.loc[frame[var].isin(vals).to_numpy(), subject]
            log.add(
                "unlisted_level",
                f"column {var!r} has value(s) {format_values(vals)} that are not in "
                f"`levels[{var!r}]` {list(order)} (participant(s) {format_values(who)}); "
                "list every level.",
                column=var,
                values=vals,
                expected=f"one of {list(order)}",
            )
        out[var] = order
    log.raise_if_any()
    return out


def _is_item_column(name: str) -> bool:
    head, _, tail = name.rpartition("_")
    return bool(head) and tail.isdigit()


def _effect_row(row: pd.Series, *, wave: str, analysis: str) -> dict[str, Any]:
    out = {c: row[c] for c in EFFECT_COLUMNS if c in row.index}
    out["wave"] = wave
    out["analysis"] = out.get("analysis") or analysis
    if not isinstance(out["analysis"], str):
        out["analysis"] = analysis
    return out


def _percent_change_table(result: Any, *, arms: tuple[str, str]) -> dict[str, dict[str, float]]:
    """Per-arm percent change fields from a ``percent_change`` result (its ``per_arm`` table):
    the paired n, the baseline and endpoint means of those paired participants (the means the
    percent change is computed from, so a printed row reconciles) and the percent change."""
    frame = result.per_arm
    out: dict[str, dict[str, float]] = {}
    for _, r in frame.iterrows():
        label = str(r["arm"])
        if label in arms:
            out[label] = dict(
                percent_change_n=int(r["n"]),
                paired_baseline_mean=float(r["mean_baseline"]),
                paired_endpoint_mean=float(r["mean_outcome"]),
                percent_change=float(r["percent_change"]),
                percent_change_conf_low=float(r["conf_low"]),
                percent_change_conf_high=float(r["conf_high"]),
            )
    return out
