"""Weighting a period's responses to the dossiers the one-stop system handled.

When the dossier volumes are known for the period, responses are
post-stratified to them (:func:`analysis.poststratify`). Only responses that
came through a receipt link know their procedure field, so the cells are
chosen per agency by the rule the analysts' CLI applies too
(:func:`analysis.volumes.agency_level_cells`): when every response of an
agency has a field with a positive volume, its cells are agency × field;
otherwise the agency is one cell with its total volume (the field mix of the
untagged responses is unknown, and splitting the volume would be a guess).
Within an agency, a single cell only rescales the weights, so the agency's
index is unchanged, while the province index then counts each agency in
proportion to the dossiers it handled. If any responding agency has no volume
for the period the report is **not** weighted (a partial weighting would mix
dossier-scaled and response-scaled weights) and the description lists those
agencies. A volume row for month M counts the dossiers of reporting month M,
under whichever month convention is set.
"""

from __future__ import annotations

import numpy as np

import analysis
from analysis.volumes import Volumes, agency_level_cells

from .loading import PeriodData


def weighting(data: PeriodData, volumes: dict[tuple[int, int], int]):
    """Post-stratification to dossier volumes (see the module docstring).

    :return: ``(calibration or None, description dict)``.
    """
    r = data.responses
    by_agency: dict[int, int] = {}
    for (a, _f), v in volumes.items():
        by_agency[a] = by_agency.get(a, 0) + v
    agencies = np.unique(r.agency)
    missing = [int(a) for a in agencies if by_agency.get(int(a), 0) <= 0]
    info = {
        "used": False,
        "method": None,
        "agency_field_cells": 0,
        "agency_cells": 0,
        "agencies_without_volume": missing,
        "coverage_gaps": 0,
    }
    if not volumes or missing or r.n == 0:
        return None, info
    # the rule shared with the CLI (analysis.volumes.agency_level_cells), on the
    # responding agencies' positive volumes
    keys = sorted(k for k, v in volumes.items() if v > 0 and k[0] in set(agencies.tolist()))
    cells = Volumes(
        agency=np.array([a for a, _f in keys], dtype=np.int64),
        procedure_field=np.array([str(f) for _a, f in keys], dtype=str),
        dossiers=np.array([volumes[k] for k in keys], dtype=np.float64),
        line=np.arange(len(keys), dtype=np.int64),
    )
    # the rule only looks at the distinct (agency, field) pairs: applied to those, then
    # mapped back to the responses (string labels for 5,000 pairs, not for 10⁶ responses)
    span = int(max(data.field.max(initial=0), 0)) + 2
    pairs, inverse = np.unique(r.agency * span + data.field + 1, return_inverse=True)
    pair_agency, pair_field = pairs // span, pairs % span - 1
    known = np.where(pair_field >= 0, pair_field.astype(str), "")
    cells, known, merged = agency_level_cells(pair_agency, known, None, cells)
    field = np.where(known == "", -1, pair_field)[inverse.ravel()]
    cell_field = np.array([int(f) if f else -1 for f in cells.procedure_field], dtype=np.int64)
    span = int(max(field.max(initial=0), cell_field.max(initial=0))) + 2
    cell_key = cells.agency * span + cell_field + 1
    order = np.argsort(cell_key)
    pos = np.searchsorted(cell_key[order], r.agency * span + field + 1)
    cell = order[np.minimum(pos, order.size - 1)]
    calibration = analysis.poststratify(np.ones(r.n), cell, cells.dossiers)
    info.update(
        used=True,
        method="poststratify",
        agency_field_cells=int(cells.agency.size - len(merged)),
        agency_cells=len(merged),
        coverage_gaps=int(calibration.coverage_gaps.size),
    )
    return calibration, info
