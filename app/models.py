"""Every table of ValueLoop, imported in one place for migrations and metadata checks."""

from app.audit.models import AuditEvent
from app.auth.models import ApiToken, OidcSignIn, StaffSession
from app.ehrs.models import RegisteredEhr
from app.flags.models import Flag, FlagEvent
from app.launch.models import AppSession, PendingLaunchRecord
from app.prices.models import PriceListEntry
from app.reporter.models import ReporterReadMarker

__all__ = [
    "ApiToken",
    "AppSession",
    "AuditEvent",
    "Flag",
    "FlagEvent",
    "OidcSignIn",
    "PendingLaunchRecord",
    "PriceListEntry",
    "RegisteredEhr",
    "ReporterReadMarker",
    "StaffSession",
]
