"""Each response's answers to the questionnaire, packed into integers by the database.

A period's answer rows (about five per response) are not fetched one by one:
one grouped query over the ``answers`` table returns one row per response that
has any, its answers packed 3 bits to an item, 21 items to a 64-bit integer
(``SUM(value · 8^k)``, ``k`` the item's place in its pack: the primary key
``(response_id, item_code)`` adds each item at most once, so the sum never
carries). The rows are read in primary-key order over the period's range of
response ids, which both databases do as one index range scan (by the period's
own ids when other responses' lie between them); a correlated subquery per
response (the form before December 2026) cost twice as much.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import BigInteger, case, cast, func, literal_column, select

from ..surveys.models import Answer, Response

#: 3 bits per item (values 1–5, 0 when missing), 21 items to a 64-bit integer.
PACK_BITS, PACK_ITEMS = 3, 21


def _pack_sums(codes: tuple[str, ...]) -> list:
    """One ``SUM`` per 21 items (after Q0, which lives on the response)."""
    items = codes[1:]
    sums = []
    for first in range(0, len(items), PACK_ITEMS):
        chunk = items[first : first + PACK_ITEMS]
        column = case(
            {
                code: cast(Answer.value, BigInteger) * literal_column(str(1 << (PACK_BITS * k)))
                for k, code in enumerate(chunk)
            },
            value=Answer.item_code,
            else_=0,
        )
        # answers "not applicable" (NULL) and item codes of no column add nothing
        sums.append(func.coalesce(cast(func.sum(column), BigInteger), 0))
    return sums


def packed_answers_query(codes: tuple[str, ...], ids: np.ndarray, window) -> tuple:
    """The statement and row type that pack the answers of the responses ``ids``.

    :param ids: the period's response ids, ascending (not empty).
    :param window: the filter that selected them (:func:`.loading.window_filter`).
        It replaces the range when the period's ids are interleaved with other
        responses' (more than twice as many ids in their range as responses:
        one agency's, or after an import of old data): the database then looks
        up the answers of the period's responses only, by their ids.
    :return: ``(statement, dtype)`` for :func:`.loading._arrays`; rows ``id``,
        ``pack0``, ``pack1``, … in ascending id.
    """
    sums = _pack_sums(codes)
    low, high = int(ids[0]), int(ids[-1])
    statement = select(Answer.response_id, *sums)
    if high - low + 1 > 2 * ids.size:
        statement = statement.where(Answer.response_id.in_(select(Response.id).where(window)))
    else:
        statement = statement.where(Answer.response_id.between(low, high))
    statement = statement.group_by(Answer.response_id).order_by(Answer.response_id)
    dtype = [("id", "i8")] + [(f"pack{k}", "i8") for k in range(len(sums))]
    return statement, dtype


def unpack_into(answers: np.ndarray, ids: np.ndarray, packed: np.ndarray) -> None:
    """Write ``packed`` rows (:func:`packed_answers_query`) into ``answers``' item
    columns (1…), at the rows of their response in ``ids``; other rows stay 0."""
    n = ids.size
    at = np.searchsorted(ids, packed["id"])
    ours = at < n
    ours[ours] = ids[at[ours]] == packed["id"][ours]  # the period's responses only
    at = at[ours]
    mask = (1 << PACK_BITS) - 1
    for k in range(len(packed.dtype.names) - 1):
        pack = packed[f"pack{k}"][ours]
        first = 1 + k * PACK_ITEMS
        for j in range(min(PACK_ITEMS, answers.shape[1] - first)):
            answers[at, first + j] = (pack >> (PACK_BITS * j)) & mask
