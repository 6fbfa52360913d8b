"""Per-transaction receipt links: signed, expiring, single use; and `flask survey link`."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from survey_app.agencies.models import Counter
from survey_app.extensions import db
from survey_app.surveys.models import Channel, Response
from survey_app.surveys.tokens import (
    TokenError,
    TokenExpired,
    hash_dossier_ref,
    issue_receipt_token,
    read_receipt_token,
)
from tests import factories
from tests.helpers import csrf_from


@pytest.fixture
def setup(app):
    with app.app_context():
        counter = factories.counter(factories.agency("UBND huyện Nam Sách"))
        procedure = factories.procedure(counter.agency, code="1.001193")
        db.session.commit()
        token = issue_receipt_token(counter.code, procedure.code, "000.00.12.H23-220314-0042")
        return SimpleNamespace(code=counter.code, procedure_id=procedure.id, token=token)


def _responses(app):
    with app.app_context():
        rows = db.session.scalars(select(Response)).all()
        db.session.expunge_all()
        return rows


def _tap(client, token, value=5):
    html = client.get(f"/r/{token}").get_data(as_text=True)
    return client.post(f"/r/{token}", data={"csrf_token": csrf_from(html), "overall": str(value)})


def test_token_round_trip(app_ctx):
    token = issue_receipt_token("ABC234", "1.001193", "HS-1")
    data = read_receipt_token(token)
    assert data.counter_code == "ABC234"
    assert data.procedure_code == "1.001193"
    assert data.dossier_ref_hash == hash_dossier_ref("HS-1")
    assert "HS-1" not in token  # the reference itself never travels or is stored


def test_two_tokens_for_the_same_transaction_differ(app_ctx):
    assert issue_receipt_token("ABC234") != issue_receipt_token("ABC234")


def test_tampered_token_is_refused(app_ctx):
    token = issue_receipt_token("ABC234")
    with pytest.raises(TokenError):
        read_receipt_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with pytest.raises(TokenError):
        read_receipt_token("not-a-token")


def test_expired_token_is_refused(app_ctx):
    with freeze_time("2026-01-01 08:00:00"):
        token = issue_receipt_token("ABC234")
    with freeze_time("2026-02-01 08:00:00"), pytest.raises(TokenExpired):
        read_receipt_token(token)


def test_receipt_response_records_channel_procedure_and_dossier_hash(app, client, setup):
    reply = _tap(client, setup.token, 3)
    assert reply.status_code == 303
    (response,) = _responses(app)
    assert response.channel == Channel.receipt
    assert response.procedure_id == setup.procedure_id
    with app.app_context():
        assert response.dossier_ref_hash == hash_dossier_ref("000.00.12.H23-220314-0042")
    assert response.receipt_token_hash and len(response.receipt_token_hash) == 64


def test_token_used_twice_shows_already_answered_and_stores_nothing(app, client, setup):
    assert _tap(client, setup.token).status_code == 303
    again = app.test_client().get(f"/r/{setup.token}")
    assert again.status_code == 409
    assert "đã được ghi nhận" in again.get_data(as_text=True)
    assert len(_responses(app)) == 1


def test_bad_links_are_explained_in_english_to_an_english_browser(app, setup):
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    client = app.test_client()
    reply = client.get(f"/r/{setup.token[:-3]}xyz", headers=english)
    assert reply.status_code == 400
    assert "This survey link is not valid" in reply.get_data(as_text=True)
    with app.app_context(), freeze_time("2020-01-01"):
        old = issue_receipt_token(setup.code)
    reply = client.get(f"/r/{old}", headers=english)
    assert reply.status_code == 410
    assert "has expired" in reply.get_data(as_text=True)
    assert _tap(client, setup.token).status_code == 303
    again = app.test_client().get(f"/r/{setup.token}", headers=english)
    assert again.status_code == 409
    assert 'lang="en"' in again.get_data(as_text=True)
    unknown = app.test_client().get("/s/ZZZZ99", headers=english)
    assert unknown.status_code == 404
    assert "This counter does not exist" in unknown.get_data(as_text=True)


def test_concurrent_second_post_with_the_same_token_is_refused(app, setup):
    """Both browsers opened the link before either answered: the database decides."""
    first, second = app.test_client(), app.test_client()
    page1 = first.get(f"/r/{setup.token}").get_data(as_text=True)
    page2 = second.get(f"/r/{setup.token}").get_data(as_text=True)
    assert (
        first.post(
            f"/r/{setup.token}", data={"csrf_token": csrf_from(page1), "overall": "5"}
        ).status_code
        == 303
    )
    reply = second.post(f"/r/{setup.token}", data={"csrf_token": csrf_from(page2), "overall": "1"})
    assert reply.status_code == 409
    (response,) = _responses(app)
    assert response.overall == 5


def test_tampered_link_is_400_and_expired_link_is_410(app, client, setup):
    reply = client.get(f"/r/{setup.token[:-3]}xyz")
    assert reply.status_code == 400
    assert "không hợp lệ" in reply.get_data(as_text=True)
    with app.app_context(), freeze_time("2020-01-01"):
        old = issue_receipt_token(setup.code)
    reply = client.get(f"/r/{old}")
    assert reply.status_code == 410
    assert "hết hạn" in reply.get_data(as_text=True)
    assert _responses(app) == []


def test_receipt_for_a_disabled_counter_is_404(app, client, setup):
    with app.app_context():
        db.session.scalar(select(Counter).where(Counter.code == setup.code)).is_active = False
        db.session.commit()
    assert client.get(f"/r/{setup.token}").status_code == 404


def test_cli_prints_a_working_link_and_writes_the_qr(app, runner, setup, tmp_path):
    qr_file = tmp_path / "qr.png"
    result = runner.invoke(
        args=[
            "survey",
            "link",
            "--counter",
            setup.code,
            "--procedure",
            "1.001193",
            "--dossier",
            "HS-9",
            "--qr",
            str(qr_file),
        ]
    )
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[0]
    # a short link (surveys/shortlinks.py): 8 characters after the host
    assert re.fullmatch(r"https://hailong\.example\.gov\.vn/[0-9a-z]{8}", url)
    assert qr_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    client, path = app.test_client(), "/" + url.rsplit("/", 1)[1]
    page = client.get(path)
    assert page.status_code == 200
    reply = client.post(path, data={"csrf_token": csrf_from(page.text), "overall": "4"})
    assert reply.status_code == 303
    [response] = _responses(app)
    assert response.channel == Channel.receipt
    assert response.procedure_id == setup.procedure_id
    assert response.dossier_ref_hash is not None


def test_cli_refuses_unknown_counter(runner, setup):
    result = runner.invoke(args=["survey", "link", "--counter", "NOPE42"])
    assert result.exit_code != 0 and "no active counter" in result.output


def test_cli_refuses_a_counter_whose_agency_no_longer_takes_part(app, runner, setup):
    """The link would only lead to the 404 page."""
    with app.app_context():
        counter = db.session.scalar(select(Counter).where(Counter.code == setup.code))
        counter.agency.is_active = False
        db.session.commit()
    result = runner.invoke(args=["survey", "link", "--counter", setup.code])
    assert result.exit_code != 0 and "no active counter" in result.output


def test_cli_help_states_the_password_rule_that_is_enforced(runner):
    from survey_app.auth.services import MIN_PASSWORD_LENGTH

    result = runner.invoke(args=["users", "create", "--help"])
    assert f"at least {MIN_PASSWORD_LENGTH} characters" in " ".join(result.output.split())
