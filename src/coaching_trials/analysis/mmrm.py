"""Mixed model for repeated measures (MMRM): REML/ML generalised least squares with a
visit-indexed residual covariance and Satterthwaite or Kenward-Roger degrees of freedom.

The public entry point is :func:`mmrm` (tidy long data in, :class:`MmrmResult` out). The
lower-level :func:`fit_gls` takes an outcome vector and a design matrix, for mean models that
:func:`mmrm` does not build (e.g. an arm-only model with visit only in the covariance).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from coaching_trials._audit import audit_frame
from coaching_trials._errors import (
    ConvergenceWarning,
    EstimationError,
    ProblemLog,
    format_values,
    one_of,
)
from coaching_trials._results import ResultMixin, effects_frame, format_table

from . import _fit_checks
from . import _mmrm_engine as _engine
from ._mmrm_cov import COVARIANCE_ALIASES, CovarianceStructure, make_structure

__all__ = [
    "ConvergenceWarning",
    "GlsFit",
    "MmrmConvergence",
    "MmrmResult",
    "fit_gls",
    "mmrm",
]

DF_METHODS = ("satterthwaite", "kenward_roger", "kenward_roger_linear", "residual")
_CONTROL_DEFAULTS: dict[str, Any] = {
    "maxiter": 1000,
    "gtol": 1e-6,
    "start": None,
    "fixed_covariance": None,
}


# ----------------------------------------------------------------------------- result types
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
        stat = est / se if self.inference_ok else np.full(len(est), np.nan)
        p_value = 2.0 * stats.t.sf(np.abs(stat), df)
        crit = stats.t.ppf(0.5 + level / 2.0, df)
        labels = list(names) if names is not None else [f"c{i + 1}" for i in range(len(est))]
        return pd.DataFrame(
            {
                "contrast": labels,
                "estimate": est,
                "std_error": se,
                "df": df,
                "statistic": stat,
                "p_value": p_value,
                "conf_low": est - crit * se,
                "conf_high": est + crit * se,
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
        >>> res = ct.mmrm(df, outcome="pfi_burnout", arm="arm", visit="wave",
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
        >>> res = ct.mmrm(df, outcome="pfi_burnout", arm="arm", visit="wave",
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
        >>> res = ct.mmrm(df, outcome="pfi_burnout", arm="arm", visit="wave",
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


# ----------------------------------------------------------------------------- helpers
@contextmanager
def _single_thread_blas() -> Iterator[None]:
    """The per-pattern matrices are tiny: multi-threaded BLAS only adds contention.

    Uses ``threadpoolctl`` when it is installed (it is not a dependency); otherwise a no-op.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _check_conf_level(conf_level: float) -> float:
    if isinstance(conf_level, bool) or not isinstance(conf_level, (int, float, np.floating)):
        raise TypeError(f"`conf_level` must be a number between 0 and 1; got {conf_level!r}.")
    if not 0.0 < float(conf_level) < 1.0:
        raise ValueError(f"`conf_level` must be strictly between 0 and 1; got {conf_level!r}.")
    return float(conf_level)


KR_INFORMATION = ("observed", "expected")


def _check_options(
    covariance: str, df_method: str, reml: bool, conf_level: float, kr_information: str
) -> tuple[str, float]:
    if kr_information not in KR_INFORMATION:
        raise one_of("kr_information", kr_information, KR_INFORMATION)
    if not isinstance(covariance, str) or covariance.lower() not in COVARIANCE_ALIASES:
        raise one_of("covariance", covariance, tuple(COVARIANCE_ALIASES))
    if df_method not in DF_METHODS:
        raise one_of("df_method", df_method, DF_METHODS)
    if not isinstance(reml, (bool, np.bool_)):
        raise TypeError(f"`reml` must be True or False; got {reml!r}.")
    if df_method.startswith("kenward_roger") and not reml:
        raise ValueError(
            f"`df_method`={df_method!r} requires `reml=True` (Kenward-Roger is defined for REML)."
        )
    return COVARIANCE_ALIASES[covariance.lower()], _check_conf_level(conf_level)


def _check_control(control: Mapping[str, Any] | None) -> dict[str, Any]:
    out = dict(_CONTROL_DEFAULTS)
    if control is None:
        return out
    if not isinstance(control, Mapping):
        raise TypeError(
            f"`control` must be a mapping with keys {sorted(_CONTROL_DEFAULTS)}; got {control!r}."
        )
    for key, value in control.items():
        if key not in _CONTROL_DEFAULTS:
            raise one_of("control key", key, tuple(_CONTROL_DEFAULTS))
        out[key] = value
    if not isinstance(out["maxiter"], (int, np.integer)) or out["maxiter"] < 1:
        raise ValueError(
            f"`control['maxiter']` must be a positive integer; got {out['maxiter']!r}."
        )
    if not float(out["gtol"]) > 0:
        raise ValueError(f"`control['gtol']` must be positive; got {out['gtol']!r}.")
    return out


def _start_sigma(
    y: np.ndarray, x: np.ndarray, subj: np.ndarray, vis: np.ndarray, n_visits: int
) -> np.ndarray:
    """Starting value: pairwise covariance of OLS residuals, shrunk and made positive definite."""
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    resid = y - x @ beta
    n_subj = int(subj.max()) + 1
    wide = np.full((n_subj, n_visits), np.nan)
    wide[subj, vis] = resid
    cov = pd.DataFrame(wide).cov(min_periods=2).to_numpy()
    var = np.diag(cov).copy()
    fallback = float(np.nanmean(resid**2)) if len(resid) else 1.0
    fallback = fallback if fallback > 0 else 1.0
    var = np.where(np.isfinite(var) & (var > 0), var, fallback)
    off = np.where(np.isfinite(cov), cov, 0.0) * 0.5
    start = off + np.diag(var - np.diag(off))
    vals, vecs = np.linalg.eigh(start)
    vals = np.clip(vals, 1e-3 * var.mean(), None)
    return (vecs * vals) @ vecs.T


_FIXED_OPTIMIZER = "none: covariance parameters fixed by control['fixed_covariance']"


def _evaluate_fixed(
    data: _engine.Data,
    structure: CovarianceStructure,
    fixed: Any,
    labels: list[str],
    *,
    reml: bool,
) -> _engine.OptimResult:
    """Evaluate the model at given covariance parameters (``control['fixed_covariance']``).

    ``fixed`` maps every name of :attr:`GlsFit.covariance_parameters` (``parameter`` column,
    SAS's names in the order of ``visits``) to its value. Nothing is optimised: the fixed
    effects, their covariance, the (restricted) likelihood and the observed information used
    by Satterthwaite / Kenward-Roger are all computed at exactly these values.
    """
    names = [str(rec["parameter"]) for rec in structure.param_names(labels)]
    if isinstance(fixed, pd.Series):
        fixed = fixed.to_dict()
    if not isinstance(fixed, Mapping):
        raise TypeError(
            "`control['fixed_covariance']` must be a mapping from covariance parameter name to "
            f"value with keys {format_values(names, len(names))}; got {type(fixed).__name__}."
        )
    unknown = [k for k in fixed if k not in names]
    if unknown:
        raise one_of("control['fixed_covariance'] key", unknown[0], tuple(names))
    missing = [k for k in names if k not in fixed]
    if missing:
        raise ValueError(
            f"`control['fixed_covariance']` must give every covariance parameter of the "
            f"{structure.kind!r} structure; missing {format_values(missing, len(missing))}."
        )
    try:
        eta = np.array([float(fixed[k]) for k in names], dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError("`control['fixed_covariance']` values must be numbers.") from exc
    if not np.all(np.isfinite(eta)):
        raise ValueError("`control['fixed_covariance']` values must be finite.")
    der = _engine.derivatives_eta(data, structure, eta, reml=reml)
    if not der.evaluation.ok:
        raise ValueError(
            "`control['fixed_covariance']` does not give a positive-definite covariance matrix "
            "for every observed visit pattern (or X' V^-1 X is singular)."
        )
    gnorm = float(np.max(np.abs(der.gradient * structure.eta_scale(eta)))) if len(eta) else 0.0
    message = (
        "not optimised: covariance parameters fixed by control['fixed_covariance'] "
        f"(max scaled |gradient| there {gnorm:.3g})"
    )
    return _engine.OptimResult(eta, der, False, 0, gnorm, message)


def _fit_core(*args: Any, **kwargs: Any) -> GlsFit:
    with _single_thread_blas():
        return _fit_core_impl(*args, **kwargs)


def _fit_core_impl(
    y: np.ndarray,
    x: np.ndarray,
    subj: np.ndarray,
    vis: np.ndarray,
    *,
    coef_names: Sequence[str],
    visits: Sequence[Any],
    structure: CovarianceStructure,
    reml: bool,
    df_method: str,
    conf_level: float,
    control: dict[str, Any],
    n_subjects_ic: int,
    kr_information: str = "observed",
) -> GlsFit:
    n_visits = len(visits)
    rank = np.linalg.matrix_rank(x)
    if rank < x.shape[1]:
        # name the aliased columns
        _, r = np.linalg.qr(x)
        aliased = [
            coef_names[i] for i in np.flatnonzero(np.abs(np.diag(r)) < 1e-10 * np.abs(r).max())
        ]
        log = ProblemLog("the MMRM design matrix")
        log.add(
            "rank_deficient",
            f"rank {rank} < {x.shape[1]} columns; aliased term(s) {format_values(aliased)}: each "
            "arm needs observations at every visit and every covariate level must occur",
            values=aliased,
            expected="full column rank",
        )
        log.raise_if_any()
    if len(y) <= x.shape[1]:
        raise EstimationError(f"Too few observations ({len(y)}) for {x.shape[1]} fixed effects.")
    data = _engine.build_patterns(y, x, subj, vis, n_visits)
    start = control["start"]
    fixed = control["fixed_covariance"]
    if fixed is not None:
        opt = _evaluate_fixed(data, structure, fixed, [str(v) for v in visits], reml=reml)
    else:
        if start is None:
            sigma0 = _start_sigma(y, x, subj, vis, n_visits)
        else:
            sigma0 = np.asarray(start, dtype=float)
            if sigma0.shape != (n_visits, n_visits):
                raise ValueError(
                    f"`control['start']` must be a {n_visits} x {n_visits} covariance matrix."
                )
        theta0 = structure.theta_from_sigma(sigma0)
        opt = _engine.optimise(
            data,
            structure,
            theta0,
            reml=reml,
            maxiter=int(control["maxiter"]),
            gtol=float(control["gtol"]),
        )
    convergence = MmrmConvergence(opt.converged, opt.iterations, opt.gradient_norm, opt.message)
    if fixed is not None:
        convergence = replace(convergence, optimizer=_FIXED_OPTIMIZER)
    eta = opt.eta
    sigma, _ = structure.sigma_eta(eta)
    diagnosis = _diagnose(data, structure, opt, sigma, visits, optimised=fixed is None)
    _fit_checks.warn_withheld("mmrm", diagnosis, stacklevel=5)
    ev = opt.derivatives.evaluation
    pmat = opt.derivatives.pmat
    information = kr_information if df_method.startswith("kenward_roger") else "observed"
    try:
        w_obs = _engine.covariance_parameter_vcov(structure, eta, opt.derivatives)
        w = _engine.covariance_parameter_vcov(
            structure, eta, opt.derivatives, information=information
        )
    except np.linalg.LinAlgError:
        w_obs = w = np.full_like(opt.derivatives.hessian, np.nan)
    vcov_adj = ev.cov_beta
    if df_method.startswith("kenward_roger"):
        qmat, rmat = _engine.kr_qr(data, structure, eta)
        vcov_adj = _engine.kr_adjusted_cov(
            ev.cov_beta, w, pmat, qmat, rmat, linear=df_method == "kenward_roger_linear"
        )
    labels = [str(v) for v in visits]
    params = pd.DataFrame(structure.param_names(labels))
    params["estimate"] = eta
    params["std_error"] = np.sqrt(np.clip(np.diag(w_obs), 0, None))
    q, p, n = structure.n_params, x.shape[1], len(y)
    d = q if reml else q + p
    n_star = n - p if reml else n
    neg2 = float(ev.neg2ll)
    return GlsFit(
        coef_names=tuple(coef_names),
        beta=_readonly(ev.beta),
        vcov=_readonly(ev.cov_beta),
        vcov_adjusted=_readonly(vcov_adj),
        visits=tuple(visits),
        sigma=_readonly(sigma),
        covariance_structure=structure.kind,
        reml=bool(reml),
        df_method=df_method,
        conf_level=conf_level,
        neg2_log_likelihood=neg2,
        aic=neg2 + 2.0 * d,
        aicc=neg2 + 2.0 * d * n_star / (n_star - d - 1.0) if n_star - d - 1 > 0 else np.nan,
        bic=neg2 + d * float(np.log(n_subjects_ic)),
        n_obs=n,
        n_subjects=data.n_subjects,
        n_cov_params=q,
        convergence=convergence,
        eta=_readonly(eta),
        eta_vcov=_readonly(w),
        kr_information=information,
        _param_table=params,
        _p=_readonly(pmat),
        inference_ok=diagnosis.ok,
        note=diagnosis.note,
    )


def _diagnose(
    data: _engine.Data,
    structure: CovarianceStructure,
    opt: _engine.OptimResult,
    sigma: np.ndarray,
    visits: Sequence[Any],
    *,
    optimised: bool,
) -> _fit_checks.FitDiagnosis:
    """Convergence and boundary checks of an MMRM fit (see :mod:`._fit_checks`)."""
    ev = opt.derivatives.evaluation
    n_at = np.zeros(data.n_visits, dtype=int)
    for pat in data.patterns:
        n_at[pat.visits] += pat.m
    sparse = int(np.argmin(n_at))
    alternatives = [k for k in ("compound_symmetry", "ar1", "toeplitz") if k != structure.kind]
    advice = (
        "Fit a covariance with fewer parameters (covariance="
        + " or ".join(repr(k) for k in alternatives)
        + ") or pool sparse visits (the sparsest visit, "
        f"{visits[sparse]}, has {n_at[sparse]} observations of {data.n_subjects} subjects)"
    )
    ratios = _fit_checks.conditional_variance_ratio(sigma)
    finite = bool(ev.ok and np.all(np.isfinite(ev.beta)) and np.all(np.isfinite(ev.cov_beta)))
    return _fit_checks.diagnose(
        gradient_message=None if (opt.converged or not optimised) else opt.message,
        hessian=opt.derivatives.hessian,
        hessian_scale=structure.eta_scale(opt.eta) if len(opt.eta) else None,
        variance_ratios=[(f"visit {v}", float(r)) for v, r in zip(visits, ratios, strict=True)],
        estimates_finite=finite,
        advice=advice,
    )


def _visit_order(values: pd.Series, visits: Sequence[Any] | None, name: str) -> list[Any]:
    if visits is not None:
        order = list(visits)
        if len(set(order)) != len(order):
            raise ValueError(f"`visits` must not repeat labels; got {format_values(order)}.")
        return order
    present = pd.unique(values.dropna())
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [c for c in values.cat.categories if c in set(present)]
    try:
        return sorted(present.tolist())
    except TypeError as exc:  # mixed types
        raise TypeError(
            f"Column '{name}' mixes label types; pass `visits=` to give the order."
        ) from exc


# ----------------------------------------------------------------------------- fit_gls
def fit_gls(
    y: Sequence[float] | np.ndarray | pd.Series,
    X: np.ndarray | pd.DataFrame,
    subject: Sequence[Any] | np.ndarray | pd.Series,
    visit: Sequence[Any] | np.ndarray | pd.Series,
    *,
    covariance: str = "unstructured",
    reml: bool = True,
    df_method: str = "satterthwaite",
    visits: Sequence[Any] | None = None,
    conf_level: float = 0.95,
    control: Mapping[str, Any] | None = None,
    kr_information: str = "observed",
) -> GlsFit:
    """Fit ``y = X beta + e`` with a visit-indexed within-subject covariance by REML or ML.

    Parameters
    ----------
    y : array-like, shape (n,)
        Outcome; must not contain missing values (drop them first).
    X : array-like or DataFrame, shape (n, p)
        Design matrix of full column rank (DataFrame column names become coefficient names).
    subject, visit : array-like, shape (n,)
        Subject identifier and visit label of every observation; at most one row per
        subject x visit.
    covariance : {"unstructured", "compound_symmetry", "ar1", "toeplitz", "ar1h", "csh"}
        Residual covariance ("us"/"un", "cs", "toep", "arh1" accepted as aliases). AR(1) and
        Toeplitz use the position in ``visits`` as time, so a skipped visit counts as a lag.
    reml : bool
        Restricted (default) or full maximum likelihood.
    df_method : {"satterthwaite", "kenward_roger", "kenward_roger_linear", "residual"}
        Denominator degrees of freedom; the Kenward-Roger methods also adjust the covariance of
        the fixed effects (``vcov_adjusted``).
    visits : sequence, optional
        Visit order; default: categories of a pandas Categorical, else sorted labels.
    conf_level : float
        Confidence level for intervals.
    control : mapping, optional
        ``maxiter`` (default 1000), ``gtol`` (default 1e-6, on the gradient of -2 log-likelihood)
        and ``start`` (a ``T x T`` starting covariance matrix). ``fixed_covariance``: a mapping
        (or Series) from every covariance parameter name, as in the ``parameter`` column of
        ``covariance_parameters`` (SAS's names, e.g. ``"UN(2,1)"``, ``"Residual"``,
        ``"AR(1)"``, indexed in the order of ``visits``), to its value; the model is then
        evaluated at exactly these parameters without optimising (fixed effects, likelihood,
        observed information, Satterthwaite / Kenward-Roger all at the given point), and
        ``convergence.converged`` is False with ``iterations`` 0. Use it to reproduce another
        program's output at that program's own covariance estimates.
    kr_information : {"observed", "expected"}
        Information matrix of the covariance parameters behind the Kenward-Roger df and
        adjusted covariance (ignored by the other ``df_method``). "observed" (default, the
        package-wide convention shared with :func:`clustered_ancova`) is SAS PROC MIXED's
        ``DDFM=KR``; "expected" is R ``pbkrtest``'s. The two differ by O(1/n) in the df.

    Returns
    -------
    GlsFit
        ``coefficients`` (estimate, SE, df, t, p, CI), ``contrast(L)``, ``covariance``,
        ``covariance_parameters``, likelihood and information criteria, ``convergence``.

    Notes
    -----
    Estimation minimises the -2 (restricted) log-likelihood with SAS's constants,
    ``(n - p) log(2 pi) + sum log|Sigma_i| + log|X'V^-1X| + r'V^-1 r`` for REML, with an analytic
    gradient; subjects are grouped by their pattern of observed visits. Satterthwaite df use
    the gradient of the contrast variance in the covariance parameters and the inverse observed
    information of the (restricted) likelihood; Kenward-Roger (1997) uses the same information
    and SAS's parameterisation of each structure, so its second-derivative term vanishes for
    UN, CS and Toeplitz; ``kenward_roger_linear`` drops that term for every structure (SAS's
    linear/first-order variant). As in SAS, the observed information is taken in the profiled
    parameters (``Residual`` and ``CS/Residual`` or ``TOEP(k)/Residual`` for compound symmetry
    and Toeplitz); at an exact optimum this equals the inverse Hessian in SAS's parameters,
    and at given, not fully converged parameters (``fixed_covariance``) it is what matches
    SAS's df. Validated against SAS PROC MIXED on the ``fev_data`` set of the openpharma
    ``mmrm`` package (see ``tests/reference/mmrm_fev``): at SAS's own covariance parameters
    estimates and SEs agree to 1e-4 relative, Satterthwaite df within 0.5 of SAS's printed
    integers and Kenward-Roger df within 1e-2 (``tests/analysis/test_mmrm_sas_point.py``).

    Examples
    --------
    >>> import numpy as np
    >>> from coaching_trials.analysis.mmrm import fit_gls
    >>> rng = np.random.default_rng(3)
    >>> subject = np.repeat(np.arange(30), 3)
    >>> visit = np.tile([1, 2, 3], 30)
    >>> arm = np.repeat(rng.integers(0, 2, 30), 3)
    >>> y = 10 + 2 * arm + rng.normal(size=30).repeat(3) + rng.normal(size=90)
    >>> X = np.column_stack([np.ones(90), arm])
    >>> fit = fit_gls(y, X, subject, visit, covariance="cs", df_method="kenward_roger")
    >>> fit.convergence.converged
    True
    >>> fit.coefficients["term"].tolist()
    ['x0', 'x1']

    Evaluating at given covariance parameters reproduces the fit at its own estimates:

    >>> given = fit.covariance_parameters.set_index("parameter")["estimate"]
    >>> again = fit_gls(y, X, subject, visit, covariance="cs", df_method="kenward_roger",
    ...                 control={"fixed_covariance": given})
    >>> bool(np.allclose(again.beta, fit.beta)), again.convergence.iterations
    (True, 0)
    """
    covariance, conf_level = _check_options(covariance, df_method, reml, conf_level, kr_information)
    ctrl = _check_control(control)
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        xmat = X.to_numpy(dtype=float)
    else:
        xmat = np.asarray(X, dtype=float)
        if xmat.ndim == 1:
            xmat = xmat[:, None]
        names = [f"x{i}" for i in range(xmat.shape[1])]
    yv = np.asarray(y, dtype=float).ravel()
    subject_s = pd.Series(np.asarray(subject))
    visit_s = visit if isinstance(visit, pd.Series) else pd.Series(np.asarray(visit))
    n = len(yv)
    if not (xmat.shape[0] == len(subject_s) == len(visit_s) == n):
        raise ValueError(
            f"`y`, `X`, `subject` and `visit` must have the same number of rows; got {n}, "
            f"{xmat.shape[0]}, {len(subject_s)}, {len(visit_s)}."
        )
    if not np.all(np.isfinite(yv)) or not np.all(np.isfinite(xmat)):
        raise ValueError(
            "`y` and `X` must be finite; drop rows with missing values before calling fit_gls."
        )
    order = _visit_order(visit_s, visits, "visit")
    vis_code = pd.Categorical(visit_s.to_numpy(), categories=order).codes.astype(np.int64)
    if np.any(vis_code < 0):
        bad = visit_s[vis_code < 0]
        raise ValueError(
            f"`visit` has labels not in `visits` {format_values(order)}: "
            f"{format_values(pd.unique(bad))}."
        )
    subj_code = pd.factorize(subject_s)[0].astype(np.int64)
    dup = pd.DataFrame({"s": subj_code, "v": vis_code}).duplicated()
    if dup.any():
        raise ValueError(
            f"At most one observation per subject x visit is allowed; duplicated rows at positions "
            f"{format_values(np.flatnonzero(dup.to_numpy()))}."
        )
    return _fit_core(
        yv,
        xmat,
        subj_code,
        vis_code,
        coef_names=names,
        visits=order,
        structure=make_structure(covariance, len(order)),
        reml=bool(reml),
        df_method=df_method,
        conf_level=conf_level,
        control=ctrl,
        n_subjects_ic=int(subj_code.max()) + 1,
        kr_information=kr_information,
    )


# ----------------------------------------------------------------------------- mmrm
def _levels(series: pd.Series) -> list[Any]:
    present = pd.unique(series.dropna())
    if isinstance(series.dtype, pd.CategoricalDtype):
        return [c for c in series.cat.categories if c in set(present)]
    return sorted(present.tolist())


def _sum_coding(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Sum-to-zero (effect) coding: column j is ``[level == j] - [level == last]``."""
    levels = np.arange(n_levels - 1)
    return (codes[:, None] == levels[None, :]).astype(float) - (codes == n_levels - 1)[
        :, None
    ].astype(float)


def _reference_differences(n_levels: int) -> np.ndarray:
    """Map sum-coded effects ``a_0..a_{K-2}`` (``a_{K-1} = -sum``) to ``a_j - a_0``, j >= 1.

    Level 0 is the reference, so the rows are "level j minus the reference level" of the
    equal-weighted marginal means: the rows of SAS's Type 3 estimable functions when SAS's
    reference (its last level) is this reference level.
    """
    k = n_levels - 1
    out = np.zeros((k, k))
    if k == 0:  # one level (e.g. a single post-baseline visit): the term has no contrast
        return out
    out[:, 0] = -1.0
    out[np.arange(k - 1), np.arange(1, k)] += 1.0
    out[k - 1] -= 1.0
    return out


def _type3_contrasts(
    xmat: np.ndarray, xsum: np.ndarray, terms: Sequence[tuple[str, np.ndarray]]
) -> tuple[tuple[str, np.ndarray], ...]:
    """SAS Type 3 contrast matrices in the coefficients of ``xmat``, one per non-intercept term.

    ``xsum`` is the same model with class variables in sum-to-zero coding (columns in the
    same term order); both span the same column space, so ``xsum = xmat A`` for an invertible
    ``A``, and the sum-coded coefficients are ``A^-1 beta``. The Type 3 hypothesis of a term
    is "its sum-coded coefficients are zero", i.e. the term's rows of ``A^-1``. Each term's
    matrix ``D`` (``terms``) then re-expresses these rows as differences from the reference
    level (products of such differences for interactions), the basis SAS prints for Type 3
    estimable functions. The hypothesis (and the F statistic) does not depend on the basis,
    but the Satterthwaite df of a multi-row test does (Fai & Cornelius 1996 is invariant only
    under orthogonal changes of basis), so SAS's basis is what reproduces SAS's df.
    """
    amat, *_ = np.linalg.lstsq(xmat, xsum, rcond=None)
    resid = float(np.max(np.abs(xmat @ amat - xsum))) if xsum.size else 0.0
    if resid > 1e-8 * max(1.0, float(np.max(np.abs(xsum)))):  # pragma: no cover - defensive
        raise RuntimeError("internal error: sum-coded design is not in the model's column space")
    ainv = np.linalg.inv(amat)
    ainv[np.abs(ainv) < 1e-12 * np.max(np.abs(ainv))] = 0.0
    out = []
    start = 0
    for name, dmat in terms:
        width = dmat.shape[0]
        if width and name != "(Intercept)":
            out.append((name, _readonly(dmat @ ainv[start : start + width] + 0.0)))
        start += width
    return tuple(out)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def mmrm(
    long_df: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    visit: str,
    subject: str,
    treated: Any,
    baseline: str | None = None,
    covariates: Sequence[str] = (),
    covariance: str = "unstructured",
    df_method: str = "satterthwaite",
    conf_level: float = 0.95,
    reml: bool = True,
    visits: Sequence[Any] | None = None,
    control: Mapping[str, Any] | None = None,
    kr_information: str = "observed",
) -> MmrmResult:
    """Mixed model for repeated measures: the arm difference at every visit.

    The mean model is ``intercept + arm + visit + arm:visit`` (+ ``baseline +
    baseline:visit`` when ``baseline`` is given) + ``covariates``; categorical covariates are
    dummy coded against their first level (the order of a pandas Categorical, otherwise sorted
    labels), the first visit and the non-treated arm are the references. There are no random
    effects: the within-subject residual covariance is indexed by visit. All observed visits of
    every subject are used (valid under missing at random); rows with a missing outcome,
    baseline or covariate are dropped and counted in ``audit``.

    Parameters
    ----------
    long_df : pandas.DataFrame
        One row per subject x visit.
    outcome, arm, visit, subject : str
        Column names.
    treated : scalar
        The arm level whose difference from the other arm is reported (``arm`` must have
        exactly two levels).
    baseline : str, optional
        Numeric baseline column (constant within subject), entered with a baseline-by-visit
        interaction.
    covariates : sequence of str
        Additional numeric or categorical columns.
    covariance : {"unstructured", "compound_symmetry", "ar1", "toeplitz", "ar1h", "csh"}
        Residual covariance structure ("us", "cs" and "toep" accepted as aliases).
    df_method : {"satterthwaite", "kenward_roger", "kenward_roger_linear", "residual"}
        Degrees-of-freedom method (Kenward-Roger also adjusts the standard errors).
    conf_level : float
        Confidence level of the intervals.
    reml : bool
        REML (default) or maximum likelihood.
    visits : sequence, optional
        Visit order (first = reference); defaults to Categorical order or sorted labels.
    control : mapping, optional
        Optimiser settings, see :func:`fit_gls`.
    kr_information : {"observed", "expected"}
        Information matrix behind the Kenward-Roger df and adjusted standard errors: "observed"
        (default; SAS PROC MIXED ``DDFM=KR``) or "expected" (R ``pbkrtest``). Ignored by the
        other ``df_method``. The same option and default exist in :func:`clustered_ancova`.

    Returns
    -------
    MmrmResult
        Headline attributes for the last visit; ``to_frame()`` has one row per visit.

    Raises
    ------
    DataValidationError
        Listing every data problem at once: missing columns, non-numeric outcome or baseline,
        missing subject/arm/visit, not exactly two arms, ``treated`` not an arm level, visit
        labels outside ``visits``, duplicated subject x visit rows, arm changing within a
        subject, or a rank-deficient design (e.g. an arm never observed at a visit).
    ValueError, TypeError
        For invalid options.
    ConvergenceWarning
        (warning) when a convergence or boundary check fails (see Notes); the result then has
        ``converged=False``, a ``note``, NaN inference and the optimiser report in
        ``convergence``.

    Notes
    -----
    LS-means follow the SAS/emmeans convention: numeric covariates (and baseline) at their
    mean over the analysed rows, categorical covariates with equal weight on each level.
    ``-2 log-likelihood`` includes SAS's constants; AIC/AICC/BIC follow SAS (REML counts only
    covariance parameters; BIC uses the number of subjects in the input as sample size).
    Validated against SAS PROC MIXED (fev_data from the openpharma ``mmrm`` package:
    estimates, SEs, Satterthwaite and Kenward-Roger df, -2 REML log-likelihood, LS-means) and
    against ``nlme::gls`` + ``emmeans`` in R (``tests/reference/mmrm_r``); with
    ``kr_information="expected"`` the Kenward-Roger df and SEs of a compound-symmetry model
    against ``lme4`` + ``pbkrtest`` (``tests/reference/kr_information``).

    Untrustworthy fits are not reported as if they were fine. After optimisation the fit must
    have a gradient below ``control['gtol']``, a positive-definite observed information of the
    covariance parameters, and no visit whose conditional variance given the other visits is
    (numerically) zero -- the form an unbounded REML likelihood takes when a visit has fewer
    observations than the parameters describing it (``nlme::gls`` stops with an error there;
    ``tests/reference/mmrm_boundary``). A fit failing a check keeps its estimates and standard
    errors, reports NaN df, statistics, p-values and confidence limits, sets ``converged=False``
    and ``note``, adds an ``audit`` row and warns (``ConvergenceWarning``) with what to do:
    fewer covariance parameters (compound symmetry, AR(1), Toeplitz) or pooled sparse visits.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import coaching_trials as ct
    >>> rng = np.random.default_rng(7)
    >>> n = 60
    >>> ids = [f"P{i:03d}" for i in range(n)]
    >>> arm = np.where(np.arange(n) % 2 == 0, "immediate", "delayed")
    >>> base = rng.normal(2.0, 0.5, n)
    >>> frames = []
    >>> for k, wave in enumerate(["month3", "month6"]):
    ...     y = 0.5 + 0.7 * base - 0.3 * (arm == "immediate") * (k + 1) + rng.normal(0, 0.4, n)
    ...     frames.append(pd.DataFrame({"participant_id": ids, "arm": arm, "wave": wave,
    ...                                 "pfi_burnout": y, "pfi_burnout_bl": base}))
    >>> df = pd.concat(frames, ignore_index=True)
    >>> res = ct.mmrm(df, outcome="pfi_burnout", arm="arm", visit="wave",
    ...               subject="participant_id", treated="immediate", baseline="pfi_burnout_bl")
    >>> res.to_frame()[["contrast", "wave"]].values.tolist()
    [['immediate - delayed', 'month3'], ['immediate - delayed', 'month6']]
    >>> bool(res.conf_low < res.estimate < res.conf_high)
    True
    """
    if not isinstance(long_df, pd.DataFrame):
        raise TypeError(f"`long_df` must be a pandas DataFrame; got {type(long_df).__name__}.")
    covariance_kind, conf_level = _check_options(
        covariance, df_method, reml, conf_level, kr_information
    )
    ctrl = _check_control(control)
    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    for name, val in (("outcome", outcome), ("arm", arm), ("visit", visit), ("subject", subject)):
        if not isinstance(val, str):
            raise TypeError(f"`{name}` must be a column name (str); got {val!r}.")
    log = ProblemLog("mmrm input")
    needed = (
        [outcome, arm, visit, subject]
        + ([baseline] if baseline is not None else [])
        + list(covariates)
    )
    missing_cols = [c for c in needed if c not in long_df.columns]
    if missing_cols:
        log.add(
            "missing_column",
            f"column(s) {format_values(missing_cols)} not found; "
            f"available: {format_values(list(long_df.columns), 10)}",
            values=missing_cols,
            expected="existing column names",
        )
        log.raise_if_any()
    if len(set(needed)) != len(needed):
        raise ValueError(f"Each column may play only one role; got {format_values(needed)}.")
    frame = long_df[needed].copy()
    for col in (outcome,) + ((baseline,) if baseline is not None else ()):
        if not _is_numeric(frame[col]):
            log.add(
                "not_numeric",
                f"column '{col}' must be numeric; got dtype {frame[col].dtype}",
                column=col,
                expected="numeric dtype",
            )
    for col in (subject, arm, visit):
        bad = frame.index[frame[col].isna()]
        if len(bad):
            log.add(
                "missing_value",
                f"column '{col}' is missing in {len(bad)} row(s) {format_values(bad)}",
                column=col,
                rows=list(bad),
                expected="no missing values",
            )
    arm_levels = _levels(frame[arm])
    if len(arm_levels) != 2:
        log.add(
            "arm_levels",
            f"column '{arm}' must have exactly 2 levels; found {format_values(arm_levels)}",
            column=arm,
            values=arm_levels,
            expected="2 levels",
        )
    elif treated not in arm_levels:
        log.add(
            "treated_level",
            f"`treated`={treated!r} is not a level of '{arm}' {format_values(arm_levels)}",
            column=arm,
            values=[treated],
            expected=f"one of {arm_levels}",
        )
    visit_order = _visit_order(frame[visit], visits, visit)
    unknown = frame.index[frame[visit].notna() & ~frame[visit].isin(visit_order)]
    if len(unknown):
        log.add(
            "unknown_visit",
            f"column '{visit}' has label(s) "
            f"{format_values(pd.unique(frame.loc[unknown, visit]))} not in `visits`",
            column=visit,
            rows=list(unknown),
            values=list(frame.loc[unknown, visit]),
            expected=f"one of {visit_order}",
        )
    dup = frame.index[frame.duplicated([subject, visit], keep=False) & frame[subject].notna()]
    if len(dup):
        log.add(
            "duplicate_visit",
            f"{len(dup)} rows share a {subject} x {visit} pair: rows {format_values(dup)}",
            rows=list(dup),
            values=list(frame.loc[dup, subject]),
            expected="one row per subject x visit",
        )
    if len(arm_levels) == 2:
        per_subject = (
            frame.dropna(subset=[subject, arm])
            .groupby(subject, sort=False, observed=True)[arm]
            .nunique()
        )
        varying = per_subject.index[per_subject > 1]
        if len(varying):
            log.add(
                "arm_varies",
                f"'{arm}' changes within subject(s) {format_values(varying)}",
                column=arm,
                values=list(varying),
                expected="one arm per subject",
            )
    log.raise_if_any()

    control_level = next(a for a in arm_levels if a != treated)
    n_subjects_input = int(frame[subject].nunique())
    audit_rows: list[dict[str, Any]] = []
    keep = np.ones(len(frame), dtype=bool)
    checks = [(outcome, "missing outcome")] + ([(baseline, "missing baseline")] if baseline else [])
    checks += [(c, f"missing covariate '{c}'") for c in covariates]
    for col, reason in checks:
        miss = frame[col].isna().to_numpy() & keep
        if miss.any():
            audit_rows.append(
                {
                    "step": "mmrm",
                    "reason": reason,
                    "n_rows": int(miss.sum()),
                    "detail": f"rows with missing '{col}' excluded from the fit",
                }
            )
            keep &= ~miss
    data = frame.loc[keep]
    if data.empty:
        raise ValueError(
            f"No rows left to fit after dropping missing values in '{outcome}' / covariates."
        )
    n_lost = n_subjects_input - int(data[subject].nunique())
    if n_lost:
        audit_rows.append(
            {
                "step": "mmrm",
                "reason": "subject without usable rows",
                "n_rows": 0,
                "detail": f"{n_lost} subject(s) have no complete row and do not contribute",
            }
        )

    # ---- design matrix
    vis_code = pd.Categorical(data[visit].to_numpy(), categories=visit_order).codes.astype(np.int64)
    n_vis = len(visit_order)
    is_trt = (data[arm] == treated).to_numpy(dtype=float)
    vis_dummies = (vis_code[:, None] == np.arange(1, n_vis)[None, :]).astype(float)
    cols = [np.ones(len(data)), is_trt[:, None], vis_dummies, is_trt[:, None] * vis_dummies]
    # the same model in sum-to-zero coding, term by term (for the Type 3 hypotheses)
    arm_sum = _sum_coding(is_trt.astype(np.int64), 2)  # control is level 0 (reference)
    vis_sum = _sum_coding(vis_code, n_vis)
    sum_cols = [np.ones((len(data), 1)), arm_sum, vis_sum, arm_sum * vis_sum]
    arm_diff, vis_diff = _reference_differences(2), _reference_differences(n_vis)
    terms = [
        ("(Intercept)", np.eye(1)),
        (arm, arm_diff),
        (visit, vis_diff),
        (f"{arm}:{visit}", np.kron(arm_diff, vis_diff)),
    ]
    names = ["Intercept", f"{arm}[{treated}]"]
    names += [f"{visit}[{v}]" for v in visit_order[1:]]
    names += [f"{arm}[{treated}]:{visit}[{v}]" for v in visit_order[1:]]
    # LS-mean "average" row pieces for the adjustment columns
    adj_means: list[np.ndarray] = []
    adj_visit_interaction: list[bool] = []
    if baseline is not None:
        b = data[baseline].to_numpy(dtype=float)
        cols += [b[:, None], b[:, None] * vis_dummies]
        sum_cols += [b[:, None], b[:, None] * vis_sum]
        terms += [(baseline, np.eye(1)), (f"{baseline}:{visit}", vis_diff)]
        names += [baseline] + [f"{baseline}:{visit}[{v}]" for v in visit_order[1:]]
        adj_means.append(np.array([b.mean()]))
        adj_visit_interaction.append(True)
    for cov in covariates:
        series = data[cov]
        if _is_numeric(series):
            v = series.to_numpy(dtype=float)
            cols.append(v[:, None])
            names.append(cov)
            sum_cols.append(v[:, None])
            terms.append((cov, np.eye(1)))
            adj_means.append(np.array([v.mean()]))
        else:
            lv = _levels(series)
            dummies = (
                np.column_stack([(series == lev).to_numpy(dtype=float) for lev in lv[1:]])
                if len(lv) > 1
                else np.zeros((len(series), 0))
            )
            cols.append(dummies)
            names += [f"{cov}[{lev}]" for lev in lv[1:]]
            codes = pd.Categorical(series.to_numpy(), categories=lv).codes.astype(np.int64)
            sum_cols.append(_sum_coding(codes, len(lv)))
            terms.append((cov, _reference_differences(len(lv))))
            adj_means.append(np.full(len(lv) - 1, 1.0 / len(lv)))
        adj_visit_interaction.append(False)
    xmat = np.column_stack([c if c.ndim == 2 else c[:, None] for c in cols])
    subj_code = pd.factorize(data[subject])[0].astype(np.int64)
    fit = _fit_core(
        data[outcome].to_numpy(dtype=float),
        xmat,
        subj_code,
        vis_code,
        coef_names=names,
        visits=visit_order,
        structure=make_structure(covariance_kind, n_vis),
        reml=bool(reml),
        df_method=df_method,
        conf_level=conf_level,
        control=ctrl,
        n_subjects_ic=n_subjects_input,
        kr_information=kr_information,
    )

    # ---- LS-means and visit-wise differences
    grid_rows = []
    grid_labels = []
    for a_val, a_lab in ((1.0, treated), (0.0, control_level)):
        for j, v in enumerate(visit_order):
            d = np.zeros(n_vis - 1)
            if j > 0:
                d[j - 1] = 1.0
            row = [np.ones(1), np.array([a_val]), d, a_val * d]
            for mean_vec, inter in zip(adj_means, adj_visit_interaction, strict=True):
                row.append(mean_vec)
                if inter:
                    row.append(mean_vec[0] * d)
            grid_rows.append(np.concatenate(row))
            grid_labels.append((a_lab, v))
    lgrid = np.vstack(grid_rows)
    ls = fit.contrast(lgrid, names=[f"{a} {v}" for a, v in grid_labels])
    counts = data.groupby([arm, visit], observed=True).size()
    lsmeans = pd.DataFrame(
        {
            "arm": [a for a, _ in grid_labels],
            "visit": [v for _, v in grid_labels],
            "estimate": ls["estimate"].to_numpy(),
            "std_error": ls["std_error"].to_numpy(),
            "df": ls["df"].to_numpy(),
            "conf_low": ls["conf_low"].to_numpy(),
            "conf_high": ls["conf_high"].to_numpy(),
            "conf_level": conf_level,
            "n_obs": [int(counts.get((a, v), 0)) for a, v in grid_labels],
        }
    )
    ldiff = lgrid[:n_vis] - lgrid[n_vis:]
    type3 = _type3_contrasts(xmat, np.column_stack(sum_cols), terms)
    slices = tuple((v, _readonly(ldiff[j : j + 1])) for j, v in enumerate(visit_order))
    diff = fit.contrast(ldiff, names=[str(v) for v in visit_order])
    label = f"{treated} - {control_level}"
    rows = []
    for j, v in enumerate(visit_order):
        rows.append(
            {
                "outcome": outcome,
                "analysis": "mmrm",
                "contrast": label,
                "wave": str(v),
                "estimate": diff["estimate"].iloc[j],
                "std_error": diff["std_error"].iloc[j],
                "df": diff["df"].iloc[j],
                "statistic": diff["statistic"].iloc[j],
                "p_value": diff["p_value"].iloc[j],
                "conf_low": diff["conf_low"].iloc[j],
                "conf_high": diff["conf_high"].iloc[j],
                "conf_level": conf_level,
                "n_treated": int(counts.get((treated, v), 0)),
                "n_control": int(counts.get((control_level, v), 0)),
                "estimand": f"randomized: {treated} vs {control_level} at {v}",
                "p_adjusted": np.nan,
            }
        )
    effects = effects_frame(rows)
    last = effects.iloc[-1]
    if not fit.inference_ok:
        audit_rows.append(
            {"step": "mmrm", "reason": _fit_checks.WITHHELD, "n_rows": 0, "detail": fit.note}
        )
    return MmrmResult(
        outcome=outcome,
        treated=treated,
        control=control_level,
        visits=tuple(visit_order),
        covariance_structure=covariance_kind,
        df_method=df_method,
        conf_level=conf_level,
        reml=bool(reml),
        estimate=float(last["estimate"]),
        std_error=float(last["std_error"]),
        df=float(last["df"]),
        statistic=float(last["statistic"]),
        p_value=float(last["p_value"]),
        conf_low=float(last["conf_low"]),
        conf_high=float(last["conf_high"]),
        neg2_log_likelihood=fit.neg2_log_likelihood,
        aic=fit.aic,
        aicc=fit.aicc,
        bic=fit.bic,
        n_obs=fit.n_obs,
        n_subjects=fit.n_subjects,
        fit=fit,
        _effects=effects,
        _lsmeans=lsmeans,
        _audit=audit_frame(audit_rows),
        _type3=type3,
        _slices=slices,
        _slice_effect=f"{arm}:{visit}",
        converged=fit.inference_ok,
        note=fit.note,
    )
