"""The public survey: /s/<counter> from the poster, /<id> from a receipt or an SMS
invitation (short links), /r/<token> from receipts printed before short links."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, date, datetime
from functools import cache, cached_property
from typing import NoReturn

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.exceptions import TooManyRequests

from ..agencies.models import Counter, Procedure
from ..auth.permissions import public
from ..core.i18n import current_language, local_date
from ..core.ratelimit import over_limit, rate_limit
from ..core.time import local_today
from ..extensions import db, limiter
from . import kiosks, services, shortlinks, steps
from .forms import CommentForm, OverallForm, screen_form_class
from .models import Channel, Kiosk, Response
from .questionnaire import load_questionnaire
from .services import SurveyCounter
from .tokens import (
    KioskLink,
    ReceiptToken,
    TokenError,
    TokenExpired,
    read_kiosk_token,
    read_receipt_token,
)

bp = Blueprint("surveys", __name__)

SESSION_KEY = "survey"  # the response this browser may still add steps 2 and 3 to
ANSWERED_KEY = "answered"  # counter code → when this browser last rated it


class Flow:
    """Where one survey's steps live: ``/s/<code>/…`` (poster, web) or ``/k/<token>/…`` (kiosk).

    The steps are the same pages; only their addresses differ, and on a kiosk
    the pages return to the first screen after each citizen and when idle.
    The counter is looked up when first needed: a tap stores its response
    without a separate lookup (:func:`services.tap`).
    """

    def __init__(
        self,
        code: str,
        kiosk_token: str | None = None,
        counter: SurveyCounter | None = None,
    ) -> None:
        self.code = code.upper()
        self.kiosk_token = kiosk_token
        if counter is not None:
            self.counter = counter

    @cached_property
    def counter(self) -> SurveyCounter:
        """The active counter, or 404."""
        return _active_counter(self.code)

    @property
    def is_kiosk(self) -> bool:
        return self.kiosk_token is not None

    def url(self, step: str, **values) -> str:
        """The address of ``step``: ``start``, ``details`` (``screen=n``), ``comment`` or ``thanks``."""
        if self.kiosk_token is not None:
            return url_for(f"surveys.kiosk_{step}", token=self.kiosk_token, **values)
        endpoint = "surveys." + ("counter" if step == "start" else step)
        return url_for(endpoint, code=self.code, **values)

    def screen_url(self, screen: steps.Screen) -> str:
        """The address of a screen of the optional questionnaire."""
        if screen.kind is steps.ScreenKind.comment:
            return self.url("comment")
        return self.url("details", screen=screen.number)


def _start_signer() -> URLSafeTimedSerializer:
    return _signer_for(current_app.config["SECRET_KEY"])


@cache
def _signer_for(secret_key: str) -> URLSafeTimedSerializer:
    """Signs the time the survey page was shown (built once per key: it is used on every tap)."""
    return URLSafeTimedSerializer(secret_key, salt="hailong.survey-start")


def _active_counter(code: str) -> services.SurveyCounter:
    counter = services.active_counter(code)
    if counter is None:
        _counter_not_found()
    return counter


def _counter_not_found() -> NoReturn:
    abort(
        404,
        description=_(
            "This counter does not exist or no longer takes part in the survey. Please check the code on the poster."
        ),
    )


def _is_staff() -> bool:
    """A staff member is logged in in this browser (only then is the user loaded)."""
    return "_user_id" in session and bool(current_user and current_user.is_authenticated)


def _staff_flag(flow: Flow) -> bool:
    """Whether a response given through ``flow`` is flagged as sent by staff.

    A kiosk is judged by the kiosk, not by the browser's cookie: it is a tablet an
    admin set up for citizens, often with the admin's login left in its browser,
    which would otherwise flag (and leave out of the reports) every citizen's
    rating on it for the hours that session lasts. Its taps are bounded by the
    kiosk's own rate limit instead.
    """
    return not flow.is_kiosk and _is_staff()


def _client_hash(day: date) -> str:
    return services.client_fingerprint(request.remote_addr, request.headers.get("User-Agent"), day)


def _start_token(counter_code: str) -> str:
    """The signed ``started`` field of a survey page: the counter, a random number of
    this page (two taps from it are one response) and, in the signature, the time."""
    return _start_signer().dumps([counter_code, secrets.token_urlsafe(16)])


def _started(signed: str | None, counter_code: str) -> tuple[datetime | None, str | None]:
    """When the page of a tap was shown, and its random number (None, None if unknown)."""
    if not signed:
        return None, None
    try:
        value, ts = _start_signer().loads(
            signed, max_age=current_app.config["SURVEY_FOLLOWUP_SECONDS"], return_timestamp=True
        )
    except BadSignature:
        return None, None
    # (a page shown before the random number was added signed the code alone)
    if isinstance(value, str):
        code, nonce = value, None
    elif isinstance(value, list) and len(value) == 2 and isinstance(value[1], str):
        code, nonce = value
    else:
        return None, None
    if code != counter_code or (nonce is not None and len(nonce) > 32):
        return None, None
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)), nonce


def _answered_recently(counter_code: str) -> bool:
    window = current_app.config["DUPLICATE_WINDOW_SECONDS"]
    at = session.get(ANSWERED_KEY, {}).get(counter_code)
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


def _followup_response(counter: SurveyCounter) -> Response:
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
    flow: Flow,
    form: OverallForm,
    status: int = 200,
    token: str | None = None,
    channel: Channel | None = None,
    action: str | None = None,
):
    counter = flow.counter
    questionnaire = services.current_questionnaire()
    form.started.data = _start_token(counter.code)
    if action is None:
        action = url_for(".receipt", token=token) if token else flow.url("start")
    if token or action != flow.url("start") or flow.is_kiosk:
        channel = None  # the address says it
    else:
        channel = channel or _channel_for_link()
    return (
        render_template(
            "surveys/overall.html",
            counter=counter,
            flow=flow,
            form=form,
            questionnaire=questionnaire,
            action=action,
            channel=channel,
        ),
        status,
    )


def _render_already(flow: Flow, can_continue: bool = False):
    return (
        render_template(
            "surveys/already.html", counter=flow.counter, flow=flow, can_continue=can_continue
        ),
        409,
    )


def _submit_overall(
    flow: Flow, origin_kwargs: dict, token: str | None = None, action: str | None = None
):
    overall, started = OverallForm.tapped_face(request.form), request.form.get("started")
    if overall is None:  # not what a face sends: the form decides, and explains a refusal
        form = OverallForm()
        if not form.validate_on_submit():
            return _render_overall(flow, form, 400, token, origin_kwargs["channel"], action)
        overall, started = form.overall.data, form.started.data
    by_browser = origin_kwargs["channel"] in (Channel.poster, Channel.web)
    if by_browser and _answered_recently(flow.code):  # this browser rated it a moment ago
        state = session.get(SESSION_KEY) or {}
        return _render_already(flow, can_continue=state.get("c") == flow.code)
    started_at, start_nonce = _started(started, flow.code)
    if not current_app.config["SURVEY_DOUBLE_TAP_CHECK"]:
        start_nonce = None
    today = local_today()
    origin = services.Origin(
        language=current_language(),
        client_hash=_client_hash(today),
        address_hash=services.address_fingerprint(request.remote_addr, today),
        staff_flag=_staff_flag(flow),
        started_at=started_at,
        start_nonce=start_nonce,
        **origin_kwargs,
    )
    if by_browser:
        # the counter lookup is part of the one INSERT
        response_id = services.tap(flow.code, overall, origin)  # committed
        if response_id is None:  # nothing stored: the counter is unknown or withdrawn
            _counter_not_found()
    else:
        # Receipts are answered once by their token; a kiosk serves one citizen after
        # another on the same device, so "this phone already answered" means nothing there.
        try:
            response_id = services.store_overall(flow.counter, overall, origin)
        except services.TokenAlreadyUsed:
            db.session.rollback()
            return _render_already(flow)
        db.session.commit()
    _remember_response(flow.code, response_id)
    return redirect(flow.url("details"), code=303)


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
@rate_limit("SURVEY_RATE_LIMIT")
def counter(code: str):
    """Step 1 from the counter's QR poster: five faces; the tap alone is a response."""
    flow = Flow(code)
    if request.method == "GET":
        return _render_overall(flow, OverallForm(formdata=None))
    channel = Channel.web if request.form.get("channel") == Channel.web else Channel.poster
    return _submit_overall(flow, {"channel": channel})


def _receipt_or_error(token: str) -> tuple[SurveyCounter, Procedure | None, ReceiptToken]:
    """The counter, procedure and content of a receipt link, or the page that says why not."""
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
    return counter, procedure, data


@bp.route("/r/<token>", methods=["GET", "POST"])
@public
@rate_limit("SURVEY_RATE_LIMIT")
def receipt(token: str):
    """Step 1 from a receipt link: signed, expiring and answered once, whatever its spelling."""
    counter, procedure, data = _receipt_or_error(token)
    flow = Flow(counter.code, counter=counter)
    # single use is keyed on the token's canonical spelling (see tokens.py), and the
    # page posts back to that spelling
    digest = data.digest
    if services.is_token_used(digest):
        return _render_already(flow)
    if request.method == "GET":
        return _render_overall(flow, OverallForm(formdata=None), token=data.token)
    return _submit_overall(
        flow,
        {
            "channel": Channel.receipt,
            "procedure": procedure,
            "receipt_token_hash": digest,
            "dossier_ref_hash": data.dossier_ref_hash,
        },
        token=data.token,
    )


def _short_link_key() -> str:
    """Short links are counted per client address (guessing is what they must bound)."""
    return get_remote_address()


def _short_link_or_error(link_id: str) -> tuple[shortlinks.LinkState, SurveyCounter]:
    """The short link behind ``link_id`` (any spelling) and its counter, or the page that
    says why not. An id that matches no link counts against the address's allowance
    of misses (``SHORT_LINK_MISS_RATE_LIMIT``): that is what guessing looks like."""
    link = shortlinks.lookup(link_id)
    if link is None:
        if limiter.enabled:
            retry_after = over_limit(
                current_app.config["SHORT_LINK_MISS_RATE_LIMIT"], _short_link_key(), "short-miss"
            )
            if retry_after is not None:
                raise TooManyRequests(retry_after=retry_after)
        abort(
            404,
            description=_(
                "There is no survey at this address. Check that the link was copied completely, or scan the QR code on the counter's poster."
            ),
        )
    if link.used_at is None and link.is_expired:
        abort(
            410,
            description=_(
                "This survey link has expired. You can still rate the counter by scanning the QR code on its poster."
            ),
        )
    code = db.session.scalar(select(Counter.code).where(Counter.id == link.counter_id))
    return link, _active_counter(code or "")


# (the argument is called token, so the access log masks it like a receipt token)
@bp.route(f"/<string(length={shortlinks.ID_LENGTH}):token>", methods=["GET", "POST"])
@public
@rate_limit("SHORT_LINK_RATE_LIMIT", key_func=_short_link_key, methods=("GET", "POST"))
def short_link(token: str):
    """Step 1 from a short link (receipt or SMS invitation): answered once, in any spelling."""
    link, counter = _short_link_or_error(token)
    flow = Flow(counter.code, counter=counter)
    if link.used_at is not None:
        return _render_already(flow)
    # the page posts back to the id's one spelling, whatever was typed
    action = url_for(".short_link", token=link.id)
    if request.method == "GET":
        return _render_overall(flow, OverallForm(formdata=None), action=action)
    procedure = db.session.get(Procedure, link.procedure_id) if link.procedure_id else None
    invite = link.purpose is shortlinks.Purpose.invite
    return _submit_overall(
        flow,
        {
            "channel": Channel.invite if invite else Channel.receipt,
            "procedure": procedure,
            "dossier_ref_hash": link.dossier_ref_hash,
            "return_channel": link.return_channel,
            "short_link_id": link.id,
        },
        action=action,
    )


@bp.route("/s/<code>/more", defaults={"screen": 1}, methods=["GET", "POST"])
@bp.route("/s/<code>/more/<int:screen>", methods=["GET", "POST"])
@public
@rate_limit("SURVEY_RATE_LIMIT")
def details(code: str, screen: int):
    """Step 2 (optional), one screen at a time: each element, then the factual questions
    and the profile."""
    return _details_page(Flow(code), screen)


@bp.route("/s/<code>/comment", methods=["GET", "POST"])
@public
@rate_limit("SURVEY_RATE_LIMIT")
def comment(code: str):
    """Step 3 (optional), the last screen: a suggestion, with the offer to file it as formal feedback."""
    return _comment_page(Flow(code))


@bp.get("/s/<code>/thanks")
@public
def thanks(code: str):
    """The end of the survey."""
    return _thanks_page(Flow(code))


def _page_key(response_id: int) -> str:
    """What a questionnaire page carries to say which response it was built for.

    Keyed, so that the page does not show the response's number (which would tell
    how many people answered).
    """
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"survey-page:{response_id}".encode(), hashlib.sha256).hexdigest()[:16]


def _is_stale(form, response: Response) -> bool:
    """The page was built for another response than the one this browser rated last.

    E.g. a tab left open on an earlier rating's questions, sent after rating again:
    its answers must not land in the new response. A page without the field (sent
    by a script, or from before the field existed) is taken for the current one.
    """
    sent = form.response.data
    expected = _page_key(response.id)
    return bool(sent) and not hmac.compare_digest(sent.encode(), expected.encode())


def _step_context(flow: Flow, response: Response, questionnaire, screen: steps.Screen) -> dict:
    plan = steps.screens(questionnaire)
    back = flow.screen_url(plan[screen.number - 2]) if screen.number > 1 else None
    return {
        "counter": flow.counter,
        "flow": flow,
        "questionnaire": questionnaire,
        "screen": screen,
        "screen_count": len(plan),
        "back_url": back,
        "page_key": _page_key(response.id),
        "kiosk_idle": _kiosk_idle(flow),
    }


def _details_page(flow: Flow, number: int):
    response = _followup_response(flow.counter)
    questionnaire = load_questionnaire(response.questionnaire_version.version)
    screen = steps.question_screen(questionnaire, number)
    if screen is None:
        abort(404, description=_("This page of the survey does not exist."))
    form = screen_form_class(questionnaire, number)()
    status, stale = 200, False
    if request.method == "POST":
        if _is_stale(form, response):
            status, stale = 409, True
            form = screen_form_class(questionnaire, number)(formdata=None)
            _prefill(form, response, screen)
        elif form.validate_on_submit():
            steps.record_screen(
                response,
                screen,
                form.ratings(),
                form.factual_answers(),
                staff_flag=_staff_flag(flow),
            )
            db.session.commit()
            return _after_screen(flow, questionnaire, screen)
        else:
            status = 400
    else:
        _prefill(form, response, screen)
    return (
        render_template(
            "surveys/details.html",
            form=form,
            stale=stale,
            **_step_context(flow, response, questionnaire, screen),
        ),
        status,
    )


def _after_screen(flow: Flow, questionnaire, screen: steps.Screen):
    """The next screen, or the end when the citizen chose to skip the rest."""
    if "finish" in request.form:
        return redirect(flow.url("thanks"), code=303)
    return redirect(flow.screen_url(steps.screens(questionnaire)[screen.number]), code=303)


def _prefill(form, response: Response, screen: steps.Screen) -> None:
    """Show earlier answers when the respondent comes back to a screen."""
    if screen.kind is steps.ScreenKind.element:
        for answer in response.answers:
            if answer.item_code in screen.codes:
                form[answer.item_code].data = "na" if answer.value is None else str(answer.value)
    else:
        for code in screen.codes:
            value = getattr(response, code)
            if value is not None:
                form[code].data = str(value)


def _comment_page(flow: Flow):
    counter = flow.counter
    response = _followup_response(counter)
    questionnaire = load_questionnaire(response.questionnaire_version.version)
    screen = steps.screens(questionnaire)[-1]
    form = CommentForm()
    status, stale = 200, False
    if request.method == "GET":
        form.comment.data = response.comment or ""
        form.wants_feedback.data = response.wants_feedback
    elif _is_stale(form, response):
        status, stale = 409, True
        form = CommentForm(formdata=None)
        form.comment.data = response.comment or ""
        form.wants_feedback.data = response.wants_feedback
    elif form.validate_on_submit():
        # a kiosk is a shared device: formal feedback, with a name and a contact,
        # is filed from the citizen's own phone, so the page does not offer it there
        wants_feedback = form.wants_feedback.data and not flow.is_kiosk
        services.record_comment(
            response, form.comment.data or "", wants_feedback, staff_flag=_staff_flag(flow)
        )
        db.session.commit()
        if wants_feedback and response.comment and not _filed_as_case(response):
            # straight on to what is missing for the case (name, contact): no thank-you
            # until the case exists (the receipt page says it then)
            return redirect(url_for("feedback.new", **{"from": "survey"}), code=303)
        return redirect(flow.url("thanks"), code=303)
    else:
        status = 400
    page = render_template(
        "surveys/comment.html",
        form=form,
        stale=stale,
        feedback_url=current_app.config["PUBLIC_BASE_URL"] + url_for("feedback.new"),
        **_step_context(flow, response, questionnaire, screen),
    )
    return page, status


def _filed_as_case(response: Response) -> bool:
    """True if the response's suggestion was already sent as a report or proposal."""
    from ..feedback.models import FeedbackCase  # (feedback imports this package)

    found = db.session.scalar(
        select(FeedbackCase.id).where(FeedbackCase.response_id == response.id)
    )
    return found is not None


def _thanks_page(flow: Flow):
    counter = flow.counter
    state = session.get(SESSION_KEY) or {}
    response = None
    if state.get("c") == counter.code:
        response = db.session.get(Response, state["r"])
    if flow.is_kiosk:
        session.pop(SESSION_KEY, None)  # the next citizen starts afresh
    return render_template(
        "surveys/thanks.html",
        counter=counter,
        flow=flow,
        response=response,
        # asked to be a case, not filed yet: the page says so instead of thanking
        case_pending=(
            response is not None
            and response.wants_feedback
            and bool(response.comment)
            and not flow.is_kiosk
            and not _filed_as_case(response)
        ),
        kiosk_thanks=current_app.config["KIOSK_THANKS_SECONDS"],
    )


# -- kiosk: a tablet at the counter ------------------------------------------------------


def _kiosk_link(token: str) -> KioskLink | None:
    """What the kiosk link's token carries, or ``None`` if it is not a kiosk link we signed.

    Read once per request (the rate limit's key and the view both need it).
    """
    if "kiosk_link" not in g:
        try:
            g.kiosk_link = read_kiosk_token(token)
        except TokenError:
            g.kiosk_link = None
    return g.kiosk_link


def _kiosk_flow(token: str) -> Flow:
    """The kiosk behind a signed kiosk link, locked to its counter; 404 or 410 if not usable."""
    link = _kiosk_link(token)
    if link is None:
        abort(
            404,
            description=_(
                "This kiosk address is not valid. Please ask the administrator for the tablet's link."
            ),
        )
    kiosk = db.session.get(Kiosk, link.kiosk_id)
    problem = kiosks.link_problem(kiosk, link)
    if problem is kiosks.LinkProblem.withdrawn:
        abort(
            410,
            description=_(
                "This kiosk has been withdrawn. Please ask the administrator for a new kiosk link."
            ),
        )
    if problem is kiosks.LinkProblem.replaced:
        abort(
            410,
            description=_(
                "This kiosk link has been replaced by a new one. Please ask the administrator to open the new link on this tablet."
            ),
        )
    if problem is kiosks.LinkProblem.expired:
        abort(
            410,
            description=_(
                "This kiosk link was valid until %(date)s. Please ask the administrator to extend it or to open a new kiosk link on this tablet.",
                date=local_date(kiosks.valid_until(kiosk)),
            ),
        )
    counter = _active_counter(link.counter_code)
    if counter.id != kiosk.counter_id:
        abort(404)
    # the pages link to the canonical spelling of the token, whatever was typed
    return Flow(counter.code, kiosk_token=link.token, counter=counter)


def _kiosk_idle(flow: Flow) -> int | None:
    """Seconds without a touch before a kiosk's half-answered survey starts over."""
    return current_app.config["KIOSK_IDLE_SECONDS"] if flow.is_kiosk else None


def _kiosk_key() -> str:
    """Rate limits count per kiosk link (many people, one device), by what the link carries:
    every spelling of its token, from any address, counts against the same kiosk.

    The link's number is part of the key, so that whoever keeps an old link after
    an admin replaced it cannot use up the new link's allowance (their requests
    are refused anyway). A token that does not verify counts against the sender's
    address.
    """
    link = _kiosk_link(request.view_args["token"])
    if link is None:
        return get_remote_address()
    return f"kiosk:{link.kiosk_id}:{link.generation}"


@bp.route("/k/<token>", methods=["GET", "POST"])
@public
@rate_limit("KIOSK_RATE_LIMIT", key_func=_kiosk_key)
def kiosk_start(token: str):
    """A kiosk's first screen: the five faces, full screen, ready for the next citizen."""
    flow = _kiosk_flow(token)
    if request.method == "GET":
        session.pop(SESSION_KEY, None)  # whatever the previous citizen left unfinished
        return _render_overall(flow, OverallForm(formdata=None))
    return _submit_overall(flow, {"channel": Channel.kiosk})


@bp.route("/k/<token>/more", defaults={"screen": 1}, methods=["GET", "POST"])
@bp.route("/k/<token>/more/<int:screen>", methods=["GET", "POST"])
@public
@rate_limit("KIOSK_RATE_LIMIT", key_func=_kiosk_key)
def kiosk_details(token: str, screen: int):
    """Step 2 on a kiosk, one screen at a time."""
    return _details_page(_kiosk_flow(token), screen)


@bp.route("/k/<token>/comment", methods=["GET", "POST"])
@public
@rate_limit("KIOSK_RATE_LIMIT", key_func=_kiosk_key)
def kiosk_comment(token: str):
    """Step 3 on a kiosk (without the offer of formal feedback)."""
    return _comment_page(_kiosk_flow(token))


@bp.get("/k/<token>/thanks")
@public
def kiosk_thanks(token: str):
    """Thank you, then back to the first screen for the next citizen."""
    return _thanks_page(_kiosk_flow(token))


@bp.get("/k/<token>/manifest.webmanifest")
@public
def kiosk_manifest(token: str):
    """Lets the tablet add the kiosk to its home screen and open it full screen."""
    flow = _kiosk_flow(token)
    manifest = {
        "name": f"Hài Lòng · {flow.counter.name}",
        "short_name": "Hài Lòng",
        "start_url": flow.url("start"),
        "scope": flow.url("start"),
        "display": "fullscreen",
        "orientation": "any",
        "background_color": "#ffffff",
        "theme_color": "#0b5394",
    }
    return current_app.response_class(
        json.dumps(manifest, ensure_ascii=False), mimetype="application/manifest+json"
    )
