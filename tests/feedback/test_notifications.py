"""Outbox, reminders and escalation, retention purge (and their commands)."""

from __future__ import annotations

import smtplib
from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feedback import notify, outbox
from survey_app.feedback.models import (
    AuditLog,
    CaseChannel,
    CaseKind,
    CaseState,
    FeedbackCase,
    OutboxMessage,
)
from survey_app.feedback.services import Submission, submit
from survey_app.feedback.tracking import format_secret
from survey_app.feedback.workflow import transition
from tests import factories

MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(app_ctx):
    agency = factories.agency("Sở Tư pháp", code="STP")
    handler = factories.user(Role.handler, agency, email="handler@stp.vn")
    coordinator = factories.user(Role.coordinator, email="dieuphoi@vp.vn")
    with freeze_time(MONDAY):
        case, secret = submit(
            Submission(
                kind=CaseKind.report,
                content="Nội dung phản ánh đủ dài để xử lý.",
                submitter_name="An",
                contact_email="an@example.vn",
                consent=True,
                agency=agency,
            ),
            CaseChannel.web,
        )
        notify.citizen_received(case, secret)
    # the handler was told of the new case in the agency's queue (tests/notifications):
    # these tests follow the citizen's message and the reminders
    told = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "new_case")).all()
    assert [m.recipient for m in told] == ["handler@stp.vn"]
    for message in told:
        db.session.delete(message)
    db.session.commit()
    return {"case": case, "handler": handler, "coordinator": coordinator, "secret": secret}


def _fake_smtp(monkeypatch) -> list[str]:
    """Replace smtplib.SMTP by a server that accepts everything; the recipients it got."""
    sent: list[str] = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            pass

        def send_message(self, email):
            sent.append(email["To"])

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    return sent


def _outbox():
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_citizen_receives_code_and_secret_and_the_body_is_dropped_after_sending(world, caplog):
    (message,) = _outbox()
    assert message.recipient == "an@example.vn"
    printed = format_secret(world["secret"])  # in groups of four: 2345 6789 2345
    assert world["case"].code in message.body and printed in message.body
    with caplog.at_level("INFO"):
        assert outbox.send_pending() == (1, 0)
    # development: written to the log, but never the tracking number
    assert world["case"].code in caplog.text and "an@example.vn" in caplog.text
    assert printed not in caplog.text and "•••• •••• ••••" in caplog.text
    db.session.refresh(message)
    assert message.sent_at is not None and message.body == ""
    assert outbox.send_pending() == (0, 0)


def test_failed_sending_is_retried_with_backoff(world, app, monkeypatch):
    app.config["MAIL_SERVER"] = "127.0.0.1"
    app.config["MAIL_PORT"] = 9  # nothing listens: connection refused
    try:
        with freeze_time(MONDAY):
            assert outbox.send_pending() == (0, 1)
            (message,) = _outbox()
            assert message.attempts == 1 and "Error" in message.last_error
            assert message.send_after == MONDAY + timedelta(minutes=1)
            assert outbox.send_pending() == (0, 0)  # not yet due again

        sent = _fake_smtp(monkeypatch)
        with freeze_time(MONDAY + timedelta(minutes=2)):
            assert outbox.send_pending() == (1, 0)
        assert sent == ["an@example.vn"]
    finally:
        app.config["MAIL_SERVER"] = None


def test_a_message_that_cannot_be_a_mail_fails_once_and_does_not_block_the_rest(
    world, app, monkeypatch
):
    """An address with a line break (queued before intake checked addresses) raised a
    ValueError at every run: no message after it was ever sent."""
    for message in _outbox():
        db.session.delete(message)
    outbox.enqueue("victim@example.vn\r\nBcc: spam@example.com", "Hồ sơ", "x")  # first in line
    outbox.enqueue("an@example.vn", "Hồ sơ", "y")
    db.session.commit()
    sent = _fake_smtp(monkeypatch)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    assert outbox.send_pending() == (1, 1)
    assert sent == ["an@example.vn"]
    bad = next(m for m in _outbox() if m.recipient.startswith("victim"))
    assert bad.attempts == outbox.MAX_ATTEMPTS and "ValueError" in bad.last_error
    assert outbox.send_pending() == (0, 0)  # not tried again


def test_backoff_grows_and_is_capped():
    assert [outbox.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert outbox.backoff(30) == timedelta(hours=6)


def test_reminders_at_three_and_one_working_days_and_escalation(world):
    case = world["case"]  # screening due Wednesday 4 March (2 working days)
    with freeze_time(MONDAY):
        transition(case, CaseState.screening, world["handler"])
        transition(case, CaseState.accepted, world["handler"])  # answer due 15 working days later
    db.session.commit()
    due = case.due_on
    three_before = date(2026, 3, 18)
    assert notify.work_calendar().working_days_between(three_before, due) == 3
    result = notify.remind(three_before)
    assert (result.reminders, result.escalations) == (1, 0)
    assert notify.remind(three_before).reminders == 0  # safe to run twice
    assert notify.remind(date(2026, 3, 19)).reminders == 0  # 2 days left: no reminder
    assert notify.remind(date(2026, 3, 20)).reminders == 1  # 1 day left
    result = notify.remind(due + timedelta(days=1))
    assert result.escalations == 1
    recipients = [m.recipient for m in _outbox()]
    assert recipients.count("handler@stp.vn") == 2 and "dieuphoi@vp.vn" in recipients
    [overdue] = [m for m in _outbox() if m.recipient == "dieuphoi@vp.vn"]
    assert overdue.subject.endswith(due.strftime("%d/%m/%Y"))  # as Vietnamese offices write dates


def test_remind_command(world, runner):
    with freeze_time(datetime(2026, 3, 20, 2, tzinfo=UTC)):
        result = runner.invoke(args=["feedback", "remind"])
    assert (
        result.exit_code == 0 and "escalations queued: 1" in result.output
    )  # screening was due 4/3
    assert runner.invoke(args=["outbox", "send"]).output.startswith("sent 2")


def test_purge_erases_contact_data_but_keeps_the_case(world, runner):
    case = world["case"]
    transition(case, CaseState.screening, world["coordinator"])
    transition(case, CaseState.rejected, world["coordinator"], reason="Không thuộc phạm vi")
    db.session.commit()
    assert runner.invoke(args=["feedback", "purge", "--days", "30"]).output.startswith(
        "contact data erased from 0"
    )
    with freeze_time(datetime.now(UTC) + timedelta(days=31)):
        result = runner.invoke(args=["feedback", "purge", "--days", "30"])
    assert "erased from 1 case" in result.output
    db.session.expire_all()
    case = db.session.get(FeedbackCase, case.id)
    assert case.submitter_name is None and case.contact_email is None and case.contact_erased_at
    assert case.content and case.state == CaseState.rejected and case.events
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "purge")
        )
        == 1
    )


@pytest.mark.parametrize("days", ["-5", "0", "99999999999999999999"])
def test_purge_refuses_a_retention_that_would_erase_recent_cases(world, runner, days):
    """A negative retention put the cutoff in the future: every closed case lost its
    contact data at once."""
    case = world["case"]
    transition(case, CaseState.screening, world["coordinator"])
    transition(case, CaseState.rejected, world["coordinator"], reason="Không thuộc phạm vi")
    db.session.commit()
    result = runner.invoke(args=["feedback", "purge", "--days", days])
    assert result.exit_code == 2 and "--days" in result.output
    assert "Traceback" not in result.output
    db.session.expire_all()
    assert db.session.get(FeedbackCase, case.id).submitter_name


def test_purge_refuses_a_bad_configured_retention(world, runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_RETENTION_DAYS", -1)
    result = runner.invoke(args=["feedback", "purge"])
    assert result.exit_code == 1 and "FEEDBACK_RETENTION_DAYS is -1" in result.output


@pytest.mark.parametrize("limit", ["-1", "0"])
def test_outbox_send_limit_must_be_positive(runner, limit):
    result = runner.invoke(args=["outbox", "send", "--limit", limit])
    assert result.exit_code == 2 and "--limit" in result.output


def test_purge_deletes_attachment_files_left_without_their_case(
    world, runner, app, tmp_path, monkeypatch
):
    """A worker killed between writing a file and committing its case leaves the file
    behind: the daily purge deletes it once it is a day old, and nothing else."""
    import os
    import time

    from werkzeug.datastructures import FileStorage

    from survey_app.feedback import attachments

    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    kept = attachments.store(world["case"], FileStorage(filename="giay.png"), png, "image/png")
    db.session.commit()
    old = time.time() - 2 * 86400
    orphan = tmp_path / f"{'a' * 32}.jpg"
    young_orphan = tmp_path / f"{'b' * 32}.pdf"
    not_ours = tmp_path / "README.txt"
    for path in (orphan, young_orphan, not_ours):
        path.write_bytes(b"x")
    for path in (orphan, not_ours, attachments.path_of(kept)):
        os.utime(path, (old, old))

    result = runner.invoke(args=["feedback", "purge"])

    assert "attachment files without a case deleted: 1" in result.output
    assert not orphan.exists()
    assert young_orphan.exists() and not_ours.exists() and attachments.path_of(kept).exists()
