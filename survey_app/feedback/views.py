"""Public feedback pages: the form, the survey's one-tap conversion, tracking, published answers."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import NoReturn

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage
from wtforms import SelectChoice

from ..agencies.models import Agency, Procedure
from ..agencies.services import search_procedures
from ..auth.permissions import public
from ..core.db import is_concurrent_change
from ..core.i18n import local_datetime
from ..core.params import page_number, parse_id
from ..core.time import now_utc
from ..core.uploads import accepts_uploads
from ..extensions import csrf, db, limiter
from ..surveys.models import Response
from . import attachments, citizen, complaints, notify, published, receipts, services, tracking
from .complaints import complaint_words
from .forms import ComplaintForm, FeedbackForm, TrackForm, VerdictForm
from .models import CaseChannel, CaseKind, CaseState, CitizenVerdict, FeedbackCase
from .workflow import STATE_LABELS, transition

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

TRACKED_KEY = "tracked_cases"  # case ids this browser proved it may see
NEW_CASE_KEY = "new_case"  # (older pages kept the number here in clear: see submitted())
COMPLAINT_KEY = "complaint_record"  # a redirected complaint's code (and secret), for its page


def _agency_choices(empty: str | None = None):
    """The active agencies, indented by depth, after an empty choice labelled ``empty``."""
    agencies = db.session.scalars(
        select(Agency).where(Agency.is_active.is_(True)).order_by(Agency.path)
    ).all()
    return [SelectChoice("", empty or _("(I don't know)"))] + [
        SelectChoice(str(a.id), "— " * a.depth + a.name) for a in agencies
    ]


def _survey_response_for_conversion() -> Response | None:
    """The survey response this browser just gave, if it asked for formal feedback."""
    state = session.get("survey")
    if not state:
        return None
    response = db.session.get(Response, state.get("r"))
    if response is None or not response.comment:
        return None
    return response


def _submission_from(
    form: FeedbackForm, response: Response | None = None, *, is_complaint: bool = False
) -> services.Submission:
    """What the form says; a survey suggestion's agency and procedure are the counter's."""
    procedure = agency = None
    if response is not None:
        agency = db.session.get(Agency, response.agency_id)
        if response.procedure_id:
            procedure = db.session.get(Procedure, response.procedure_id)
    else:
        if (procedure_id := parse_id(form.procedure_id.data)) is not None:
            procedure = db.session.get(Procedure, procedure_id)
        if (agency_id := parse_id(form.agency_id.data)) is not None:
            agency = db.session.get(Agency, agency_id)
    return services.Submission(
        kind=CaseKind.proposal if form.kind.data == "proposal" else CaseKind.report,
        content=form.content.data or "",
        submitter_name=form.submitter_name.data,
        contact_phone=form.contact_phone.data,
        contact_email=form.contact_email.data,
        address=form.address.data,
        procedure=procedure,
        agency=agency,
        is_complaint=is_complaint,
    )


#: The form's fields in the order the page shows them: the error summary lists its
#: errors in that order ("contact" is the phone-or-e-mail requirement).
FIELD_ORDER = (
    "csrf_token",
    "kind",
    "procedure_query",
    "agency_id",
    "content",
    "attachments",
    "submitter_name",
    "contact",
    "contact_phone",
    "contact_email",
    "address",
    "complaint_answer",
)
#: The element each error's link in the summary goes to, where it is not the field's id.
ANCHORS = {
    "csrf_token": "send",
    "kind": "kind-report",
    "contact": "contact_phone",
    "complaint_answer": "complaint_answer-feedback",
    "what": "what-feedback",
}


def error_summary(errors: dict[str, str]) -> list[tuple[str, str]]:
    """``errors`` (field name → message) as the summary's links: (element id, message)."""
    return [(ANCHORS.get(name, name), message) for name, message in errors.items()]


def _expired_message() -> str:
    return _(
        "This page had expired, so nothing was sent. Everything you typed is kept below: "
        "check it and press Send again."
    )


def _all_errors(form: FeedbackForm, response: Response | None) -> dict[str, str]:
    """Every problem of the sent form at once: the fields' own checks, an expired page,
    and what Art. 7 of Decree 20/2008 requires, in the page's order."""
    form.validate()
    found: dict[str, str] = {}
    for name, messages in form.errors.items():
        if messages and name != "csrf_token":
            found[name] = str(messages[0])
    if getattr(form, "csrf_token", None) is not None and form.csrf_token.errors:
        found["csrf_token"] = _expired_message()
    try:
        services.validate_submission(services.cleaned(_submission_from(form, response)))
    except services.IntakeError as exc:
        for name, message in exc.errors.items():
            found.setdefault(name, message)
    order = {name: i for i, name in enumerate(FIELD_ORDER)}
    return dict(sorted(found.items(), key=lambda item: order.get(item[0], len(order))))


def _kept_files() -> list[dict]:
    """The files an earlier showing of the page kept (its ``kept_file`` tokens), still valid."""
    if request.method != "POST":
        return []
    found = []
    for token in request.form.getlist("kept_file")[: current_app.config["ATTACHMENT_MAX_FILES"]]:
        info = attachments.kept(token)
        if info is not None and all(info["n"] != k["n"] for k in found):
            found.append(info)
    return found


def _checked_uploads(kept: list[dict]):
    """The files sent with this request, checked; and the first problem with them."""
    uploads = [
        # (a text field of that name is not a file: only uploads count)
        f
        for f in request.files.getlist("attachments")
        if isinstance(f, FileStorage) and f.filename
    ]
    limit = current_app.config["ATTACHMENT_MAX_FILES"]
    if len(uploads) + len(kept) > limit:
        return [], _("Attach at most %(n)d files.", n=limit)
    checked, problem = [], None
    for upload in uploads:
        try:
            checked.append((upload, *attachments.check_upload(upload)))
        except attachments.AttachmentError as exc:
            problem = problem or str(exc)
    return checked, problem


@bp.get("/")
@public
def start():
    """First question: a report or proposal, or a complaint or denunciation (they go elsewhere)."""
    if "what" not in request.args and "chosen" not in request.args:
        return render_template("feedback/start.html", errors={}, summary=[])
    what = request.args.get("what")
    if what == "feedback":
        return redirect(url_for(".new"), code=303)
    if what == "complaint":
        return redirect(url_for(".complaint"), code=303)
    errors = {"what": _("Choose what you want to send.")}
    return render_template("feedback/start.html", errors=errors, summary=error_summary(errors)), 400


@bp.route("/new", methods=["GET", "POST"])
@accepts_uploads(
    lambda: (
        current_app.config["ATTACHMENT_MAX_BYTES"] * current_app.config["ATTACHMENT_MAX_FILES"]
        + 64 * 1024
    )  # the form's text
)
@public
@limiter.limit(
    lambda: current_app.config["FEEDBACK_RATE_LIMIT"],
    methods=["POST"],
    exempt_when=lambda: "search" in request.form,
)
@limiter.shared_limit(  # the procedure search: not a filing, but not free either
    lambda: current_app.config["SEARCH_RATE_LIMIT"],
    scope="public-search",
    methods=["POST"],
    exempt_when=lambda: not _searching(),
)
def new():
    """The public form; also the survey's "file it as formal feedback" path."""
    from_survey = request.args.get("from") == "survey"
    response = _survey_response_for_conversion() if from_survey else None
    sending = request.method == "POST" and not ({"search", "edit"} & set(request.form))
    # (a sending of the form is first looked up by its key: the same form sent again
    # shows its case's number instead of this 409)
    if response is not None and not sending and _converted(response):
        _already_sent()
    form = FeedbackForm()
    form.agency_id.choices = _agency_choices()
    if request.method == "GET":
        form.kind.data = "report"
        if response is not None:
            form.content.data = response.comment
    matches = []
    query = (form.procedure_query.data or "").strip()
    if query and response is None:
        matches = search_procedures(query)
    selected = None
    if response is None and (procedure_id := parse_id(form.procedure_id.data)) is not None:
        selected = db.session.get(Procedure, procedure_id)
        if selected is not None and selected not in matches:
            matches = [selected, *matches]
    form.procedure_id.choices = [SelectChoice(str(p.id), f"{p.code} — {p.name}") for p in matches]

    kept = _kept_files()
    status = 200
    errors: dict[str, str] = {}
    asked: list[str] = []  # the words that suggest a complaint, when the citizen is asked
    checked = []
    if sending:
        status = 400
        checked, file_problem = _checked_uploads(kept)
        errors = _all_errors(form, response)
        if file_problem:
            errors = _with_error(errors, "attachments", file_problem)
        answer = form.complaint_answer.data
        answer = answer if answer in ("feedback", "complaint") else None
        words = complaint_words(form.content.data or "")
        if not errors and words and answer is None:
            # words only suggest a complaint: the citizen says what it is
            asked, status = words, 200
            if "complaint_asked" in request.form:  # the question was sent unanswered
                errors, status = {"complaint_answer": _("Choose one answer.")}, 400
        elif not errors:
            filed = _file(form, response, kept, checked, is_complaint=answer == "complaint")
            if not isinstance(filed, dict):
                return filed
            errors = filed
    elif request.method == "POST":  # a search, or back from the question: files stay too
        checked, file_problem = _checked_uploads(kept)
        if file_problem:
            errors = {"attachments": file_problem}
    if request.method == "POST" and (errors or asked or not sending):
        # nothing is lost: the files already chosen stay with the page
        kept = kept + [attachments.keep(upload, data, mime) for upload, data, mime in checked]
    if not services.SUBMIT_KEY.fullmatch(form.submit_key.data or ""):
        # a new page (or one from before pages had a key): its sendings are one case
        form.submit_key.data = secrets.token_urlsafe(16)
    context = {
        "form": form,
        "errors": errors,
        "summary": error_summary(errors),
        "kept": kept,
        "from_survey": response is not None,
        "response": response,
    }
    if asked:
        return render_template("feedback/confirm.html", words=asked, **context), status
    return (
        render_template(
            "feedback/new.html",
            content_min=services.CONTENT_MIN,
            matches=matches,
            query=query,
            retention_years=_retention_years(),
            **context,
        ),
        status,
    )


def _with_error(errors: dict[str, str], name: str, message: str) -> dict[str, str]:
    """``errors`` with one more, in the page's order."""
    order = {n: i for i, n in enumerate(FIELD_ORDER)}
    merged = {name: message, **errors}
    return dict(sorted(merged.items(), key=lambda item: order.get(item[0], len(order))))


def _retention_years() -> int:
    """How long contact data is kept after a case ends, in whole years (the notice says it)."""
    return max(1, round(current_app.config["FEEDBACK_RETENTION_DAYS"] / 365))


def _file(form, response, kept, checked, *, is_complaint: bool):
    """Store the case (or, for a confirmed complaint, its record) and go to its receipt.

    :return: the redirect, or the errors to show (``dict``) when the case was refused.
    """
    submission = _submission_from(form, response, is_complaint=is_complaint)
    key = services.idempotency_key(form.submit_key.data, submission)
    if key is not None and (filed := services.case_for_key(key)) is not None:
        return _show_filed(filed, key)  # a double click, or Send again
    if response is not None and _converted(response):  # the back button, or Send twice
        return _filed_meanwhile(key)  # (by this form's other sending: its case)
    channel = CaseChannel.survey if response is not None else CaseChannel.web
    try:
        case, secret = services.submit(submission, channel, response=response, idempotency_key=key)
    except IntegrityError:  # the same Send, pressed twice, stored the case meanwhile
        db.session.rollback()
        return _filed_meanwhile(key)
    except services.IntakeError as exc:
        return exc.errors
    if is_complaint:
        # a complaint's record keeps no files (nor name or contact): not needed to redirect it
        code, case_id = case.code, case.id
        db.session.commit()
        attachments.discard_kept(kept)  # (the files sent just now were never written)
        return _show_complaint(code, case_id, secret)
    stored = []
    try:
        for upload, data, mimetype in checked:
            stored.append(attachments.store(case, upload, data, mimetype))
        for info in kept:
            attachments.store_kept(case, info)
        notify.citizen_received(case, secret)
        # read before the commit expires them: once it is committed the
        # citizen must get the tracking number even if the database then goes away
        code, case_id = case.code, case.id
        db.session.commit()
    except IntegrityError:
        attachments.discard(stored)
        db.session.rollback()
        return _filed_meanwhile(key)
    except Exception:
        attachments.discard(stored)  # no files left behind without their case
        raise
    receipts.remember(case_id, code, secret)  # (sealed: never in clear in the cookie)
    _remember_tracked(case_id)
    return redirect(url_for(".submitted"), code=303)


def _show_complaint(code: str, case_id: int, secret: str | None):
    """The redirected citizen's page: where to go, and the record's code (and tracking
    number, when there is a text a coordinator could find to be feedback after all)."""
    sealed = receipts.seal(secret) if secret else None
    session[COMPLAINT_KEY] = {"code": code, "sealed": sealed}
    if secret:
        _remember_tracked(case_id)
    return redirect(url_for(".complaint_recorded"), code=303)


@bp.route("/complaint", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["FEEDBACK_RATE_LIMIT"], methods=["POST"])
def complaint():
    """A complaint or denunciation: which agency it is about, then where to send it."""
    form = ComplaintForm()
    form.agency_id.choices = _agency_choices()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            agency = None
            if (agency_id := parse_id(form.agency_id.data)) is not None:
                agency = db.session.get(Agency, agency_id)
            key = None
            if services.SUBMIT_KEY.fullmatch(form.submit_key.data or ""):
                key = f"{form.submit_key.data}\ncomplaint\n{agency.id if agency else ''}"
                if (filed := services.case_for_key(key)) is not None:  # a double click
                    return _show_complaint(filed.code, filed.id, None)
            try:
                case, _secret = complaints.record_redirect(agency=agency, idempotency_key=key)
                code, case_id = case.code, case.id
                db.session.commit()
            except IntegrityError:  # the same button, pressed twice at once
                db.session.rollback()
                if key is None or (filed := services.case_for_key(key)) is None:
                    raise
                code, case_id = filed.code, filed.id
            return _show_complaint(code, case_id, None)
        status = 400
        errors = {n: str(m[0]) for n, m in form.errors.items() if m and n != "csrf_token"}
        if getattr(form, "csrf_token", None) is not None and form.csrf_token.errors:
            errors = {
                "agency_id": _(
                    "This page had expired, so nothing was recorded. Please choose again."
                )
            }
    if not services.SUBMIT_KEY.fullmatch(form.submit_key.data or ""):
        form.submit_key.data = secrets.token_urlsafe(16)
    return render_template(
        "feedback/complaint.html", form=form, errors=errors, summary=error_summary(errors)
    ), status


@bp.get("/complaint/recorded")
@public
def complaint_recorded():
    """Where to send the complaint or denunciation, and the record's code (again on reload)."""
    data = session.get(COMPLAINT_KEY)
    if not data:
        return redirect(url_for(".start"), code=303)
    case = db.session.scalar(select(FeedbackCase).where(FeedbackCase.code == data["code"]))
    if case is None:
        session.pop(COMPLAINT_KEY, None)
        return redirect(url_for(".start"), code=303)
    return render_template(
        "feedback/complaint_recorded.html",
        case=case,
        body=complaints.complaint_body(case.agency),
        secret=tracking.format_secret(secret)
        if (secret := receipts.unseal(data.get("sealed") or ""))
        else None,
    )


for _view in (new, complaint):
    # These forms check their token themselves: an expired page is shown again with
    # what the citizen typed (and a message), not replaced by an error page.
    csrf.exempt(f"{__name__}.{_view.__name__}")


def _show_filed(case: FeedbackCase, key: str):
    """The confirmation of ``case``, filed by an earlier sending of the same form: its
    code and tracking number again (the browser shows only the last answer it got)."""
    if case.state == CaseState.redirected_complaint and case.code.startswith("KT-"):
        return _show_complaint(case.code, case.id, services.secret_from_key(key))
    receipts.remember(case.id, case.code, services.secret_from_key(key))
    _remember_tracked(case.id)
    return redirect(url_for(".submitted"), code=303)


def _filed_meanwhile(key: str | None):
    """After a unique key refused the case: the same form's other sending (a double
    click) stored it meanwhile, so its confirmation; else the survey suggestion was
    sent as a case already (409)."""
    if key is not None and (filed := services.case_for_key(key)) is not None:
        return _show_filed(filed, key)
    _already_sent()


def _converted(response: Response) -> bool:
    """True if the survey response's suggestion is a case already."""
    found = db.session.scalar(
        select(FeedbackCase.id).where(FeedbackCase.response_id == response.id)
    )
    return found is not None


def _already_sent() -> NoReturn:
    """409: the survey suggestion is a case already (Send pressed twice, or the back button)."""
    abort(
        409,
        description=_(
            "Your suggestion has already been sent as a report or proposal. "
            "Follow it with the case code and tracking number you were given."
        ),
    )


@bp.get("/submitted")
@public
def submitted():
    """The receipt of the case this browser filed last: its code and tracking number,
    shown again on reload for as long as the browser's session lasts."""
    legacy = session.pop(NEW_CASE_KEY, None)  # a number in clear from an older page: sealed now
    if isinstance(legacy, dict) and legacy.get("code") and legacy.get("secret"):
        case = db.session.scalar(select(FeedbackCase).where(FeedbackCase.code == legacy["code"]))
        if case is not None:
            receipts.remember(case.id, case.code, legacy["secret"])
            _remember_tracked(case.id)
    kept = receipts.latest()
    if kept is None:
        return redirect(url_for(".track"), code=303)
    return receipt_views.show_receipt(kept)


def _remember_tracked(case_id: int) -> None:
    tracked = [i for i in session.get(TRACKED_KEY, []) if i != case_id][-9:]
    session[TRACKED_KEY] = [*tracked, case_id]


def _tracked_case(code: str) -> FeedbackCase | None:
    """The case, if this browser has shown its tracking number (``None`` otherwise)."""
    case = db.session.scalar(select(FeedbackCase).where(FeedbackCase.code == code.strip().upper()))
    if case is None or case.id not in session.get(TRACKED_KEY, []):
        return None
    return case


@bp.route("/track", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["TRACK_RATE_LIMIT"], methods=["POST"])
def track():
    """Look a case up with its code and tracking number (no account needed)."""
    form = TrackForm()
    if request.method == "GET":  # from a case's own address: the code is filled in
        form.code.data = request.args.get("code", "")[:20]
    if form.validate_on_submit():
        case = db.session.scalar(
            select(FeedbackCase).where(FeedbackCase.code == form.code.data.strip().upper())
        )
        attempt = tracking.Attempt(ok=False)
        if case is not None and case.id in session.get(TRACKED_KEY, []):
            # this browser showed the right number before (the phone it was sent from):
            # its attempts neither count nor wait for a pause somebody else caused
            attempt = tracking.Attempt(ok=services.check_secret(case, form.secret.data))
        elif case is not None:
            attempt = tracking.try_number(case, form.secret.data)
            db.session.commit()
        if attempt.ok:
            _remember_tracked(case.id)
            return redirect(url_for(".status", code=case.code), code=303)
        if attempt.locked_until is not None:
            return _tracking_paused(case, attempt.locked_until, form)
        # the same answer whether the code or the number is wrong: nothing to probe
        flash(_("No case matches this code and tracking number."), "error")
        return render_template("feedback/track.html", form=form), 404
    status = 400 if request.method == "POST" else 200
    return render_template("feedback/track.html", form=form), status


def _tracking_paused(case: FeedbackCase, until: datetime, form: TrackForm):
    """429: too many wrong numbers for this case; when to try again, and why the
    citizen need not worry."""
    flash(
        _(
            "Too many wrong tracking numbers were entered for case %(code)s. To protect it, "
            "it cannot be opened with a tracking number until %(time)s; please try again "
            "then. Your case is safe: nobody can see it without the right number. It still "
            "opens on the phone or computer it was sent from or already followed on.",
            code=case.code,
            time=local_datetime(until),
        ),
        "error",
    )
    response = make_response(render_template("feedback/track.html", form=form), 429)
    response.headers["Retry-After"] = str(max(1, int((until - now_utc()).total_seconds())))
    return response


@bp.route("/track/<code>", methods=["GET", "POST"])
@public
def status(code: str):
    """A case's state, due date and, once published, its answer; the citizen's verdict."""
    case = _tracked_case(code)
    if case is None:
        # A bookmark, a link opened on another phone, or an expired session: ask for
        # the tracking number, the same way whether or not the code exists.
        flash(_("Enter the tracking number to see this case."), "info")
        return redirect(url_for(".track", code=code.strip().upper()[:20]), code=303)
    form = VerdictForm()
    http_status = 200
    changed = False
    if request.method == "POST":
        try:
            # the page the citizen rated from showed another version of the case: staff
            # reopened it, published a new answer… (pages from before the field: no check)
            sent = form.version.data or ""
            if sent and sent != str(case.version):
                raise CaseChangedMeanwhile
            if case.state != CaseState.published:
                abort(409, description=_("The answer can be rated once it is published."))
            if form.validate_on_submit():
                _record_verdict(case, CitizenVerdict(form.verdict.data), form.reason.data)
                db.session.commit()
                flash(_("Thank you. Your opinion on the answer has been recorded."), "success")
                return redirect(url_for(".status", code=case.code), code=303)
            http_status = 400
        except (CaseChangedMeanwhile, StaleDataError, DBAPIError) as error:
            # staff (or the same rating sent twice at once) changed the case between the
            # page and this request: nothing recorded, the case as it is now, the
            # citizen's choice and words kept in the form
            if not (isinstance(error, CaseChangedMeanwhile) or is_concurrent_change(error)):
                raise
            db.session.rollback()
            case = _tracked_case(code)
            if case is None:
                abort(404)
            http_status, changed = 409, True
    stage = citizen.stage_of(case)
    return render_template(
        "feedback/status.html",
        case=case,
        form=form,
        labels=STATE_LABELS,
        changed=changed,
        stage=stage,
        stage_title=citizen.stage_title(stage),
        steps=citizen.path_steps(stage),
        timeline=citizen.timeline(case),
        deadline=citizen.deadline(case),
        has_receipt=receipts.kept_for(case.code) is not None,
    ), http_status


class CaseChangedMeanwhile(Exception):
    """The case changed after the page the citizen sent a request from was shown."""


def _record_verdict(case: FeedbackCase, verdict: CitizenVerdict, reason: str | None) -> None:
    """Agreement closes the case; disagreement reopens it at the same agency."""
    case.citizen_verdict = verdict
    if verdict == CitizenVerdict.agree:
        transition(case, CaseState.closed, None, action="citizen_agreed")
    else:
        transition(
            case,
            CaseState.in_progress,
            None,
            action="citizen_disagreed",
            reason=reason or _("The citizen does not agree with the answer."),
        )


def _searching() -> bool:
    """True for a request that searches (the public searches share one rate limit)."""
    return bool((request.args.get("q") or "").strip()) or "search" in request.form


@bp.get("/answers")
@public
@limiter.shared_limit(
    lambda: current_app.config["SEARCH_RATE_LIMIT"],
    scope="public-search",
    exempt_when=lambda: not _searching(),
)
def answers():
    """Published answers, searchable by words and agency; only what staff published."""
    query = (request.args.get("q") or "").strip()
    agency_id = request.args.get("agency", "")
    agencies = _agency_choices(_("(All agencies)"))
    page = page_number(request.args.get("page"))
    cases, error, status = [], None, 200
    try:
        words = published.search_words(query)
        published.cap_statement_time()
        stmt = published.published_cases(words, parse_id(agency_id))
        cases = db.session.scalars(stmt.limit(21).offset((page - 1) * 20)).unique().all()
    except published.SearchError as exc:
        error, status = str(exc), 400
    except OperationalError as exc:
        if not published.is_timeout(exc):
            raise
        db.session.rollback()
        error, status = _("The search took too long. Please try again with other words."), 503
    return render_template(
        "feedback/answers.html",
        cases=cases[:20],
        has_more=len(cases) > 20,
        page=page,
        query=query[: published.MAX_QUERY_CHARS],
        max_chars=published.MAX_QUERY_CHARS,
        agency_id=agency_id,
        agencies=agencies,
        error=error,
    ), status


from . import receipt_views  # noqa: E402  (the receipt's routes, on this blueprint)
