"""Email travels encrypted and authenticated: STARTTLS on submission (port 587) and implicit
TLS (smtps://, RFC 8314) against a real aiosmtpd server on loopback with a certificate from a
test CA, login only after TLS, the certificate always verified, and no fallback to plain text
when STARTTLS is required."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from app.config import Mode, Settings, SmtpSecurity, SmtpServer
from app.notifications.channels import DeliveryFailed
from app.notifications.email.channel import EmailChannel
from tests.notifications.email.conftest import MAIL_FROM, settings_with_smtp

USER, PASSWORD = "valueloop", "s3cret-relay-password"


@dataclass(frozen=True)
class MailCa:
    ca_file: Path  # what VALUELOOP_SMTP_CA_FILE points at
    server_context: ssl.SSLContext  # the mail server's certificate (127.0.0.1), signed by the CA


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="module")
def mail_ca(tmp_path_factory: pytest.TempPathFactory) -> MailCa:
    directory = tmp_path_factory.mktemp("smtp-tls")
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("ValueLoop test CA"))
        .issuer_name(_name("ValueLoop test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("mail.hospital.test"))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    chain = directory / "server.pem"
    chain.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key = directory / "server.key"
    key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain, key)
    return MailCa(ca_file, context)


@dataclass
class Received:
    """What the server saw: each message, and whether its session was encrypted and logged in."""

    messages: list[bytes] = field(default_factory=list)
    encrypted: list[bool] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.messages.append(envelope.original_content or b"")
        transport = server.transport
        assert transport is not None  # the session is live: it is sending data
        self.encrypted.append(transport.get_extra_info("ssl_object") is not None)
        return "250 Message accepted"


def _authenticator(received: Received) -> Callable[..., AuthResult]:
    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (USER, PASSWORD)
        if ok:
            received.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    return authenticate


@dataclass
class MailServer:
    received: Received
    port: int


async def _serve(
    *, starttls: ssl.SSLContext | None = None, implicit: ssl.SSLContext | None = None
) -> tuple[asyncio.Server, MailServer]:
    received = Received()

    def protocol() -> SMTP:
        return SMTP(
            received,
            hostname="mail.hospital.test",
            tls_context=starttls,
            require_starttls=starttls is not None,
            authenticator=_authenticator(received),
            # aiosmtpd knows of STARTTLS only; on an implicit-TLS socket it is TLS throughout.
            auth_require_tls=implicit is None,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, "127.0.0.1", 0, ssl=implicit)
    return server, MailServer(received, server.sockets[0].getsockname()[1])


@pytest.fixture
async def starttls_server(mail_ca: MailCa) -> AsyncIterator[MailServer]:
    server, mail = await _serve(starttls=mail_ca.server_context)
    async with server:
        yield mail


@pytest.fixture
async def implicit_tls_server(mail_ca: MailCa) -> AsyncIterator[MailServer]:
    server, mail = await _serve(implicit=mail_ca.server_context)
    async with server:
        yield mail


@pytest.fixture
async def plain_server() -> AsyncIterator[MailServer]:
    """A server that offers no STARTTLS at all (and so no login either)."""
    server, mail = await _serve()
    async with server:
        yield mail


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of their own: these tests use no database."""
    return Settings(
        mode=Mode.DEMO, database_url=f"sqlite:///{tmp_path / 'unused.db'}", data_dir=tmp_path
    )


def _channel(
    settings: Settings, port: int, security: SmtpSecurity, ca_file: Path | None
) -> EmailChannel:
    configured = settings_with_smtp(settings, None, smtp_ca_file=ca_file)
    server = SmtpServer(
        host="127.0.0.1",
        port=port,
        security=security,
        username=USER,
        password=SecretStr(PASSWORD),
    )
    return EmailChannel(configured, server, session_factory=None)  # type: ignore[arg-type]


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = MAIL_FROM
    message["To"] = "h.tanaka@example.org"
    message["Subject"] = "ValueLoop: a flag was assigned to you"
    message["Message-ID"] = "<tls-test@hospital.test>"
    message.set_content("A flag was assigned to you in ValueLoop.")
    return message


async def test_starttls_encrypts_the_session_before_logging_in_and_sending(
    settings: Settings, starttls_server: MailServer, mail_ca: MailCa
) -> None:
    channel = _channel(settings, starttls_server.port, SmtpSecurity.STARTTLS, mail_ca.ca_file)
    await channel.send(_message())
    assert starttls_server.received.encrypted == [True]
    assert starttls_server.received.logins == [USER]
    assert b"A flag was assigned to you" in starttls_server.received.messages[0]


async def test_implicit_tls_sends_over_tls_from_the_first_byte(
    settings: Settings, implicit_tls_server: MailServer, mail_ca: MailCa
) -> None:
    channel = _channel(
        settings, implicit_tls_server.port, SmtpSecurity.IMPLICIT_TLS, mail_ca.ca_file
    )
    await channel.send(_message())
    assert implicit_tls_server.received.encrypted == [True]
    assert implicit_tls_server.received.logins == [USER]


async def test_a_server_without_starttls_gets_nothing_in_plain_text(
    settings: Settings, plain_server: MailServer, mail_ca: MailCa
) -> None:
    channel = _channel(settings, plain_server.port, SmtpSecurity.STARTTLS, mail_ca.ca_file)
    with pytest.raises(DeliveryFailed, match="STARTTLS") as failure:
        await channel.send(_message())
    assert failure.value.retryable
    assert plain_server.received.messages == []
    assert plain_server.received.logins == []


@pytest.mark.parametrize("security", [SmtpSecurity.STARTTLS, SmtpSecurity.IMPLICIT_TLS])
async def test_a_certificate_no_trusted_ca_signed_is_refused_before_the_password_is_sent(
    settings: Settings,
    starttls_server: MailServer,
    implicit_tls_server: MailServer,
    security: SmtpSecurity,
) -> None:
    server = starttls_server if security is SmtpSecurity.STARTTLS else implicit_tls_server
    channel = _channel(settings, server.port, security, ca_file=None)  # the system's CAs only
    with pytest.raises(DeliveryFailed, match="certificate") as failure:
        await channel.send(_message())
    assert "VALUELOOP_SMTP_CA_FILE" in str(failure.value)
    assert PASSWORD not in str(failure.value)
    assert server.received.messages == []
    assert server.received.logins == []


def test_a_ca_file_that_does_not_exist_is_refused_at_start(
    settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="VALUELOOP_SMTP_CA_FILE must be a PEM file"):
        settings_with_smtp(settings, "smtp://127.0.0.1:25", smtp_ca_file=tmp_path / "missing.pem")
