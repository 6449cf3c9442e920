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

from coaching_trials.decision.benefit import BenefitResult, probability_of_benefit  # noqa: E402
from coaching_trials.decision.business import (  # noqa: E402
    BusinessCaseResult,
    business_case,
    business_sources,
)
from coaching_trials.decision.meta import MetaAnalysisResult, meta_analysis  # noqa: E402
from coaching_trials.decision.trials import published_trials  # noqa: E402
from coaching_trials.plots.decision import (  # noqa: E402
    plot_meta_forest,
    plot_posterior,
    plot_tornado,
)
