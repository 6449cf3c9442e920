"""The randomized delayed-intervention (wait-list) trial.

One arm is coached between the baseline and the endpoint wave (``immediate``); the other waits
and is coached after the endpoint (``delayed``). The only randomized comparison is the two arms
at the end of the waiting period (:meth:`DelayedInterventionTrial.compare`). Everything that uses
waves after the crossover (:meth:`~DelayedInterventionTrial.delayed_arm_prepost`,
:meth:`~DelayedInterventionTrial.pooled_prepost`, :meth:`~DelayedInterventionTrial.durability`)
or the number of sessions attended (:meth:`~DelayedInterventionTrial.dose_response`) is
non-randomized and labelled so in the ``estimand`` column of every row (Cunningham et al.,
BMC Med Res Methodol 2013: regression to the mean, secular trend, wait-list bias).

:class:`DelayedInterventionTrial` is a facade: it holds the design and the data, and each
method hands the work to one module of this folder, each readable in one sitting:

=====================  ==============================================================
module                 what
=====================  ==============================================================
``_setup``             the constructor: design checks, participants, sessions, audit
``_validate``          every design problem at once (``DataValidationError``)
``_tables``            the CONSORT flow and the Table 1 summaries
``_baseline``          Table 1's variables and level orders
``_compare``           the randomized comparison (ANCOVA, change, MMRM, CR1 clusters)
``_nonrandomized``     delayed-arm and pooled pre/post, durability
``_dose``              responders at the endpoint, dose-response of sessions attended
``_prepost``           the closed-form paired t and OLS slopes behind them
``_results``           the result objects
=====================  ==============================================================
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from coaching_trials._errors import ProblemLog, format_values
from coaching_trials.design import _baseline, _compare, _dose, _nonrandomized
from coaching_trials.design._results import (
    SEP,
    BaselineTable,
    TrialComparison,
    TrialEffects,
    TrialResponders,
)
from coaching_trials.design._setup import build_trial
from coaching_trials.design._tables import flow_table
from coaching_trials.design._validate import as_name_tuple, raise_missing_outcomes

__all__ = [
    "DelayedInterventionTrial",
    "TrialEffects",
    "TrialComparison",
    "TrialResponders",
    "BaselineTable",
]


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
        state = build_trial(
            responses,
            participants,
            sessions,
            subject=subject,
            arm=arm,
            wave=wave,
            immediate=immediate,
            delayed=delayed,
            baseline_wave=baseline_wave,
            endpoint_wave=endpoint_wave,
            followup_waves=followup_waves,
        )
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_frozen", True)

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
        return _baseline.baseline_table(
            self,
            variables,
            continuous=continuous,
            smd=smd,
            categorical=categorical,
            levels=levels,
            digits=digits,
        )

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
        return _compare.compare(
            self,
            outcomes,
            method=method,
            adjust=adjust,
            primary=primary,
            covariates=covariates,
            cluster=cluster,
            partially_nested=partially_nested,
            conf_level=conf_level,
        )

    # -- non-randomized analyses -----------------------------------------------------------------
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
        return _nonrandomized.delayed_arm_prepost(
            self, outcomes, followup=followup, conf_level=conf_level
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
        return _nonrandomized.pooled_prepost(
            self, outcomes, followup=followup, conf_level=conf_level
        )

    def durability(
        self, outcomes: str | Sequence[str], *, conf_level: float = 0.95
    ) -> TrialEffects:
        """The immediate arm from the end of coaching (endpoint) to each follow-up wave.

        One row per outcome x follow-up wave (paired t, ``followup - endpoint``). A mean change
        near zero means the gain was kept. Non-randomized.
        """
        return _nonrandomized.durability(self, outcomes, conf_level=conf_level)

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
        return _dose.responders(
            self,
            outcome,
            cutpoint=cutpoint,
            direction=direction,
            adjust_baseline=adjust_baseline,
            event_is=event_is,
            conf_level=conf_level,
        )

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
        return _dose.dose_response(
            self,
            outcome,
            sessions=sessions,
            period=period,
            adjust_baseline=adjust_baseline,
            conf_level=conf_level,
        )
