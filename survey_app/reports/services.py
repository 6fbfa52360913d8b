"""Satisfaction reports from the database: the reports package's public operations.

The work is split by responsibility, one module each:

- :mod:`.loading` — a period's responses as arrays, its volumes, the data
  version and fingerprint that say whether a report is still current;
- :mod:`.cache` — the per-process cache of computed reports;
- :mod:`.weighting` — post-stratification to dossier volumes;
- :mod:`.estimates` — the analysis call, the summary a period leaves for the
  next, the change since the previous period, trends;
- :mod:`.assembly` — the report of a period as a JSON-ready dict;
- :mod:`.comments` — citizens' comments, personal data removed;
- :mod:`.publishing` — frozen snapshots and what changed since;
- :mod:`.presentation` — how a report reads on the pages: the one headline,
  reliability in words, names from the questionnaire, periods as people say them.

Views, commands and documents import from here.
"""

from __future__ import annotations

from .assembly import (
    QUALITY_FLAGS,
    agency_row,
    compute_report,
    empty_report,
    funnel,
    visible_rows,
)
from .cache import CACHE_SIZE, forget_cached_reports
from .comments import (
    COMMENT_LIMIT,
    QUARANTINED_COMMENT_LIMIT,
    comments,
    frozen_comments,
    period_comments,
)
from .estimates import HEADLINES, TARGET, headline_setting, period_summary, trend, trends
from .loading import (
    PeriodData,
    agencies_without_responses,
    data_version,
    fingerprint,
    latest_response_at,
    load_period,
    period_volumes,
    quarantine_counts,
    questionnaire,
)
from .publishing import compare, publish, published_snapshots
from .weighting import weighting

__all__ = [
    "CACHE_SIZE",
    "COMMENT_LIMIT",
    "HEADLINES",
    "QUALITY_FLAGS",
    "TARGET",
    "QUARANTINED_COMMENT_LIMIT",
    "PeriodData",
    "agencies_without_responses",
    "agency_row",
    "compare",
    "comments",
    "compute_report",
    "data_version",
    "empty_report",
    "fingerprint",
    "forget_cached_reports",
    "frozen_comments",
    "funnel",
    "headline_setting",
    "latest_response_at",
    "load_period",
    "period_comments",
    "period_summary",
    "period_volumes",
    "publish",
    "quarantine_counts",
    "published_snapshots",
    "questionnaire",
    "trend",
    "trends",
    "visible_rows",
    "weighting",
]
