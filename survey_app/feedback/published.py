"""Published answers: what the public sees of a case, and the public search over them.

A case is published only with a question as published (``public_summary``) that
staff wrote or confirmed and that holds no personal data
(:func:`publication_problem`). On publication the answer is kept redacted
(``public_answer``) and the folded words of the procedure, the question and the
answer are kept for the search (``search_text``); public pages and Open311 show
only those, never the citizen's own text.

The search is bounded (characters, words), rate-limited by the view, served by
a full-text index on PostgreSQL (a few bounded LIKEs on SQLite), and its
statements are cut off after ``SEARCH_TIMEOUT_MS``.
"""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    literal,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from ..agencies.services import fold
from ..core.redact import contains_personal_data, redact
from ..extensions import db
from .models import CaseState, FeedbackCase

#: States whose answer is public.
PUBLISHED_STATES = (CaseState.published, CaseState.closed)
#: Bounds of a public search: longer or wordier queries are refused with a 400.
MAX_QUERY_CHARS = 100
MAX_QUERY_WORDS = 8

_TOKEN = re.compile(r"[0-9a-z]+")
_SIMPLE = literal_column("'simple'::regconfig")
#: SQLSTATE of a statement cancelled by statement_timeout (query_canceled).
_QUERY_CANCELED = "57014"


class SearchError(ValueError):
    """The query is longer or wordier than a search allows; the message says so."""


def words_of(value: str | None) -> list[str]:
    """The folded words of ``value`` (letters and digits; no diacritics, lower case)."""
    return _TOKEN.findall(fold(value or ""))


def search_words(query: str) -> list[str]:
    """The distinct folded words of a public search query, in order.

    :param query: what the visitor typed.
    :return: up to :data:`MAX_QUERY_WORDS` words ([] for an empty query).
    :raises SearchError: more than :data:`MAX_QUERY_CHARS` characters or
        :data:`MAX_QUERY_WORDS` words.
    """
    words = list(dict.fromkeys(words_of(query)))
    if len(query) > MAX_QUERY_CHARS or len(words) > MAX_QUERY_WORDS:
        raise SearchError(
            str(
                _l(
                    "Search with at most %(words)d words and %(chars)d characters.",
                    words=MAX_QUERY_WORDS,
                    chars=MAX_QUERY_CHARS,
                )
            )
        )
    return words


def search_document(case: FeedbackCase) -> str:
    """What the search finds a published case by: the folded, distinct words of its
    procedure (code and name), its question as published and its published answer."""
    parts = [case.public_summary, case.public_answer]
    if case.procedure is not None:
        parts[:0] = [case.procedure.code, case.procedure.name]
    return " ".join(dict.fromkeys(w for part in parts for w in words_of(part)))


def publication_problem(case: FeedbackCase) -> str | None:
    """Why ``case`` cannot be published yet (None when it can).

    Publishing needs a question as published (``public_summary``) that staff
    confirmed, and in which the redaction service finds no personal data.
    """
    if not (case.public_summary or "").strip() or case.public_summary_confirmed_at is None:
        return str(
            _l(
                "Before publishing, write the question as published (the citizen's question "
                "without personal data) in the answer form and confirm it."
            )
        )
    if contains_personal_data(case.public_summary):
        return str(
            _l(
                "The question as published still contains personal data (a phone number, an "
                "e-mail address, an ID number or a name): correct it in the answer form."
            )
        )
    return None


def publish(case: FeedbackCase) -> None:
    """Keep what the public sees of ``case``: the answer redacted, and its search words."""
    case.public_answer = redact(case.answer) or None
    case.search_text = search_document(case)


def unpublish(case: FeedbackCase) -> None:
    """The case is no longer public (reopened): forget its public answer and search words."""
    case.public_answer = None
    case.search_text = None


def search_condition(words: list[str]) -> ColumnElement[bool]:
    """A filter on published cases containing every word (as a word's beginning).

    PostgreSQL: the full-text index ``ix_feedback_cases_search`` (prefix
    queries). SQLite: one LIKE per word over the space-separated words.
    """
    if not words:
        return true()
    if db.session.get_bind().dialect.name == "postgresql":
        # the words are [0-9a-z]+ only: nothing in them is tsquery syntax
        query = " & ".join(f"{w}:*" for w in words)
        return and_(
            FeedbackCase.search_text.is_not(None),
            func.to_tsvector(_SIMPLE, FeedbackCase.search_text).op("@@")(
                func.to_tsquery(_SIMPLE, query)
            ),
        )
    document = literal(" ") + FeedbackCase.search_text
    return and_(*(document.like(f"% {w}%") for w in words))


def published_cases(words: list[str], agency_id: int | None = None) -> Select:
    """Published cases, newest first, matching ``words`` and the agency if given."""
    stmt = (
        select(FeedbackCase)
        .options(joinedload(FeedbackCase.procedure), joinedload(FeedbackCase.agency))
        .where(FeedbackCase.state.in_(PUBLISHED_STATES), search_condition(words))
        .order_by(FeedbackCase.published_at.desc(), FeedbackCase.id.desc())
    )
    if agency_id is not None:
        stmt = stmt.where(FeedbackCase.agency_id == agency_id)
    return stmt


def cap_statement_time() -> None:
    """On PostgreSQL, cancel any further statement of this transaction that runs longer
    than ``SEARCH_TIMEOUT_MS`` (raising an OperationalError :func:`is_timeout` knows)."""
    if db.session.get_bind().dialect.name == "postgresql":
        ms = int(current_app.config["SEARCH_TIMEOUT_MS"])
        db.session.execute(text(f"SET LOCAL statement_timeout = {ms}"))


def is_timeout(exc: OperationalError) -> bool:
    """True when ``exc`` is a statement cancelled by its time limit."""
    return getattr(exc.orig, "sqlstate", None) == _QUERY_CANCELED
