"""The generating model's constants: constructs, items, correlations, dropout, demographics.

Shared by the item-level generator (:mod:`.trial`) and the power generator (:mod:`._engine`);
the model itself is described in :mod:`.trial`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from scipy import special


@dataclass(frozen=True)
class _Construct:
    items: tuple[str, ...]
    low: int
    high: int
    mean: float  # latent baseline mean, item metric
    sd: float  # between-person SD of the latent score at a wave
    trend: float  # secular change per follow-up wave, both arms
    reliability: float  # inter-item correlation (multi-item) or item reliability (single item)


def _items(prefix: str, numbers: Sequence[int]) -> tuple[str, ...]:
    return tuple(f"{prefix}_{j:02d}" for j in numbers)


# Latent means are set so that the *observed* (rounded, clipped) scores land near the targets:
# PFI burnout item mean ~1.4, ID ~1.2, PF ~2.3, UWES-9 ~4.0, SVS item mean ~2.0 (sum ~8).
# Inter-item correlations reproduce the published alphas (PFI: Trockel et al. 2018, alpha
# PF 0.91, WE 0.86, ID 0.92; UWES-9 ~0.92) via alpha = k r / (1 + (k - 1) r).
_CONSTRUCTS: dict[str, _Construct] = {
    "pfi_pf": _Construct(_items("pfi", range(1, 7)), 0, 4, 2.30, 0.80, 0.00, 0.67),
    "pfi_we": _Construct(_items("pfi", range(7, 11)), 0, 4, 1.70, 0.85, 0.02, 0.66),
    "pfi_id": _Construct(_items("pfi", range(11, 17)), 0, 4, 1.10, 0.80, 0.05, 0.69),
    "svs": _Construct(_items("svs", range(1, 5)), 0, 4, 2.00, 0.75, 0.10, 0.50),
    "uwes": _Construct(_items("uwes", range(1, 10)), 0, 6, 4.00, 1.00, -0.09, 0.56),
    "qol": _Construct(("qol_01",), 0, 10, 6.80, 1.70, 0.00, 0.70),
    "iwpr": _Construct(("iwpr_01",), 0, 10, 4.50, 2.20, 0.10, 0.70),
}

#: Latent constructs in a fixed order; keys accepted by ``simulate_trial(effects=...)``.
CONSTRUCTS: tuple[str, ...] = tuple(_CONSTRUCTS)

#: Coaching effects (coached minus not-yet-coached, latent item metric) that roughly reproduce
#: Kiser et al., JAMA Netw Open 2024 (burnout -21.6% vs +2.5%, interpersonal disengagement
#: -30.1% vs +4.1%, professional fulfillment +10.7% vs no change, engagement +6.3% vs -2.2%,
#: self-valuation up in both arms and not significantly different).
KISER2024_EFFECTS: Mapping[str, float] = MappingProxyType(
    {
        "pfi_pf": 0.26,
        "pfi_we": -0.26,
        "pfi_id": -0.48,
        "svs": 0.10,
        "uwes": 0.37,
        "qol": 0.50,
        "iwpr": -0.70,
    }
)

#: Probability of leaving the study before each follow-up wave (before the burnout adjustment).
DEFAULT_DROPOUT: Mapping[str, float] = MappingProxyType({"immediate": 0.06, "delayed": 0.12})

# correlations between constructs, order = CONSTRUCTS (pf, we, id, svs, uwes, qol, iwpr)
_CORRELATION = np.array(
    [
        [1.00, -0.45, -0.60, 0.35, 0.70, 0.50, -0.40],
        [-0.45, 1.00, 0.72, -0.45, -0.45, -0.50, 0.60],
        [-0.60, 0.72, 1.00, -0.35, -0.55, -0.40, 0.45],
        [0.35, -0.45, -0.35, 1.00, 0.30, 0.40, -0.40],
        [0.70, -0.45, -0.55, 0.30, 1.00, 0.45, -0.35],
        [0.50, -0.50, -0.40, 0.40, 0.45, 1.00, -0.50],
        [-0.40, 0.60, 0.45, -0.40, -0.35, -0.50, 1.00],
    ]
)

_ICC = 0.55  # share of latent variance that is stable over the study
_AR = 0.30  # AR(1) coefficient of the wave deviations
_EFFECT_SD_PERSON = 0.50  # SD of the person-level multiplier of the coaching effect
_EFFECT_SD_COACH = 0.20  # SD of the coach-level multiplier of the coaching effect
_SESSIONS_EFFECT_CORR = 0.40  # correlation between sessions attended and the person multiplier
_SESSION_PROBS = np.array([0.02, 0.02, 0.04, 0.07, 0.15, 0.25, 0.45])  # 0..6 sessions
_WAVE_SPACING_DAYS = 91
_START_DATE = np.datetime64("2022-01-10")
_ENROLMENT_BUSINESS_DAYS = 40

_DEMOGRAPHICS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "age_band": (("<40", "40-49", "50-59", "60+"), (0.25, 0.35, 0.25, 0.15)),
    "gender": (("female", "male", "not reported"), (0.55, 0.43, 0.02)),
    "specialty_group": (
        ("primary care", "medical specialty", "surgical specialty", "hospital-based"),
        (0.30, 0.35, 0.15, 0.20),
    ),
}
# years in practice drawn uniformly within a range that depends on the age band
_YEARS_LOW = np.array([1, 8, 15, 25])
_YEARS_HIGH = np.array([10, 20, 30, 40])

_REASONS = (
    "time constraints",
    "left institution",
    "medical or family leave",
    "lost to follow-up",
    "dissatisfied with allocation",
)
# reason probabilities by arm (immediate, delayed); the remainder is "not given" (NA)
_REASON_PROBS = np.array(
    [
        [0.30, 0.15, 0.10, 0.15, 0.00],
        [0.25, 0.12, 0.08, 0.15, 0.10],
    ]
)


def _item_offsets(k: int) -> np.ndarray:
    """Fixed, seed-independent item difficulty offsets (mean zero, within +-0.25)."""
    if k == 1:
        return np.zeros(1)
    raw = np.sin(np.arange(1, k + 1) * 2.1)
    raw = raw - raw.mean()
    return 0.25 * raw / np.abs(raw).max()


def _noise_sd(c: _Construct) -> float:
    """Item noise SD giving inter-item correlation (or single-item reliability) ``reliability``."""
    return c.sd * float(np.sqrt((1.0 - c.reliability) / c.reliability))


def _exposure(n_waves: int, persistence: float) -> np.ndarray:
    """Coaching exposure by arm (rows: immediate, delayed) and wave index."""
    k = np.arange(n_waves)
    immediate = np.where(k >= 1, persistence ** np.maximum(k - 1, 0), 0.0)
    delayed = np.where(k >= 2, persistence ** np.maximum(k - 2, 0), 0.0)
    return np.vstack([immediate, delayed])


def _expected_item(mean: np.ndarray, sd: np.ndarray, low: int, high: int) -> np.ndarray:
    """E[clip(round(Y), low, high)] for Y ~ N(mean, sd): low + sum_k P(Y >= k - 1/2)."""
    cuts = np.arange(low + 1, high + 1) - 0.5
    z = (np.asarray(mean)[..., None] - cuts) / np.asarray(sd)[..., None]
    return low + special.ndtr(z).sum(axis=-1)


# scored outcomes: name -> (construct, item positions within the construct or None = all,
# aggregation). UWES facets follow the shared naming contract.
_OUTCOMES: dict[str, tuple[tuple[tuple[str, tuple[int, ...] | None], ...], str]] = {
    "pfi_pf": ((("pfi_pf", None),), "mean"),
    "pfi_we": ((("pfi_we", None),), "mean"),
    "pfi_id": ((("pfi_id", None),), "mean"),
    "pfi_burnout": ((("pfi_we", None), ("pfi_id", None)), "mean"),
    "svs_total": ((("svs", None),), "sum"),
    "uwes9_vigor": ((("uwes", (0, 1, 4)),), "mean"),
    "uwes9_dedication": ((("uwes", (2, 3, 6)),), "mean"),
    "uwes9_absorption": ((("uwes", (5, 7, 8)),), "mean"),
    "uwes9_total": ((("uwes", None),), "mean"),
    "uwes3_total": ((("uwes", (0, 2, 7)),), "mean"),
    "qol_score": ((("qol", None),), "mean"),
    "iwpr_score": ((("iwpr", None),), "mean"),
}
