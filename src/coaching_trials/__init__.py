"""coaching_trials: statistical analysis of coaching-outcome trials in healthcare.

Public names are imported lazily so that ``import coaching_trials`` stays fast and a command
such as ``coaching-trials instruments`` does not pay for matplotlib or statsmodels.

Examples
--------
>>> import coaching_trials as ct
>>> "pfi" in ct.list_instruments()["id"].tolist()
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "DataValidationError": "coaching_trials._errors",
    "DataValidationWarning": "coaching_trials._errors",
    "FileFormatError": "coaching_trials._errors",
    "EstimationError": "coaching_trials._errors",
    "EFFECT_COLUMNS": "coaching_trials._results",
    # io
    "read_survey": "coaching_trials.io.readers",
    "read_redcap": "coaching_trials.io.readers",
    "read_redcap_dictionary": "coaching_trials.io.readers",
    "read_qualtrics": "coaching_trials.io.readers",
    "to_long": "coaching_trials.io.reshape",
    "to_wide": "coaching_trials.io.reshape",
    "validate_responses": "coaching_trials.io.validate",
    "validate": "coaching_trials.io.validate",
    "ValidationReport": "coaching_trials.io.validate",
    "missingness": "coaching_trials.io.missing",
    "check_ids": "coaching_trials.io.ids",
    "id_collisions": "coaching_trials.io.ids",
    "check_sessions": "coaching_trials.io.validate",
    # instruments
    "Instrument": "coaching_trials.instruments.registry",
    "list_instruments": "coaching_trials.instruments.registry",
    "get_instrument": "coaching_trials.instruments.registry",
    "load_instrument": "coaching_trials.instruments.registry",
    "score": "coaching_trials.instruments.scoring",
    "ScoreResult": "coaching_trials.instruments.scoring",
    "score_with_audit": "coaching_trials.instruments.scoring",
    "ScoreAudit": "coaching_trials.instruments.scoring",
    "map_items": "coaching_trials.instruments.items",
    "ItemMapping": "coaching_trials.instruments.items",
    "InstrumentDefinitionError": "coaching_trials.instruments.registry",
    "outcome_info": "coaching_trials.instruments.labels",
    "outcome_labels": "coaching_trials.instruments.labels",
    "cronbach_alpha": "coaching_trials.instruments.reliability",
    "mcdonald_omega": "coaching_trials.instruments.reliability",
    "item_total": "coaching_trials.instruments.reliability",
    "reliability": "coaching_trials.instruments.reliability",
    "score_lazy": "coaching_trials.instruments.lazy",
    "score_audit_lazy": "coaching_trials.instruments.lazy",
    "summarize_lazy": "coaching_trials.instruments.lazy",
    # analysis
    "ancova": "coaching_trials.analysis.ancova",
    "change_score": "coaching_trials.analysis.change",
    "percent_change": "coaching_trials.analysis.change",
    "mmrm": "coaching_trials.analysis.mmrm",
    "fit_gls": "coaching_trials.analysis.mmrm",
    "MmrmResult": "coaching_trials.analysis.mmrm",
    "ConvergenceWarning": "coaching_trials._errors",
    "effect_size": "coaching_trials.analysis.effect_size",
    "ppc_effect_size": "coaching_trials.analysis.effect_size",
    "responders": "coaching_trials.analysis.responders",
    "adjust_pvalues": "coaching_trials.analysis.multiplicity",
    "adjust_effects": "coaching_trials.analysis.multiplicity",
    "from_summary": "coaching_trials.analysis.summary_stats",
    "clustered_ancova": "coaching_trials.analysis.clustered",
    "ClusteredAncovaResult": "coaching_trials.analysis.clustered",
    "multiple_imputation": "coaching_trials.analysis.imputation",
    "pool_rubin": "coaching_trials.analysis.imputation",
    "tipping_point": "coaching_trials.analysis.imputation",
    "MultipleImputationResult": "coaching_trials.analysis.imputation",
    "PooledEstimates": "coaching_trials.analysis.imputation",
    "TippingPointResult": "coaching_trials.analysis.imputation",
    "impute_waves": "coaching_trials.analysis.imputation_waves",
    "WaveImputation": "coaching_trials.analysis.imputation_waves",
    "PooledWaveAnalysis": "coaching_trials.analysis.imputation_waves",
    # design
    "DelayedInterventionTrial": "coaching_trials.design.delayed",
    "TrialEffects": "coaching_trials.design.delayed",
    "TrialComparison": "coaching_trials.design.delayed",
    "BaselineTable": "coaching_trials.design.delayed",
    "TrialResponders": "coaching_trials.design.delayed",
    # plots
    "plot_trajectories": "coaching_trials.plots.trajectories",
    "plot_forest": "coaching_trials.plots.forest",
    "plot_percent_change": "coaching_trials.plots.bars",
    "plot_responders": "coaching_trials.plots.bars",
    "plot_consort": "coaching_trials.plots.consort",
    # decision
    "probability_of_benefit": "coaching_trials.decision.benefit",
    "BenefitResult": "coaching_trials.decision.benefit",
    "business_case": "coaching_trials.decision.business",
    "business_sources": "coaching_trials.decision.business",
    "BusinessCaseResult": "coaching_trials.decision.business",
    "meta_analysis": "coaching_trials.decision.meta",
    "MetaAnalysisResult": "coaching_trials.decision.meta",
    "published_trials": "coaching_trials.decision.trials",
    "plot_posterior": "coaching_trials.plots.decision",
    "plot_tornado": "coaching_trials.plots.decision",
    "plot_meta_forest": "coaching_trials.plots.decision",
    "plot_tipping_point": "coaching_trials.plots.tipping",
    "plot_power_curve": "coaching_trials.plots.power",
    # report
    "build_report": "coaching_trials.report.html",
    "ReportResult": "coaching_trials.report.html",
    "release": "coaching_trials.release",
    "Release": "coaching_trials.release",
    "suppress_small_cells": "coaching_trials.report.suppress",
    "export_table": "coaching_trials.report.tables",
    # pipeline
    "run_analysis": "coaching_trials.pipeline",
    "AnalysisRun": "coaching_trials.pipeline",
    "load_config": "coaching_trials.pipeline",
    "ConfigError": "coaching_trials.pipeline",
    # simulate / data
    "simulate_trial": "coaching_trials.simulate.trial",
    "SimulatedTrial": "coaching_trials.simulate.trial",
    "TrialTruth": "coaching_trials.simulate.trial",
    "power": "coaching_trials.simulate.power",
    "PowerResult": "coaching_trials.simulate.power",
    "power_grid": "coaching_trials.simulate.grid",
    "PowerGridResult": "coaching_trials.simulate.grid",
    "sample_size": "coaching_trials.simulate.sample_size",
    "SampleSizeResult": "coaching_trials.simulate.sample_size",
    "run_power_grid": "coaching_trials.simulate.plan",
    "PowerGridRun": "coaching_trials.simulate.plan",
    "load_example": "coaching_trials.datasets",
    "ExampleData": "coaching_trials.datasets",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'coaching_trials' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from coaching_trials._errors import DataValidationError, DataValidationWarning  # noqa: F401
