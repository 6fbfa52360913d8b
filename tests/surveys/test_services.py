"""Survey services and the questionnaire file."""

from __future__ import annotations

import json
from datetime import UTC

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.surveys import services
from survey_app.surveys.models import Answer, Channel, QuestionnaireVersion, Response
from survey_app.surveys.questionnaire import (
    QUESTIONNAIRE_DIR,
    load_questionnaire,
    parse_questionnaire,
)
from tests import factories
from tests.helpers import csrf_from

ORIGIN = services.Origin(Channel.poster, "vi", "c" * 32)


def test_questionnaire_has_the_five_sipas_elements():
    q = load_questionnaire("sipas-2023.1")
    assert [e.code for e in q.elements] == ["A", "B", "C", "D", "E"]
    assert [len(e.items) for e in q.elements] == [4, 4, 6, 3, 4]
    assert q.overall.code == "Q0" and q.satisfied_values == {4, 5}
    assert q.element_of("C5").code == "C"
    assert {f.code for f in q.factual} == {"trips", "agencies_contacted"}


def test_questionnaire_file_errors_are_caught():
    raw = json.loads((QUESTIONNAIRE_DIR / "sipas-2023.1.json").read_text(encoding="utf-8"))
    raw["elements"][1]["items"][0]["code"] = "A1"
    with pytest.raises(ValueError, match="duplicate"):
        parse_questionnaire(json.dumps(raw))
    with pytest.raises(LookupError):
        load_questionnaire("../../etc/passwd")


def test_questionnaire_row_is_created_once(app_ctx):
    q = services.current_questionnaire()
    first = services.questionnaire_row(q)
    second = services.questionnaire_row(q)
    assert first.id == second.id
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 1
    assert first.definition["version"] == "sipas-2023.1"


def test_edited_questionnaire_file_under_an_old_version_is_refused(app_ctx):
    q = services.current_questionnaire()
    services.questionnaire_row(q).checksum = "0" * 64
    with pytest.raises(RuntimeError, match="new version name"):
        services.questionnaire_row(q)


def test_a_rolled_back_version_row_leaves_no_id_behind(app_ctx):
    """The row is created in the caller's transaction; if that is rolled back, the
    next call does not hand out the id of a row that is not there."""
    services.forget_cached_ids()
    q = services.current_questionnaire()
    services.questionnaire_version_id(q)
    db.session.rollback()
    version_id = services.questionnaire_version_id(q)
    db.session.commit()
    assert db.session.get(QuestionnaireVersion, version_id).version == q.version
    assert services.questionnaire_version_id(q) == version_id


def test_the_version_id_refuses_an_edited_file_under_an_old_version(app_ctx):
    services.forget_cached_ids()
    q = services.current_questionnaire()
    services.questionnaire_row(q).checksum = "0" * 64
    db.session.commit()
    with pytest.raises(RuntimeError, match="new version name"):
        services.questionnaire_version_id(q)


def test_the_first_tap_of_a_new_database_at_a_withdrawn_counter_harms_no_later_tap(app, client):
    """The first tap ever creates the questionnaire's row; if that tap is refused (404),
    the next one at a real counter is still stored."""
    with app.app_context():
        services.forget_cached_ids()
        code = factories.counter().code
        db.session.commit()
    page = client.get(f"/s/{code}").get_data(as_text=True)
    token = csrf_from(page)
    services.forget_cached_ids()
    with app.app_context():
        db.session.execute(db.delete(QuestionnaireVersion))
        db.session.commit()
    assert client.post("/s/ZZZZZZ", data={"csrf_token": token, "overall": "4"}).status_code == 404
    assert client.post(f"/s/{code}", data={"csrf_token": token, "overall": "4"}).status_code == 303


def test_record_overall_refuses_out_of_range(app_ctx):
    counter = factories.counter()
    for bad in (0, 6, None):
        with pytest.raises(ValueError):
            services.record_overall(counter, bad, ORIGIN)


def test_record_details_rejects_unknown_items_and_values(app_ctx):
    response = services.record_overall(factories.counter(), 5, ORIGIN)
    with pytest.raises(ValueError, match="unknown item"):
        services.record_details(response, {"Z9": 5}, {})
    with pytest.raises(ValueError, match="out of range"):
        services.record_details(response, {"A1": 7}, {})
    with pytest.raises(ValueError, match="trips"):
        services.record_details(response, {}, {"trips": 9})


def test_a_failed_details_save_leaves_no_half_response(app):
    with app.app_context():
        response = services.record_overall(factories.counter(), 5, ORIGIN)
        services.record_details(response, {"A1": 4, "A2": 5}, {})
        db.session.commit()
        response_id = response.id
    with app.app_context():
        response = db.session.get(Response, response_id)
        try:
            # one bad value in the middle of an otherwise good save
            services.record_details(response, {"A1": 1, "B1": 2, "C1": 99}, {})
        except ValueError:
            db.session.rollback()
    with app.app_context():
        answers = db.session.scalars(select(Answer).where(Answer.response_id == response_id)).all()
        assert sorted((a.item_code, a.value) for a in answers) == [("A1", 4), ("A2", 5)]


def test_client_fingerprint_is_stable_within_a_day_and_changes_across_days(app_ctx):
    from datetime import date

    day = date(2026, 3, 2)
    a = services.client_fingerprint("10.0.0.1", "Mozilla/5.0", day)
    assert a == services.client_fingerprint("10.0.0.1", "Mozilla/5.0", day)
    assert a != services.client_fingerprint("10.0.0.1", "Mozilla/5.0", date(2026, 3, 3))
    assert a != services.client_fingerprint("10.0.0.2", "Mozilla/5.0", day)
    assert "10.0.0.1" not in a and len(a) == 32


def test_count_today_uses_local_days(app_ctx):
    from datetime import datetime

    from freezegun import freeze_time

    counter = factories.counter()
    # 23:30 local on 1 March is 16:30 UTC; 00:30 local on 2 March is 17:30 UTC on 1 March
    with freeze_time(datetime(2026, 3, 1, 16, 30, tzinfo=UTC)):
        services.record_overall(counter, 5, ORIGIN)
    with freeze_time(datetime(2026, 3, 1, 17, 30, tzinfo=UTC)):
        services.record_overall(counter, 5, ORIGIN)
        assert services.count_today([counter.id]) == {counter.id: 1}
