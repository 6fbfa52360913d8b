"""Weighted satisfaction indices against the 90% target (docs/ANALYSIS.md).

A library on numpy/scipy arrays, usable from a notebook or the CLI. It never
imports the web application: the questionnaire is read from its JSON file.
Every number agrees with R's survey package (tests/analysis/test_golden.py).

Typical use::

    from analysis import analyse, read_responses_csv
    report = analyse(read_responses_csv("responses.csv"), by="agency_month")
    report.to_dict()  # per group: composite block, "elements", "items" (Q0 first)

Modules:

- :mod:`analysis.data` — :class:`Responses` (columns as arrays), CSV reader,
  reporting months (15th → 14th);
- :mod:`analysis.questionnaire` — item → element map and element weights;
- :mod:`analysis.weights` — base weights, :func:`poststratify` (coverage gaps,
  optional collapsing), :func:`split_cells` (cells split by a further dimension,
  e.g. the return channel, where it is known), :func:`rake` (IPF);
- :mod:`analysis.design` — :class:`Design` (strata, clusters, calibration) and
  Taylor-linearised domain variances and degrees of freedom;
- :mod:`analysis.indices` — item, element and composite indices and their
  linearised scores;
- :mod:`analysis.intervals` — Korn–Graubard with ``n_use = min(n_eff, n_d)``
  for items and Q0 (logit and Wilson with t_df on request), logit-t for the
  composite and elements, Clopper–Pearson at the boundary, the one-sided tests
  each interval inverts, verdicts, NCHS reliability flags, Benjamini–Hochberg;
- :mod:`analysis.report` — :func:`analyse`, the per-group / province report;
- :mod:`analysis.compare` — change since the previous period, funnel limits;
- :mod:`analysis.reliability` — Cronbach's alpha per element;
- :mod:`analysis.quality` — response coverage and data-quality flags.
"""

from .compare import funnel_limits, period_change
from .data import Responses, parse_timestamps, period_month, read_responses_csv
from .design import Design, Grouping
from .indices import PointEstimates, answer_matrix, estimate_indices
from .intervals import (
    ABOVE,
    BELOW,
    INCONCLUSIVE,
    INSUFFICIENT,
    LOW_RELIABILITY,
    benjamini_hochberg,
    beta_bounds,
    beta_tests,
    flag_names,
    infer,
    kg_parameters,
    logit_interval,
    logit_tests,
    wilson_interval,
    wilson_tests,
)
from .quality import (
    counter_distribution_test,
    flag_bursts,
    flag_outside_hours,
    flag_straight_lining,
    flag_too_fast,
    quality_signals,
    response_coverage,
)
from .questionnaire import DEFAULT_QUESTIONNAIRE, Element, Questionnaire, load_questionnaire
from .reliability import cronbach_alpha
from .report import BLOCK_FIELDS, EstimateTable, Report, analyse, estimate_table
from .weights import (
    Calibration,
    CellSplit,
    design_weights,
    kish_n,
    poststratify,
    rake,
    split_cells,
    weighted_totals,
)

__all__ = [
    "ABOVE",
    "BELOW",
    "BLOCK_FIELDS",
    "DEFAULT_QUESTIONNAIRE",
    "INCONCLUSIVE",
    "INSUFFICIENT",
    "LOW_RELIABILITY",
    "Calibration",
    "Design",
    "Element",
    "EstimateTable",
    "Grouping",
    "PointEstimates",
    "Questionnaire",
    "Report",
    "Responses",
    "analyse",
    "answer_matrix",
    "benjamini_hochberg",
    "beta_bounds",
    "beta_tests",
    "counter_distribution_test",
    "cronbach_alpha",
    "design_weights",
    "estimate_indices",
    "estimate_table",
    "flag_bursts",
    "flag_names",
    "flag_outside_hours",
    "flag_straight_lining",
    "flag_too_fast",
    "funnel_limits",
    "infer",
    "kg_parameters",
    "kish_n",
    "load_questionnaire",
    "logit_interval",
    "logit_tests",
    "parse_timestamps",
    "period_change",
    "period_month",
    "poststratify",
    "split_cells",
    "CellSplit",
    "quality_signals",
    "rake",
    "read_responses_csv",
    "response_coverage",
    "weighted_totals",
    "wilson_interval",
    "wilson_tests",
]
