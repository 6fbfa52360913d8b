"""The tables of the report workbook, in Vietnamese, formatted for reading in Excel.

Every sheet: Vietnamese headers (a technical figure's header says what it is:
"Cỡ mẫu hiệu dụng n_eff (…)", at the right of the table), bold, shaded,
wrapped and frozen with the names beside them; shares as numbers formatted
``0.0%`` (Excel shows 87,2% in a Vietnamese locale), counts ``#,##0``, days as
dates and times as local date-times (Excel has no time zones: the service's
time zone, said in the header); column widths fitted to the content, within
bounds. A table of agencies lists those without responses after the others,
and ends with the province.

Written in openpyxl's write-only mode, so widths and panes are set before the
first row; every text cell goes through
:func:`~survey_app.core.spreadsheet.xlsx_row` (never a formula), numbers and
dates are typed cells with their format. Call with the Vietnamese locale
forced (:func:`~.xlsx.report_xlsx` does): reliability notes, names of the
elements and items, and the summary come from :mod:`.presentation` and
:mod:`.summary`.
"""

from __future__ import annotations

from datetime import date

from openpyxl.styles import Alignment

from ..core.spreadsheet import xlsx_row
from . import official, presentation
from .labels import HEADLINE_VI, N_VI, QUALITY_VI, VERDICT_VI
from .summary import summary_sentences
from .wording import period_name, period_title
from .xlsx_cells import (
    BOLD,
    HEADER_ALIGN,
    HEADER_FILL,
    cells,
    local_datetime,
    local_now,
    write_table,
)

NO_RESPONSE = "Không có phiếu trong kỳ"
PROVINCE = "Toàn tỉnh"
TARGET_HEAD = "Kết luận so với mục tiêu"
TECH = {
    "n_eff": "Cỡ mẫu hiệu dụng n_eff (số phiếu độc lập tương đương sau gia quyền)",
    "n_use": "Cỡ mẫu dùng cho khoảng tin cậy n_use (n_eff, không quá số người trả lời)",
    "df": "Bậc tự do df (theo thiết kế mẫu; càng nhỏ khoảng tin cậy càng rộng)",
    "deff": "Hệ số thiết kế deff (phương sai so với mẫu ngẫu nhiên đơn giản cùng cỡ)",
    "se": "Sai số chuẩn SE",
}


def _yes(flag) -> str | None:
    return None if flag is None else ("có" if flag else "không")


def _notes(b: dict | None) -> str | None:
    notes = presentation.reliability_notes(b)
    return "; ".join(notes) if notes else None


def _verdict(b: dict, min_n: int | None) -> str | None:
    if not b:
        return None
    text = VERDICT_VI.get(b.get("verdict"), "—")
    reason = presentation.insufficient_reason(b, min_n)
    return f"{text} ({reason})" if reason else text


# -- the sheets -------------------------------------------------------------------------


def summary_sheet(wb, report: dict) -> None:
    """The sheet "Tóm tắt": what the report is, the summary in sentences, the province's figures."""
    headline = presentation.headline_of(report)
    other = presentation.explanation_of(report)
    who = official.issuer()
    window = report["window"]
    rows: list[tuple[str, object, str]] = []
    if official.scope_line(report):  # a reader's scope first: the figures below are filtered
        rows.append(("Phạm vi", official.scope_line(report), "text"))
    rows += [
        (
            "Báo cáo",
            f"{official.SUBJECT}, {period_title(report['period'], report.get('calendar_months'))}",
            "text",
        ),
        ("Cơ quan lập báo cáo", f"{who.name} — {who.parent}".strip(" —"), "text"),
    ]
    rows += [
        ("Kỳ báo cáo", period_name(report["period"]), "text"),
        ("Số liệu từ ngày", date.fromisoformat(window["first_day"]), "date"),
        ("Đến hết ngày", date.fromisoformat(window["last_day"]), "date"),
        ("Lập lúc (giờ Việt Nam)", local_now(), "datetime"),
    ]
    if report.get("snapshot_published_at"):
        rows.append(
            (
                "Số liệu đã công bố lúc (giờ Việt Nam)",
                local_datetime(report["snapshot_published_at"]),
                "datetime",
            )
        )
    rows.append(("Chỉ tiêu chính (mang kết luận)", HEADLINE_VI[headline], "text"))
    for k, sentence in enumerate(summary_sentences(report)):
        rows.append(("Tóm tắt" if k == 0 else "", sentence, "text"))
    prov = report.get("province")
    if prov and not report.get("empty"):
        main, explain = presentation.block_of(prov, headline), presentation.block_of(prov, other)
        rows += [
            (f"{HEADLINE_VI[headline]} toàn tỉnh", main.get("index"), "pct"),
            ("Cận dưới (khoảng tin cậy 95 %)", main.get("ci_low"), "pct"),
            ("Cận trên (khoảng tin cậy 95 %)", main.get("ci_high"), "pct"),
            (f"{TARGET_HEAD} {_target(report)}", _verdict(main, report.get("min_n")), "text"),
            (N_VI[headline], main.get("n"), "int"),
            (f"{HEADLINE_VI[other]} toàn tỉnh (giải thích)", explain.get("index"), "pct"),
            (N_VI[other], explain.get("n"), "int"),
        ]
    weighting = report.get("weighting") or {}
    rows += [
        ("Mục tiêu", report.get("target"), "pct"),
        ("Số phiếu", report.get("n_responses") or 0, "int"),
        ("Số hồ sơ đã giải quyết", (report.get("coverage") or {}).get("dossiers") or 0, "int"),
        (
            "Gia quyền theo số hồ sơ",
            "có (hậu phân tầng)" if weighting.get("used") else "không",
            "text",
        ),
        ("Tối thiểu để kết luận", f"{report.get('min_n') or 10} người trả lời", "text"),
        ("Phiên bản bộ câu hỏi", report.get("questionnaire") or "", "text"),
    ]
    ws = wb.create_sheet("Tóm tắt")
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 110
    ws.freeze_panes = "A2"
    ws.append(
        xlsx_row(ws, ["Mục", "Nội dung"], font=BOLD, fill=HEADER_FILL, alignment=HEADER_ALIGN)
    )
    left = Alignment(wrap_text=True, vertical="top", horizontal="left")
    for label, value, kind in rows:
        ws.append(cells(ws, [label, value], ["text", kind], alignment=left))


def _target(report: dict) -> str:
    return f"{round(100 * (report.get('target') or 0.9))} %"


def _block_cells(b: dict | None, min_n, with_verdict: bool = True) -> list:
    b = b or {}
    values = [b.get("n"), b.get("index"), b.get("ci_low"), b.get("ci_high")]
    if with_verdict:
        values.append(_verdict(b, min_n) if b else None)
    return values + [_notes(b)]


def _tech(b: dict | None) -> list:
    b = b or {}
    return [b.get("n_eff"), b.get("n_use"), b.get("df"), b.get("deff"), b.get("se")]


TECH_COLUMNS = [
    (TECH["n_eff"], "num"),
    (TECH["n_use"], "num"),
    (TECH["df"], "int"),
    (TECH["deff"], "num2"),
    (TECH["se"], "pct2"),
]


def agencies_sheet(wb, report: dict, rows: list[dict], quiet: list[dict]) -> None:
    """The sheet "Cơ quan": the headline (with its one verdict), the explanation, coverage, then the
    technical figures of the headline; agencies without responses; the province."""
    headline, other = presentation.headline_of(report), presentation.explanation_of(report)
    min_n = report.get("min_n")
    columns = [
        ("Mã cơ quan", "text"),
        ("Cơ quan", "text"),
        (N_VI[headline], "int"),
        (HEADLINE_VI[headline], "pct"),
        ("Cận dưới (khoảng tin cậy 95 %)", "pct"),
        ("Cận trên (khoảng tin cậy 95 %)", "pct"),
        (f"{TARGET_HEAD} {_target(report)}", "text"),
        ("Độ tin cậy thấp (lý do)", "text"),
        ("Thay đổi so với kỳ trước (điểm phần trăm)", "points"),
        ("Thay đổi rõ rệt (lớn hơn mức ngẫu nhiên)", "text"),
        (N_VI[other], "int"),
        (f"{HEADLINE_VI[other]} (giải thích)", "pct"),
        ("Cận dưới (giải thích)", "pct"),
        ("Cận trên (giải thích)", "pct"),
        ("Độ tin cậy thấp của chỉ tiêu giải thích (lý do)", "text"),
        ("Số phiếu", "int"),
        ("Số hồ sơ đã giải quyết", "int"),
        ("Tỷ lệ phiếu trên hồ sơ", "pct"),
        *TECH_COLUMNS,
    ]

    def line(code, name, b, e, responses, dossiers, coverage):
        change = (b or {}).get("change") or {}
        difference = change.get("difference")
        main = _block_cells(b, min_n)
        return [
            code,
            name,
            *main[:6],
            None if difference is None else round(100 * difference, 4),
            _yes(change.get("significant")) if difference is not None else None,
            *_block_cells(e, min_n, with_verdict=False),
            responses,
            dossiers,
            coverage,
            *_tech(b),
        ]

    body = [
        line(
            r["code"],
            r["name"],
            presentation.block_of(r, headline),
            presentation.block_of(r, other),
            r.get("responses"),
            r.get("dossiers"),
            None if r.get("coverage") is None else float(r["coverage"]),
        )
        for r in rows
    ]
    for r in quiet:
        empty = [None] * len(columns)
        empty[0:3] = [r["code"], r["name"], 0]
        empty[6] = NO_RESPONSE
        empty[15:18] = [0, r.get("dossiers") or 0, 0.0 if r.get("dossiers") else None]
        body.append(empty)
    prov = report.get("province")
    totals = 0
    if prov:
        dossiers = (report.get("coverage") or {}).get("dossiers") or 0
        responses = report.get("n_responses") or 0
        body.append(
            line(
                "",
                PROVINCE,
                presentation.block_of(prov, headline),
                presentation.block_of(prov, other),
                responses,
                dossiers,
                responses / dossiers if dossiers else None,
            )
        )
        totals = 1
    write_table(wb, "Cơ quan", columns, body, totals=totals)


def elements_sheet(wb, report: dict, rows: list[dict]) -> None:
    """The sheet "Yếu tố": each agency's five elements by name (no verdict: they explain), with
    Cronbach's alpha explained, then the province's."""
    min_n = report.get("min_n")
    columns = [
        ("Mã cơ quan", "text"),
        ("Cơ quan", "text"),
        ("Yếu tố", "text"),
        ("Số người trả lời các câu của yếu tố", "int"),
        ("Chỉ số yếu tố", "pct"),
        ("Cận dưới (khoảng tin cậy 95 %)", "pct"),
        ("Cận trên (khoảng tin cậy 95 %)", "pct"),
        ("Độ tin cậy thấp (lý do)", "text"),
        ("Mã yếu tố", "text"),
        ("Hệ số Cronbach alpha (các câu của yếu tố nhất quán đến đâu, 0–1; từ 0,7 là tốt)", "num2"),
        *TECH_COLUMNS[:3],
    ]
    prov = report.get("province") or {}
    blocks = [(r["code"], r["name"], r, r.get("alpha") or {}) for r in rows]
    if prov:
        blocks.append(("", PROVINCE, prov, prov.get("alpha") or {}))
    body = [
        [
            code,
            name,
            presentation.element_name(report, e),
            *_block_cells(b, min_n, with_verdict=False),
            e,
            alpha.get(e),
            *_tech(b)[:3],
        ]
        for code, name, row, alpha in blocks
        for e, b in (row.get("elements") or {}).items()
    ]
    totals = len(prov.get("elements") or {}) if prov else 0
    write_table(wb, "Yếu tố", columns, body, totals=totals)


def items_sheet(wb, report: dict, rows: list[dict]) -> None:
    """The sheet "Câu hỏi": each question by its text, under its element, then the province's."""
    min_n = report.get("min_n")
    element_of = {
        item: presentation.element_name(report, e)
        for e, items in presentation.names(report)["members"].items()
        for item in items
    }
    columns = [
        ("Mã cơ quan", "text"),
        ("Cơ quan", "text"),
        ("Yếu tố", "text"),
        ("Câu hỏi", "text"),
        ("Số người trả lời câu hỏi (trừ “Không áp dụng”)", "int"),
        ("Tỷ lệ hài lòng", "pct"),
        ("Cận dưới (khoảng tin cậy 95 %)", "pct"),
        ("Cận trên (khoảng tin cậy 95 %)", "pct"),
        ("Độ tin cậy thấp (lý do)", "text"),
        ("Mã câu hỏi", "text"),
        *TECH_COLUMNS[:3],
    ]
    prov = report.get("province") or {}
    owners = [(r["code"], r["name"], r) for r in rows] + ([("", PROVINCE, prov)] if prov else [])
    body = [
        [
            code,
            name,
            element_of.get(i, "Hài lòng chung"),
            presentation.item_name(report, i),
            *_block_cells(b, min_n, with_verdict=False),
            i,
            *_tech(b)[:3],
        ]
        for code, name, row in owners
        for i, b in (row.get("items") or {}).items()
    ]
    totals = len(prov.get("items") or {}) if prov else 0
    write_table(wb, "Câu hỏi", columns, body, totals=totals, widths={3: 60})


def coverage_sheet(wb, report: dict, rows: list[dict], quiet: list[dict]) -> None:
    """The sheet "Độ bao phủ": responses per dossier handled, agencies without responses included."""
    body = [
        [r["code"], r["name"], r.get("responses"), r.get("dossiers"), r.get("coverage")]
        for r in rows
    ] + [
        [r["code"], r["name"], 0, r.get("dossiers") or 0, 0.0 if r.get("dossiers") else None]
        for r in quiet
    ]
    body = [row[:4] + [None if row[4] is None else float(row[4])] for row in body]
    responses = sum(row[2] or 0 for row in body)
    dossiers = sum(row[3] or 0 for row in body)
    body.append(["", "Cộng", responses, dossiers, responses / dossiers if dossiers else None])
    write_table(
        wb,
        "Độ bao phủ",
        [
            ("Mã cơ quan", "text"),
            ("Cơ quan", "text"),
            ("Số phiếu", "int"),
            ("Số hồ sơ đã giải quyết", "int"),
            ("Tỷ lệ phiếu trên hồ sơ", "pct"),
        ],
        body,
        totals=1,
    )


def quality_sheet(wb, rows: list[dict]) -> None:
    """The sheet "Chất lượng dữ liệu": the responses each signal flags, per agency."""
    write_table(
        wb,
        "Chất lượng dữ liệu",
        [("Mã cơ quan", "text"), ("Cơ quan", "text"), ("Số phiếu", "int")]
        + [(f"Số phiếu: {label.lower()}", "int") for label in QUALITY_VI.values()],
        [
            [
                r["code"],
                r["name"],
                r.get("responses"),
                *(r["quality"].get(k, 0) for k in QUALITY_VI),
            ]
            for r in rows
        ],
    )


def counters_sheet(wb, report: dict, rows: list[dict]) -> None:
    """The sheet "Quầy": each counter's headline figure and its explanation (no verdicts)."""
    headline, other = presentation.headline_of(report), presentation.explanation_of(report)
    min_n = report.get("min_n")
    write_table(
        wb,
        "Quầy",
        [
            ("Mã cơ quan", "text"),
            ("Cơ quan", "text"),
            ("Quầy", "text"),
            (N_VI[headline], "int"),
            (HEADLINE_VI[headline], "pct"),
            ("Cận dưới (khoảng tin cậy 95 %)", "pct"),
            ("Cận trên (khoảng tin cậy 95 %)", "pct"),
            ("Độ tin cậy thấp (lý do)", "text"),
            (N_VI[other], "int"),
            (f"{HEADLINE_VI[other]} (giải thích)", "pct"),
        ],
        [
            [
                r["code"],
                r["name"],
                c["name"],
                *_block_cells(presentation.block_of(c, headline), min_n, with_verdict=False),
                presentation.block_of(c, other).get("n"),
                presentation.block_of(c, other).get("index"),
            ]
            for r in rows
            for c in r.get("counters") or []
        ],
        freeze="D2",
    )
