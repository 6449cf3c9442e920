"""The pre-specified analysis pipeline: one config file in; tables, figures, report, manifest out.

A trial's analysis plan is written down once as a TOML file (or a dict of the same shape) and
run end to end by :func:`run_analysis`: read the data, check it, score the instruments, build
the :class:`~coaching_trials.DelayedInterventionTrial`, and write the flow, Table 1, the
randomized comparison, the non-randomized estimands, responder analyses and reliability as CSV
tables, plus figures, the HTML report and ``manifest.json``. The same config gives the same
bytes: nothing written depends on the time, the output folder or the machine's load.

The config schema
-----------------
Every section and key is checked before anything is computed; an unknown key is an error that
names the key and the allowed ones, and all problems are reported at once
(:class:`ConfigError`), a reader's option given under another reader among them. Relative
paths resolve against the folder of the config file; ``manifest.json`` holds the SHA-256 of
every input file (responses, data dictionary, each wave's export, participants).

.. code-block:: toml

    schema_version = 1                   # optional

    [data]
    reader = "survey"                    # optional: "survey" (default) | "redcap" | "qualtrics"
    responses = "responses.csv"          # long: one row per participant x wave; csv, tsv,
                                         # xlsx, parquet, sav, dta (coaching_trials.read_survey)
    # example = "delayed_intervention"   # ... or the shipped synthetic example instead
    participants = "participants.csv"    # optional: one row per randomized participant
                                         # (read as a survey file under every reader)
    sheet_name = "Data"                  # optional, Excel only; default: the first sheet
                                         # that holds a table (detected and reported)
    encoding = "cp1252"                  # optional, text files; default detected
    sep = ";"                            # optional, text files; default detected
    decimal = ","                        # optional, text files; default detected
    skiprows = 1                         # optional: rows above the header; default detected
                                         # (these five apply to files read as surveys: the
                                         # responses with reader = "survey" and a participants
                                         # file; `encoding` also to Qualtrics exports)

    [data.missing_codes]                 # optional: declared missing-value codes -> reason;
    "N/A" = "not applicable"             # nothing else is missing but a blank cell (numeric
    "99" = "refused"                     # keys match numbers too: "99" matches 99 and 99.0)

    [data.items]                         # optional: item names by pattern, per instrument;
    pfi = "pfi_{n}"                      # {n} = the item's position (1 = first), or a regex

    [data.columns]                       # your names of the design columns; they are renamed
    subject = "participant_id"           # to participant_id, arm and wave (the package's
    arm = "arm"                          # names) in both files and in every output
    wave = "wave"

    [data.rename]                        # optional: any other column -> the package's name
    "Q1" = "pfi_01"

    # --- reader = "redcap": a REDCap CSV export (coaching_trials.read_redcap) ---------------
    # reader = "redcap"
    # responses = "export.csv"           # the export, raw or labelled
    # dictionary = "dictionary.csv"      # optional: the project's data dictionary; a
    #                                    # labelled export needs it, a raw one is checked by it
    # record_id = "record_id"            # the record id field, renamed to data.columns.subject
    # values = "auto"                    # "auto" | "labels" | "raw": choice labels or codes
    # repeating = "drop"                 # "drop" | "keep" | "only": repeating-instrument rows
    #                                    # (dropped rows are counted in the audit)
    # checkboxes = "bool"                # "bool" | "raw": the field___code columns
    # missing_codes = "UNK, Unknown"     # REDCap's missing data codes pasted as text, or the
    #                                    # [data.missing_codes] table
    # [data.events]                      # unique event name -> wave; false drops the event
    # baseline_arm_1 = "baseline"        # (counted in the audit); default: the event name
    # screening_arm_1 = false            # without its _arm_N suffix
    # [data.rename]                      # a labelled export's own columns: entries onto
    # "Event Name" = "redcap_event_name" # redcap_* names are applied before reading
    #                                    # the arm is a field (data.columns.arm) on every row

    # --- reader = "qualtrics": one Qualtrics CSV export per wave (read_qualtrics) ---------
    # reader = "qualtrics"
    # subject_from = "ExternalReference" # the column holding the participant id
    # [data.waves]                       # wave -> export, stacked in this order; previews,
    # baseline = "baseline.csv"          # tests and spam are dropped and counted in the
    # month3 = "month3.csv"              # audit (step read_qualtrics:waves.<wave>)
    #                                    # the arm: an embedded-data column (data.columns.arm)

    [design]                             # required unless `example` is used
    immediate = "immediate"
    delayed = "delayed"
    baseline_wave = "baseline"
    endpoint_wave = "month3"
    followup_waves = ["month6"]          # optional
    planned_sessions = 6                 # optional: participants' `sessions_attended` above
                                         # this are warned about and counted in the audit

    [[instruments]]                      # one table per instrument to score
    id = "pfi"
    metric = "mean"                      # optional: the instrument's default metric
    min_answered = 5                     # optional: int, or {subscale = k}

    [analysis]
    outcomes = ["pfi_burnout", "pfi_pf"] # default: every score of the instruments
    primary = "pfi_burnout"              # default: the first outcome; listed first; keeps
                                         # its raw p, the others are adjusted together
    method = "ancova"                    # "ancova" | "change" | "mmrm"
    adjust = "holm"                      # holm, hochberg, bh, bonferroni, fixed_sequence, none
    covariates = []
    conf_level = 0.95
    nonrandomized = true                 # default: true when there are follow-up waves
    seed = 2024                          # the bootstrap of the reliability intervals
    reliability = true                   # alpha and omega per subscale and wave
    n_boot = 1000                        # bootstrap resamples per omega interval

    [[analysis.responders]]              # optional, any number
    outcome = "pfi_burnout"
    cutpoint = [1.33]                    # a number or a list; on the outcome's metric
    direction = ">="                     # ">=", ">", "<=", "<"
    event_is = "bad"                     # optional: from the subscale's higher_is

    [report]
    title = "Coaching trial"
    min_cell = 5                         # cells with fewer participants are suppressed
    figures = true                       # PNG figures in figures/
    html = true                          # the self-contained report.html

Examples
--------
>>> from coaching_trials.pipeline import load_config
>>> config = load_config({"data": {"example": "delayed_intervention"},
...                       "instruments": [{"id": "pfi"}],
...                       "analysis": {"primary": "pfi_burnout"}})
>>> config["analysis"]["outcomes"]
['pfi_burnout', 'pfi_pf', 'pfi_we', 'pfi_id']
>>> config["design"]["endpoint_wave"]
'month3'
>>> load_config({"analysis": {"metod": "ancova"}, "data": {"example": "delayed_intervention"},
...              "instruments": [{"id": "pfi"}]})
Traceback (most recent call last):
...
coaching_trials.pipeline.ConfigError: 1 problem(s) in the config (dict):
  - unknown key `analysis.metod`; allowed keys in [analysis]: adjust, baseline_variables, ...
"""

from __future__ import annotations

__all__ = [
    "AnalysisRun",
    "ConfigError",
    "DEFAULT_SEED",
    "check_table_path",
    "load_config",
    "run_analysis",
    "summarize_scores",
    "write_table",
]
from coaching_trials.pipeline._config import _apply_overrides as _apply_overrides
from coaching_trials.pipeline._config import load_config
from coaching_trials.pipeline._run import AnalysisRun, run_analysis
from coaching_trials.pipeline._schema import DEFAULT_SEED, ConfigError
from coaching_trials.pipeline._schema import FLOAT_DIGITS as FLOAT_DIGITS
from coaching_trials.pipeline._schema import KEYS as KEYS
from coaching_trials.pipeline._schema import SCHEMA as SCHEMA
from coaching_trials.pipeline._schema import SCHEMA_VERSION as SCHEMA_VERSION
from coaching_trials.pipeline._tables import TABLE_SUFFIXES as TABLE_SUFFIXES
from coaching_trials.pipeline._tables import check_table_path, summarize_scores, write_table

# The error names where users import it from (messages and tracebacks print this name).
ConfigError.__module__ = __name__
