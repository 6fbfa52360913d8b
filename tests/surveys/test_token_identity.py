"""Signed links have one identity: every spelling of a token that verifies is the same token.

itsdangerous decodes a signature's base64 leniently (``=`` padding, characters
outside the alphabet, ``+`` for ``-``, the unused low bits of the last
character), so one issued token has many spellings that verify. Single use of a
receipt link and the rate limit of a kiosk must count them all as one.
"""

from __future__ import annotations

import hashlib
import uuid
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from survey_app import create_app
from survey_app.config import TestConfig
from survey_app.extensions import db
from survey_app.surveys import kiosks as kiosk_services
from survey_app.surveys import services
from survey_app.surveys.models import Channel, Kiosk, Response
from survey_app.surveys.shortlinks import canonical_id
from survey_app.surveys.tokens import (
    TokenError,
    canonical_token,
    issue_kiosk_token,
    issue_receipt_token,
    read_kiosk_token,
    read_receipt_token,
    token_digest,
)
from tests import factories
from tests.helpers import csrf_from

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HTTP_PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: Characters a lenient base64 decoder skips or pads with; "/" only where no URL is built.
_JUNK = list("=!$*()',;:@~ +&%") + ["é", "\u00a0", "ữ", "\t", "\u200b"]


@st.composite
def spellings(draw, token: str, in_url: bool = False):
    """Other ways of writing ``token``'s signature that a lenient decoder may accept.

    :param in_url: only spellings that survive as one path segment of a URL.
    """
    value, _, sig = token.rpartition(".")
    chars = list(sig)
    # the unused low bits of the last character
    unused = 6 * len(sig) - 8 * (len(sig) * 6 // 8)
    if unused:
        last = _B64.index(chars[-1])
        chars[-1] = _B64[(last & ~((1 << unused) - 1)) | draw(st.integers(0, (1 << unused) - 1))]
    # the standard alphabet's letters for the URL-safe ones
    swaps = {"-": "+"} if in_url else {"-": "+", "_": "/"}
    chars = [swaps[c] if c in swaps and draw(st.booleans()) else c for c in chars]
    # characters outside the alphabet, anywhere in the signature
    junk = draw(st.lists(st.tuples(st.integers(0, len(chars)), st.sampled_from(_JUNK)), max_size=4))
    for position, char in sorted(junk, reverse=True):
        chars.insert(position, char)
    padding = "=" * draw(st.integers(0, 3))
    return value + "." + "".join(chars) + padding


def _verifies(read, spelling):
    try:
        return read(spelling)
    except TokenError:
        return None


# -- the tokens themselves ----------------------------------------------------------------


def test_lenient_spellings_exist_and_are_one_receipt_token(app_ctx):
    """The spellings the attack used verify (that is itsdangerous), and are one token here."""
    token = issue_receipt_token("ABC234", "1.001193", "HS-1")
    value, _, sig = token.rpartition(".")
    others = [
        token + "=",
        token + "==",
        value + "." + sig[:3] + "é" + sig[3:],
        value + "." + sig + "$$",
        value + "." + sig[:5] + "\u00a0" + sig[5:],
    ]
    for spelling in others:
        data = read_receipt_token(spelling)  # all of these verify…
        assert data.token == token  # …and are the token as issued
        assert data.digest == token_digest(token) == token_digest(spelling)
    assert hashlib.sha256(token.encode()).hexdigest() == token_digest(token)


@pytest.fixture
def receipt_token(app_ctx):
    """One token for all of a property test's examples (a new one would draw differently)."""
    return issue_receipt_token("ABC234", "1.001193", "HS-1")


@PROPERTY
@given(data=st.data())
def test_every_spelling_of_a_receipt_token_that_verifies_is_the_same_token(receipt_token, data):
    token = receipt_token
    spelling = data.draw(spellings(token))
    read = _verifies(read_receipt_token, spelling)
    assume(read is not None)
    assert read.token == token
    assert read.digest == token_digest(token)
    assert token_digest(spelling) == token_digest(token)


@PROPERTY
@given(data=st.data())
def test_every_spelling_of_a_kiosk_token_that_verifies_names_the_same_kiosk(app_ctx, data):
    token = issue_kiosk_token(7, "ABC234", 3)
    spelling = data.draw(spellings(token))
    read = _verifies(read_kiosk_token, spelling)
    assume(read is not None)
    assert (read.kiosk_id, read.counter_code, read.generation) == (7, "ABC234", 3)
    assert read.token == token


@PROPERTY
@given(position=st.integers(0, 200), char=st.characters(codec="utf-8"))
def test_no_change_to_the_signed_part_verifies(receipt_token, position, char):
    """Only the signature has other spellings: the payload and time are checked byte for byte."""
    token = receipt_token
    signed_part = token.rpartition(".")[0]
    position %= len(signed_part)
    assume(signed_part[position] != char)
    changed = token[:position] + char + token[position + 1 :]
    with pytest.raises(TokenError):
        read_receipt_token(changed)


def test_issued_tokens_are_already_canonical(app_ctx):
    for token in (issue_receipt_token("ABC234", "1.001193", "HS-1"), issue_kiosk_token(1, "X")):
        assert canonical_token(token) == token


def test_a_token_without_a_signature_is_refused(app_ctx):
    with pytest.raises(TokenError):
        token_digest("no-signature-here")


# -- receipts: answered once, whatever the spelling ---------------------------------------


@pytest.fixture
def receipt(app):
    with app.app_context():
        counter = factories.counter(factories.agency("UBND huyện Nam Sách"))
        db.session.commit()
        return SimpleNamespace(code=counter.code, token=issue_receipt_token(counter.code))


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Response))


def _path(spelling: str) -> str:
    return "/r/" + quote(spelling, safe="")


def _answer(app, spelling: str, value: int = 1):
    client = app.test_client()
    page = client.get(_path(spelling))
    if page.status_code != 200:
        return page
    html = page.get_data(as_text=True)
    return client.post(_path(spelling), data={"csrf_token": csrf_from(html), "overall": value})


def test_a_receipt_answered_once_refuses_its_other_spellings(app, receipt):
    assert _answer(app, receipt.token, 5).status_code == 303
    value, _, sig = receipt.token.rpartition(".")
    for spelling in (
        receipt.token + "=",
        value + "." + sig + "$$",
        value + "." + sig[:4] + "é" + sig[4:],
        value + "." + sig.replace("-", "+") + "==",
    ):
        assert _answer(app, spelling).status_code == 409, spelling
    assert _count(app) == 1


def test_the_page_of_another_spelling_posts_to_the_token_as_issued(app, receipt):
    page = app.test_client().get(_path(receipt.token + "=="))
    assert page.status_code == 200
    assert f'action="/r/{receipt.token}"' in page.get_data(as_text=True)


@HTTP_PROPERTY
@given(data=st.data())
def test_no_spelling_answers_a_used_receipt_again(app, receipt, data):
    if _count(app) == 0:
        assert _answer(app, receipt.token, 5).status_code == 303
    spelling = data.draw(spellings(receipt.token, in_url=True))
    reply = _answer(app, spelling)
    assert reply.status_code in (400, 409), (spelling, reply.status_code)
    assert _count(app) == 1


def test_a_link_answered_before_the_change_stays_answered(app, receipt):
    """Responses stored before spellings were told apart hold the SHA-256 of the text sent:
    for a link answered as issued, that is the canonical digest, so it still blocks."""
    with app.app_context():
        counter = services.active_counter(receipt.code)
        origin = services.Origin(
            Channel.receipt,
            "vi",
            "c" * 32,
            receipt_token_hash=hashlib.sha256(receipt.token.encode("utf-8")).hexdigest(),
        )
        services.store_overall(counter, 4, origin)
        db.session.commit()
    assert _answer(app, receipt.token).status_code == 409
    assert _answer(app, receipt.token + "=").status_code == 409
    assert _count(app) == 1


def test_links_from_the_cli_are_short_canonical_and_answered_once(app, runner, receipt):
    """The CLI prints a short link (surveys/shortlinks.py) in its one spelling; another
    spelling of it (upper case) is the same link, answered once."""
    result = runner.invoke(args=["survey", "link", "--counter", receipt.code])
    assert result.exit_code == 0, result.output
    link_id = result.output.strip().splitlines()[0].rsplit("/", 1)[1]
    with app.app_context():
        assert canonical_id(link_id) == link_id == canonical_id(link_id.upper())
    client = app.test_client()
    page = client.get(f"/{link_id.upper()}")
    assert f'action="/{link_id}"' in page.get_data(as_text=True)  # posts to the one spelling
    reply = client.post(
        f"/{link_id.upper()}", data={"csrf_token": csrf_from(page.text), "overall": "5"}
    )
    assert reply.status_code == 303
    assert app.test_client().get(f"/{link_id}").status_code == 409
    assert _count(app) == 1


# -- kiosks: limited per kiosk, whatever the spelling and the address ---------------------


@pytest.fixture
def kiosk(app):
    with app.app_context():
        counter = factories.counter(factories.agency("Sở Tư pháp"))
        kiosk = Kiosk(counter=counter, label="Máy tính bảng")
        db.session.add(kiosk)
        db.session.commit()
        return SimpleNamespace(
            id=kiosk.id, counter_id=counter.id, token=issue_kiosk_token(kiosk.id, counter.code)
        )


def _limited_app(database_url, spec="3/minute"):
    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = "memory://"
        RATELIMIT_KEY_PREFIX = f"k{uuid.uuid4().hex}"
        KIOSK_RATE_LIMIT = spec

    return create_app(Limited)


def _kiosk_tap(app, spelling: str, address: str):
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    path = "/k/" + quote(spelling, safe="")
    page = client.get(path, environ_base=environ)
    assert page.status_code == 200, spelling
    return client.post(
        path,
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "overall": "5"},
        environ_base=environ,
    )


def test_the_kiosk_limit_counts_every_spelling_from_every_address(app, database_url, kiosk):
    limited = _limited_app(database_url)
    value, _, sig = kiosk.token.rpartition(".")
    spellings_ = [
        kiosk.token,
        kiosk.token + "=",
        value + "." + sig + "$$",
        value + "." + sig[:2] + "é" + sig[2:],
        kiosk.token + "==",
    ]
    replies = [
        _kiosk_tap(limited, spelling, f"203.0.113.{n}") for n, spelling in enumerate(spellings_)
    ]
    assert [r.status_code for r in replies] == [303, 303, 303, 429, 429]
    assert _count(app) == 3


def test_each_kiosk_has_its_own_limit(app, database_url, kiosk):
    with app.app_context():
        other = Kiosk(counter_id=kiosk.counter_id, label="Máy 2")
        db.session.add(other)
        db.session.commit()
        other_token = issue_kiosk_token(other.id, other.counter.code)
    limited = _limited_app(database_url, "1/minute")
    assert _kiosk_tap(limited, kiosk.token, "198.51.100.1").status_code == 303
    assert _kiosk_tap(limited, kiosk.token + "=", "198.51.100.2").status_code == 429
    assert _kiosk_tap(limited, other_token, "198.51.100.1").status_code == 303


def test_an_old_link_cannot_use_up_the_allowance_of_the_link_that_replaced_it(
    app, database_url, kiosk
):
    limited = _limited_app(database_url, "2/minute")
    attacker = limited.test_client()
    html = attacker.get("/k/" + kiosk.token).get_data(as_text=True)
    with app.app_context():
        row = db.session.get(Kiosk, kiosk.id)
        kiosk_services.replace_link(row)
        db.session.commit()
        new_token = kiosk_services.kiosk_token(row)
    data = {"csrf_token": csrf_from(html), "overall": "1"}
    replies = [attacker.post("/k/" + kiosk.token + "=" * n, data=data) for n in range(4)]
    assert [r.status_code for r in replies] == [410, 410, 429, 429]
    replies = [_kiosk_tap(limited, new_token, "192.0.2.7") for _ in range(3)]
    assert [r.status_code for r in replies] == [303, 303, 429]
    assert _count(app) == 2


def test_a_forged_kiosk_link_is_a_404_and_leaves_the_kiosks_allowance_alone(
    app, database_url, kiosk
):
    limited = _limited_app(database_url, "1/minute")
    client = limited.test_client()
    html = client.get("/k/" + kiosk.token).get_data(as_text=True)
    forged = kiosk.token[:-4] + ("AAAA" if not kiosk.token.endswith("AAAA") else "BBBB")
    data = {"csrf_token": csrf_from(html), "overall": "5"}
    # counted against the sender's address, not against the kiosk
    replies = [client.post("/k/" + forged, data=data) for _ in range(2)]
    assert [r.status_code for r in replies] == [404, 429]
    assert _kiosk_tap(limited, kiosk.token, "192.0.2.1").status_code == 303
    assert _count(app) == 1
