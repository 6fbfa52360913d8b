"""Response coverage and data-quality signals for the fraud review.

ANALYSIS.md, "Around the index". Every signal is a function returning flags
(boolean arrays per response, or per counter) for a human to review; none of
them removes data from the estimates.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ._util import combine_codes
from .data import VN_UTC_OFFSET_HOURS
from .intervals import benjamini_hochberg


def response_coverage(group: np.ndarray, n_groups: int, dossiers) -> np.ndarray:
    """Responses / dossiers handled, per group (agency, counter…).

    :param group: group code per response.
    :param dossiers: dossiers handled per group (length ``n_groups``).
    :return: coverage per group; NaN where no dossier was handled.
    """
    responses = np.bincount(np.asarray(group, dtype=np.int64), minlength=n_groups)
    dossiers = np.asarray(dossiers, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(dossiers > 0, responses / dossiers, np.nan)


def flag_bursts(
    key: np.ndarray,
    submitted_at: np.ndarray,
    *,
    window_seconds: int = 60,
    max_responses: int = 5,
) -> np.ndarray:
    """Responses in a burst: more than ``max_responses`` from one key within ``window_seconds``.

    A response is flagged when it belongs to some window ``[t − window, t]``
    holding more than ``max_responses`` responses of the same key (a device
    fingerprint, a counter…). Sort + ``searchsorted``; no loop over responses.

    :param key: device or counter label per response.
    :param submitted_at: ``datetime64`` per response (NaT never flagged).
    :return: boolean flag per response.
    """
    key = np.asarray(key)
    t = np.asarray(submitted_at, dtype="datetime64[s]")
    n = t.size
    flags = np.zeros(n, dtype=bool)
    valid = ~np.isnat(t)
    if valid.sum() == 0:
        return flags
    idx = np.flatnonzero(valid)
    _, kc = np.unique(key[idx], return_inverse=True)
    kc = kc.astype(np.int64).ravel()
    secs = t[idx].astype(np.int64)
    secs = secs - secs.min()
    big = int(secs.max()) + window_seconds + 1
    value = kc * big + secs
    order = np.argsort(value, kind="stable")
    v = value[order]
    first = np.searchsorted(v, v - window_seconds, side="left")
    count = np.arange(v.size) - first + 1
    hot = count > max_responses
    # mark every position between first[i] and i for the hot windows
    mark = np.zeros(v.size + 1, dtype=np.int64)
    np.add.at(mark, first[hot], 1)
    np.add.at(mark, np.flatnonzero(hot) + 1, -1)
    in_burst = np.cumsum(mark[:-1]) > 0
    flags[idx[order]] = in_burst
    return flags


def flag_too_fast(
    duration_seconds,
    n_answered,
    *,
    min_seconds: float = 3.0,
    seconds_per_item: float = 1.5,
) -> np.ndarray:
    """Completion times too short to have read the questions.

    Flag when ``duration < min_seconds + seconds_per_item · items answered``
    (defaults: a one-tap answer in under 4.5 s; the full 21 items in under 34.5 s).
    Missing durations (NaN) are not flagged.
    """
    d = np.asarray(duration_seconds, dtype=np.float64)
    k = np.asarray(n_answered, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(d) & (d < min_seconds + seconds_per_item * k)


def flag_straight_lining(answers: np.ndarray, *, min_items: int = 8) -> np.ndarray:
    """The same answer to every item, over at least ``min_items`` answered items.

    :param answers: ``(n, m)`` answers, 0 = missing.
    """
    a = np.asarray(answers)
    answered = a > 0
    n_answered = answered.sum(axis=1)
    high = np.where(answered, a, np.iinfo(np.int16).min).max(axis=1)
    low = np.where(answered, a, np.iinfo(np.int16).max).min(axis=1)
    return (n_answered >= min_items) & (high == low)


def counter_distribution_test(
    agency: np.ndarray,
    counter: np.ndarray,
    values: np.ndarray,
    *,
    n_categories: int = 5,
    min_n: int = 30,
    alpha: float = 0.001,
) -> dict[str, np.ndarray]:
    """Does a counter's answer distribution differ from the rest of its agency? (Pearson χ²)

    For each (agency, counter): the 2 × k table of the counter's answers
    (1…k) against those of the agency's other counters; ``χ² = Σ (O−E)²/E``
    over the answer categories used in the agency, ``df = categories − 1``.
    Tested when the counter has at least ``min_n`` answers and the rest of the
    agency at least one; Benjamini–Hochberg across the tested counters;
    flagged when ``q < alpha``.

    :param values: the answers compared (typically Q0), 0 = missing.
    :return: dict of arrays per (agency, counter) pair: ``agency``, ``counter``
        (labels), ``n``, ``chi2``, ``df``, ``p``, ``q``, ``flag``.
    """
    agency = np.asarray(agency)
    counter = np.asarray(counter)
    values = np.asarray(values).astype(np.int64)
    ok = (values >= 1) & (values <= n_categories)
    a_labels, a_codes = np.unique(agency, return_inverse=True)
    c_labels, c_codes = np.unique(counter, return_inverse=True)
    pair, keys = combine_codes(a_codes.ravel(), c_codes.ravel())
    P = keys.shape[0]
    A = a_labels.size
    k = n_categories
    counts = np.bincount(pair[ok] * k + values[ok] - 1, minlength=P * k).reshape(P, k)
    agency_counts = np.zeros((A, k))
    np.add.at(agency_counts, keys[:, 0], counts)
    rest = agency_counts[keys[:, 0]] - counts
    n_c = counts.sum(axis=1)
    n_r = rest.sum(axis=1)
    col = counts + rest
    total = n_c + n_r
    used = col > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        e_c = n_c[:, None] * col / total[:, None]
        e_r = n_r[:, None] * col / total[:, None]
        chi2 = np.where(used, (counts - e_c) ** 2 / e_c + (rest - e_r) ** 2 / e_r, 0.0).sum(axis=1)
    dof = used.sum(axis=1) - 1
    testable = (n_c >= min_n) & (n_r >= 1) & (dof >= 1)
    p = np.where(testable, stats.chi2.sf(chi2, np.maximum(dof, 1)), np.nan)
    q = benjamini_hochberg(p)
    return {
        "agency": a_labels[keys[:, 0]],
        "counter": c_labels[keys[:, 1]],
        "n": n_c,
        "chi2": np.where(testable, chi2, np.nan),
        "df": dof,
        "p": p,
        "q": q,
        "flag": testable & (q < alpha),
    }


def flag_outside_hours(
    submitted_at: np.ndarray,
    *,
    opening_minute: int = 7 * 60,
    closing_minute: int = 17 * 60,
    open_weekdays=(0, 1, 2, 3, 4),
    holidays=None,
    grace_minutes: int = 30,
    utc_offset_hours: int = VN_UTC_OFFSET_HOURS,
) -> np.ndarray:
    """Responses submitted outside the counters' opening hours (local time).

    A citizen answers right after the transaction, so an answer long after
    closing, on a closed weekday or on a holiday is worth a look.

    :param submitted_at: ``datetime64`` UTC.
    :param opening_minute: opening time, minutes after local midnight (07:00).
    :param closing_minute: closing time (17:00).
    :param open_weekdays: Monday = 0 … Sunday = 6 (add 5 for Saturday counters).
    :param holidays: local dates (``datetime64[D]``) when counters are closed.
    :param grace_minutes: tolerance after closing and before opening.
    :return: boolean flag per response (NaT never flagged).
    """
    t = np.asarray(submitted_at, dtype="datetime64[s]")
    valid = ~np.isnat(t)
    local = t + np.timedelta64(utc_offset_hours, "h")
    day = local.astype("datetime64[D]")
    minute = (local - day).astype(np.int64) // 60
    weekday = (day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    closed_day = ~np.isin(weekday, np.asarray(open_weekdays))
    if holidays is not None:
        closed_day |= np.isin(day, np.asarray(holidays, dtype="datetime64[D]"))
    off_hours = (minute < opening_minute - grace_minutes) | (
        minute > closing_minute + grace_minutes
    )
    return valid & (closed_day | off_hours)


def quality_signals(
    responses, *, device_key: str | None = None, **options
) -> dict[str, np.ndarray]:
    """All per-response signals for a :class:`~analysis.data.Responses` table.

    Uses ``responses.extra["duration_seconds"]`` when present and the burst
    key ``extra[device_key]`` (default: the counter).

    :return: dict of boolean arrays: ``burst``, ``too_fast`` (when durations are
        known), ``straight_lining``, ``outside_hours`` (when timestamps are known).
    """
    out = {}
    answers = np.asarray(responses.answers)
    if responses.submitted_at is not None:
        key = responses.extra.get(device_key) if device_key else responses.counter
        if key is not None:
            out["burst"] = flag_bursts(
                key,
                responses.submitted_at,
                **{k: v for k, v in options.items() if k in ("window_seconds", "max_responses")},
            )
        out["outside_hours"] = flag_outside_hours(
            responses.submitted_at,
            **{
                k: v
                for k, v in options.items()
                if k
                in (
                    "opening_minute",
                    "closing_minute",
                    "open_weekdays",
                    "holidays",
                    "grace_minutes",
                )
            },
        )
    if "duration_seconds" in responses.extra:
        duration = np.asarray(responses.extra["duration_seconds"])
        if duration.dtype.kind in "US":
            duration = np.where(duration == "", "nan", duration)
        out["too_fast"] = flag_too_fast(duration.astype(np.float64), (answers > 0).sum(axis=1))
    out["straight_lining"] = flag_straight_lining(answers)
    return out
