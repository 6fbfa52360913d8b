"""Short survey links: length, randomness, one identity per id, single use under
concurrency, expiry, unknown ids, and the limit on guessing."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask_babel import gettext
from freezegun import freeze_time
from markupsafe import escape
from sqlalchemy import func, select

from survey_app import create_app
from survey_app.config import TestConfig
from survey_app.extensions import db
from survey_app.surveys import shortlinks
from survey_app.surveys.models import Channel, Response
from survey_app.surveys.shortlinks import ShortLink
from survey_app.surveys.tokens import issue_receipt_token
from tests import factories
from tests.helpers import csrf_from

CATALOGUE = Path(__file__).resolve().parents[2] / "translations/vi/LC_MESSAGES/messages.po"


def catalogued(msgid: str) -> str | list[str]:
    """The Vietnamese of ``msgid`` in the catalogue (a plural's forms as a list)."""
    from babel.messages.pofile import read_po

    with CATALOGUE.open("rb") as f:
        message = read_po(f).get(msgid)
    assert message is not None and message.string, f"not translated: {msgid}"
    return list(message.string) if isinstance(message.string, tuple) else message.string


NOT_FOUND = (
    "There is no survey at this address. Check that the link was copied completely, "
    "or scan the QR code on the counter's poster."
)
EXPIRED = (
    "This survey link has expired. You can still rate the counter by scanning the QR code "
    "on its poster."
)


@pytest.fixture
def link(app):
    """A receipt short link at an active counter, with a procedure."""
    with app.app_context():
        counter = factories.counter(factories.agency("UBND xã Nam Sách"))
        procedure = factories.procedure(counter.agency, code="1.001193")
        row = shortlinks.issue_receipt_link(counter.id, procedure, "HS-2026-1")
        db.session.commit()
        return SimpleNamespace(
            id=row.id, counter_id=counter.id, code=counter.code, procedure_id=procedure.id
        )


def _responses(app) -> list[Response]:
    with app.app_context():
        rows = db.session.scalars(select(Response)).all()
        db.session.expunge_all()
        return rows


def _answer(client, path: str, value: int = 4):
    page = client.get(path)
    if page.status_code != 200:
        return page
    return client.post(path, data={"csrf_token": csrf_from(page.text), "overall": str(value)})


def _in_vietnamese(app, msgid: str) -> str:
    """What a Vietnamese visitor is shown for ``msgid`` (the English until the .po has
    it), as the page's HTML writes it."""
    with app.test_request_context("/?lang=vi"):
        return str(escape(gettext(msgid)))


# -- length and the id ------------------------------------------------------------------


def test_a_link_with_the_provinces_host_is_40_characters(app, monkeypatch, link):
    """https:// (8) + hailong.haiduong.gov.vn (23) + / (1) + the id (8) = 40."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://hailong.haiduong.gov.vn")
    with app.app_context():
        url = shortlinks.short_url(link.id)
    assert url == f"https://hailong.haiduong.gov.vn/{link.id}"
    assert len("https://") + len("hailong.haiduong.gov.vn") + 1 + shortlinks.ID_LENGTH == 40
    assert len(url) == 40 <= shortlinks.MAX_URL_LENGTH


def test_a_shorter_host_for_links_can_be_set(app, monkeypatch, link):
    monkeypatch.setitem(app.config, "SHORT_LINK_BASE_URL", "https://hl.haiduong.gov.vn/")
    with app.app_context():
        assert shortlinks.short_url(link.id) == f"https://hl.haiduong.gov.vn/{link.id}"


def test_ids_have_40_random_bits_from_an_unambiguous_alphabet_of_one_case():
    assert len(shortlinks.ALPHABET) ** shortlinks.ID_LENGTH >= 2**40
    assert not set("ilouILOU") & set(shortlinks.ALPHABET)
    assert shortlinks.ALPHABET == shortlinks.ALPHABET.lower()
    ids = {shortlinks.new_id() for _ in range(5000)}
    assert len(ids) == 5000  # 5000 draws of 40 bits: a repeat would be a broken generator
    assert all(len(i) == 8 and set(i) <= set(shortlinks.ALPHABET) for i in ids)
    # every character turns up: the draw covers the whole alphabet
    assert set("".join(ids)) == set(shortlinks.ALPHABET)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("7kq20x9d", "7kq20x9d"),
        ("7KQ20X9D", "7kq20x9d"),
        ("7kq2Ox9d", "7kq20x9d"),  # letter O for zero
        ("ab1cdefg", "ab1cdefg"),
        ("abIcdefg", "ab1cdefg"),  # I and l for one
        ("ablcdefg", "ab1cdefg"),
        ("abLcdefg", "ab1cdefg"),
        ("abucdefg", None),  # u is not in the alphabet
        ("7kq20x9", None),
        ("7kq20x9dd", None),
        ("7kq20x9đ", None),
        ("7kq-0x9d", None),
        ("", None),
    ],
)
def test_one_spelling_per_id(typed, canonical):
    assert shortlinks.canonical_id(typed) == canonical


# -- the page ---------------------------------------------------------------------------


def test_a_receipt_link_records_the_receipt_its_procedure_and_dossier(app, client, link):
    page = client.get(f"/{link.id}")
    assert page.status_code == 200
    assert f'action="/{link.id}"' in page.text
    reply = client.post(f"/{link.id}", data={"csrf_token": csrf_from(page.text), "overall": "2"})
    assert reply.status_code == 303 and reply.location.endswith(f"/s/{link.code}/more")
    [response] = _responses(app)
    assert response.channel == Channel.receipt and response.overall == 2
    assert response.procedure_id == link.procedure_id
    assert response.dossier_ref_hash is not None and response.return_channel is None
    # the optional steps follow as from any other link
    assert client.get(f"/s/{link.code}/more").status_code == 200


def test_opening_the_link_does_not_use_it(app, client, link):
    """Phones and chat apps fetch a link to preview it: only the rating uses it."""
    for _ in range(3):
        assert client.get(f"/{link.id}").status_code == 200
    assert _answer(client, f"/{link.id}").status_code == 303


def test_every_spelling_of_an_id_is_one_link_answered_once(app, link):
    spellings = [link.id.upper(), link.id, link.id.replace("0", "O").replace("1", "I").upper()]
    first = app.test_client()
    page = first.get(f"/{spellings[0]}")
    assert f'action="/{link.id}"' in page.text  # posts back to the one spelling
    assert (
        first.post(
            f"/{spellings[0]}", data={"csrf_token": csrf_from(page.text), "overall": "5"}
        ).status_code
        == 303
    )
    for spelling in spellings:
        assert _answer(app.test_client(), f"/{spelling}").status_code == 409
    assert len(_responses(app)) == 1


def test_a_lookalike_spelling_reaches_the_same_link(app, link):
    with app.app_context():
        counter_id = link.counter_id
        row = shortlinks.ShortLink(
            id="ab01cd23",
            purpose=shortlinks.Purpose.receipt,
            counter_id=counter_id,
            expires_at=shortlinks.now_utc() + timedelta(days=1),
        )
        db.session.add(row)
        db.session.commit()
    assert _answer(app.test_client(), "/ABOICD23").status_code == 303
    assert _answer(app.test_client(), "/abo1cd23").status_code == 409
    assert _answer(app.test_client(), "/ab0lcd23").status_code == 409
    assert len(_responses(app)) == 1


def test_claim_is_atomic_under_threads(app, link):
    """Eight requests at once: the conditional UPDATE lets exactly one use the link
    (PostgreSQL makes the others wait and re-check; SQLite takes one writer at a time)."""
    n = 8
    barrier, results, errors = threading.Barrier(n), [], []

    def claim() -> None:
        try:
            with app.app_context():
                barrier.wait()
                won = shortlinks.claim(link.id)
                db.session.commit()
                results.append(won)
        except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=claim) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(results) == [False] * (n - 1) + [True]


def test_taps_at_once_from_several_phones_store_one_response(app, link):
    n = 6
    phones = [app.test_client() for _ in range(n)]
    tokens = [csrf_from(phone.get(f"/{link.id}").text) for phone in phones]
    barrier, replies = threading.Barrier(n), []

    def tap(phone, token) -> None:
        barrier.wait()
        replies.append(phone.post(f"/{link.id}", data={"csrf_token": token, "overall": "3"}))

    threads = [threading.Thread(target=tap, args=pair) for pair in zip(phones, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in replies) == [303] + [409] * (n - 1)
    assert len(_responses(app)) == 1
    with app.app_context():
        assert db.session.get(ShortLink, link.id).used_at is not None


def test_a_failed_response_gives_the_link_back(app, client, link, monkeypatch):
    """The link is used in the response's transaction: if storing fails, it is not used."""
    from survey_app.surveys import services

    page = client.get(f"/{link.id}")

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "metrics", SimpleNamespace(survey_submission_on_commit=broken))
    reply = client.post(f"/{link.id}", data={"csrf_token": csrf_from(page.text), "overall": "3"})
    assert reply.status_code == 500
    with app.app_context():
        db.session.remove()
        assert db.session.get(ShortLink, link.id).used_at is None
    monkeypatch.undo()
    assert _answer(app.test_client(), f"/{link.id}").status_code == 303


def test_an_expired_link_says_so(app, link):
    with app.app_context():
        expires = db.session.get(ShortLink, link.id).expires_at
    client = app.test_client()
    with freeze_time(expires - timedelta(minutes=1)):
        page = client.get(f"/{link.id}")
        assert page.status_code == 200
    with freeze_time(expires + timedelta(seconds=1)):
        reply = client.post(
            f"/{link.id}", data={"csrf_token": csrf_from(page.text), "overall": "5"}
        )
        assert reply.status_code == 410
        again = app.test_client().get(f"/{link.id}")
        assert again.status_code == 410
        assert _in_vietnamese(app, EXPIRED) in again.text
    assert _responses(app) == []


def test_receipt_links_expire_with_the_receipt_tokens_setting(app, link):
    with app.app_context():
        row = db.session.get(ShortLink, link.id)
        lifetime = row.expires_at - row.created_at
    assert lifetime == timedelta(seconds=app.config["RECEIPT_TOKEN_MAX_AGE"])


@pytest.mark.parametrize("path", ["/zzzzzzzz", "/ZZZZ2222", "/uuuuuuuu", "/deadbeef"])
def test_an_unknown_id_is_a_clear_404_in_vietnamese(app, client, link, path):
    page = client.get(path)
    assert page.status_code == 404
    assert 'lang="vi"' in page.text
    assert _in_vietnamese(app, NOT_FOUND) in page.text
    assert client.post(path, data={"overall": "5"}).status_code in (400, 404)
    assert _responses(app) == []


def test_the_vietnamese_of_the_pages_is_in_the_catalogue(app):
    for msgid in (NOT_FOUND, EXPIRED):
        assert "khảo sát" in catalogued(msgid) or "đường dẫn" in catalogued(msgid)


def test_a_withdrawn_counter_closes_its_links(app, client, link):
    from survey_app.agencies.models import Counter

    with app.app_context():
        db.session.get(Counter, link.counter_id).is_active = False
        db.session.commit()
    assert client.get(f"/{link.id}").status_code == 404


def test_old_signed_receipt_links_keep_working(app, client, link):
    with app.app_context():
        token = issue_receipt_token(link.code, "1.001193", "HS-OLD")
    assert len(token) > 100
    assert _answer(client, f"/r/{token}").status_code == 303
    [response] = _responses(app)
    assert response.channel == Channel.receipt and response.receipt_token_hash is not None


def test_the_access_log_masks_the_id(app, client, link, caplog):
    import logging

    from survey_app.core.logs import ACCESS_LOGGER

    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.get(f"/{link.id}")
    lines = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert lines and all(link.id not in r.getMessage() for r in lines)
    assert lines[-1].path == "/***"


# -- guessing ---------------------------------------------------------------------------


def _limited_app(database_url, misses="3/minute", every="100/minute"):
    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = "memory://"
        RATELIMIT_KEY_PREFIX = f"s{uuid.uuid4().hex}"
        SHORT_LINK_MISS_RATE_LIMIT = misses
        SHORT_LINK_RATE_LIMIT = every

    return create_app(Limited)


def test_guessing_ids_is_limited_per_address(app, database_url, link):
    limited = _limited_app(database_url)
    guesser = limited.test_client()
    statuses = [
        guesser.get(
            f"/{shortlinks.new_id()}", environ_base={"REMOTE_ADDR": "203.0.113.9"}
        ).status_code
        for _ in range(5)
    ]
    assert statuses == [404, 404, 404, 429, 429]
    # the real link still opens from another address, and misses of one address do not
    # count against another
    other = {"REMOTE_ADDR": "198.51.100.4"}
    assert guesser.get(f"/{link.id}", environ_base=other).status_code == 200
    assert guesser.get(f"/{shortlinks.new_id()}", environ_base=other).status_code == 404


def test_every_request_to_short_links_is_limited(app, database_url, link):
    limited = _limited_app(database_url, misses="100/minute", every="2/minute")
    client = limited.test_client()
    statuses = [client.get(f"/{link.id}").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_the_links_table_holds_no_dossier_reference(app, link):
    with app.app_context():
        row = db.session.get(ShortLink, link.id)
        assert "HS-2026-1" not in json.dumps([str(v) for v in row.__dict__.values()])
        assert db.session.scalar(select(func.count()).select_from(ShortLink)) == 1
