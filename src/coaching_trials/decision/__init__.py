"""What leadership decides with: probability of benefit, the business case, and the trial among
the published evidence.

* :func:`probability_of_benefit` - posterior of a randomized effect under named priors
  (normal-normal approximation) and the probabilities of benefit, of a minimal important
  difference and of harm.
* :func:`business_case` - the turnover-cost model of Shanafelt, Goh & Sinsky (2017) with a
  Monte Carlo interval and a tornado plot; every default carries its source.
* :func:`meta_analysis` - random-effects meta-analysis (REML or DerSimonian-Laird, z or
  Hartung-Knapp-Sidik-Jonkman), prediction interval, leave-one-out and a forest plot, with the
  published coaching trials kept as data (:func:`published_trials`).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BenefitResult",
    "BusinessCaseResult",
    "MetaAnalysisResult",
    "business_case",
    "business_sources",
    "meta_analysis",
    "plot_meta_forest",
    "plot_posterior",
    "plot_tornado",
    "probability_of_benefit",
    "published_trials",
]

_MODULES = {
    "BenefitResult": "benefit",
    "probability_of_benefit": "benefit",
    "BusinessCaseResult": "business",
    "business_case": "business",
    "business_sources": "business",
    "MetaAnalysisResult": "meta",
    "meta_analysis": "meta",
    "published_trials": "trials",
}


def __getattr__(name: str) -> Any:  # lazy, so that importing a submodule skips matplotlib
    if name in ("plot_meta_forest", "plot_posterior", "plot_tornado"):
        module = importlib.import_module("coaching_trials.plots.decision")
    elif name in _MODULES:
        module = importlib.import_module(f"coaching_trials.decision.{_MODULES[name]}")
    else:
        raise AttributeError(f"module 'coaching_trials.decision' has no attribute {name!r}")
    return getattr(module, name)


def __dir__() -> list[str]:
    return __all__
