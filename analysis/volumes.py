"""Dossier volumes as post-stratification totals (ANALYSIS.md, "Weights").

``VOLUMES.csv`` has one row per cell: ``agency, procedure_field, month,
dossiers`` (``procedure_field`` and ``month`` optional: the cells are then
agency × month, agency × field or agency alone). ``month`` is ``YYYY-MM``
and means the *reporting* month of the responses (15th → 14th unless
calendar months are chosen), so an agency-month group is exactly the union
of its cells.

:func:`poststratify_to_volumes` matches responses to cells and calls
:func:`~analysis.weights.poststratify`. Everything that would make the
weights wrong is an :class:`~analysis.data.InputError` with line numbers:
a volume for an agency without responses, a response whose cell has no
volume (or a zero one). A response without a procedure field (or with one
that has no volume) makes its agency (× month) one cell with the sum of its
fields' volumes, exactly as the app's reports do (:func:`agency_level_cells`).
A cell with volume but no response is a coverage gap, reported and not
redistributed unless ``collapse`` is asked for.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._util import factorize, lookup
from .data import InputError, Problems, Responses, period_month
from .weights import Calibration, design_weights, poststratify, split_cells

#: Columns of VOLUMES.csv: required, then optional.
VOLUME_REQUIRED = ("agency", "dossiers")
VOLUME_OPTIONAL = ("procedure_field", "month", "return_channel")
#: Levels of the optional ``return_channel`` column (empty: all channels together).
RETURN_CHANNELS = ("counter", "online", "post")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class Volumes:
    """Dossier volumes per cell.

    :ivar dimensions: ``("agency", ["procedure_field"], ["month"])``.
    :ivar agency, procedure_field: labels per row (``procedure_field`` None when absent).
    :ivar month: ``datetime64[M]`` per row, or None.
    :ivar dossiers: volume per row (float64, ≥ 0).
    :ivar line: line of each row in the file.
    :ivar source: the file's name, for messages.
    :ivar return_channel: per row ``counter``, ``online``, ``post`` or ``""`` (all
        channels), or None: how the dossiers' results went back. Rows of one cell by
        channel are summed into the cell, and split again with ``by_return_channel``.
    """

    agency: np.ndarray
    dossiers: np.ndarray
    line: np.ndarray
    procedure_field: np.ndarray | None = None
    month: np.ndarray | None = None
    source: str = "volumes"
    return_channel: np.ndarray | None = None

    @property
    def dimensions(self) -> tuple[str, ...]:
        dims = ["agency"]
        if self.procedure_field is not None:
            dims.append("procedure_field")
        if self.month is not None:
            dims.append("month")
        return tuple(dims)

    def label(self, row: int) -> dict:
        """The cell of one row as ``{dimension: label}``."""
        out = {"agency": str(self.agency[row])}
        if self.procedure_field is not None:
            out["procedure_field"] = str(self.procedure_field[row])
        if self.month is not None:
            out["month"] = str(self.month[row])
        return out


def read_volumes_csv(path: str | Path, source: str | None = None) -> Volumes:
    """Read and check VOLUMES.csv.

    :raises InputError: with every problem found (unknown or missing
        columns, empty labels, a month that is not ``YYYY-MM``, dossiers that
        are not a whole number ≥ 0, the same cell twice).
    """
    source = source or str(path)
    problems = Problems(source)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(_numbered_rows(csv.reader(f)))
    except UnicodeDecodeError:
        problems.add(None, "not UTF-8 text")
        raise problems.error() from None
    except csv.Error as exc:
        problems.add(None, f"not readable as CSV ({exc})")
        raise problems.error() from None
    if not rows:
        problems.add(None, "the file is empty (expected a header: agency, dossiers…)")
        raise problems.error()
    _, header = rows[0]
    names = [h.strip() for h in header]
    allowed = VOLUME_REQUIRED + VOLUME_OPTIONAL
    for j, name in enumerate(names):
        if name not in allowed:
            problems.add(1, f"unknown column {name!r} (expected {', '.join(allowed)})")
        elif name in names[:j]:
            problems.add(1, f"column {name!r} appears twice")
    for name in VOLUME_REQUIRED:
        if name not in names:
            problems.add(1, f"no {name!r} column")
    if problems:
        raise problems.error()
    col = {name: names.index(name) for name in allowed if name in names}
    agency, pfield, month, dossiers, lines, channel = [], [], [], [], [], []
    seen: dict[tuple, int] = {}
    for line, row in rows[1:]:
        if len(row) != len(names):
            problems.add(line, f"{len(row)} fields, the header has {len(names)}")
            continue
        cells = {name: row[j].strip() for name, j in col.items()}
        ok = True
        if not cells["agency"]:
            problems.add(line, "agency is empty")
            ok = False
        if "procedure_field" in cells and not cells["procedure_field"]:
            problems.add(line, "procedure_field is empty")
            ok = False
        if "month" in cells and not _MONTH.match(cells["month"]):
            problems.add(line, f"month {cells['month']!r} is not YYYY-MM (e.g. 2024-03)")
            ok = False
        if "return_channel" in cells and cells["return_channel"] not in ("", *RETURN_CHANNELS):
            problems.add(
                line,
                f"return_channel {cells['return_channel']!r} is not counter, online, post "
                "or empty (all channels)",
            )
            ok = False
        text = cells["dossiers"]
        if not text.isascii() or not text.lstrip("-").isdigit():
            problems.add(line, f"dossiers {text!r} is not a whole number")
            ok = False
        elif text.startswith("-"):
            problems.add(line, f"dossiers {text} is negative")
            ok = False
        if not ok:
            continue
        key = tuple(
            cells.get(name, "") for name in ("agency", "procedure_field", "month", "return_channel")
        )
        if key in seen:
            problems.add(line, f"the same cell as line {seen[key]} ({_describe(key, col)})")
            continue
        # a figure for all channels and one for a channel of the same cell overlap
        whole = key[:3] + ("",)
        if (
            key[3]
            and whole in seen
            or not key[3]
            and any(key[:3] + (c,) in seen for c in RETURN_CHANNELS)
        ):
            earlier = seen.get(whole) or min(
                seen[key[:3] + (c,)] for c in RETURN_CHANNELS if key[:3] + (c,) in seen
            )
            problems.add(
                line,
                f"a row for all return channels and one for a single channel of the same "
                f"cell count dossiers twice (line {earlier})",
            )
            continue
        seen[key] = line
        agency.append(key[0])
        pfield.append(key[1])
        month.append(key[2])
        dossiers.append(int(text))
        lines.append(line)
        channel.append(key[3])
    problems.raise_if_any()
    return Volumes(
        agency=np.array(agency, dtype=str),
        dossiers=np.array(dossiers, dtype=np.float64),
        line=np.array(lines, dtype=np.int64),
        procedure_field=np.array(pfield, dtype=str) if "procedure_field" in col else None,
        month=np.array(month, dtype="datetime64[M]") if "month" in col else None,
        source=source,
        return_channel=np.array(channel, dtype=str) if "return_channel" in col else None,
    )


def _numbered_rows(reader):
    """``(line, row)`` for every non-blank record (line where the record starts)."""
    start = 1
    for row in reader:
        line, start = start, reader.line_num + 1
        if row and any(cell.strip() for cell in row):
            yield line, row


def _describe(key, col) -> str:
    parts = [f"agency {key[0]}"]
    if "procedure_field" in col:
        parts.append(f"procedure_field {key[1]}")
    if "month" in col:
        parts.append(f"month {key[2]}")
    if "return_channel" in col and key[3]:
        parts.append(f"return_channel {key[3]}")
    return ", ".join(parts)


@dataclass
class VolumeWeighting:
    """Responses post-stratified to dossier volumes.

    :ivar calibration: for :func:`~analysis.report.analyse`.
    :ivar dimensions: what a cell is (``agency``, ``procedure_field``, ``month``).
    :ivar n_cells: cells in the volumes; :ivar responding_cells: those with responses.
    :ivar volume_total: dossiers in all cells.
    :ivar coverage_gaps: cells with volume but no response, as
        ``{agency, procedure_field, month, dossiers, line}`` (their volume is
        not redistributed unless collapsed).
    :ivar collapsed: gap cells whose volume was spread over their agency's
        (agency-month's) responding cells.
    :ivar agency_cells: agencies (× months) weighted as one cell because some
        of their responses have no procedure field with a volume
        (:func:`agency_level_cells`).
    :ivar unanswered_agencies: agencies that handled dossiers but got no
        response at all, as ``{agency, dossiers, lines}``: a coverage gap
        (ANALYSIS.md), reported, their volume not redistributed. Their cells
        are also among ``coverage_gaps``.
    """

    calibration: Calibration
    dimensions: tuple[str, ...]
    n_cells: int
    responding_cells: int
    volume_total: float
    coverage_gaps: list[dict] = field(default_factory=list)
    collapsed: list[dict] = field(default_factory=list)
    agency_cells: list[dict] = field(default_factory=list)
    unanswered_agencies: list[dict] = field(default_factory=list)


def poststratify_to_volumes(
    responses: Responses,
    volumes: Volumes,
    *,
    lines: np.ndarray | None = None,
    source: str = "responses",
    cutoff_day: int | None = 15,
    collapse: bool = False,
    return_channel: np.ndarray | None = None,
    by_return_channel: bool = False,
) -> VolumeWeighting:
    """Post-stratify the responses' base weights to the volumes' cells.

    :param lines: the line of each response in its file, for messages.
    :param source: the responses file's name, for messages.
    :param cutoff_day: the reporting-month convention of ``month`` (None: calendar).
    :param collapse: spread a gap cell's volume over the responding cells of
        the same agency (and month); with ``by_return_channel``, a return channel's
        gap over the same cell's responding channels.
    :param return_channel: per response ``counter``, ``online``, ``post`` or ``""``
        (unknown), for ``by_return_channel``.
    :param by_return_channel: split each cell by the dossiers' return channel where the
        volumes give every dossier's channel and every respondent in it has one
        (:func:`~analysis.weights.split_cells`).
    :raises InputError: responses in a cell without a positive volume (an
        agency, or agency-month, with no volume at all). Volumes of agencies
        without responses are coverage gaps, not errors
        (:attr:`VolumeWeighting.unanswered_agencies`).
    """
    n = responses.n
    lines = np.arange(2, n + 2) if lines is None else np.asarray(lines)
    by_channel = volumes if volumes.return_channel is not None else None
    if by_channel is not None:
        volumes = _without_channels(volumes)
    vproblems = Problems(volumes.source)
    rproblems = Problems(source)

    # an agency that handled dossiers but got no response is a coverage gap:
    # its cells stay in the volumes (poststratify reports them), listed here
    agency = factorize(responses.agency)  # (codes, sorted labels), reused below
    _, found = lookup(agency[1], volumes.agency)
    unanswered = []
    missing = np.flatnonzero(~found)
    if missing.size:
        names, inverse = np.unique(volumes.agency[missing], return_inverse=True)
        inverse = inverse.ravel()
        totals = np.bincount(inverse, volumes.dossiers[missing])
        for k, name in enumerate(names):
            unanswered.append(
                {
                    "agency": str(name),
                    "dossiers": int(totals[k]),
                    "lines": volumes.line[missing[inverse == k]].tolist(),
                }
            )

    labels = [(volumes.agency, responses.agency)]
    usable = np.ones(n, dtype=bool)
    agency_cells: list[dict] = []
    if volumes.procedure_field is not None:
        pf = responses.procedure_field
        if pf is None:
            pf = np.full(n, "", dtype=str)
        if volumes.month is None or responses.submitted_at is not None:
            month = None
            if volumes.month is not None:
                month = period_month(responses.submitted_at, cutoff_day=cutoff_day)
            volumes, pf, agency_cells = agency_level_cells(responses.agency, pf, month, volumes)
            labels = [(volumes.agency, responses.agency)]
        labels.append((volumes.procedure_field, pf))
    if volumes.month is not None:
        if responses.submitted_at is None:
            rproblems.add(None, "no submitted_at column, and the volumes are per month")
            raise InputError(vproblems.messages() + rproblems.messages())
        labels.append((volumes.month, period_month(responses.submitted_at, cutoff_day=cutoff_day)))

    # cell = the volume row: combine the per-dimension codes into one integer key
    vkey = np.zeros(volumes.agency.size, dtype=np.int64)
    rkey = np.zeros(n, dtype=np.int64)
    labelled = np.ones(n, dtype=bool)  # every label of the response occurs in the volumes
    for vlab, rlab in labels:
        uniq = np.unique(vlab)
        vpos, _ = lookup(uniq, vlab)
        codes, seen = agency if rlab is responses.agency else factorize(rlab)
        at, known = lookup(uniq, seen)  # each distinct response label once
        rpos, rfound = at[codes], known[codes]
        labelled &= rfound
        size = uniq.size + 1
        vkey = vkey * size + vpos
        rkey = rkey * size + rpos
    order = np.argsort(vkey)
    pos, hit = lookup(vkey[order], rkey)
    hit &= usable & labelled
    cell = np.where(hit, order[np.minimum(pos, max(order.size - 1, 0))], -1)
    zero = hit & (volumes.dossiers[np.maximum(cell, 0)] <= 0)

    # responses in a cell without a (positive) volume: one message per cell
    no_volume = np.flatnonzero((~hit & usable) | zero)
    if no_volume.size:
        combos = np.stack([np.asarray(r, dtype=str)[no_volume] for _, r in labels], axis=1)
        uniq_combo, first, inverse, counts = np.unique(
            combos, axis=0, return_index=True, return_inverse=True, return_counts=True
        )
        del inverse
        for combo, f, c in zip(uniq_combo, first, counts):
            row = no_volume[f]
            what = ", ".join(
                f"{d} {v}" if v != "" else f"{d} (all: one agency cell)"
                for d, v in zip(volumes.dimensions, combo)
            )
            if zero[row]:
                why = f"its volume is 0 ({volumes.source}, line {volumes.line[cell[row]]})"
            else:
                why = f"{volumes.source} has no volume for it"
            rproblems.add(lines[row], f"{c} response(s) in cell {what} but {why}")
    if vproblems or rproblems:
        raise InputError(
            vproblems.messages() + rproblems.messages(), vproblems.total + rproblems.total
        )

    parent = None
    if collapse:  # the agency (× month) of each cell
        parent_labels = [volumes.agency] + ([volumes.month] if volumes.month is not None else [])
        pkey = np.zeros(volumes.agency.size, dtype=np.int64)
        for lab in parent_labels:
            uniq, code = np.unique(lab, return_inverse=True)
            pkey = pkey * (uniq.size + 1) + code.ravel()
        parent = np.unique(pkey, return_inverse=True)[1].ravel()
    split = None
    if by_return_channel and by_channel is not None:
        level = np.full(n, -1, dtype=np.int64)
        if return_channel is not None:
            labels_ = np.asarray(return_channel, dtype=str)
            for k, name in enumerate(RETURN_CHANNELS):
                level[labels_ == name] = k
        split = split_cells(cell, level, volumes.dossiers, _channel_totals(by_channel, volumes))
    if split is not None and split.split.any():
        calibration = poststratify(
            design_weights(n, responses.weight),
            split.cell,
            split.totals,
            parent=split.parent,
            collapse=collapse,
        )
        row_of, level_of, totals, used = split.parent, split.level, split.totals, split.cell
    else:
        calibration = poststratify(
            design_weights(n, responses.weight),
            cell,
            volumes.dossiers,
            parent=parent,
            collapse=collapse,
        )
        row_of = np.arange(volumes.agency.size)
        level_of = np.full(volumes.agency.size, -1)
        totals, used = volumes.dossiers, cell

    def cells(rows):
        out = []
        for r in rows:
            label = volumes.label(int(row_of[r]))
            if level_of[r] >= 0:
                label["return_channel"] = RETURN_CHANNELS[int(level_of[r])]
            out.append({**label, "dossiers": int(totals[r]), "line": int(volumes.line[row_of[r]])})
        return out

    return VolumeWeighting(
        calibration=calibration,
        dimensions=volumes.dimensions
        + (("return_channel",) if split is not None and split.split.any() else ()),
        n_cells=int(totals.size),
        responding_cells=int(np.unique(used).size),
        volume_total=float(volumes.dossiers.sum()),
        coverage_gaps=cells(calibration.coverage_gaps),
        collapsed=cells(calibration.collapsed),
        agency_cells=agency_cells,
        unanswered_agencies=unanswered,
    )


def _without_channels(volumes: Volumes) -> Volumes:
    """The volumes with each cell's rows by return channel summed into one row (its
    line the first of them)."""
    parts = [volumes.agency]
    if volumes.procedure_field is not None:
        parts.append(volumes.procedure_field)
    if volumes.month is not None:
        parts.append(volumes.month.astype(str))
    key = parts[0].astype(str)
    for part in parts[1:]:
        key = np.char.add(np.char.add(key, "\x1f"), part.astype(str))
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(first)  # the cells in the order of their first row
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    head = first[order]
    return Volumes(
        agency=volumes.agency[head],
        dossiers=np.bincount(rank[inverse], volumes.dossiers, minlength=head.size),
        line=volumes.line[head],
        procedure_field=None if volumes.procedure_field is None else volumes.procedure_field[head],
        month=None if volumes.month is None else volumes.month[head],
        source=volumes.source,
    )


def _channel_totals(by_channel: Volumes, volumes: Volumes) -> np.ndarray:
    """Dossiers per row of ``volumes`` (after :func:`agency_level_cells`: a field ``""``
    is the agency's all fields) and return channel, from the rows of ``by_channel``."""
    sums: dict[tuple, np.ndarray] = {}
    for r in range(by_channel.agency.size):
        channel = str(by_channel.return_channel[r])
        if channel not in RETURN_CHANNELS:
            continue
        month = "" if by_channel.month is None else str(by_channel.month[r])
        field_ = "" if by_channel.procedure_field is None else str(by_channel.procedure_field[r])
        for key in {
            (str(by_channel.agency[r]), field_, month),
            (str(by_channel.agency[r]), "", month),
        }:
            sums.setdefault(key, np.zeros(len(RETURN_CHANNELS)))[
                RETURN_CHANNELS.index(channel)
            ] += by_channel.dossiers[r]
    out = np.zeros((volumes.agency.size, len(RETURN_CHANNELS)))
    for r in range(volumes.agency.size):
        key = (
            str(volumes.agency[r]),
            "" if volumes.procedure_field is None else str(volumes.procedure_field[r]),
            "" if volumes.month is None else str(volumes.month[r]),
        )
        if key in sums:
            out[r] = sums[key]
    return out


def agency_level_cells(
    agency: np.ndarray, procedure_field: np.ndarray, month: np.ndarray | None, volumes: Volumes
) -> tuple[Volumes, np.ndarray, list[dict]]:
    """The one rule for responses whose procedure field is unknown (the app's too).

    Only responses that came through a receipt link know their procedure
    field. Per agency (agency × month when the volumes have months): when
    every response has a field with a positive volume, the cells are agency ×
    field; otherwise the agency is **one cell** with the sum of its fields'
    volumes (splitting it by a guessed field mix would be a guess). A single
    cell only rescales the agency's weights, so its index is the unweighted
    one while the province counts it by its dossiers.

    :param procedure_field: per response, ``""`` when unknown.
    :param month: reporting month per response (when the volumes have months).
    :return: ``(volumes, procedure_field, agency_cells)``: the volumes with the
        field rows of those agencies merged into one row whose field is ``""``
        (its line the first of them), the fields with ``""`` for their
        responses, and the merged cells as ``{agency, [month,] dossiers, lines}``.
    """

    def codes(vlab, rlab):
        _, inverse = np.unique(np.concatenate([vlab, rlab]), return_inverse=True)
        inverse = inverse.ravel().astype(np.int64)
        return inverse[: vlab.size], inverse[vlab.size :], int(inverse.max(initial=0)) + 1

    vg, rg, _ = codes(volumes.agency, agency)
    if month is not None:
        vm, rm, size = codes(volumes.month, month)
        vg, rg = vg * size + vm, rg * size + rm
    vf, rf, size = codes(volumes.procedure_field, procedure_field)
    weighted = np.unique((vg * size + vf)[volumes.dossiers > 0])
    known = np.isin(rg * size + rf, weighted) & (procedure_field != "")
    merge_groups = np.intersect1d(np.unique(rg[~known]), vg)
    if merge_groups.size == 0:
        return volumes, procedure_field, []
    procedure_field = np.where(np.isin(rg, merge_groups), "", procedure_field)
    merged = np.isin(vg, merge_groups)
    rows = np.flatnonzero(merged)
    group, first, inverse = np.unique(vg[rows], return_index=True, return_inverse=True)
    del group
    inverse = inverse.ravel()
    keep = np.flatnonzero(~merged)
    head = rows[first]  # the first row of each merged agency (× month)
    new = Volumes(
        agency=np.concatenate([volumes.agency[keep], volumes.agency[head]]),
        dossiers=np.concatenate(
            [volumes.dossiers[keep], np.bincount(inverse, volumes.dossiers[rows])]
        ),
        line=np.concatenate([volumes.line[keep], volumes.line[head]]),
        procedure_field=np.concatenate(
            [volumes.procedure_field[keep], np.full(head.size, "", dtype=str)]
        ),
        month=None if volumes.month is None else volumes.month[np.concatenate([keep, head])],
        source=volumes.source,
    )
    described = []
    for k, r in enumerate(head):
        cell = {"agency": str(volumes.agency[r])}
        if volumes.month is not None:
            cell["month"] = str(volumes.month[r])
        cell["dossiers"] = int(new.dossiers[keep.size + k])
        cell["lines"] = volumes.line[rows[inverse == k]].tolist()
        described.append(cell)
    return new, procedure_field, described
