"""Every table of ValueLoop, imported in one place for migrations and metadata checks."""

from app.audit.models import AuditEvent
from app.auth.models import ApiToken, OidcSignIn, StaffSession
from app.cds.models import CardFeedback, CdsClient, CdsDailyCount, CdsJwtSeen, IssuedCard
from app.ehrs.models import RegisteredEhr
from app.flags.models import Flag, FlagEvent
from app.improvements.models import Improvement, ImprovementEvent, ImprovementFlag
from app.launch.models import AppSession, PendingLaunchRecord
from app.notifications.email.models import NotificationOptOut
from app.notifications.models import OutboxDelivery, WebhookEndpoint
from app.organizations.models import Organization
from app.prices.models import PriceListEntry
from app.reporter.models import ReporterReadMarker
from app.staff.models import Staff

__all__ = [
    "ApiToken",
    "AppSession",
    "AuditEvent",
    "CardFeedback",
    "CdsClient",
    "CdsDailyCount",
    "CdsJwtSeen",
    "Flag",
    "FlagEvent",
    "Improvement",
    "ImprovementEvent",
    "ImprovementFlag",
    "IssuedCard",
    "NotificationOptOut",
    "OidcSignIn",
    "Organization",
    "OutboxDelivery",
    "PendingLaunchRecord",
    "PriceListEntry",
    "RegisteredEhr",
    "ReporterReadMarker",
    "Staff",
    "StaffSession",
    "WebhookEndpoint",
]
