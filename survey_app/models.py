"""Import every model so SQLAlchemy's metadata (and Alembic) sees the whole schema."""

from .agencies.models import Agency, AgencyKind, Counter, DossierVolume, Procedure, ProcedureField
from .api.models import ApiClient
from .auth.models import Role, User
from .feedback.models import (
    AnswerTemplate,
    Attachment,
    AuditLog,
    CalendarOverride,
    CaseEvent,
    FeedbackCase,
    OutboxMessage,
    RoutingRule,
)
from .reports.models import ReportSnapshot
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

__all__ = [
    "Agency",
    "AnswerTemplate",
    "AuditLog",
    "OutboxMessage",
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
    "Procedure",
    "ProcedureField",
    "QuestionnaireVersion",
    "ReportSnapshot",
    "Response",
    "ResponseBurst",
    "BurstMember",
    "ScreeningState",
    "Role",
    "User",
]
