"""The report as documents for leaders: a PDF (:mod:`.pdf`) and an XLSX (:mod:`.xlsx`).

Both are always Vietnamese and carry the report page's two charts.
"""

from __future__ import annotations

from .pdf import report_pdf
from .xlsx import report_xlsx

__all__ = ["report_pdf", "report_xlsx"]
