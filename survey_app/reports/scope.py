"""Whose report: the agencies a reader's report holds, and the note that says so.

A province-wide account (administrator or coordinator without an agency, and
every province-wide report reader) reads every agency's rows. Anyone else reads
the rows of their agency's subtree, and the page, the PDF, the XLSX and the
e-mailed summary say so in words, so that a leader never takes a filtered list
("no agency below target") for the province's.
"""

from __future__ import annotations

from .assembly import funnel, visible_rows


def scope_of(user) -> dict | None:
    """The filter on ``user``'s reports: None for the whole province, else
    ``{"agency_id", "agency_name"}`` (both None for an account without an agency,
    whose reports hold no agency at all)."""
    if user.sees_whole_province:
        return None
    agency = user.agency
    return {
        "agency_id": agency.id if agency is not None else None,
        "agency_name": agency.name if agency is not None else None,
    }


def scoped_report(report: dict, user) -> dict:
    """``report`` as ``user`` may read it, for the documents and the e-mail: only the
    agency rows of the user's scope (those without responses too), their funnel, and
    ``scope`` (:func:`scope_of`) naming the filter. The province's own figures stay the
    whole province's.

    :param report: a computed report or a snapshot's results (not modified).
    """
    rows = visible_rows(report, user)
    return dict(
        report,
        agencies=rows,
        agencies_without_responses=visible_rows(report, user, "agencies_without_responses"),
        funnel=funnel(rows) if rows else None,
        scope=scope_of(user),
    )


def scope_note_vi(scope: dict | None, empty: bool = False) -> str:
    """The filter in a Vietnamese sentence, for the PDF, the XLSX and the e-mail
    (which are always Vietnamese); empty for the whole province.

    :param empty: the scope has no agency with responses in the period: say so.
    """
    if not scope:
        return ""
    if scope.get("agency_name") is None:
        return (
            "Báo cáo này không gồm cơ quan nào: tài khoản của bạn không thuộc cơ quan nào "
            "(xin quản trị viên gán cơ quan hoặc vai trò đọc báo cáo toàn tỉnh)."
        )
    note = (
        f"Báo cáo này chỉ gồm các cơ quan thuộc {scope['agency_name']} "
        "(phạm vi tài khoản của bạn). Số liệu toàn tỉnh là của cả tỉnh."
    )
    if empty:
        note += " Trong kỳ này không có cơ quan nào thuộc phạm vi này có phiếu khảo sát."
    return note
