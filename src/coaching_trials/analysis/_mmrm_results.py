"""Result objects of the MMRM: :class:`GlsFit`, :class:`MmrmResult`, :class:`MmrmConvergence`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import format_values, one_of
from coaching_trials._results import ResultMixin, format_table

from . import _mmrm_engine as _engine
from ._common import t_interval, t_test
from ._mmrm_options import _check_conf_level, _single_thread_blas


@dataclass(frozen=True)
class MmrmConvergence:
    """How the optimiser finished (carried as data by every fit).

    Attributes
    ----------
    converged : bool
        Whether the largest scaled gradient of -2 log-likelihood fell below ``gtol``.
        The gradient is taken in SAS's covariance parameters and multiplied by each
        parameter's scale (the mean variance for variance/covariance parameters, 1 for
        correlations), i.e. it is the change in -2 log-likelihood per relative change.
    iterations : int
        Quasi-Newton (L-BFGS-B) iterations plus Newton steps.
    gradient_norm : float
        That largest scaled gradient at the returned estimate.
    message : str
        Human-readable reason for stopping.
    optimizer : str
        The algorithm used.
    """

    converged: bool
    iterations: int
    gradient_norm: float
    message: str
    optimizer: str = "L-BFGS-B, then Newton with the analytic observed Hessian"

    def to_frame(self) -> pd.DataFrame:
        """One-row table of the convergence report."""
        return pd.DataFrame([self.__dict__])


def _readonly(arr: np.ndarray) -> np.ndarray:
    out = np.array(arr, dtype=float, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, repr=False)
class GlsFit(ResultMixin):
    """A fitted GLS model with visit-indexed residual covariance (returned by :func:`fit_gls`).

    Attributes
    ----------
    coef_names : tuple of str
        Names of the fixed-effect columns.
    beta : numpy.ndarray
        Fixed-effect estimates.
    vcov : numpy.ndarray
        Model-based covariance of ``beta``, ``(X' V^-1 X)^-1``.
    vcov_adjusted : numpy.ndarray
        Kenward-Roger adjusted covariance when ``df_method`` is a Kenward-Roger method,
        otherwise equal to ``vcov``.
    visits : tuple
        Visit labels in covariance order.
    sigma : numpy.ndarray
        Estimated ``T x T`` residual covariance matrix.
    neg2_log_likelihood : float
        -2 log-likelihood (restricted for REML) including SAS's constants.
    inference_ok : bool
        Whether every convergence and boundary check passed (see :func:`fit_gls`, Notes); when
        False the df, t statistics, p-values and confidence limits of ``contrast`` and
        ``f_test`` are NaN.
    note : str
        Why inference was withheld (empty when ``inference_ok``).
    kr_information : {"observed", "expected"}
        Information matrix behind ``eta_vcov`` (the covariance of the covariance parameters
        used for the df and the Kenward-Roger adjustment); always "observed" unless
        ``df_method`` is a Kenward-Roger method.

    Methods
    -------
    contrast(L)
        One t test per row of ``L``.
    f_test(L)
        Joint (multi-df) F test of all rows of ``L``.
    """

    coef_names: tuple[str, ...]
    beta: np.ndarray
    vcov: np.ndarray
    vcov_adjusted: np.ndarray
    visits: tuple[Any, ...]
    sigma: np.ndarray
    covariance_structure: str
    reml: bool
    df_method: str
    conf_level: float
    neg2_log_likelihood: float
    aic: float
    aicc: float
    bic: float
    n_obs: int
    n_subjects: int
    n_cov_params: int
    convergence: MmrmConvergence
    eta: np.ndarray = field(repr=False)
    eta_vcov: np.ndarray = field(repr=False)
    _param_table: pd.DataFrame = field(repr=False)
    _p: np.ndarray = field(repr=False)
    inference_ok: bool = True
    note: str = ""
    kr_information: str = "observed"
    _title = "GLS fit with visit-indexed residual covariance"

    @property
    def log_likelihood(self) -> float:
        """Log-likelihood (restricted for REML), ``-neg2_log_likelihood / 2``."""
        return -0.5 * self.neg2_log_likelihood

    @property
    def covariance(self) -> pd.DataFrame:
        """Estimated residual covariance matrix, rows and columns labelled by visit."""
        labels = pd.Index(list(self.visits), name="visit")
        return pd.DataFrame(np.array(self.sigma), index=labels, columns=labels)

    @property
    def correlation(self) -> pd.DataFrame:
        """Residual correlation matrix implied by :attr:`covariance`."""
        sd = np.sqrt(np.diag(self.sigma))
        labels = pd.Index(list(self.visits), name="visit")
        return pd.DataFrame(np.array(self.sigma) / np.outer(sd, sd), index=labels, columns=labels)

    @property
    def covariance_parameters(self) -> pd.DataFrame:
        """Covariance parameters in SAS's parameterisation with asymptotic standard errors."""
        return self._param_table.copy()

    @property
    def coefficients(self) -> pd.DataFrame:
        """Fixed effects with standard errors, degrees of freedom, t tests and CIs."""
        return self.contrast(np.eye(len(self.beta)), names=list(self.coef_names)).rename(
            columns={"contrast": "term"}
        )

    def contrast(
        self,
        contrasts: np.ndarray | Sequence[float] | Sequence[Sequence[float]],
        *,
        names: Sequence[str] | None = None,
        conf_level: float | None = None,
    ) -> pd.DataFrame:
        """Estimate linear combinations ``L beta`` (one row of ``L`` per contrast).

        Standard errors use :attr:`vcov_adjusted` and the degrees of freedom follow the fit's
        ``df_method`` (computed separately for every row).
        """
        lmat = np.atleast_2d(np.asarray(contrasts, dtype=float))
        if lmat.shape[1] != len(self.beta):
            raise ValueError(
                f"`contrasts` must have {len(self.beta)} columns (one per coefficient); "
                f"got {lmat.shape[1]}."
            )
        level = self.conf_level if conf_level is None else _check_conf_level(conf_level)
        est = lmat @ self.beta
        se = np.sqrt(np.einsum("cp,pq,cq->c", lmat, self.vcov_adjusted, lmat))
        df = self._df(lmat)
        if not self.inference_ok:
            df = np.full(len(est), np.nan)
        stat, p_value = t_test(est, se, df)
        if not self.inference_ok:
            stat = np.full(len(est), np.nan)
        low, high = t_interval(est, se, df, level)
        labels = list(names) if names is not None else [f"c{i + 1}" for i in range(len(est))]
        return pd.DataFrame(
            {
                "contrast": labels,
                "estimate": est,
                "std_error": se,
                "df": df,
                "statistic": stat,
                "p_value": p_value,
                "conf_low": low,
                "conf_high": high,
            }
        )

    def f_test(
        self,
        contrasts: np.ndarray | Sequence[float] | Sequence[Sequence[float]],
        *,
        name: str = "contrast",
    ) -> pd.DataFrame:
        """Joint Wald F test of ``L beta = 0`` for a contrast matrix ``L`` (one row per
        linear combination; several rows give a multi-df test).

        Parameters
        ----------
        contrasts : array-like, shape (q, p) or (p,)
            Contrast matrix; ``p`` = number of coefficients (see ``coef_names``). Redundant
            rows are allowed: the test uses ``rank(L C L')`` numerator df, as SAS does.
        name : str
            Label written into the ``effect`` column.

        Returns
        -------
        pandas.DataFrame
            One row: ``effect, num_df, den_df, f_value, p_value, method``.

        Notes
        -----
        ``F = (L b)' (L C L')^-1 (L b) / q``. Denominator df follow the fit's ``df_method``:

        * ``satterthwaite``: Fai & Cornelius (1996) as in SAS PROC MIXED. With the spectral
          decomposition ``L C L' = U D U'``, each row ``b_m`` of ``U' L`` gets the one-df
          Satterthwaite ``nu_m = 2 D_m^2 / (g_m' W g_m)``, ``g_m`` the gradient of
          ``b_m C b_m'`` in the covariance parameters; with ``E = sum_{nu_m > 2} nu_m /
          (nu_m - 2)`` the df are ``2 E / (E - q)`` when ``E > q`` and 0 otherwise (the p-value
          is then NaN). For ``q = 1`` this is the single-contrast Satterthwaite df, so
          ``F = t^2`` with the same df.
        * ``kenward_roger`` / ``kenward_roger_linear``: Kenward & Roger (1997): the Wald
          statistic uses the adjusted covariance ``vcov_adjusted`` and is scaled by ``lambda``;
          den df ``m``.
        * ``residual``: ``n_obs - p``.

        Validated against SAS PROC MIXED Type 3 tests on ``fev_data``
        (``tests/analysis/test_mmrm_anova.py``).

        Examples
        --------
        >>> import numpy as np
        >>> from coaching_trials.analysis.mmrm import fit_gls
        >>> rng = np.random.default_rng(3)
        >>> subject = np.repeat(np.arange(40), 3)
        >>> visit = np.tile([1, 2, 3], 40)
        >>> arm = np.repeat(rng.integers(0, 2, 40), 3)
        >>> y = 10 + 2 * arm + 0.5 * visit + rng.normal(size=40).repeat(3) + rng.normal(size=120)
        >>> X = np.column_stack([np.ones(120), arm, visit == 2, visit == 3])
        >>> fit = fit_gls(y, X, subject, visit)
        >>> tab = fit.f_test([[0, 0, 1, 0], [0, 0, 0, 1]], name="visit")
        >>> tab.columns.tolist()
        ['effect', 'num_df', 'den_df', 'f_value', 'p_value', 'method']
        >>> int(tab["num_df"].iloc[0])
        2
        """
        lmat = self._check_contrast_matrix(contrasts)
        return _f_table([(str(name), lmat)], self)

    def _check_contrast_matrix(
        self, contrasts: np.ndarray | Sequence[float] | Sequence[Sequence[float]]
    ) -> np.ndarray:
        try:
            lmat = np.asarray(contrasts, dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"`contrasts` must be a numeric matrix with {len(self.beta)} columns."
            ) from exc
        if lmat.ndim == 1:
            lmat = lmat[None, :]
        if lmat.ndim != 2 or lmat.shape[1] != len(self.beta) or lmat.shape[0] == 0:
            raise ValueError(
                f"`contrasts` must be a matrix with {len(self.beta)} columns (one per "
                f"coefficient: {format_values(list(self.coef_names), 12)}) and at least one "
                f"row; got shape {lmat.shape}."
            )
        if not np.all(np.isfinite(lmat)):
            raise ValueError("`contrasts` must be finite.")
        if not np.any(lmat):
            raise ValueError("`contrasts` must have at least one non-zero entry.")
        return lmat

    def _df(self, lmat: np.ndarray) -> np.ndarray:
        w = np.array(self.eta_vcov)
        if self.df_method == "residual":
            return np.full(lmat.shape[0], float(self.n_obs - len(self.beta)))
        if self.df_method == "satterthwaite":
            return _engine.satterthwaite_df(np.array(self.vcov), w, self._p, lmat)
        return np.array([_engine.kr_df(np.array(self.vcov), w, self._p, row)[0] for row in lmat])

    def to_frame(self) -> pd.DataFrame:
        return self.coefficients

    def summary(self, digits: int = 3) -> str:
        head = (
            f"{self._title}: {self.covariance_structure}, {'REML' if self.reml else 'ML'}, "
            f"df {self.df_method}; -2LL {self.neg2_log_likelihood:.4f}, n_obs {self.n_obs}"
        )
        return f"{head}\n{format_table(self.to_frame(), digits)}"


@dataclass(frozen=True, repr=False)
class MmrmResult(ResultMixin):
    """Result of :func:`mmrm`.

    The headline attributes (``estimate``, ``std_error``, ``df``, ``statistic``, ``p_value``,
    ``conf_low``, ``conf_high``) are the treated-minus-control difference at the LAST visit.
    ``to_frame()`` gives the difference at every visit in the package's effects schema.

    Attributes
    ----------
    lsmeans : pandas.DataFrame
        Adjusted (least-squares) means per arm x visit.
    coefficients : pandas.DataFrame
        Fixed effects with SE, df, t test and CI.
    covariance, correlation : pandas.DataFrame
        Estimated residual covariance / correlation, labelled by visit.
    covariance_parameters : pandas.DataFrame
        Covariance parameters in SAS's parameterisation.
    convergence : MmrmConvergence
        Optimiser report.
    audit : pandas.DataFrame
        Rows excluded from the fit, with reasons.
    fit : GlsFit
        The underlying GLS fit.
    converged : bool
        Whether the fit passed every convergence and boundary check: gradient below the
        tolerance, positive-definite observed information, no variance (or conditional variance
        of a visit given the others) at zero. When False the df, statistics, p-values and
        confidence limits in ``to_frame()``, ``lsmeans``, ``coefficients`` and the F tests are
        NaN (estimates and standard errors are kept), a ``ConvergenceWarning`` says what to do
        and ``audit`` records it.
    note : str
        Why inference was withheld (empty when ``converged``).

    Methods
    -------
    anova(type=3)
        SAS Type 3 F tests of every effect (multi-df, Satterthwaite or Kenward-Roger den df).
    slice_tests()
        F test of the arm effect within each visit (SAS effect slices).
    test(L)
        Joint F test of a user contrast matrix.
    """

    outcome: str
    treated: Any
    control: Any
    visits: tuple[Any, ...]
    covariance_structure: str
    df_method: str
    conf_level: float
    reml: bool
    estimate: float
    std_error: float
    df: float
    statistic: float
    p_value: float
    conf_low: float
    conf_high: float
    neg2_log_likelihood: float
    aic: float
    aicc: float
    bic: float
    n_obs: int
    n_subjects: int
    fit: GlsFit = field(repr=False)
    _effects: pd.DataFrame = field(repr=False)
    _lsmeans: pd.DataFrame = field(repr=False)
    _audit: pd.DataFrame = field(repr=False)
    _type3: tuple[tuple[str, np.ndarray], ...] = field(default=(), repr=False)
    _slices: tuple[tuple[Any, np.ndarray], ...] = field(default=(), repr=False)
    _slice_effect: str = field(default="", repr=False)
    converged: bool = True
    note: str = ""
    _title = "MMRM: treatment difference by visit"

    def summary(self, digits: int = 3) -> str:
        text = super().summary(digits)
        return text if self.converged else f"{text}\nNote: {self.note}"

    def anova(self, *, type: int | str = 3) -> pd.DataFrame:  # noqa: A002 - SAS/R vocabulary
        """Type 3 F tests of every model effect (SAS PROC MIXED "Type 3 Tests of Fixed Effects").

        Parameters
        ----------
        type : {3, "3", "III"}
            Hypothesis type; only SAS's Type 3 is available.

        Returns
        -------
        pandas.DataFrame
            One row per effect in model order (arm, visit, arm:visit, then baseline,
            baseline:visit and covariates when present; the intercept is not tested), columns
            ``effect, num_df, den_df, f_value, p_value, method``. Effects are named after the
            columns, interactions joined by ``:`` (SAS prints ``AVISIT*ARMCD``).

        Notes
        -----
        Each hypothesis is SAS's Type 3 estimable function for the effect: coefficients on
        effects that neither are nor contain it are zero, and it is orthogonal to the
        hypotheses of the effects that contain it (SAS/STAT User's Guide, "The Four Types of
        Estimable Functions"; containment: same continuous variables and a superset of the
        class variables). For a model whose every class-level combination is observed (the
        design is of full rank, which :func:`mmrm` enforces) this is the same as testing the
        effect's coefficients with every class variable in sum-to-zero (effect) coding and
        numeric variables uncentred, which is how the matrices are built here (by mapping the
        sum-coded design onto the fitted one). Consequences: the arm effect is the arm
        difference averaged with equal weights over visits (and over covariate levels); the
        visit effect is averaged over arms and, with ``baseline``, taken at ``baseline = 0``
        because a class effect is not contained in its interaction with a numeric variable
        (as in SAS); ``baseline`` is the slope averaged over visits. The F statistic and its
        denominator df follow the fit's ``df_method``, see :meth:`GlsFit.f_test`. Validated
        against SAS PROC MIXED on ``fev_data`` (``tests/analysis/test_mmrm_anova.py``).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import coaching_trials as ct
        >>> rng = np.random.default_rng(11)
        >>> n = 80
        >>> ids = np.repeat([f"P{i:03d}" for i in range(n)], 2)
        >>> arm = np.repeat(np.where(np.arange(n) % 2 == 0, "immediate", "delayed"), 2)
        >>> wave = np.tile(["month3", "month6"], n)
        >>> y = 2.0 - 0.4 * (arm == "immediate") + rng.normal(0, 0.5, 2 * n)
        >>> df = pd.DataFrame({"participant_id": ids, "arm": arm, "wave": wave, "pfi_burnout": y})
        >>> res = ct.mmrm(df, outcome="pfi_burnout", arm="arm", wave="wave",
        ...               subject="participant_id", treated="immediate")
        >>> tab = res.anova()
        >>> tab[["effect", "num_df"]].values.tolist()
        [['arm', 1], ['wave', 1], ['arm:wave', 1]]
        >>> bool(tab["p_value"].iloc[0] < 0.05)
        True
        """
        if isinstance(type, bool) or type not in (3, "3", "III", "iii"):
            raise one_of("type", type, (3, "III"))
        if not self._type3:
            raise ValueError("This result carries no model terms; use `test(L)` instead.")
        return _f_table(self._type3, self.fit)

    def test(
        self,
        contrasts: np.ndarray | Sequence[float] | Sequence[Sequence[float]],
        *,
        name: str = "contrast",
    ) -> pd.DataFrame:
        """Joint F test of ``L beta = 0`` for a user contrast matrix ``L``.

        Columns of ``L`` follow ``coefficients["term"]``; see :meth:`GlsFit.f_test` for the
        statistic, the denominator df and the returned table.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import coaching_trials as ct
        >>> rng = np.random.default_rng(5)
        >>> n = 60
        >>> ids = np.repeat([f"P{i:03d}" for i in range(n)], 3)
        >>> arm = np.repeat(np.where(np.arange(n) % 2 == 0, "immediate", "delayed"), 3)
        >>> wave = np.tile(["baseline", "month3", "month6"], n)
        >>> y = 2.0 - 0.3 * (arm == "immediate") * (wave != "baseline") + rng.normal(0, 0.5, 3 * n)
        >>> df = pd.DataFrame({"participant_id": ids, "arm": arm, "wave": wave, "pfi_burnout": y})
        >>> res = ct.mmrm(df, outcome="pfi_burnout", arm="arm", wave="wave",
        ...               subject="participant_id", treated="immediate")
        >>> terms = res.coefficients["term"].tolist()
        >>> L = np.zeros((2, len(terms)))
        >>> L[0, terms.index("arm[immediate]:wave[month3]")] = 1
        >>> L[1, terms.index("arm[immediate]:wave[month6]")] = 1
        >>> int(res.test(L, name="arm x wave")["num_df"].iloc[0])
        2
        """
        return self.fit.f_test(contrasts, name=name)

    def slice_tests(self) -> pd.DataFrame:
        """F test of the arm effect within each visit (SAS "Tests of Effect Slices" for
        ``arm*visit`` sliced by visit).

        Returns
        -------
        pandas.DataFrame
            One row per visit: ``effect, visit, num_df, den_df, f_value, p_value, method``.
            With two arms each slice has 1 numerator df and equals the square of the t test
            of the treated-minus-control LS-mean difference in :meth:`to_frame` (same df).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import coaching_trials as ct
        >>> rng = np.random.default_rng(2)
        >>> n = 50
        >>> ids = np.repeat([f"P{i:03d}" for i in range(n)], 2)
        >>> arm = np.repeat(np.where(np.arange(n) % 2 == 0, "immediate", "delayed"), 2)
        >>> wave = np.tile(["month3", "month6"], n)
        >>> y = 2.0 - 0.4 * (arm == "immediate") + rng.normal(0, 0.5, 2 * n)
        >>> df = pd.DataFrame({"participant_id": ids, "arm": arm, "wave": wave, "pfi_burnout": y})
        >>> res = ct.mmrm(df, outcome="pfi_burnout", arm="arm", wave="wave",
        ...               subject="participant_id", treated="immediate")
        >>> sl = res.slice_tests()
        >>> sl["visit"].tolist()
        ['month3', 'month6']
        >>> bool(np.allclose(sl["f_value"], res.to_frame()["statistic"] ** 2))
        True
        """
        if not self._slices:
            raise ValueError("This result carries no visit-wise contrasts to slice.")
        out = _f_table([(self._slice_effect, lmat) for _, lmat in self._slices], self.fit)
        out.insert(1, "visit", [v for v, _ in self._slices])
        return out

    def to_frame(self) -> pd.DataFrame:
        """Treated-minus-control difference at every visit (effects schema, one row per visit)."""
        return self._effects.copy()

    @property
    def log_likelihood(self) -> float:
        return -0.5 * self.neg2_log_likelihood

    @property
    def lsmeans(self) -> pd.DataFrame:
        return self._lsmeans.copy()

    @property
    def coefficients(self) -> pd.DataFrame:
        return self.fit.coefficients

    @property
    def covariance(self) -> pd.DataFrame:
        return self.fit.covariance

    @property
    def correlation(self) -> pd.DataFrame:
        return self.fit.correlation

    @property
    def covariance_parameters(self) -> pd.DataFrame:
        return self.fit.covariance_parameters

    @property
    def convergence(self) -> MmrmConvergence:
        return self.fit.convergence

    @property
    def kr_information(self) -> str:
        """Information matrix behind the Kenward-Roger df ("observed" or "expected")."""
        return self.fit.kr_information

    @property
    def audit(self) -> pd.DataFrame:
        return self._audit.copy()


# ----------------------------------------------------------------------------- F tests
_F_COLUMNS = ["effect", "num_df", "den_df", "f_value", "p_value", "method"]


def _f_table(tests: Sequence[tuple[str, np.ndarray]], fit: GlsFit) -> pd.DataFrame:
    """One row per ``(name, L)``: joint Wald F test with the fit's denominator-df method."""
    rows = []
    with _single_thread_blas():
        for name, lmat in tests:
            res = _engine.f_test(
                np.array(fit.beta),
                np.array(fit.vcov),
                np.array(fit.vcov_adjusted),
                np.array(fit.eta_vcov),
                np.array(fit._p),
                lmat,
                df_method=fit.df_method,
                residual_df=float(fit.n_obs - len(fit.beta)),
            )
            ok = fit.inference_ok
            rows.append(
                {
                    "effect": name,
                    "num_df": res.num_df,
                    "den_df": res.den_df if ok else np.nan,
                    "f_value": res.f_value if ok else np.nan,
                    "p_value": res.p_value if ok else np.nan,
                    "method": fit.df_method,
                }
            )
    out = pd.DataFrame(rows, columns=_F_COLUMNS)
    return out.astype({"num_df": "int64", "den_df": float, "f_value": float, "p_value": float})
