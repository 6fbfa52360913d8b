"""Shared data for the analysis tests (no app, no database)."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np

from analysis import (
    analyse,
    load_questionnaire,
    poststratify,
    rake,
    read_responses_csv,
)
from analysis._util import factorize

FIXTURES = Path(__file__).parent / "fixtures"
DESIGNS = (
    "unweighted",
    "weighted",
    "equal_weights",
    "stratified",
    "clustered",
    "stratified_clustered",
    "poststratified",
    "raked",
    "lonely_remove",
    "lonely_adjust",
)
MONTH_DESIGNS = ("stratified_clustered", "poststratified", "raked")
CALIBRATED = ("poststratified", "raked")


@cache
def golden_r() -> dict:
    return json.loads((FIXTURES / "golden_r.json").read_text())


@cache
def golden_intervals() -> dict:
    """ANALYSIS.md's presentation intervals evaluated in R (tools/r/make_intervals.R)."""
    return json.loads((FIXTURES / "golden_intervals.json").read_text())


@cache
def golden_responses():
    return read_responses_csv(FIXTURES / "golden_responses.csv", load_questionnaire())


def golden_calibration(name: str):
    """The post-stratification or raking of the golden responses, as make_fixtures.R does it."""
    r = golden_responses()
    if name == "poststratified":
        cells = np.genfromtxt(
            FIXTURES / "golden_cells.csv", delimiter=",", dtype=str, skip_header=1
        )
        cell_labels = np.char.add(
            np.char.add(np.char.strip(cells[:, 0], '"'), "/"), np.char.strip(cells[:, 1], '"')
        )
        totals = cells[:, 2].astype(float)
        row_labels = np.char.add(np.char.add(r.agency, "/"), r.procedure_field)
        order = np.argsort(cell_labels)
        pos = order[np.searchsorted(cell_labels[order], row_labels)]
        assert np.all(cell_labels[pos] == row_labels)
        return poststratify(r.weight, pos, totals)
    if name == "raked":
        margins = np.genfromtxt(
            FIXTURES / "golden_margins.csv", delimiter=",", dtype=str, skip_header=1
        )
        margin = np.char.strip(margins[:, 0], '"')
        level = np.char.strip(margins[:, 1], '"')
        total = margins[:, 2].astype(float)
        codes, totals = [], []
        for name_, column in (("agency", r.agency), ("procedure_field", r.procedure_field)):
            sel = margin == name_
            labels = level[sel]
            c, lab = factorize(column)
            assert list(lab) == sorted(labels.tolist())
            codes.append(c)
            totals.append(total[sel][np.argsort(labels)])
        return rake(r.weight, codes, totals)
    return None


def design_options(name: str) -> tuple[dict, str]:
    """Columns to replace and the lonely-PSU policy for one of make_fixtures.R's designs."""
    r = golden_responses()
    psu = np.char.add(np.char.add(r.stratum, "/"), r.cluster)
    lonely = np.where(psu == psu[r.response_id == "R0161"][0], "S5", r.stratum)
    options = {
        "unweighted": {"weight": None, "stratum": None, "cluster": None},
        "weighted": {"stratum": None, "cluster": None},
        "equal_weights": {"weight": np.full(r.n, 2.5), "stratum": None, "cluster": None},
        "stratified": {"cluster": None},
        "clustered": {"stratum": None, "cluster": psu},
        "stratified_clustered": {},
        "poststratified": {},
        "raked": {},
        "lonely_remove": {"stratum": lonely},
        "lonely_adjust": {"stratum": lonely},
    }[name]
    policy = {"lonely_remove": "remove", "lonely_adjust": "adjust"}.get(name, "fail")
    return options, policy


@cache
def golden_report(name: str, method: str = "beta", by: str = "agency"):
    """analyse() on the golden responses under one of make_fixtures.R's designs."""
    options, policy = design_options(name)
    return analyse(
        replace(golden_responses(), **options),
        calibration=golden_calibration(name),
        method=method,
        lonely_psu=policy,
        by=by,
    )
