"""Configuration, read from environment variables.

Every setting has a safe default for development except ``SECRET_KEY``, which
is required in production and generated (and kept in ``instance/``) otherwise.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_bool_or_none(name: str) -> bool | None:
    value = os.environ.get(name)
    return None if value in (None, "") else _env_bool(name, False)


def _dev_secret_key(instance_path: Path) -> str:
    """Return the development secret key, creating it on first use.

    Kept in the instance folder so sessions and signed links survive restarts.
    """
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


#: Where ``make run`` serves; the base of links made outside a request when
#: PUBLIC_BASE_URL is unset.
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:5000"


class Config:
    """Settings for development and production (``APP_ENV`` picks the rules)."""

    APP_ENV = os.environ.get("APP_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    #: Database URL; default: a SQLite file in the instance folder.
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    #: Base of the links in QR codes and posters, e.g. https://hailong.gov.vn. Unset in
    #: development: pages follow the address being served (see finalise()); links made
    #: outside a request (e-mails, ``flask surveys receipt``) use http://127.0.0.1:5000.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Ho_Chi_Minh")

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = TIMEZONE
    LANGUAGES = ("vi", "en")

    #: The questionnaire new responses answer (a file in surveys/questionnaires/).
    QUESTIONNAIRE_VERSION = os.environ.get("QUESTIONNAIRE_VERSION", "sipas-2023.1")
    #: Static files (CSS) are cached by phones for a day.
    SEND_FILE_MAX_AGE_DEFAULT = 24 * 3600
    WTF_CSRF_TIME_LIMIT = None  # a citizen may leave the survey open while queueing
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 64 * 1024)
    MAX_FORM_MEMORY_SIZE = 32 * 1024

    #: Flask-Limiter: memory:// by default, redis://host:6379 to share across servers.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    SURVEY_RATE_LIMIT = os.environ.get("SURVEY_RATE_LIMIT", "30/minute;300/hour")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10/minute;50/hour")
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600/minute")
    FEEDBACK_RATE_LIMIT = os.environ.get("FEEDBACK_RATE_LIMIT", "5/minute;30/day")
    #: Guessing tracking numbers is rate-limited per client address.
    TRACK_RATE_LIMIT = os.environ.get("TRACK_RATE_LIMIT", "10/minute;50/day")
    #: ... and per case, whatever the address: after this many wrong numbers, tracking
    #: the case with its number pauses for TRACK_CASE_LOCK_MINUTES (feedback/tracking.py
    #: has the arithmetic: at most 10 guesses an hour per case by default).
    TRACK_CASE_MAX_FAILURES = _env_int("TRACK_CASE_MAX_FAILURES", 5)
    TRACK_CASE_LOCK_MINUTES = _env_int("TRACK_CASE_LOCK_MINUTES", 30)
    #: Public searches (published answers, the feedback form's procedure search) per
    #: client address, and how long one search statement may run on PostgreSQL.
    SEARCH_RATE_LIMIT = os.environ.get("SEARCH_RATE_LIMIT", "20/minute;300/hour")
    SEARCH_TIMEOUT_MS = _env_int("SEARCH_TIMEOUT_MS", 2000)

    #: A second tap from the same client at the same counter within this many
    #: seconds is treated as a duplicate and not stored.
    DUPLICATE_WINDOW_SECONDS = _env_int("DUPLICATE_WINDOW_SECONDS", 600)
    #: Two taps sent from one survey page (a double tap, before the browser knows of
    #: the first) store one response. Off only for load generators that replay one
    #: page's fields (bench/).
    SURVEY_DOUBLE_TAP_CHECK = _env_bool("SURVEY_DOUBLE_TAP_CHECK", True)
    #: Receipt links expire after this many seconds (default 14 days).
    RECEIPT_TOKEN_MAX_AGE = _env_int("RECEIPT_TOKEN_MAX_AGE", 14 * 24 * 3600)
    #: Short survey links (surveys/shortlinks.py) are this address + "/" + 8 characters:
    #: 40 characters with https:// and a host of 23; default PUBLIC_BASE_URL.
    SHORT_LINK_BASE_URL = os.environ.get("SHORT_LINK_BASE_URL")
    #: Requests to short links per client address, and ids that match no link (guesses).
    SHORT_LINK_RATE_LIMIT = os.environ.get("SHORT_LINK_RATE_LIMIT", "30/minute;300/hour")
    SHORT_LINK_MISS_RATE_LIMIT = os.environ.get("SHORT_LINK_MISS_RATE_LIMIT", "10/minute;50/day")
    #: Invitations after the result (survey_app/invites): the share of "result returned"
    #: events invited by SMS (0–1, drawn by a keyed hash of the event id), the days the
    #: invitation's link works, the days before the same phone may be invited again, and
    #: how old a returned result may be (hours) and still be asked about.
    INVITE_SHARE = _env_float("INVITE_SHARE", 0.3)
    INVITE_LINK_DAYS = _env_int("INVITE_LINK_DAYS", 7)
    INVITE_PHONE_PERIOD_DAYS = _env_int("INVITE_PHONE_PERIOD_DAYS", 90)
    INVITE_EVENT_MAX_AGE_HOURS = _env_int("INVITE_EVENT_MAX_AGE_HOURS", 72)
    #: Steps 2 and 3 of a survey may be completed within this many seconds.
    SURVEY_FOLLOWUP_SECONDS = _env_int("SURVEY_FOLLOWUP_SECONDS", 3600)
    #: Kiosk tablets: taps per tablet (one device serves everyone at its counter),
    #: seconds without a touch before a half-answered survey goes back to the
    #: first screen, and seconds the thank-you screen stays up.
    KIOSK_RATE_LIMIT = os.environ.get("KIOSK_RATE_LIMIT", "12/minute;400/hour")
    KIOSK_IDLE_SECONDS = _env_int("KIOSK_IDLE_SECONDS", 60)
    KIOSK_THANKS_SECONDS = _env_int("KIOSK_THANKS_SECONDS", 6)
    #: Days a new kiosk's link works, offered when it is added (the admin can change
    #: the date at any time; 0 offers no end date).
    KIOSK_LINK_DAYS = _env_int("KIOSK_LINK_DAYS", 365)
    #: Ballot-stuffing screening (surveys/screening.py): the chance that a counter's
    #: ordinary traffic passes a threshold in one window (lower: fewer false alarms,
    #: more room for stuffing); its busiest hour against its average open hour; the
    #: share of a counter's traffic one address (a hall's Wi-Fi) and one address with
    #: one browser string may carry; the days of history its usual rate comes from;
    #: and whether a live report first screens what arrived since the last run.
    SCREEN_FALSE_ALARM = _env_float("SCREEN_FALSE_ALARM", 1e-6)
    SCREEN_PEAK_FACTOR = _env_float("SCREEN_PEAK_FACTOR", 3.0)
    SCREEN_ADDRESS_SHARE = _env_float("SCREEN_ADDRESS_SHARE", 0.5)
    SCREEN_CLIENT_SHARE = _env_float("SCREEN_CLIENT_SHARE", 0.25)
    SCREEN_HISTORY_DAYS = _env_int("SCREEN_HISTORY_DAYS", 28)
    SCREEN_BEFORE_REPORTS = _env_bool("SCREEN_BEFORE_REPORTS", True)
    #: Report comments name their counter only when it had at least this many responses
    #: that day, and show the day only when the agency had (k-anonymity).
    REPORT_COMMENT_MIN_GROUP = _env_int("REPORT_COMMENT_MIN_GROUP", 5)
    #: Legal durations for feedback (phản ánh, kiến nghị), in working days.
    FEEDBACK_SCREENING_DAYS = _env_int("FEEDBACK_SCREENING_DAYS", 2)
    FEEDBACK_TRANSFER_DAYS = _env_int("FEEDBACK_TRANSFER_DAYS", 5)
    FEEDBACK_ANSWER_DAYS = _env_int("FEEDBACK_ANSWER_DAYS", 15)
    FEEDBACK_PUBLISH_DAYS = _env_int("FEEDBACK_PUBLISH_DAYS", 2)
    #: The single extension may add at most this many working days.
    FEEDBACK_EXTENSION_MAX_DAYS = _env_int("FEEDBACK_EXTENSION_MAX_DAYS", 10)
    #: Where complaints and denunciations (khiếu nại, tố cáo) go when neither the agency
    #: concerned nor one above it names its own body (admins set those on the agency's
    #: page): the province's citizen reception office. The demo's is Hải Dương's (2022);
    #: leave the phone empty rather than print a number nobody checked.
    COMPLAINT_BODY_NAME = os.environ.get("COMPLAINT_BODY_NAME", "Ban Tiếp công dân tỉnh Hải Dương")
    COMPLAINT_BODY_ADDRESS = os.environ.get(
        "COMPLAINT_BODY_ADDRESS",
        "Trụ sở Tiếp công dân tỉnh, số 45 phố Bắc Sơn, phường Quang Trung, thành phố Hải Dương",
    )
    COMPLAINT_BODY_PHONE = os.environ.get("COMPLAINT_BODY_PHONE", "")
    #: Reports: months run 15th → 14th as in the provincial plan, unless this is set.
    REPORT_CALENDAR_MONTHS = _env_bool("REPORT_CALENDAR_MONTHS", False)
    #: Reports: the one indicator that carries the verdict against the target on the
    #: overview: "q0" (share satisfied on the overall question, the plan's own wording) or
    #: "composite" (the SIPAS index); the other is shown as the explanation.
    REPORT_HEADLINE = os.environ.get("REPORT_HEADLINE", "q0").strip().lower()
    #: Reports: an estimate from fewer respondents than this gets no verdict.
    REPORT_MIN_N = _env_int("REPORT_MIN_N", 10)
    #: Reports: post-stratify by the dossiers' return channel too (issue 18): "off";
    #: "cells" (agency × field × return channel cells where the one-stop figures give
    #: every dossier's channel and every respondent's channel is known; a channel with
    #: dossiers but no respondent is a coverage gap, reported, its dossiers not spread);
    #: "collapse" (as "cells", the gap's dossiers spread over the same agency × field's
    #: responding channels). See survey_app/reports/weighting.py.
    REPORT_RETURN_CHANNEL_WEIGHTING = (
        os.environ.get("REPORT_RETURN_CHANNEL_WEIGHTING", "off").strip().lower()
    )
    #: Survey channels taken to mean a return channel when a response has none of its
    #: own, e.g. "poster=counter,kiosk=counter" (people answering at the counter took
    #: their result there). Empty: only invitations' responses carry a return channel.
    REPORT_RETURN_CHANNEL_OF_SURVEY_CHANNEL = dict(
        pair.strip().split("=", 1)
        for pair in os.environ.get("REPORT_RETURN_CHANNEL_OF_SURVEY_CHANNEL", "").split(",")
        if "=" in pair
    )
    #: Reports: the plan's target for dossiers settled on time (II.3.c: 95–100 %).
    DOSSIER_ON_TIME_TARGET = float(os.environ.get("DOSSIER_ON_TIME_TARGET", "0.95"))
    #: The PDF report's form (NĐ 30/2020/NĐ-CP): the issuing body and its parent (upper
    #: case), the code in its number "Số: …/BC-SNV", the place before its date, whom it is
    #: addressed to ("Kính gửi:") and sent to ("Nơi nhận:"), several separated by ";",
    #: and the title of who signs it beside the one who prepared it.
    REPORT_ISSUER_PARENT = os.environ.get("REPORT_ISSUER_PARENT", "UBND TỈNH HẢI DƯƠNG")
    REPORT_ISSUER = os.environ.get("REPORT_ISSUER", "SỞ NỘI VỤ")
    REPORT_ISSUER_CODE = os.environ.get("REPORT_ISSUER_CODE", "SNV")
    REPORT_PLACE = os.environ.get("REPORT_PLACE", "Hải Dương")
    REPORT_RECIPIENTS = os.environ.get("REPORT_RECIPIENTS", "Ủy ban nhân dân tỉnh Hải Dương")
    REPORT_DISTRIBUTION = os.environ.get("REPORT_DISTRIBUTION", "Như trên;Lưu: VT")
    REPORT_SIGNER_TITLE = os.environ.get("REPORT_SIGNER_TITLE", "THỦ TRƯỞNG CƠ QUAN")
    #: Feedback closed or published longer ago than this loses its personal data, and survey
    #: comments older than this are redacted, by `flask feedback purge` (docs/PERSONAL_DATA.md).
    FEEDBACK_RETENTION_DAYS = _env_int("FEEDBACK_RETENTION_DAYS", 5 * 365)
    #: Notifications sent (or given up on) longer ago than this are deleted by the purge.
    OUTBOX_RETENTION_DAYS = _env_int("OUTBOX_RETENTION_DAYS", 30)
    #: `flask report send` (daily) mails a period's report to its subscribers from the day
    #: after the period ends, for this many days (a server down for longer sends nothing
    #: old; at most OUTBOX_RETENTION_DAYS, whose purge forgets what was sent).
    REPORT_MAIL_DAYS = _env_int("REPORT_MAIL_DAYS", 7)
    #: SMTP for notifications; without MAIL_SERVER they are written to the log.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = _env_int("MAIL_PORT", 587)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_FROM = os.environ.get("MAIL_FROM", "hailong@localhost")
    # -- notifications by SMS and Zalo (issue 18; docs/NOTIFICATIONS.md) ---------------
    #: Channels in order of preference: for each contact a citizen gave (an e-mail
    #: address, a phone number) the first channel here that reaches it is used; a
    #: channel left out is never used. A phone channel without a provider configured
    #: is skipped in production (and only logged elsewhere).
    NOTIFY_CHANNEL_ORDER = os.environ.get("NOTIFY_CHANNEL_ORDER", "zalo,sms,email")
    #: Local hours when no SMS or Zalo message goes out (they wait in the outbox);
    #: "" = none. E-mail is not held back.
    NOTIFY_QUIET_HOURS = os.environ.get("NOTIFY_QUIET_HOURS", "21:00-07:00")
    #: SMS and Zalo messages per phone number per local day; more wait for the next day.
    NOTIFY_DAILY_CAP = _env_int("NOTIFY_DAILY_CAP", 5)
    #: Hours after the answer is published before the citizen is asked to rate it.
    NOTIFY_RATE_INVITE_DELAY_HOURS = _env_int("NOTIFY_RATE_INVITE_DELAY_HOURS", 24)
    #: The SMS gateway (notifications/sms.py): without a URL, SMS are only logged.
    SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL")
    SMS_GATEWAY_METHOD = os.environ.get("SMS_GATEWAY_METHOD", "POST")
    #: ``json``, ``form`` or ``query`` (default: query for GET, json for POST).
    SMS_GATEWAY_FORMAT = os.environ.get("SMS_GATEWAY_FORMAT", "")
    #: The body (or query string) with {phone} {phone0} {text} {sender} {unicode}
    #: {coding} {ref}; default: a generic one for the format.
    SMS_GATEWAY_BODY = os.environ.get("SMS_GATEWAY_BODY", "")
    #: ``Name: value`` sent with every request (an API key), and/or HTTP basic auth.
    SMS_GATEWAY_AUTH_HEADER = os.environ.get("SMS_GATEWAY_AUTH_HEADER")
    SMS_GATEWAY_USERNAME = os.environ.get("SMS_GATEWAY_USERNAME")
    SMS_GATEWAY_PASSWORD = os.environ.get("SMS_GATEWAY_PASSWORD")
    SMS_GATEWAY_TIMEOUT = _env_float("SMS_GATEWAY_TIMEOUT", 10)
    #: A 2xx answer counts as accepted only if its body matches this (if set) …
    SMS_GATEWAY_SUCCESS_REGEX = os.environ.get("SMS_GATEWAY_SUCCESS_REGEX", "")
    #: … the provider's message id is this regex's first group …
    SMS_GATEWAY_ID_REGEX = os.environ.get("SMS_GATEWAY_ID_REGEX", "")
    #: … and a body matching this is a refusal that retrying cannot cure (a bad number).
    SMS_GATEWAY_PERMANENT_REGEX = os.environ.get("SMS_GATEWAY_PERMANENT_REGEX", "")
    #: The registered brandname (sender) the messages come from.
    SMS_SENDER = os.environ.get("SMS_SENDER", "")
    #: ``ucs2`` (Vietnamese with diacritics: 70 characters, 67 per part) or ``gsm7``
    #: (diacritics removed on purpose: 160, 153 per part); see notifications/segments.py.
    SMS_ENCODING = os.environ.get("SMS_ENCODING", "ucs2").strip().lower()
    #: Longest SMS in parts; a longer text is cut (templates are written to fit in 3).
    SMS_MAX_SEGMENTS = _env_int("SMS_MAX_SEGMENTS", 4)
    #: Shared secret of the gateway's callbacks (inbound SMS, delivery reports): in the
    #: ``X-Callback-Secret`` header or the ``secret`` parameter. Unset: callbacks answer 404.
    SMS_CALLBACK_SECRET = os.environ.get("SMS_CALLBACK_SECRET")
    #: Inbound texts that opt the number out (compared without diacritics, spaces or case).
    SMS_OPT_OUT_KEYWORDS = os.environ.get("SMS_OPT_OUT_KEYWORDS", "TU CHOI,TUCHOI,HUY,STOP")
    #: Zalo OA / ZNS (notifications/zalo.py): without an app id, Zalo messages are only logged.
    ZALO_APP_ID = os.environ.get("ZALO_APP_ID")
    ZALO_SECRET_KEY = os.environ.get("ZALO_SECRET_KEY")
    #: The first refresh token (from the OA's authorisation); later ones are in the database.
    ZALO_REFRESH_TOKEN = os.environ.get("ZALO_REFRESH_TOKEN")
    #: ``kind=template_id`` pairs, comma-separated (kinds in docs/NOTIFICATIONS.md).
    ZALO_TEMPLATES = os.environ.get("ZALO_TEMPLATES", "")
    ZALO_ZNS_URL = os.environ.get(
        "ZALO_ZNS_URL", "https://business.openapi.zalo.me/message/template"
    )
    ZALO_OAUTH_URL = os.environ.get(
        "ZALO_OAUTH_URL", "https://oauth.zaloapp.com/v4/oa/access_token"
    )
    ZALO_TIMEOUT = _env_float("ZALO_TIMEOUT", 10)
    #: ZNS error codes after which the message is not retried (comma-separated).
    ZALO_PERMANENT_ERRORS = os.environ.get("ZALO_PERMANENT_ERRORS", "-108,-118,-119,-139")
    #: Attachments to feedback: where they are kept (default instance/attachments,
    #: outside the web root), how large each may be, and how many per case.
    ATTACHMENT_DIR = os.environ.get("ATTACHMENT_DIR")
    ATTACHMENT_MAX_BYTES = _env_int("ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024)
    ATTACHMENT_MAX_FILES = _env_int("ATTACHMENT_MAX_FILES", 3)
    #: Trust this many proxies for X-Forwarded-For (set 1 behind nginx).
    PROXY_FIX_X_FOR = _env_int("PROXY_FIX_X_FOR", 0)

    # -- the outgoing feed (issue 18, point 7): survey_app/feed, docs/FEED.md -------------
    #: Seconds a webhook receiver has to accept the connection, and for each read of its answer.
    FEED_WEBHOOK_TIMEOUT = _env_float("FEED_WEBHOOK_TIMEOUT", 10)
    #: Attempts of one delivery (1, 2, 4 … minutes apart, at most 6 hours) before it is failed.
    FEED_WEBHOOK_MAX_ATTEMPTS = _env_int("FEED_WEBHOOK_MAX_ATTEMPTS", 10)
    #: Send webhooks to private, loopback and link-local addresses (None: only in
    #: development and tests; production sends over https to public addresses only).
    FEED_WEBHOOK_ALLOW_PRIVATE = _env_bool_or_none("FEED_WEBHOOK_ALLOW_PRIVATE")
    #: Networks (comma-separated CIDRs) that may receive webhooks although they are not
    #: public, e.g. the data-sharing platform (LGSP) on the government's internal network.
    FEED_WEBHOOK_ALLOW_NETWORKS = os.environ.get("FEED_WEBHOOK_ALLOW_NETWORKS", "")
    #: Largest page of GET /api/v1/feed (limit=…); the default page is 100.
    FEED_PAGE_MAX = _env_int("FEED_PAGE_MAX", 500)
    #: `flask feed prune` deletes events older than this many days (none still being sent).
    FEED_RETENTION_DAYS = _env_int("FEED_RETENTION_DAYS", 180)

    # -- access control, sessions and cookies (issue 5) ---------------------------------
    #: Cookies: never readable by scripts, not sent on cross-site requests, and
    #: HTTPS-only when APP_ENV=production (None = decide from APP_ENV in finalise()).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool_or_none("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _env_bool_or_none("REMEMBER_COOKIE_SECURE")
    REMEMBER_COOKIE_DURATION = timedelta(hours=_env_int("SESSION_ABSOLUTE_HOURS", 8))
    #: A staff session ends this long after login, however active (absolute timeout)…
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_env_int("SESSION_ABSOLUTE_HOURS", 8))
    #: …and after this many minutes without a request (idle timeout).
    SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 30)
    #: Wrong passwords in a row from browsers not recognised for an account that lock
    #: those browsers (only) out of it, and the first lock's length; each further lock
    #: in a row lasts twice as long, up to LOGIN_LOCKOUT_MAX_MINUTES.
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCKOUT_MINUTES = _env_int("LOGIN_LOCKOUT_MINUTES", 15)
    LOGIN_LOCKOUT_MAX_MINUTES = _env_int("LOGIN_LOCKOUT_MAX_MINUTES", 24 * 60)
    #: A browser that logged in to an account is recognised for it this many days after
    #: its last login (device cookie) and has its own budget of wrong passwords.
    LOGIN_DEVICE_DAYS = _env_int("LOGIN_DEVICE_DAYS", 90)
    LOGIN_DEVICE_MAX_FAILURES = _env_int("LOGIN_DEVICE_MAX_FAILURES", 5)
    #: Login attempts per account name, whatever the address (LOGIN_RATE_LIMIT is per address);
    #: neither counts a browser recognised for the account named.
    LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "5/minute;30/hour")
    #: Attempts at the change-password form per account.
    PASSWORD_CHANGE_RATE_LIMIT = os.environ.get("PASSWORD_CHANGE_RATE_LIMIT", "5/minute;20/hour")
    #: Strict-Transport-Security max-age, sent in production or over HTTPS.
    HSTS_SECONDS = _env_int("HSTS_SECONDS", 365 * 24 * 3600)
    #: Shortest SECRET_KEY accepted outside development and testing.
    MIN_SECRET_KEY_LENGTH = 32

    # -- the province on public pages (issue 17, point 7): header, footer, privacy notice --
    #: DEMO VALUES (Hải Dương, the 2022 plan's province): set every one of these for a real
    #: deployment. The province's name in the header and on receipts, and the authority
    #: above it.
    PROVINCE_NAME = os.environ.get("PROVINCE_NAME", "Tỉnh Hải Dương")
    PROVINCE_AUTHORITY = os.environ.get("PROVINCE_AUTHORITY", "Ủy ban nhân dân tỉnh Hải Dương")
    #: The province's emblem or logo: a file in survey_app/static/ (by name), or an absolute
    #: path to an SVG or PNG file (e.g. in the instance folder). The default is a neutral
    #: placeholder seal, not an official emblem: replace it with the province's own.
    PROVINCE_EMBLEM = os.environ.get("PROVINCE_EMBLEM", "province-emblem.svg")
    #: Who citizens contact (the Văn phòng UBND, which receives feedback), shown in the
    #: footer of every public page, on receipts and in the privacy notice.
    CONTACT_OFFICE = os.environ.get("CONTACT_OFFICE", "Văn phòng Ủy ban nhân dân tỉnh Hải Dương")
    CONTACT_ADDRESS = os.environ.get(
        "CONTACT_ADDRESS", "Số 45 đường Quang Trung, thành phố Hải Dương, tỉnh Hải Dương"
    )
    CONTACT_PHONE = os.environ.get("CONTACT_PHONE", "0220 3853 000")
    CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL", "vpubnd@haiduong.gov.vn")
    #: Office hours, free text ("" to leave them out).
    CONTACT_HOURS = os.environ.get("CONTACT_HOURS", "Thứ Hai – Thứ Sáu: 7:00–11:30 và 13:30–17:00")

    # -- early warning (issue 16, point 11): survey_app/reports/warnings.py ----------
    #: False alarms wanted per counter (and per agency as a whole) per year while
    #: nothing changes: the detector's average taps between false alarms is the
    #: counter's usual taps per year divided by this (at least 250 taps).
    EARLY_WARNING_FALSE_ALARMS_PER_YEAR = _env_float("EARLY_WARNING_FALSE_ALARMS_PER_YEAR", 0.5)
    #: Days of taps that give a counter's usual dissatisfied share, before the window.
    EARLY_WARNING_BASELINE_DAYS = _env_int("EARLY_WARNING_BASELINE_DAYS", 180)
    #: Days of recent taps the detector runs over.
    EARLY_WARNING_WINDOW_DAYS = _env_int("EARLY_WARNING_WINDOW_DAYS", 30)
    #: Taps in the baseline window below which a counter is not monitored yet.
    EARLY_WARNING_MIN_TAPS = _env_int("EARLY_WARNING_MIN_TAPS", 100)
    #: The rise to detect: the odds of a dissatisfied tap multiplied by this.
    EARLY_WARNING_ODDS_RATIO = _env_float("EARLY_WARNING_ODDS_RATIO", 2.0)

    # -- Operations: logs, metrics, health checks, backups --------------------------
    #: ``json`` (one JSON object a line) or ``text``; default json when APP_ENV=production.
    LOG_FORMAT = os.environ.get("LOG_FORMAT")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    #: ``/metrics`` (Prometheus) answers these networks (comma-separated CIDRs) ...
    METRICS_ALLOW = os.environ.get("METRICS_ALLOW", "127.0.0.1/32,::1/128")
    #: ... or a request with ``Authorization: Bearer <METRICS_TOKEN>``; everyone else gets 404.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN")
    #: Where ``flask backup`` writes when no --output is given (default instance/backups).
    BACKUP_DIR = os.environ.get("BACKUP_DIR")

    # -- neither the database nor Redis may hang the service (issue 15) -------------
    #: PostgreSQL: a statement running longer than this many seconds is cancelled
    #: (the visitor gets the 503 page), so one slow query cannot hold a worker for
    #: ever; 0 leaves it to the server (no limit by default). Keep it under
    #: gunicorn's ``timeout`` (30 s).
    DATABASE_STATEMENT_TIMEOUT = _env_float("DATABASE_STATEMENT_TIMEOUT", 15)
    #: The same limit for the ``flask`` commands other than ``flask run`` (the monthly
    #: report of a million responses, exports, the purge): these are jobs, which may
    #: read for longer than a request may; 0 = no limit (the default).
    DATABASE_JOB_STATEMENT_TIMEOUT = _env_float("DATABASE_JOB_STATEMENT_TIMEOUT", 0)
    #: Seconds a statement waits for a lock another connection holds (a migration,
    #: a long transaction) before it fails: PostgreSQL's lock_timeout, SQLite's busy
    #: timeout; 0 = wait as long as it takes.
    DATABASE_LOCK_TIMEOUT = _env_float("DATABASE_LOCK_TIMEOUT", 5)
    #: PostgreSQL: seconds to wait for a new connection (libpq counts 2 at least).
    DATABASE_CONNECT_TIMEOUT = _env_int("DATABASE_CONNECT_TIMEOUT", 5)
    #: ``/readyz`` gives the database this many seconds (statement and lock) before 503.
    HEALTH_DATABASE_TIMEOUT = _env_float("HEALTH_DATABASE_TIMEOUT", 2)
    #: ``flask db upgrade`` on PostgreSQL: a migration that waits longer than this for
    #: a lock fails (run it again later) instead of queueing every request behind
    #: it; 0 = wait. Its statements themselves are not limited.
    MIGRATION_LOCK_TIMEOUT = _env_float("MIGRATION_LOCK_TIMEOUT", 5)
    #: Redis for the rate limits: seconds to wait for it. When it does not answer,
    #: limits are counted in each process (a warning is logged) until it does.
    RATELIMIT_STORAGE_TIMEOUT = _env_float("RATELIMIT_STORAGE_TIMEOUT", 0.5)
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    #: Any other failure of the limit storage lets the request through (logged), never a 500.
    RATELIMIT_SWALLOW_ERRORS = True

    @classmethod
    def finalise(cls, config: dict, instance_path: Path) -> None:
        """Fill the settings that depend on the instance folder and check production rules."""
        if not config.get("SQLALCHEMY_DATABASE_URI"):
            instance_path.mkdir(parents=True, exist_ok=True)
            config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance_path / 'hailong.sqlite3'}"
        uri: str = config["SQLALCHEMY_DATABASE_URI"]
        if uri.startswith("postgres://"):
            uri = "postgresql://" + uri.removeprefix("postgres://")
        if uri.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            uri = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
        config["SQLALCHEMY_DATABASE_URI"] = uri
        from .core.db import engine_options, running_a_cli_job

        if running_a_cli_job():
            config["DATABASE_STATEMENT_TIMEOUT"] = config.get("DATABASE_JOB_STATEMENT_TIMEOUT", 0)
        from .core.ratelimit import limit_storage_options

        # a database error's message would otherwise carry the statement's values (a
        # citizen's name, phone…) into the log with its traceback
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "hide_parameters": True,
            **(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}),
        }
        config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(config)
        config["RATELIMIT_STORAGE_OPTIONS"] = limit_storage_options(config)
        local = config.get("APP_ENV") in ("development", "testing")
        if not config.get("SECRET_KEY"):
            if not local:
                raise RuntimeError(
                    f"SECRET_KEY must be set when APP_ENV={config.get('APP_ENV')} "
                    "(only development makes one up)"
                )
            config["SECRET_KEY"] = _dev_secret_key(instance_path)
        elif not local and len(config["SECRET_KEY"]) < config.get("MIN_SECRET_KEY_LENGTH", 32):
            raise RuntimeError(
                f"SECRET_KEY must have at least {config.get('MIN_SECRET_KEY_LENGTH', 32)} characters, "
                'e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
            if config.get(name) is None:
                config[name] = config.get("APP_ENV") == "production"
        base = (config.get("PUBLIC_BASE_URL") or "").strip().rstrip("/")
        #: unset in development: posters, QR codes and links made in a request follow the
        #: address the request came to (a phone on the LAN gets the LAN address)
        config["PUBLIC_BASE_URL_FROM_REQUEST"] = not base and config.get("APP_ENV") == "development"
        config["PUBLIC_BASE_URL"] = base or DEFAULT_PUBLIC_BASE_URL
        headline = str(config.get("REPORT_HEADLINE") or "q0").strip().lower()
        if headline not in ("q0", "composite"):
            raise RuntimeError(f"REPORT_HEADLINE must be q0 or composite, not {headline!r}")
        config["REPORT_HEADLINE"] = headline
        if int(config.setdefault("REPORT_MIN_N", 10)) < 2:
            raise RuntimeError("REPORT_MIN_N must be at least 2")
        from .notifications.settings import check_settings

        check_settings(config)
        if not 0 <= float(config.get("INVITE_SHARE", 0)) <= 1:
            raise RuntimeError("INVITE_SHARE must be between 0 and 1 (e.g. 0.3)")
        mode = str(config.get("REPORT_RETURN_CHANNEL_WEIGHTING") or "off").strip().lower()
        if mode not in ("off", "cells", "collapse"):
            raise RuntimeError(
                f"REPORT_RETURN_CHANNEL_WEIGHTING must be off, cells or collapse, not {mode!r}"
            )
        config["REPORT_RETURN_CHANNEL_WEIGHTING"] = mode
        from .agencies.models import ReturnChannel
        from .surveys.models import Channel

        for survey, returned in (
            config.get("REPORT_RETURN_CHANNEL_OF_SURVEY_CHANNEL") or {}
        ).items():
            if survey not in Channel.__members__ or returned not in ReturnChannel.__members__:
                raise RuntimeError(
                    "REPORT_RETURN_CHANNEL_OF_SURVEY_CHANNEL pairs are survey=return channels "
                    f"(poster, receipt, kiosk, web, invite = counter, online, post), not {survey}={returned}"
                )
        if not 0 < float(config.get("DOSSIER_ON_TIME_TARGET", 0.95)) <= 1:
            raise RuntimeError("DOSSIER_ON_TIME_TARGET must be a share in (0, 1], e.g. 0.95")


class TestConfig(Config):
    """Settings for the test suite."""

    APP_ENV = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    PUBLIC_BASE_URL = "https://hailong.example.gov.vn"
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    #: Cheap password hashing: the suite creates hundreds of accounts.
    ARGON2_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    SERVER_NAME = None
