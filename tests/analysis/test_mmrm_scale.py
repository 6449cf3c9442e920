"""The MMRM at scale: per-pattern sufficient statistics, against R and against the plain path.

* ``tests/reference/mmrm_scale/``: ``make_data.py`` writes a 1,500-subject, 4-wave trial with
  monotone dropout (every pattern holds far more subjects than ``k (p + 1)``, so the engine
  compresses every pattern); ``make_golden.R`` fits ``nlme::gls`` (corSymm + varIdent, REML)
  and writes the coefficients, their SEs, the covariance matrix and -2 REML log-likelihood.
* The compressed engine reproduces the uncompressed one (likelihood, gradient, observed and
  expected information, ``P_j``, Kenward-Roger ``Q``/``R``) for linear and non-linear
  covariance structures.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coaching_trials._errors import DataValidationError
from coaching_trials.analysis import _mmrm_engine as engine
from coaching_trials.analysis._mmrm_cov import make_structure
from coaching_trials.analysis.mmrm import fit_gls, mmrm

REF = Path(__file__).resolve().parents[1] / "reference" / "mmrm_scale"
KW = dict(outcome="y", arm="arm", subject="subject", treated="coach", baseline="base")


@pytest.fixture(scope="module")
def scale() -> pd.DataFrame:
    return pd.read_csv(REF / "scale.csv")


@pytest.fixture(scope="module")
def fitted(scale):
    return mmrm(scale, wave="wave", **KW)


def _our_term(r_term: str) -> str:
    parts = []
    for piece in r_term.split(":"):
        if piece == "(Intercept)":
            parts.append("Intercept")
        elif piece.startswith("arm"):
            parts.append(f"arm[{piece[3:]}]")
        elif piece.startswith("wave"):
            parts.append(f"wave[{piece[4:]}]")
        else:
            parts.append(piece)
    if len(parts) == 2 and parts[1].startswith("arm"):
        parts = parts[::-1]
    if len(parts) == 2 and parts[0].startswith("wave") and parts[1] == "base":
        parts = parts[::-1]
    return ":".join(parts)


def test_every_pattern_is_compressed(scale):
    frame = scale.assign(t=scale["wave"].str[1].astype(int) - 1)
    x = np.column_stack([np.ones(len(frame)), frame["base"]])
    data = engine.build_patterns(
        frame["y"].to_numpy(),
        x,
        pd.factorize(frame["subject"])[0].astype(np.int64),
        frame["t"].to_numpy(np.int64),
        4,
    )
    assert sum(p.m for p in data.patterns) == frame["subject"].nunique()
    for pat in data.patterns:
        assert pat.m > pat.k * 3  # many subjects ...
        assert pat.n <= pat.k * 3  # ... held as at most k (p + 1) rows


def test_coefficients_and_ses_match_nlme_gls(fitted):
    gold = pd.read_csv(REF / "golden_coefficients.csv")
    ours = fitted.fit.coefficients.set_index("term")
    for _, row in gold.iterrows():
        term = _our_term(row["r_term"])
        # nlme stops at its own tolerance: agreement to 1e-5 standard errors
        tol = 1e-5 * row["std_error"]
        assert ours.loc[term, "estimate"] == pytest.approx(row["estimate"], abs=tol)
        assert ours.loc[term, "std_error"] == pytest.approx(row["std_error"], rel=1e-4)


def test_covariance_and_likelihood_match_nlme_gls(fitted):
    gold = pd.read_csv(REF / "golden_covariance.csv")
    sigma = np.asarray(fitted.fit.sigma)
    got = sigma[gold["i"].to_numpy() - 1, gold["j"].to_numpy() - 1]
    np.testing.assert_allclose(got, gold["value"].to_numpy(), rtol=1e-4)
    ref = pd.read_csv(REF / "golden_fit.csv").iloc[0]
    assert fitted.n_obs == ref["n_obs"]
    assert fitted.neg2_log_likelihood == pytest.approx(ref["neg2_loglik"], abs=1e-3)
    assert fitted.neg2_log_likelihood <= ref["neg2_loglik"] + 1e-6  # at least as good an optimum


def _engine_data(n_subjects: int, compress: bool, seed: int = 5):
    rng = np.random.default_rng(seed)
    t = 4
    arm = rng.integers(0, 2, n_subjects)
    base = rng.normal(size=n_subjects)
    y = rng.normal(size=(n_subjects, t)) + base[:, None] + arm[:, None] * 0.3
    keep = rng.random((n_subjects, t)) < 0.8  # non-monotone: up to 16 patterns
    keep[:, 0] = True
    subj = np.repeat(np.arange(n_subjects), t)[keep.ravel()]
    vis = np.tile(np.arange(t), n_subjects)[keep.ravel()]
    x = np.column_stack(
        [np.ones(len(subj)), arm[subj], base[subj], (vis == 1) * 1.0, (vis == 2) * 1.0]
    )
    return engine.build_patterns(y.ravel()[keep.ravel()], x, subj, vis, t, compress=compress)


@pytest.mark.parametrize("kind", ["unstructured", "compound_symmetry", "ar1h", "csh"])
def test_compressed_engine_equals_plain_engine(kind):
    plain, packed = _engine_data(800, False), _engine_data(800, True)
    assert sum(p.n for p in packed.patterns) < sum(p.n for p in plain.patterns) / 5
    structure = make_structure(kind, 4)
    sigma = np.array(
        [[2.0, 0.8, 0.5, 0.3], [0.8, 2.5, 0.9, 0.6], [0.5, 0.9, 3, 1], [0.3, 0.6, 1, 4]]
    )
    eta = structure.eta_from_theta(structure.theta_from_sigma(sigma) + 0.05)
    a = engine.derivatives_eta(plain, structure, eta, reml=True)
    b = engine.derivatives_eta(packed, structure, eta, reml=True)
    assert b.evaluation.neg2ll == pytest.approx(a.evaluation.neg2ll, rel=1e-11)
    np.testing.assert_allclose(b.evaluation.beta, a.evaluation.beta, rtol=1e-9, atol=1e-12)
    for name in ("gradient", "hessian", "pmat", "expected"):
        ref = getattr(a, name)
        np.testing.assert_allclose(getattr(b, name), ref, rtol=1e-8, atol=1e-9 * np.abs(ref).max())
    qa, ra = engine.kr_qr(plain, structure, eta)
    qb, rb = engine.kr_qr(packed, structure, eta)
    np.testing.assert_allclose(qb, qa, rtol=1e-8, atol=1e-10 * np.abs(qa).max())
    np.testing.assert_allclose(rb, ra, rtol=1e-8, atol=1e-10 * max(np.abs(ra).max(), 1.0))


def test_rank_deficiency_is_still_named_with_compressed_patterns(scale):
    bad = scale[~((scale["arm"] == "coach") & (scale["wave"] == "w4"))]
    with pytest.raises(DataValidationError, match=r"arm\[coach\]:wave\[w4\]"):
        mmrm(bad, wave="wave", **KW)


def test_old_keywords_still_work(scale):
    small = scale[scale["subject"] < "S0200"]
    new = mmrm(small, wave="wave", **KW)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # visit= is a published alias: no warning
        quiet = mmrm(small, visit="wave", **KW)
    with pytest.warns(FutureWarning, match="long_df"):
        old = mmrm(long_df=small, visit="wave", **KW)
    pd.testing.assert_frame_equal(new.to_frame(), quiet.to_frame())
    pd.testing.assert_frame_equal(new.to_frame(), old.to_frame())
    x = np.ones((len(small), 1))
    with pytest.warns(FutureWarning, match="visit"):
        g = fit_gls(small["y"], x, subject=small["subject"], visit=small["wave"])
    h = fit_gls(small["y"], x, small["subject"], small["wave"])
    np.testing.assert_allclose(g.beta, h.beta)


def test_public_names_unchanged():
    import coaching_trials.analysis.mmrm as module

    for name in ("ConvergenceWarning", "GlsFit", "MmrmConvergence", "MmrmResult", "fit_gls",
                 "mmrm", "DF_METHODS", "KR_INFORMATION"):  # fmt: skip
        assert hasattr(module, name), name
