"""Prometheus metrics: request and business counters, the overdue gauge, access rules."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from survey_app import create_app
from survey_app.config import TestConfig
from survey_app.core.metrics import parse_networks
from survey_app.core.time import local_today
from survey_app.extensions import db
from survey_app.feedback.models import CaseChannel, CaseKind, CaseState
from survey_app.feedback.services import Submission, submit
from tests import factories
from tests.helpers import csrf_from


def scrape(client, **kwargs) -> dict[tuple[str, tuple], float]:
    reply = client.get("/metrics", **kwargs)
    assert reply.status_code == 200, reply.status_code
    assert reply.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(reply.get_data(as_text=True)):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def counter(app):
    with app.app_context():
        c = factories.counter(factories.agency("Sở Tư pháp", code="STP"), name="Quầy Hộ tịch")
        db.session.commit()
        return SimpleNamespace(code=c.code)


def test_a_survey_submission_increments_the_counter_and_request_metrics(client, counter):
    before = scrape(client)
    page = client.get(f"/s/{counter.code}")
    html = page.get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "overall": "5"}
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', html)
    if started:
        data["started"] = started.group(1)
    assert client.post(f"/s/{counter.code}", data=data).status_code in (200, 303)
    after = scrape(client)

    name = "hailong_survey_submissions_total"
    assert value(after, name, channel="poster") == value(before, name, channel="poster") + 1
    requests = "hailong_http_requests_total"
    labels = {"endpoint": "surveys.counter", "method": "GET", "status": "200"}
    assert value(after, requests, **labels) == value(before, requests, **labels) + 1
    count = "hailong_http_request_duration_seconds_count"
    assert value(after, count, endpoint="surveys.counter") == (
        value(before, count, endpoint="surveys.counter") + 2
    )


def test_a_rolled_back_insert_is_not_counted(app, client, counter):
    before = scrape(client)
    with app.app_context():
        from survey_app.agencies.models import Counter
        from survey_app.surveys.models import Channel
        from survey_app.surveys.services import Origin, record_overall

        row = db.session.query(Counter).filter_by(code=counter.code).one()
        record_overall(row, 4, Origin(channel=Channel.kiosk, language="vi", client_hash="x" * 32))
        db.session.rollback()
    after = scrape(client)
    name = "hailong_survey_submissions_total"
    assert value(after, name, channel="kiosk") == value(before, name, channel="kiosk")


def test_feedback_received_and_overdue_gauge(app, client):
    before = scrape(client)
    with app.app_context():
        province = factories.agency("UBND tỉnh", code="UBT")
        department = factories.agency("Sở Tư pháp", code="STP2", parent=province)
        cases = []
        for i in range(3):
            case, _ = submit(
                Submission(
                    kind=CaseKind.report,
                    content=f"Phản ánh số {i} về thủ tục.",
                    submitter_name="Trần Thị B",
                    contact_phone="0912000111",
                    agency=department,
                    consent=True,
                ),
                CaseChannel.paper,
            )
            cases.append(case)
        db.session.flush()
        cases[0].due_on = local_today() - timedelta(days=3)  # overdue
        cases[0].agency = department
        cases[0].state = CaseState.in_progress
        cases[1].due_on = local_today() - timedelta(days=1)
        cases[1].state = CaseState.closed  # closed: not overdue
        cases[2].due_on = local_today() + timedelta(days=5)  # not yet due
        db.session.commit()
    after = scrape(client)
    received = "hailong_feedback_cases_received_total"
    assert value(after, received, channel="paper") == value(before, received, channel="paper") + 3
    # counted under the top-level agency of the responsible department
    assert value(after, "hailong_feedback_overdue_cases", agency="UBT") == 1


def test_overdue_gauge_is_zero_without_cases(client):
    assert value(scrape(client), "hailong_feedback_overdue_cases", agency="") == 0
    assert ("hailong_feedback_overdue_cases", (("agency", ""),)) in scrape(client)


def test_metrics_hidden_from_other_networks(client):
    reply = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert reply.status_code == 404
    assert "hailong_" not in reply.get_data(as_text=True)
    assert scrape(client, environ_base={"REMOTE_ADDR": "::1"})  # IPv6 localhost allowed


def test_metrics_with_the_bearer_token_from_anywhere(tmp_path):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'm.sqlite3'}"
        METRICS_TOKEN = "s3cret-scrape-token"
        METRICS_ALLOW = "10.1.0.0/16"

    client = create_app(Config).test_client()
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    good = {"Authorization": "Bearer s3cret-scrape-token"}
    bad = {"Authorization": "Bearer wrong"}
    assert client.get("/metrics", environ_base=outside, headers=bad).status_code == 404
    assert client.get("/metrics", environ_base=outside).status_code == 404
    # no database tables here: the request metrics still come, the gauge is skipped
    reply = client.get("/metrics", environ_base=outside, headers=good)
    assert reply.status_code == 200 and b"hailong_http_requests_total" in reply.data
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is not in this allow list


def test_allow_list_parsing():
    nets = parse_networks("127.0.0.1/32, ::1/128,10.0.0.0/8")
    assert [str(n) for n in nets] == ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]
    assert parse_networks("") == ()
    with pytest.raises(ValueError):
        parse_networks("localhost")


def test_unmatched_urls_share_one_label(client):
    before = scrape(client)
    client.get("/no/such/page/1")
    client.get("/no/such/page/2")
    after = scrape(client)
    labels = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    name = "hailong_http_requests_total"
    assert value(after, name, **labels) == value(before, name, **labels) + 2
    assert not any("no/such" in str(key) for key in after)


MULTIPROCESS_SCRIPT = """
import sys
from survey_app import create_app
from survey_app.config import TestConfig

class Config(TestConfig):
    SQLALCHEMY_DATABASE_URI = sys.argv[1]

client = create_app(Config).test_client()
client.get("/healthz")
client.get("/healthz")
sys.stdout.write(client.get("/metrics").get_data(as_text=True))
"""


def test_multiprocess_mode_sums_the_workers_files(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR (gunicorn), counters go through files that a scrape adds up."""
    import os
    import subprocess
    import sys

    folder = tmp_path / "prom"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    url = f"sqlite:///{tmp_path / 'mp.sqlite3'}"
    runs = [
        subprocess.run(
            [sys.executable, "-c", MULTIPROCESS_SCRIPT, url],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for _ in range(2)
    ]
    assert any(folder.glob("counter_*.db"))  # one file per process
    line = 'hailong_http_requests_total{endpoint="health.healthz",method="GET",status="200"}'
    first = [row for row in runs[0].splitlines() if row.startswith(line)]
    second = [row for row in runs[1].splitlines() if row.startswith(line)]
    assert first and float(first[0].split()[-1]) == 2.0
    assert second and float(second[0].split()[-1]) == 4.0  # both "workers" counted
