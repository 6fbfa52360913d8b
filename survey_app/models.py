"""Import every model so SQLAlchemy's metadata (and Alembic) sees the whole schema."""

from .agencies.models import Agency, AgencyKind, Counter, DossierVolume, Procedure, ProcedureField
from .api.models import ApiClient
from .auth.models import LoginDevice, Role, User, UserSession
from .feed.models import FeedDelivery, FeedEvent, FeedSequence, WebhookSubscription
from .feedback.models import (
    AnswerTemplate,
    Attachment,
    AuditLog,
    CalendarOverride,
    CaseEvent,
    FeedbackCase,
    OutboxMessage,
    RetentionMark,
    RoutingRule,
)
from .invites.models import InviteCounter, InviteEvent, InvitePhone
from .notifications.models import PhoneOptOut, ZaloToken
from .reports.models import ReportSnapshot, ReportSubscription
from .reports.warning_models import SatisfactionWarning, SatisfactionWatch
from .surveys.models import (
    Answer,
    BurstMember,
    Channel,
    Kiosk,
    QuestionnaireVersion,
    Response,
    ResponseBurst,
    ScreeningState,
)
from .surveys.shortlinks import ShortLink

__all__ = [
    "PhoneOptOut",
    "ZaloToken",
    "Agency",
    "AnswerTemplate",
    "AuditLog",
    "FeedDelivery",
    "FeedEvent",
    "FeedSequence",
    "WebhookSubscription",
    "OutboxMessage",
    "RetentionMark",
    "Attachment",
    "CalendarOverride",
    "CaseEvent",
    "FeedbackCase",
    "RoutingRule",
    "AgencyKind",
    "Answer",
    "ApiClient",
    "Channel",
    "Counter",
    "DossierVolume",
    "Kiosk",
    "LoginDevice",
    "Procedure",
    "ProcedureField",
    "QuestionnaireVersion",
    "ReportSnapshot",
    "ReportSubscription",
    "Response",
    "ResponseBurst",
    "BurstMember",
    "ScreeningState",
    "Role",
    "User",
    "UserSession",
    "SatisfactionWarning",
    "SatisfactionWatch",
    "InviteCounter",
    "InviteEvent",
    "InvitePhone",
    "ShortLink",
]
