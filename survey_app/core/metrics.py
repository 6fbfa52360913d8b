"""Prometheus metrics at ``/metrics``, with the official ``prometheus_client``.

Why the client itself and not prometheus-flask-exporter: the exporter binds
its metrics to one app object and registers them on the global registry when
it is created, which an app factory that builds many apps (the test suite
does) trips over; the request metrics we want take a dozen lines of
``before/after_request``, and the endpoint needs our own access rule.

- ``hailong_http_requests_total{endpoint,method,status}`` and
  ``hailong_http_request_duration_seconds{endpoint}`` (histogram): every request.
  The endpoint is the Flask endpoint name, never the raw path, so the label
  set stays small.
- ``hailong_survey_submissions_total{channel}`` and
  ``hailong_feedback_cases_received_total{channel}``: counted when the
  transaction that inserted them commits (a session event), whichever view,
  API or command inserted them.
- ``hailong_feedback_overdue_cases{agency}``: open cases past their due date,
  by top-level agency (``""`` for the coordinators' queue), one grouped query
  at scrape time.

Under gunicorn with several workers each worker has its own counters; set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory, wiped before every start
(see ``deploy/``), and the client shares them through files there; a scrape
then adds up every worker's. The overdue gauge is read from the database at
scrape time, so it is right in both modes.

``/metrics`` answers only clients in ``METRICS_ALLOW`` or bearing
``METRICS_TOKEN``; anyone else gets a 404, as if it did not exist.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..auth.permissions import public
from ..extensions import limiter

log = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "hailong_http_requests_total",
    "HTTP requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "hailong_http_request_duration_seconds",
    "Time to answer a request, by endpoint.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SURVEY_SUBMISSIONS = Counter(
    "hailong_survey_submissions_total",
    "Survey responses stored (the one-tap rating), by channel.",
    ["channel"],
)
FEEDBACK_RECEIVED = Counter(
    "hailong_feedback_cases_received_total",
    "Feedback cases (reports and proposals) received, by channel.",
    ["channel"],
)

_ALLOW_KEY = "hailong.metrics_allow"
_PENDING = "hailong_metrics_pending"


def parse_networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``METRICS_ALLOW``: comma-separated addresses or CIDR networks.

    :raises ValueError: on anything that is not one (at start-up, not at scrape time).
    """
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in (value or "").split(",")
        if part.strip()
    )


def register(app: Flask) -> None:
    """Add ``/metrics`` and the request hooks (after :mod:`.logs`, which times requests)."""
    app.extensions[_ALLOW_KEY] = parse_networks(app.config.get("METRICS_ALLOW", ""))
    app.register_blueprint(bp)
    app.after_request(_count_request)
    _listen_for_commits()


def _count_request(response: Response) -> Response:
    endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
    method = request.method if request.method in _METHODS else "other"
    HTTP_REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
    started = g.get("request_started")
    if started is not None:
        HTTP_LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


# -- counting what a transaction inserted, once it is committed ---------------------


def _after_flush(session: Session, flush_context) -> None:
    from ..feedback.models import FeedbackCase
    from ..surveys.models import Response as SurveyResponse

    for obj in session.new:
        if isinstance(obj, SurveyResponse):
            session.info.setdefault(_PENDING, []).append((SURVEY_SUBMISSIONS, obj.channel))
        elif isinstance(obj, FeedbackCase):
            session.info.setdefault(_PENDING, []).append((FEEDBACK_RECEIVED, obj.channel))


def survey_submission_on_commit(session: Session, channel) -> None:
    """Count a response inserted without an ORM object (the survey's one-tap INSERT) at commit."""
    session.info.setdefault(_PENDING, []).append((SURVEY_SUBMISSIONS, channel))


def count_survey_submission(channel) -> None:
    """Count a response stored and committed outside the ORM session (the one-tap INSERT)."""
    _count(SURVEY_SUBMISSIONS, channel)


def _count(counter: Counter, channel) -> None:
    counter.labels(str(getattr(channel, "value", channel))).inc()


def _after_commit(session: Session) -> None:
    for counter, channel in session.info.pop(_PENDING, ()):
        _count(counter, channel)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _listen_for_commits() -> None:
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


# -- the overdue gauge, read at scrape time -----------------------------------------


class OverdueCollector:
    """Open feedback cases past their due date, by top-level agency code."""

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "hailong_feedback_overdue_cases",
            "Open feedback cases past their due date, by top-level agency "
            "('' = the coordinators' queue).",
            labels=["agency"],
        )

    def describe(self):
        # lets the registry learn the name without running the query
        return [self._family()]

    def collect(self):
        from ..agencies.models import Agency
        from ..extensions import db
        from ..feedback.models import FeedbackCase
        from ..feedback.workflow import OPEN_STATES
        from .time import local_today

        query = (
            select(Agency.path, func.count(FeedbackCase.id))
            .select_from(FeedbackCase)
            .outerjoin(Agency, Agency.id == FeedbackCase.agency_id)
            .where(FeedbackCase.due_on < local_today(), FeedbackCase.state.in_(OPEN_STATES))
            .group_by(Agency.path)
        )
        try:
            rows = db.session.execute(query).tuples().all()
        except SQLAlchemyError as exc:
            # the request metrics are worth having most during a database outage
            log.warning("metrics: overdue cases not counted: %s", type(exc).__name__)
            db.session.rollback()
            return
        by_top: dict[int | None, int] = {}
        for path, n in rows:
            top = int(path.strip("/").split("/")[0]) if path and path.strip("/") else None
            by_top[top] = by_top.get(top, 0) + n
        ids = [i for i in by_top if i is not None]
        codes: dict[int, str] = {}
        if ids:
            query = select(Agency.id, Agency.code).where(Agency.id.in_(ids))
            codes = dict(db.session.execute(query).tuples().all())
        gauge = self._family()
        for top, n in sorted(by_top.items(), key=lambda item: codes.get(item[0], "")):
            gauge.add_metric([codes.get(top, "") if top is not None else ""], n)
        if not by_top:
            gauge.add_metric([""], 0)
        yield gauge


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer "):
        if hmac.compare_digest(given.removeprefix("Bearer ").encode(), token.encode()):
            return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in current_app.extensions[_ALLOW_KEY])


def scrape() -> bytes:
    """Every metric in the text exposition format (all workers' in multi-process mode)."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(OverdueCollector())
    return generate_latest(registry)


@bp.get("/metrics")
@limiter.exempt
@public
def metrics():
    """Prometheus scrape endpoint (allowed networks or the bearer token only)."""
    if not _allowed():
        abort(404)
    response = Response(scrape(), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response
