"""A fake webhook receiver on 127.0.0.1, and a small province to file cases in."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from survey_app.extensions import db
from survey_app.feed import signing
from survey_app.feedback.models import CaseChannel, CaseKind
from survey_app.feedback.services import Submission, submit
from tests import factories

SECRET = "whsec_test_secret_for_the_fake_receiver_0123456789"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verdict: str  # "ok", "duplicate" or the refusal's class name
    event: dict | None = None


@dataclass
class FakeReceiver:
    """Verifies every delivery as docs/FEED.md tells receivers to, and answers as scripted.

    ``script`` holds what to do with the next deliveries, in order ("ok", "500",
    "sleep", "redirect"); once empty every delivery is accepted.
    """

    secret: str = SECRET
    url: str = ""
    script: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    guard: signing.ReplayGuard = field(default_factory=signing.ReplayGuard)
    sleep: float = 2.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[dict]:
        return [r.event for r in self.received if r.verdict == "ok"]

    def counts(self) -> Counter:
        return Counter(r.event["id"] for r in self.received if r.verdict == "ok")

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes, dict]:
        with self.lock:
            action = self.script.pop(0) if self.script else "ok"
        if action == "sleep":
            time.sleep(self.sleep)
            return 200, b"late", {}
        if action == "500":
            self._record(headers, body, "scripted 500")
            return 500, b"receiver is down for maintenance", {}
        if action == "redirect":
            return 302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"}
        try:
            event = signing.verify_webhook(self.secret, headers, body, self.guard)
        except signing.ReplayedEvent:
            self._record(headers, body, "duplicate")
            return 200, b"already processed", {}
        except signing.SignatureError as exc:
            self._record(headers, body, type(exc).__name__)
            return 400, str(exc).encode(), {}
        self._record(headers, body, "ok", event)
        return 204, b"", {}

    def _record(self, headers, body, verdict, event=None) -> None:
        with self.lock:
            self.received.append(Received(headers, body, verdict, event))


@pytest.fixture
def receiver():
    fake = FakeReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status, answer, extra = fake.handle(dict(self.headers.items()), body)
            try:
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                pass  # the sender gave up waiting (a timeout test)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/hailong?src=test"
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def province(app):
    """Two sibling agencies with a procedure each, and a province-wide admin."""
    with app.app_context():
        justice = factories.agency("Sở Tư pháp", code="STP")
        labour = factories.agency("Sở Lao động", code="SLD")
        civil = factories.field(code="HT", name="Hộ tịch")
        work = factories.field(code="LD", name="Lao động")
        factories.procedure(justice, civil, code="1.001193")
        factories.procedure(labour, work, code="1.000105")
        admin = factories.user(email="admin@example.gov.vn")
        db.session.commit()
        return SimpleNamespace(
            justice_id=justice.id, labour_id=labour.id, admin_email=admin.email, admin_id=admin.id
        )


def file_case(procedure_code: str = "1.001193", **overrides):
    """Submit a case by the public form's channel (the caller commits)."""
    from sqlalchemy import select

    from survey_app.agencies.models import Procedure

    procedure = db.session.scalar(select(Procedure).where(Procedure.code == procedure_code))
    values = dict(
        kind=CaseKind.report,
        content="Quầy yêu cầu nộp bản sao không cần thiết khi làm thủ tục.",
        submitter_name="Nguyễn Văn An",
        contact_phone="0912345678",
        procedure=procedure,
        consent=True,
    )
    values.update(overrides)
    return submit(Submission(**values), CaseChannel.web)
