"""The email channel: one delivery, one message, sent with aiosmtplib.

A transient failure (server down, timeout, a 4xx answer) is retried by the outbox; a server
that refuses the recipient or the message for good (5xx, RFC 5321 section 4.2.1) is not, since
the same message would be refused again. An opt-out recorded after the email was planned
stops it here.
"""

from __future__ import annotations

import logging
import ssl
from email.message import EmailMessage
from email.utils import parseaddr

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings, SmtpSecurity, SmtpServer
from app.notifications.channels import Delivery, DeliveryFailed
from app.notifications.email import repository
from app.notifications.email.messages import compose, kind_of, template_of, wire_bytes

logger = logging.getLogger(__name__)


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


def _failure(exc: aiosmtplib.SMTPException) -> DeliveryFailed:
    """What an SMTP error means for the outbox. The text names the server's answer only."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in exc.recipients]
        permanent = bool(codes) and all(_is_permanent(code) for code in codes)
        answers = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        return DeliveryFailed(
            f"mail server refused the recipient: {answers}", retryable=not permanent
        )
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        what = "recipient" if isinstance(exc, aiosmtplib.SMTPRecipientRefused) else "message"
        return DeliveryFailed(
            f"mail server refused the {what}: {exc.code} {exc.message}",
            retryable=not _is_permanent(exc.code),
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return DeliveryFailed(f"mail server answered {exc.code} {exc.message}")
    return DeliveryFailed(f"mail server unreachable or failed: {type(exc).__name__}: {exc}")


def _certificate_refusal(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate check that failed, if that is what ``exc`` comes down to (aiosmtplib
    raises it as is during STARTTLS and wrapped in SMTPConnectError for implicit TLS)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _untrusted(refusal: ssl.SSLCertVerificationError) -> DeliveryFailed:
    # Retried: the message goes once the server's certificate or our CA file is put right.
    return DeliveryFailed(
        f"the mail server's TLS certificate could not be verified ({refusal.verify_message}); "
        "for a server signed by an internal CA, set VALUELOOP_SMTP_CA_FILE"
    )


class EmailChannel:
    """Sends email deliveries to the configured SMTP server.

    >>> channel = EmailChannel.from_settings(settings, session_factory)  # None without SMTP
    >>> await channel.deliver(delivery)
    """

    name = "email"

    def __init__(
        self,
        settings: Settings,
        server: SmtpServer,
        session_factory: async_sessionmaker[AsyncSession],
    ) -> None:
        self._settings = settings
        self._server = server
        self._session_factory = session_factory

    @classmethod
    def from_settings(
        cls, settings: Settings, session_factory: async_sessionmaker[AsyncSession]
    ) -> EmailChannel | None:
        """The channel, or None when no SMTP server is configured."""
        if settings.smtp is None:
            return None
        return cls(settings, settings.smtp, session_factory)

    async def deliver(self, delivery: Delivery) -> None:
        try:
            kind = kind_of(delivery.payload)
            message = compose(delivery, self._settings)
        except (KeyError, ValueError) as exc:  # a payload no release of ours wrote
            raise DeliveryFailed(
                f"email payload cannot be rendered ({type(exc).__name__})", retryable=False
            ) from exc
        async with self._session_factory() as session:
            refused = await repository.opted_out(session, [delivery.recipient], kind)
        if refused:
            logger.info(
                "email not sent: the recipient opted out",
                extra={"delivery_id": delivery.id, "kind": kind.value},
            )
            return
        await self.send(message)
        logger.info(
            "email sent",
            extra={"delivery_id": delivery.id, "template": template_of(delivery.payload).value},
        )

    async def send(self, message: EmailMessage) -> None:
        """Hand one message to the server; `DeliveryFailed` says whether to try again."""
        server = self._server
        try:
            # Sent as bytes: aiosmtplib would fold the headers again at 78 characters.
            await aiosmtplib.send(
                wire_bytes(message),
                sender=parseaddr(self._settings.sender)[1],
                recipients=[parseaddr(str(message["To"]))[1]],
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password.get_secret_value() if server.password else None,
                use_tls=server.security is SmtpSecurity.IMPLICIT_TLS,
                # True: STARTTLS or fail; None: STARTTLS when offered (loopback, demo).
                start_tls=True if server.security is SmtpSecurity.STARTTLS else None,
                # The server's certificate is verified against the system's CAs, or these.
                cert_bundle=str(ca_file) if (ca_file := self._settings.smtp_ca_file) else None,
                timeout=self._settings.outbound_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            if (refusal := _certificate_refusal(exc)) is not None:
                raise _untrusted(refusal) from exc
            if isinstance(exc, aiosmtplib.SMTPException):
                raise _failure(exc) from exc
            # refused or reset before aiosmtplib could wrap it
            raise DeliveryFailed(f"mail server unreachable: {type(exc).__name__}") from exc


def log_configuration(settings: Settings) -> None:
    """Say once, at start, whether email goes out and where (never the password)."""
    server = settings.smtp
    if server is None:
        logger.info(
            "email notifications are off: VALUELOOP_SMTP_URL is not set, no email is planned"
        )
        return
    logger.info(
        "email notifications are on",
        extra={
            "smtp_host": server.host,
            "smtp_port": server.port,
            "smtp_security": server.security.value,
        },
    )
