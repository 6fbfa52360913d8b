"""Recording survey responses. Services flush; the view or command commits."""

from __future__ import annotations

import hashlib
import hmac
import socket
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import (
    Boolean,
    Integer,
    SmallInteger,
    String,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import IntegrityError

from ..agencies.importers import COUNTER_CODE_PATTERN
from ..agencies.models import Agency, Counter, Procedure
from ..core import metrics
from ..core.db import UTCDateTime
from ..core.params import clean_text
from ..core.time import local_day_bounds_utc, local_today, now_utc
from ..extensions import db
from . import shortlinks
from .models import Answer, Channel, QuestionnaireVersion, Response
from .questionnaire import DEFAULT_VERSION, Questionnaire, load_questionnaire


class TokenAlreadyUsed(Exception):
    """A receipt token that already has a response."""


@dataclass(frozen=True, slots=True)
class SurveyCounter:
    """What the survey needs of a counter: read in one plain query, no ORM object.

    The survey is the hot path (every tap of every citizen), so it reads these
    five columns instead of loading and tracking a :class:`Counter` and its agency.
    """

    id: int
    code: str
    name: str
    agency_id: int
    agency_name: str


# The hot path's statements are built once: building a statement and its cache
# key costs more than running it on an indexed column.
_ACTIVE_COUNTER = (
    select(Counter.id, Counter.code, Counter.name, Counter.agency_id, Agency.name)
    .join(Agency, Agency.id == Counter.agency_id)
    .where(
        Counter.code == bindparam("code"),
        Counter.is_active.is_(True),
        Agency.is_active.is_(True),
    )
)
_INSERT_RESPONSE = insert(Response.__table__)


def _tap_statement():
    """``INSERT … SELECT`` of a one-tap response at the counter with code ``:code``.

    The counter lookup and the insert in one round trip: it inserts nothing,
    and returns no id, when the counter or its agency is not active.
    """
    responses = Response.__table__
    values = {
        "counter_id": Counter.id,
        "agency_id": Counter.agency_id,
        "questionnaire_version_id": bindparam("questionnaire_version_id", type_=Integer),
        "channel": bindparam("channel", type_=responses.c.channel.type),
        "language": bindparam("language", type_=String),
        "overall": bindparam("overall", type_=SmallInteger),
        "started_at": bindparam("started_at", type_=UTCDateTime),
        "submitted_at": bindparam("submitted_at", type_=UTCDateTime),
        "client_hash": bindparam("client_hash", type_=String),
        "address_hash": bindparam("address_hash", type_=String),
        "staff_flag": bindparam("staff_flag", type_=Boolean),
        "wants_feedback": bindparam("wants_feedback", type_=Boolean),
        "start_nonce": bindparam("start_nonce", type_=String),
    }
    source = (
        select(*values.values())
        .join(Agency, Agency.id == Counter.agency_id)
        .where(
            Counter.code == bindparam("code"),
            Counter.is_active.is_(True),
            Agency.is_active.is_(True),
        )
    )
    return insert(responses).from_select(list(values), source).returning(responses.c.id)


_TAP = _tap_statement()


def active_counter(code: str) -> SurveyCounter | None:
    """The counter with this public code, if it and its agency take part in the survey."""
    code = code.upper()
    if not COUNTER_CODE_PATTERN.fullmatch(code):
        return None  # not a code we issue or import: no need to ask the database
    row = db.session.execute(_ACTIVE_COUNTER, {"code": code}).first()
    return None if row is None else SurveyCounter(*row)


def current_questionnaire() -> Questionnaire:
    """The questionnaire new responses answer (``QUESTIONNAIRE_VERSION``)."""
    return load_questionnaire(current_app.config.get("QUESTIONNAIRE_VERSION", DEFAULT_VERSION))


#: (database URL, version, checksum) → row id. Rows are never deleted, so once a
#: version is known to be in a database its id can be reused without a query.
_version_ids: dict[tuple[URL, str, str], int] = {}


def forget_cached_ids() -> None:
    """Drop the cached row ids (for tests that empty the tables)."""
    _version_ids.clear()


def questionnaire_version_id(
    questionnaire: Questionnaire, connection: Connection | None = None
) -> int:
    """The id of the questionnaire's row, from the process cache once it is committed.

    On a miss the row is looked for on a connection of its own, which sees only
    committed rows: if it is there its id is cached. Otherwise it is created on
    ``connection`` (by default the ORM session's), in the caller's transaction,
    and its id is returned but not cached, so a transaction that is then rolled
    back leaves no id of a row that does not exist; the next call finds the row
    once it is committed.

    :raises RuntimeError: as :func:`questionnaire_row`.
    """
    key = (db.engine.url, questionnaire.version, questionnaire.checksum)
    if key in _version_ids:
        return _version_ids[key]
    with db.engine.connect() as reader:
        row = reader.execute(_find_version(questionnaire)).first()
    if row is not None:
        _refuse_changed_file(row.checksum, questionnaire)
        _version_ids[key] = row.id
        return row.id
    return _version_row_id(questionnaire, connection or db.session.connection())


def _find_version(questionnaire: Questionnaire):
    table = QuestionnaireVersion.__table__
    return select(table.c.id, table.c.checksum).where(table.c.version == questionnaire.version)


def _version_row_id(questionnaire: Questionnaire, connection: Connection) -> int:
    """The id of the questionnaire's row as ``connection`` sees it, created if missing."""
    row = connection.execute(_find_version(questionnaire)).first()
    if row is None:
        try:
            with connection.begin_nested():
                connection.execute(
                    insert(QuestionnaireVersion.__table__).values(
                        version=questionnaire.version,
                        checksum=questionnaire.checksum,
                        definition=questionnaire.definition,
                    )
                )
        except IntegrityError:  # another worker stored it at the same moment
            pass
        row = connection.execute(_find_version(questionnaire)).one()
    _refuse_changed_file(row.checksum, questionnaire)
    return row.id


def _refuse_changed_file(stored_checksum: str, questionnaire: Questionnaire) -> None:
    if stored_checksum != questionnaire.checksum:
        raise RuntimeError(
            f"questionnaire file {questionnaire.version} changed after it was first used; "
            "save the change under a new version name"
        )


def questionnaire_row(questionnaire: Questionnaire) -> QuestionnaireVersion:
    """The database row of a questionnaire version, created from its file on first use.

    :raises RuntimeError: if the file changed after the version was first loaded;
        a published version must never change, give the edit a new version name.
    """
    db.session.flush()  # the row as this session last left it
    version_id = _version_row_id(questionnaire, db.session.connection())
    return db.session.get_one(QuestionnaireVersion, version_id)


def client_fingerprint(remote_addr: str | None, user_agent: str | None, day: date) -> str:
    """A keyed hash of the client address and browser, salted per day.

    Good enough to spot a burst of taps from one device at one counter on one
    day; useless to identify a person or to follow them across days.
    """
    message = f"{day.isoformat()}|{remote_addr or ''}|{user_agent or ''}".encode()
    return hmac.new(
        _client_key(current_app.config["SECRET_KEY"]), message, hashlib.sha256
    ).hexdigest()[:32]


@cache
def _client_key(secret_key: str) -> bytes:
    return hashlib.sha256(("client:" + secret_key).encode()).digest()


def address_fingerprint(remote_addr: str | None, day: date) -> str:
    """A keyed hash of the client address alone, salted per day.

    Links the taps of one address whatever browser string each sends (a script
    rotating its User-Agent gets a new :func:`client_fingerprint` every time).
    An IPv6 address counts by its /64, the block one subscriber gets. Kept only
    until the burst screening no longer needs it (``surveys.screening``).
    """
    address = remote_addr or ""
    if ":" in address:  # IPv6 (or an IPv4 written as IPv6): its /64, or the address itself
        try:
            packed = socket.inet_pton(socket.AF_INET6, address.split("%", 1)[0])
        except OSError:
            pass
        else:
            if packed[:12] == _IPV4_MAPPED:
                address = socket.inet_ntop(socket.AF_INET, packed[12:])
            else:
                address = packed[:8].hex() + "::/64"
    message = f"{day.isoformat()}|{address}".encode()
    return hmac.new(
        _address_key(current_app.config["SECRET_KEY"]), message, hashlib.sha256
    ).hexdigest()[:32]


_IPV4_MAPPED = bytes(10) + b"\xff\xff"


@cache
def _address_key(secret_key: str) -> bytes:
    return hashlib.sha256(("address:" + secret_key).encode()).digest()


def is_token_used(token_hash: str) -> bool:
    return (
        db.session.scalar(select(Response.id).where(Response.receipt_token_hash == token_hash))
        is not None
    )


@dataclass(frozen=True)
class Origin:
    """Where a response came from, all of it decided before the rating is stored."""

    channel: Channel
    language: str
    client_hash: str
    staff_flag: bool = False
    started_at: datetime | None = None
    procedure: Procedure | None = None
    receipt_token_hash: str | None = None
    dossier_ref_hash: str | None = None
    #: The random number of the page the tap came from (see ``Response.start_nonce``).
    start_nonce: str | None = None
    #: :func:`address_fingerprint` of the client (for the burst screening).
    address_hash: str | None = None
    #: The short link answered (``shortlinks``): used up in the response's transaction.
    short_link_id: str | None = None
    #: How the dossier's result went back (invitations): counter, online or post.
    return_channel: str | None = None


def _rating_values(
    overall: int, origin: Origin, now: datetime, connection: Connection | None = None
) -> dict[str, Any]:
    """The columns of a new response that come from the tap itself, whatever the channel.

    :param connection: the connection the response is inserted on (default: the ORM
        session's), on which the questionnaire's row is created if need be.
    """
    if overall not in (1, 2, 3, 4, 5):
        raise ValueError("overall rating must be 1–5")
    return {
        "questionnaire_version_id": questionnaire_version_id(current_questionnaire(), connection),
        "channel": origin.channel,
        "language": origin.language,
        "overall": overall,
        "started_at": origin.started_at,
        "submitted_at": now,
        "client_hash": origin.client_hash,
        "address_hash": origin.address_hash,
        "staff_flag": origin.staff_flag,
        "wants_feedback": False,
        "start_nonce": origin.start_nonce,
    }


def store_overall(counter: Counter | SurveyCounter, overall: int, origin: Origin) -> int:
    """Store the one-tap rating (this alone is a complete response); its id.

    One INSERT, without loading or tracking ORM objects: this runs on every tap.

    :raises ValueError: if ``overall`` is not 1–5.
    :raises TokenAlreadyUsed: if the receipt token or short link has been answered
        meanwhile (the unique column, or the short link's conditional update, decides
        races between two taps).
    """
    values = _rating_values(overall, origin, now_utc()) | {
        "counter_id": counter.id,
        "agency_id": counter.agency_id,
        "procedure_id": origin.procedure.id if origin.procedure is not None else None,
        "receipt_token_hash": origin.receipt_token_hash,
        "dossier_ref_hash": origin.dossier_ref_hash,
        "return_channel": origin.return_channel,
    }
    # in this transaction: if storing the response fails, the rollback gives the link back
    if origin.short_link_id is not None and not shortlinks.claim(origin.short_link_id):
        raise TokenAlreadyUsed
    if origin.receipt_token_hash is None and origin.start_nonce is None:
        result = db.session.connection().execute(_INSERT_RESPONSE, values)
    elif origin.receipt_token_hash is None:  # a kiosk: its page's number decides double taps
        try:
            with db.session.begin_nested():
                result = db.session.connection().execute(_INSERT_RESPONSE, values)
        except IntegrityError:
            existing = response_for_start(origin.start_nonce)
            if existing is None:
                raise
            return existing
    else:
        try:  # the unique token column decides between two simultaneous taps
            with db.session.begin_nested():
                result = db.session.connection().execute(_INSERT_RESPONSE, values)
        except IntegrityError as exc:
            if is_token_used(origin.receipt_token_hash):
                raise TokenAlreadyUsed from exc
            raise
    metrics.survey_submission_on_commit(db.session(), origin.channel)
    return result.inserted_primary_key[0]


def tap(code: str, overall: int, origin: Origin) -> int | None:
    """Store a one-tap rating at the counter with public code ``code``, in one statement.

    The id of the new response, or ``None`` when nothing was stored because the
    counter is unknown or does not take part. For poster and web taps; a
    receipt's token and a kiosk are checked before :func:`store_overall`.

    A second tap from the same browser is turned away before this, by the
    browser's session (``DUPLICATE_WINDOW_SECONDS``). Nothing here refuses a tap
    because another one came from the same address and browser type: phones on
    an office's Wi-Fi share one address, and most Android phones send the same
    User-Agent, so that would turn away different citizens. The client hash is
    stored for later fraud analysis, and the rate limit bounds what one address
    can send.

    :raises ValueError: if ``overall`` is not 1–5.
    """
    code = code.upper()
    if not COUNTER_CODE_PATTERN.fullmatch(code):
        return None
    try:
        with db.engine.begin() as connection:  # its own short transaction: no ORM session
            values = _rating_values(overall, origin, now_utc(), connection) | {"code": code}
            response_id = connection.execute(_TAP, values).scalar()
    except IntegrityError:
        # a double tap: the same page's other request stored the response meanwhile
        existing = response_for_start(origin.start_nonce)
        if existing is None:
            raise
        return existing
    if response_id is not None:
        metrics.count_survey_submission(origin.channel)
    return response_id


def response_for_start(start_nonce: str | None) -> int | None:
    """The id of the response stored from the page with this random number, if any."""
    if start_nonce is None:
        return None
    with db.engine.connect() as connection:
        return connection.execute(
            select(Response.id).where(Response.start_nonce == start_nonce)
        ).scalar()


def record_overall(counter: Counter | SurveyCounter, overall: int, origin: Origin) -> Response:
    """:func:`store_overall`, returning the stored :class:`Response` (for scripts and tests)."""
    return db.session.get(Response, store_overall(counter, overall, origin))


def record_details(
    response: Response,
    ratings: dict[str, int | None],
    factual: dict[str, Any],
    staff_flag: bool = False,
) -> Response:
    """Store the optional questionnaire (step 2), replacing earlier answers of this response.

    :param ratings: item code → 1–5, or ``None`` for "not applicable"; items
        left out were not answered and are not stored.
    :param factual: ``trips``, ``agencies_contacted`` and the profile fields
        (``respondent_type``, ``age_group``, ``gender``), each optional.
    :raises ValueError: for an unknown item code or an out-of-range value.
    """
    questionnaire = load_questionnaire(response.questionnaire_version.version)
    known = set(questionnaire.item_codes)
    for code, value in ratings.items():
        if code not in known:
            raise ValueError(f"unknown item {code}")
        if value is not None and value not in (1, 2, 3, 4, 5):
            raise ValueError(f"value out of range for {code}")
    allowed = {
        q.code: {o.value for o in q.options} for q in questionnaire.factual + questionnaire.profile
    }
    for key, value in factual.items():
        if key not in allowed or (value is not None and value not in allowed[key]):
            raise ValueError(f"invalid value for {key}")

    response.answers.clear()
    db.session.flush()
    response.answers.extend(Answer(item_code=c, value=v) for c, v in ratings.items())
    for key in allowed:
        setattr(response, key, factual.get(key))
    response.completed_at = now_utc()
    response.staff_flag = response.staff_flag or staff_flag
    db.session.flush()
    return response


def record_comment(
    response: Response, comment: str, wants_feedback: bool, staff_flag: bool = False
) -> Response:
    """Store the free-text suggestion (step 3) and whether it should become a feedback case."""
    comment = clean_text(comment).strip()
    response.comment = comment or None
    response.wants_feedback = bool(comment) and wants_feedback
    response.completed_at = now_utc()
    response.staff_flag = response.staff_flag or staff_flag
    db.session.flush()
    return response


def count_today(counter_ids: list[int]) -> dict[int, int]:
    """Responses received today (local time) per counter."""
    if not counter_ids:
        return {}
    start, end = local_day_bounds_utc(local_today())
    rows = db.session.execute(
        select(Response.counter_id, func.count())
        .where(
            Response.counter_id.in_(counter_ids),
            Response.submitted_at >= start,
            Response.submitted_at < end,
        )
        .group_by(Response.counter_id)
    )
    counts = dict.fromkeys(counter_ids, 0)
    counts.update({counter_id: n for counter_id, n in rows})
    return counts
