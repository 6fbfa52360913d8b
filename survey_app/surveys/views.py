"""The public survey: /s/<counter> from the poster, /r/<token> from the receipt."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from ..agencies.models import Agency, Counter, Procedure
from ..auth.permissions import public
from ..core.i18n import current_language
from ..core.time import local_today
from ..extensions import db, limiter
from . import services
from .forms import CommentForm, OverallForm, details_form_class
from .models import Channel, Response
from .questionnaire import load_questionnaire
from .tokens import TokenError, TokenExpired, read_receipt_token, token_digest

bp = Blueprint("surveys", __name__)

SESSION_KEY = "survey"  # the response this browser may still add steps 2 and 3 to
ANSWERED_KEY = "answered"  # counter code → when this browser last rated it


def _survey_rate_limit() -> str:
    return current_app.config["SURVEY_RATE_LIMIT"]


def _start_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="hailong.survey-start")


def _active_counter(code: str) -> Counter:
    counter = db.session.scalar(
        select(Counter)
        .join(Agency)
        .options(contains_eager(Counter.agency))  # the agency comes from the same join
        .where(
            Counter.code == code.upper(), Counter.is_active.is_(True), Agency.is_active.is_(True)
        )
    )
    if counter is None:
        abort(
            404,
            description=_(
                "This counter does not exist or no longer takes part in the survey. Please check the code on the poster."
            ),
        )
    return counter


def _is_staff() -> bool:
    return bool(current_user and current_user.is_authenticated)


def _client_hash() -> str:
    return services.client_fingerprint(
        request.remote_addr, request.headers.get("User-Agent"), local_today()
    )


def _started_at(signed: str | None, counter: Counter) -> datetime | None:
    if not signed:
        return None
    try:
        code, ts = _start_signer().loads(
            signed, max_age=current_app.config["SURVEY_FOLLOWUP_SECONDS"], return_timestamp=True
        )
    except BadSignature:
        return None
    if code != counter.code:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _answered_recently(counter: Counter) -> bool:
    window = current_app.config["DUPLICATE_WINDOW_SECONDS"]
    at = session.get(ANSWERED_KEY, {}).get(counter.code)
    return window > 0 and at is not None and time.time() - at < window


def _remember_response(counter_code: str, response_id: int) -> None:
    now = int(time.time())
    session[SESSION_KEY] = {"r": response_id, "c": counter_code, "at": now}
    answered = {
        code: at
        for code, at in session.get(ANSWERED_KEY, {}).items()
        if now - at < current_app.config["DUPLICATE_WINDOW_SECONDS"]
    }
    answered[counter_code] = now
    session[ANSWERED_KEY] = answered


def _followup_response(counter: Counter) -> Response:
    """The response this browser rated at ``counter`` and may still complete, or 404/410."""
    state = session.get(SESSION_KEY)
    if not state or state.get("c") != counter.code:
        abort(
            404,
            description=_(
                "There is no rating from this phone to add answers to. Please start from the QR code."
            ),
        )
    if time.time() - state["at"] > current_app.config["SURVEY_FOLLOWUP_SECONDS"]:
        session.pop(SESSION_KEY, None)
        abort(
            410,
            description=_(
                "This survey was started too long ago. Your rating was saved; thank you."
            ),
        )
    response = db.session.get(Response, state["r"])
    if response is None:
        abort(404)
    return response


def _render_overall(
    counter: Counter,
    form: OverallForm,
    status: int = 200,
    token: str | None = None,
    channel: Channel | None = None,
):
    questionnaire = services.current_questionnaire()
    form.started.data = _start_signer().dumps(counter.code)
    action = url_for(".receipt", token=token) if token else url_for(".counter", code=counter.code)
    return (
        render_template(
            "surveys/overall.html",
            counter=counter,
            form=form,
            questionnaire=questionnaire,
            action=action,
            channel=None if token else (channel or _channel_for_link()),
        ),
        status,
    )


def _render_already(counter: Counter, can_continue: bool = False):
    return (
        render_template("surveys/already.html", counter=counter, can_continue=can_continue),
        409,
    )


def _submit_overall(counter: Counter, origin_kwargs: dict, token: str | None = None):
    form = OverallForm()
    if not form.validate_on_submit():
        return _render_overall(counter, form, 400, token, origin_kwargs["channel"])
    origin = services.Origin(
        language=current_language(),
        client_hash=_client_hash(),
        staff_flag=_is_staff(),
        started_at=_started_at(form.started.data, counter),
        **origin_kwargs,
    )
    if origin.channel is not Channel.receipt and (
        _answered_recently(counter) or services.recent_duplicate(counter, origin.client_hash)
    ):
        state = session.get(SESSION_KEY) or {}
        return _render_already(counter, can_continue=state.get("c") == counter.code)
    try:
        response = services.record_overall(counter, form.overall.data, origin)
    except services.TokenAlreadyUsed:
        db.session.rollback()
        return _render_already(counter)
    # read before the commit expires them: no reload query on the hot path
    counter_code, response_id = counter.code, response.id
    db.session.commit()
    _remember_response(counter_code, response_id)
    return redirect(url_for(".details", code=counter_code), code=303)


def _channel_for_link() -> Channel:
    """Poster unless the visitor followed a link from another site (or says so)."""
    if request.args.get("via") == "web":
        return Channel.web
    referrer = request.referrer
    if referrer and request.host not in referrer:
        return Channel.web
    return Channel.poster


@bp.route("/s/<code>", methods=["GET", "POST"])
@public
@limiter.limit(_survey_rate_limit, methods=["POST"])
def counter(code: str):
    """Step 1 from the counter's QR poster: five faces; the tap alone is a response."""
    counter = _active_counter(code)
    if request.method == "GET":
        return _render_overall(counter, OverallForm(formdata=None))
    channel = Channel.web if request.form.get("channel") == Channel.web else Channel.poster
    return _submit_overall(counter, {"channel": channel})


def _receipt_or_error(token: str) -> tuple[Counter, Procedure | None, str, str | None]:
    try:
        data = read_receipt_token(token)
    except TokenExpired:
        abort(
            410,
            description=_(
                "This survey link from your receipt has expired. You can still rate the counter by scanning the QR code on its poster."
            ),
        )
    except TokenError:
        abort(
            400,
            description=_(
                "This survey link is not valid. It may have been copied incompletely; please scan the QR code on your receipt again."
            ),
        )
    counter = _active_counter(data.counter_code)
    procedure = None
    if data.procedure_code:
        procedure = db.session.scalar(
            select(Procedure).where(Procedure.code == data.procedure_code)
        )
    return counter, procedure, token_digest(token), data.dossier_ref_hash


@bp.route("/r/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_survey_rate_limit, methods=["POST"])
def receipt(token: str):
    """Step 1 from a receipt link: signed, expiring and answered once."""
    counter, procedure, digest, dossier_hash = _receipt_or_error(token)
    if services.is_token_used(digest):
        return _render_already(counter)
    if request.method == "GET":
        return _render_overall(counter, OverallForm(formdata=None), token=token)
    return _submit_overall(
        counter,
        {
            "channel": Channel.receipt,
            "procedure": procedure,
            "receipt_token_hash": digest,
            "dossier_ref_hash": dossier_hash,
        },
        token=token,
    )


@bp.route("/s/<code>/more", methods=["GET", "POST"])
@public
@limiter.limit(_survey_rate_limit, methods=["POST"])
def details(code: str):
    """Step 2 (optional): the five elements, the factual questions and the profile."""
    counter = _active_counter(code)
    response = _followup_response(counter)
    questionnaire = load_questionnaire(response.questionnaire_version.version)
    form = details_form_class(questionnaire)()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            services.record_details(
                response,
                form.ratings(questionnaire),
                form.factual_answers(questionnaire),
                staff_flag=_is_staff(),
            )
            db.session.commit()
            return redirect(url_for(".comment", code=counter.code), code=303)
        status = 400
    elif not form.errors:
        _prefill(form, response)
    return (
        render_template(
            "surveys/details.html", counter=counter, form=form, questionnaire=questionnaire
        ),
        status,
    )


def _prefill(form, response: Response) -> None:
    """Show earlier answers when the respondent comes back to step 2."""
    for answer in response.answers:
        form[answer.item_code].data = "na" if answer.value is None else str(answer.value)
    for key in ("trips", "agencies_contacted", "respondent_type", "age_group", "gender"):
        value = getattr(response, key)
        if value is not None:
            form[key].data = str(value)


@bp.route("/s/<code>/comment", methods=["GET", "POST"])
@public
@limiter.limit(_survey_rate_limit, methods=["POST"])
def comment(code: str):
    """Step 3 (optional): a suggestion, with the offer to file it as formal feedback."""
    counter = _active_counter(code)
    response = _followup_response(counter)
    form = CommentForm()
    if request.method == "GET":
        form.comment.data = response.comment or ""
        form.wants_feedback.data = response.wants_feedback
    elif form.validate_on_submit():
        services.record_comment(
            response, form.comment.data or "", form.wants_feedback.data, staff_flag=_is_staff()
        )
        db.session.commit()
        return redirect(url_for(".thanks", code=counter.code), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("surveys/comment.html", counter=counter, form=form), status


@bp.get("/s/<code>/thanks")
@public
def thanks(code: str):
    """The end of the survey."""
    counter = _active_counter(code)
    state = session.get(SESSION_KEY) or {}
    response = None
    if state.get("c") == counter.code:
        response = db.session.get(Response, state["r"])
    return render_template("surveys/thanks.html", counter=counter, response=response)
