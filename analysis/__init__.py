"""Weighted satisfaction indices against the 90% target (ANALYSIS.md).

A library on numpy/scipy arrays, usable from a notebook or the CLI. It never
imports the web application: the questionnaire is read from its JSON file.

Typical use::

    from analysis import read_responses_csv, analyse
    report = analyse(read_responses_csv("responses.csv"), by="agency_month")
    report.to_dict()
"""

from .compare import period_change
from .data import Responses, parse_timestamps, period_month, read_responses_csv
from .design import Design, Grouping
from .indices import PointEstimates, answer_matrix, estimate_indices
from .intervals import (
    ABOVE,
    BELOW,
    INCONCLUSIVE,
    INSUFFICIENT,
    benjamini_hochberg,
    beta_bounds,
    beta_tests,
    flag_names,
    infer,
    kg_parameters,
    logit_interval,
    wilson_interval,
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
from .weights import Calibration, design_weights, kish_n, poststratify, rake, weighted_totals

__all__ = [
    "ABOVE",
    "BELOW",
    "BLOCK_FIELDS",
    "DEFAULT_QUESTIONNAIRE",
    "INCONCLUSIVE",
    "INSUFFICIENT",
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
    "infer",
    "kg_parameters",
    "kish_n",
    "load_questionnaire",
    "logit_interval",
    "parse_timestamps",
    "period_change",
    "period_month",
    "poststratify",
    "quality_signals",
    "rake",
    "read_responses_csv",
    "response_coverage",
    "weighted_totals",
    "wilson_interval",
]
