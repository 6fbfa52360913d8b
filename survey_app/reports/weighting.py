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

**By return channel** (``REPORT_RETURN_CHANNEL_WEIGHTING``, issue 18): when it
is ``cells`` or ``collapse`` and the period has dossier figures by return
channel (counter, online, post), each cell above is split into its return
channels (:func:`analysis.split_cells`) where that is known for everyone: the
cell's figures by channel add up to its total (no figure of the cell is "all
channels") and every respondent in it has a return channel with dossiers
(their own, from an invitation, or the one ``REPORT_RETURN_CHANNEL_OF_SURVEY_
CHANNEL`` assumes for their survey channel). Otherwise the cell stays whole,
as an agency with untagged responses stays one cell. A channel with dossiers
but no respondent is a coverage gap: reported and its dossiers not spread
(``cells``), or spread over the same cell's responding channels (``collapse``,
so the cell keeps its total). Online and postal users, whom counter posters
never reach, then count by their own dossiers instead of being represented
by counter users.
"""

from __future__ import annotations

import numpy as np

import analysis
from analysis.volumes import Volumes, agency_level_cells

from .loading import RETURN_CHANNELS, SURVEY_CHANNELS, PeriodData


def weighting(
    data: PeriodData,
    volumes: dict[tuple[int, int], int],
    channel_volumes: dict[tuple[int, int, str], int] | None = None,
    mode: str = "off",
    assumed: dict[str, str] | None = None,
):
    """Post-stratification to dossier volumes (see the module docstring).

    :param channel_volumes: dossiers per (agency id, field id, return channel or
        ``all``), for ``mode`` ``cells`` or ``collapse``.
    :param assumed: survey channel → return channel for responses without one.
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
        "return_channel": {"mode": mode, "used": False, "split_cells": 0, "whole_cells": 0},
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
    split = None
    if mode in ("cells", "collapse") and channel_volumes:
        split = _split_by_channel(data, cell, cells, cell_field, channel_volumes, assumed or {})
    if split is not None and split.split.any():
        calibration = analysis.poststratify(
            np.ones(r.n), split.cell, split.totals, parent=split.parent, collapse=mode == "collapse"
        )
        info["return_channel"].update(
            used=True,
            split_cells=int(split.split.sum()),
            whole_cells=int((~split.split).sum()),
            collapsed=int(calibration.collapsed.size),
        )
    else:
        calibration = analysis.poststratify(np.ones(r.n), cell, cells.dossiers)
        if split is not None:
            info["return_channel"]["whole_cells"] = int(split.split.size)
    info.update(
        used=True,
        method="poststratify",
        agency_field_cells=int(cells.agency.size - len(merged)),
        agency_cells=len(merged),
        coverage_gaps=int(calibration.coverage_gaps.size),
    )
    return calibration, info


def _split_by_channel(data: PeriodData, cell, cells, cell_field, channel_volumes, assumed):
    """The weighting's cells split by return channel where it is known (see the module
    docstring): :func:`analysis.split_cells` on each cell's dossiers by channel."""
    channels = RETURN_CHANNELS
    # each cell's dossiers by channel: its own field's, or, for an agency kept as one
    # cell (field -1), the sum over the agency's fields; "all" figures leave the cell's
    # channels short of its total, so it stays whole
    index = {
        (int(a), int(f)): k for k, (a, f) in enumerate(zip(cells.agency, cell_field, strict=True))
    }
    by_level = np.zeros((cells.agency.size, len(channels)))
    for (a, f, channel), n in channel_volumes.items():
        if channel not in channels or n <= 0:
            continue
        k = index.get((a, f), index.get((a, -1)))
        if k is not None:
            by_level[k, channels.index(channel)] += n
    level = data.return_channel.astype(np.int64)
    for survey, returned in assumed.items():
        if survey in SURVEY_CHANNELS and returned in channels:
            mine = (level < 0) & (data.survey_channel == SURVEY_CHANNELS.index(survey))
            level = np.where(mine, channels.index(returned), level)
    return analysis.split_cells(cell, level, cells.dossiers, by_level)
