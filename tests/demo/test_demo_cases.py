"""`flask demo load` also gives each role work to see: a feedback case in every workflow
state, answer templates, and a province-wide report reader; `flask demo login` prints
the logins and a counter that exists."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from survey_app.agencies.models import Agency, Counter
from survey_app.auth.models import Role, User
from survey_app.demo.users import DEMO_PASSWORD, DEMO_USERS
from survey_app.extensions import db
from survey_app.feedback.models import AnswerTemplate, CaseEvent, CaseState, FeedbackCase
from tests.helpers import logged_in


def _load(runner) -> str:
    result = runner.invoke(args=["demo", "load", "--no-responses"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_case_in_every_state_each_reached_by_allowed_steps(app, runner):
    output = _load(runner)
    assert "feedback cases, one in each state" in output
    with app.app_context():
        cases = db.session.scalars(select(FeedbackCase)).all()
        states = sorted(c.state for c in cases)
        assert states == sorted(CaseState), states  # every state, once
        for case in cases:
            steps = [e.to_state for e in sorted(case.events, key=lambda e: e.id)]
            if case.state != CaseState.submitted:
                assert steps and steps[-1] == case.state, (case.state, steps)
            if case.state == CaseState.redirected_complaint:  # a complaint's record: no name
                assert case.submitter_name is None and case.code.startswith("KT-")
            else:
                assert case.submitter_name and (case.contact_phone or case.contact_email)
        by_state = {c.state: c for c in cases}
        assert by_state[CaseState.published].public_id
        assert by_state[CaseState.published].public_answer
        assert by_state[CaseState.needs_info].paused_since is not None
        assert by_state[CaseState.assigned].assignee.email == "namsach@demo.hailong.vn"
        assert by_state[CaseState.transferred].agency.code == "STP"
        assert by_state[CaseState.submitted].agency is None  # in the coordinators' queue
        # no invented contact can reach a real person
        for case in cases:
            assert case.contact_email is None or case.contact_email.endswith("@example.com")
            assert case.contact_phone is None or case.contact_phone.startswith("0900000")


def test_answer_templates_for_the_province_and_the_handlers_district(app, runner):
    _load(runner)
    with app.app_context():
        templates = db.session.scalars(select(AnswerTemplate)).all()
        scopes = {t.agency.code if t.agency else None for t in templates}
        assert scopes == {None, "H-NAMSACH"}
        assert all(t.title.strip() and len(t.body) > 80 for t in templates)


def test_a_second_load_adds_no_case_and_no_template(app, runner):
    _load(runner)
    with app.app_context():
        before = [
            db.session.scalar(select(func.count()).select_from(m))
            for m in (FeedbackCase, CaseEvent, AnswerTemplate)
        ]
    assert "already there" in _load(runner)
    with app.app_context():
        after = [
            db.session.scalar(select(func.count()).select_from(m))
            for m in (FeedbackCase, CaseEvent, AnswerTemplate)
        ]
    assert after == before


def test_the_demo_roles_see_their_work(app, runner):
    _load(runner)
    with app.app_context():
        reader = db.session.scalar(select(User).where(User.role == Role.report_reader))
        assert reader.agency_id is None  # province-wide
        assert reader.email in {email for email, *_ in DEMO_USERS}
        codes = {c.state: c.code for c in db.session.scalars(select(FeedbackCase))}
        published_id = db.session.scalar(
            select(FeedbackCase.public_id).where(FeedbackCase.state == CaseState.published)
        )
    handler = logged_in(app, "namsach@demo.hailong.vn", DEMO_PASSWORD)
    queue = handler.get("/staff/feedback/").get_data(as_text=True)
    assert codes[CaseState.assigned] in queue  # the case assigned to the handler
    coordinator = logged_in(app, "dieuphoi@demo.hailong.vn", DEMO_PASSWORD)
    assert codes[CaseState.submitted] in coordinator.get("/staff/feedback/").get_data(as_text=True)
    assert published_id in app.test_client().get("/feedback/answers").get_data(as_text=True)


def test_demo_login_prints_a_counter_the_demo_has(app, runner):
    _load(runner)
    result = runner.invoke(args=["demo", "login"])
    assert result.exit_code == 0, result.output
    match = re.search(r"/s/([A-Z0-9]{6})\s+\((.+)\)", result.output)
    assert match, result.output
    code, name = match.groups()
    with app.app_context():
        counter = db.session.scalar(select(Counter).where(Counter.code == code))
        assert counter is not None and counter.name == name
        assert counter.agency.code in {a.code for a in db.session.scalars(select(Agency))}
    for email, *_ in DEMO_USERS:
        assert email in result.output


def test_demo_login_follows_make_run_host_and_port(app, runner):
    saved = app.config["PUBLIC_BASE_URL_FROM_REQUEST"]
    app.config["PUBLIC_BASE_URL_FROM_REQUEST"] = True  # development, PUBLIC_BASE_URL unset
    try:
        result = runner.invoke(args=["demo", "login", "--host", "0.0.0.0", "--port", "8000"])
    finally:
        app.config["PUBLIC_BASE_URL_FROM_REQUEST"] = saved
    assert result.exit_code == 0, result.output
    assert "starting on http://127.0.0.1:8000" in result.output
    assert (
        "From a phone on the same network: http://<this computer's address>:8000" in result.output
    )
    assert "Staff login: http://127.0.0.1:8000/login" in result.output
    assert "PUBLIC_BASE_URL=" not in result.output
    # a configured address is what posters encode, and the output says so
    result = runner.invoke(args=["demo", "login"])
    assert f"Posters and QR codes encode PUBLIC_BASE_URL={app.config['PUBLIC_BASE_URL']}" in (
        result.output
    )
