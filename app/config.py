"""ValueLoop settings: one class, read from the environment (prefix ``VALUELOOP_``).

Settings are built on first use through :func:`get_settings`, never at import time, so tests
and the CLI can set the environment first. Outside demo mode, unsafe defaults are refused:
a production process must be given its secret key and a public HTTPS base URL.
"""

from __future__ import annotations

import os
import secrets
from email.utils import parseaddr
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MIN_SECRET_KEY_LENGTH = 32


class Mode(StrEnum):
    """How much the process trusts its defaults."""

    DEMO = "demo"
    PRODUCTION = "production"


class EhrConfig(BaseModel):
    """An EHR registration given in the environment (``VALUELOOP_EHRS``, a JSON list), for
    containers where running ``valueloop ehrs add`` is awkward."""

    model_config = ConfigDict(extra="forbid")

    issuer: str
    client_id: str
    name: str | None = None
    client_secret: SecretStr | None = None
    private_key_jwt: bool = False
    frame_origins: list[str] = Field(default_factory=list)
    scopes: list[str] | None = None


class OidcRole(StrEnum):
    """Quality-team roles an identity provider's group or role claim can map to (the same
    values as ``app.auth.models.Role``; settings cannot import the auth domain)."""

    LEAD = "lead"
    ANALYST = "analyst"
    ADMIN = "admin"


class OidcConfig(BaseModel):
    """Staff sign-in with the health system's OpenID Connect provider (``VALUELOOP_OIDC``,
    JSON). Without it, staff sign in to the dashboard with an API token."""

    model_config = ConfigDict(extra="forbid")

    issuer: str
    client_id: str
    client_secret: SecretStr | None = None
    display_name: str = "your organisation's account"
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile"])
    # The claim listing the user's groups or app roles (Entra ID: "roles", Okta: "groups").
    role_claim: str = "roles"
    # Claim value -> ValueLoop role; a user matching several gets the most powerful one.
    roles: dict[str, OidcRole] = Field(min_length=1)
    name_claim: str = "name"

    @field_validator("issuer")
    @classmethod
    def _issuer_is_absolute(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be the provider's absolute issuer URL")
        if parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
            raise ValueError("an identity provider must use https")
        return value.rstrip("/")


class SmtpSecurity(StrEnum):
    """How the connection to the mail server is protected."""

    IMPLICIT_TLS = "implicit-tls"  # smtps://: TLS from the first byte (RFC 8314 section 3.3)
    STARTTLS = "starttls"  # smtp://: upgraded with STARTTLS, refused if the server cannot
    # smtp:// to a loopback server or in demo mode: STARTTLS when offered, plain text otherwise.
    OPPORTUNISTIC = "opportunistic"


class SmtpServer(BaseModel):
    """The mail server, parsed from ``VALUELOOP_SMTP_URL``; the password stays a secret."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int
    security: SmtpSecurity
    username: str | None = None
    password: SecretStr | None = None

    @classmethod
    def from_url(cls, url: str, *, mode: Mode) -> SmtpServer:
        """``smtp://user:pass@host:587`` (STARTTLS), ``smtps://user:pass@host:465`` (TLS);
        plain ``smtp://host:25`` only to a loopback server or in demo mode. Messages never
        repeat the URL: it carries the password."""
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError(
                "VALUELOOP_SMTP_URL must look like smtp://user:password@host:587 (STARTTLS) "
                "or smtps://user:password@host:465 (TLS)"
            )
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError("VALUELOOP_SMTP_URL has a port that is not a number") from exc
        if parts.scheme == "smtps":
            security = SmtpSecurity.IMPLICIT_TLS
        elif mode is Mode.DEMO or parts.hostname in LOOPBACK_HOSTS:
            security = SmtpSecurity.OPPORTUNISTIC
        else:
            security = SmtpSecurity.STARTTLS
        default_port = 465 if security is SmtpSecurity.IMPLICIT_TLS else 587
        return cls(
            host=parts.hostname,
            port=port or default_port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=SecretStr(unquote(parts.password)) if parts.password else None,
        )


class Settings(BaseSettings):
    """Everything an operator can configure. See the README's configuration table."""

    # Validation errors never echo the input: it holds the secret key and the SMTP password.
    model_config = SettingsConfigDict(
        env_prefix="VALUELOOP_", extra="ignore", hide_input_in_errors=True
    )

    mode: Mode = Mode.PRODUCTION
    database_url: str = "sqlite:///./var/valueloop.db"
    secret_key: SecretStr | None = None
    base_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("./var")
    max_body_bytes: Annotated[int, Field(ge=1024, le=10 * 1024 * 1024)] = 64 * 1024
    # A CDS Hooks call carries the EHR's prefetch: the patient's conditions and history.
    cds_max_body_bytes: Annotated[int, Field(ge=64 * 1024, le=64 * 1024 * 1024)] = 8 * 1024 * 1024
    log_level: str = "INFO"
    database_pool_size: Annotated[int, Field(ge=1, le=200)] = 20
    # How long a request waits for a pooled connection before it gets a 503 (try again).
    database_pool_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    # ValueLoop's private JWK (JSON) for private_key_jwt client authentication to EHRs.
    client_jwk: SecretStr | None = None
    outbound_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    ehrs: list[EhrConfig] = Field(default_factory=list)
    oidc: OidcConfig | None = None
    # The dashboard highlights flags whose reporter has had no reply for longer than this.
    reply_sla_hours: Annotated[int, Field(ge=1, le=24 * 90)] = 72
    # Staff dashboard sessions: signed out after this long idle, and after this long at most.
    staff_idle_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    staff_session_hours: Annotated[int, Field(ge=1, le=24 * 7)] = 10
    # The outbox worker (docs/outbox-and-webhooks.md): `valueloop serve` runs one in-process
    # unless VALUELOOP_WORKER=off (then run `valueloop worker` beside it).
    worker: bool = True
    # How often an idle worker looks for due deliveries, and how many it sends at once.
    outbox_poll_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    outbox_batch_size: Annotated[int, Field(ge=1, le=100)] = 10
    # A claimed delivery is another worker's to take once this lease runs out (a worker that
    # died mid-send); it must outlast one send (outbound_timeout_seconds).
    outbox_lease_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    # Tries before a delivery goes to the dead letters; waits double from the base, up to the
    # cap, each with random jitter.
    outbox_max_attempts: Annotated[int, Field(ge=1, le=50)] = 8
    outbox_retry_base_seconds: Annotated[float, Field(gt=0, le=3600)] = 10.0
    outbox_retry_max_seconds: Annotated[float, Field(gt=0, le=7 * 24 * 3600)] = 3600.0
    # How often the worker runs its periodic jobs (the daily digest checks whether it is due).
    periodic_interval_seconds: Annotated[float, Field(gt=0, le=24 * 3600)] = 60.0
    # Email notifications (docs/notifications.md). Without an SMTP URL no email is planned.
    smtp_url: SecretStr | None = None
    mail_from: str | None = None
    # The CA certificate(s), PEM, that sign the mail server's certificate when it is not one the
    # system trusts (a hospital's internal CA). The certificate is always verified.
    smtp_ca_file: Path | None = None
    # CDS Hooks (docs/cds-hooks.md): per rule id, the published measure's "sensitive" or
    # "specific" variant this installation uses; a rule not named runs its default. Each
    # organization may choose its own on top (``valueloop orgs variants``).
    cds_rule_variants: dict[str, Literal["sensitive", "specific"]] = Field(default_factory=dict)
    # The hour (UTC) from which each day's digest of overdue flags goes to the leads.
    digest_hour_utc: Annotated[int, Field(ge=0, le=23)] = 7
    _demo_key: str | None = PrivateAttr(default=None)
    _smtp: SmtpServer | None = PrivateAttr(default=None)

    @field_validator("base_url")
    @classmethod
    def _base_url_is_absolute(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL, e.g. https://valueloop.example.org")
        return value.rstrip("/")

    @field_validator("mail_from")
    @classmethod
    def _mail_from_is_an_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _name, address = parseaddr(value)
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            raise ValueError(
                "VALUELOOP_MAIL_FROM must be an address, e.g. "
                "'ValueLoop <valueloop@hospital.example.org>'"
            )
        return value.strip()

    @field_validator("smtp_ca_file")
    @classmethod
    def _smtp_ca_file_is_readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(
                f"VALUELOOP_SMTP_CA_FILE must be a PEM file of CA certificates; "
                f"{value} is not a file"
            )
        return value

    @model_validator(mode="after")
    def _parse_smtp_url(self) -> Settings:
        if self.smtp_url is not None and self.smtp_url.get_secret_value().strip():
            self._smtp = SmtpServer.from_url(
                self.smtp_url.get_secret_value().strip(), mode=self.mode
            )
            if self.mail_from is None and self.mode is not Mode.DEMO:
                raise ValueError(
                    "VALUELOOP_MAIL_FROM is required with VALUELOOP_SMTP_URL, e.g. "
                    "'ValueLoop <valueloop@hospital.example.org>'"
                )
        return self

    @field_validator("cds_rule_variants")
    @classmethod
    def _variants_name_catalog_rules(
        cls, value: dict[str, Literal["sensitive", "specific"]]
    ) -> dict[str, Literal["sensitive", "specific"]]:
        from app.rules import variants  # the catalog is read only when variants are configured

        try:
            variants.checked(value)
        except variants.UnknownVariant as exc:
            raise ValueError(f"VALUELOOP_CDS_RULE_VARIANTS: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Settings:
        # Otherwise a slow but successful send would be claimed and sent again by another worker.
        if self.outbox_lease_seconds <= self.outbound_timeout_seconds:
            raise ValueError(
                "VALUELOOP_OUTBOX_LEASE_SECONDS must be longer than "
                "VALUELOOP_OUTBOUND_TIMEOUT_SECONDS (a claim must outlast one send)"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production_defaults(self) -> Settings:
        if self.mode is Mode.DEMO:
            return self
        if self.secret_key is None:
            raise ValueError(
                "VALUELOOP_SECRET_KEY is required in production mode "
                f"(at least {MIN_SECRET_KEY_LENGTH} characters; for a local demo set "
                "VALUELOOP_MODE=demo)"
            )
        if len(self.secret_key.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"VALUELOOP_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters long"
            )
        parts = urlsplit(self.base_url)
        if parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
            raise ValueError(
                "VALUELOOP_BASE_URL must use https in production mode (tokens and PHI travel on it)"
            )
        return self

    @property
    def smtp(self) -> SmtpServer | None:
        """The mail server, or None: then no email is planned or sent."""
        return self._smtp

    @property
    def sender(self) -> str:
        """The From address of ValueLoop's email."""
        return self.mail_from or "ValueLoop <valueloop@localhost>"

    @property
    def public_origin(self) -> str:
        """The origin (scheme://host[:port]) browsers see ValueLoop's pages at."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    def resolved_secret_key(self) -> str:
        """The secret key; in demo mode one is generated once and kept in the data directory.

        Persisting it keeps encrypted tokens and signed cursors valid across demo restarts.
        Read once per settings object: it is asked for on every flag and token use.
        """
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self._demo_key is None:
            self._demo_key = self._demo_key_from_data_dir()
        return self._demo_key

    def _demo_key_from_data_dir(self) -> str:
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            key = key_file.read_text(encoding="utf-8").strip()
            if len(key) >= MIN_SECRET_KEY_LENGTH:
                return key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # Written to a private temporary file and linked into place, so no reader ever sees a
        # missing, partial or world-readable key, and two processes starting at once agree:
        # the second link fails and that process reads the first one's key.
        temporary = key_file.with_name(f".secret_key.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(key)
        try:
            if key_file.exists():  # a short, unusable key left by hand: replace it
                os.replace(temporary, key_file)
                return key
            os.link(temporary, key_file)
        except FileExistsError:
            return key_file.read_text(encoding="utf-8").strip()
        finally:
            temporary.unlink(missing_ok=True)
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, built once on first use."""
    return Settings()
