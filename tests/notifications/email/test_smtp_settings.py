"""VALUELOOP_SMTP_URL and VALUELOOP_MAIL_FROM: how the server is reached, and that the
password never shows."""

from __future__ import annotations

import io
import logging

import pytest
from pydantic import ValidationError

from app.config import Mode, Settings, SmtpSecurity
from app.logging import JsonFormatter
from app.notifications.email.channel import log_configuration

KEY = "k" * 40
FROM = "ValueLoop <valueloop@hospital.example.org>"


def production(**values: object) -> Settings:
    return Settings(mode=Mode.PRODUCTION, secret_key=KEY, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("smtp://user:pw@mail.example.org:587", SmtpSecurity.STARTTLS, 587),
        ("smtp://user:pw@mail.example.org", SmtpSecurity.STARTTLS, 587),
        ("smtps://user:pw@mail.example.org", SmtpSecurity.IMPLICIT_TLS, 465),
        ("smtp://127.0.0.1:25", SmtpSecurity.OPPORTUNISTIC, 25),
    ],
)
def test_the_url_says_how_the_connection_is_protected(url, security, port):
    server = production(smtp_url=url, mail_from=FROM).smtp

    assert server is not None
    assert (server.security, server.port) == (security, port)


def test_plain_smtp_to_another_host_is_allowed_only_in_demo_mode():
    demo = Settings(mode=Mode.DEMO, smtp_url="smtp://mail.example.org:25")

    assert demo.smtp is not None
    assert demo.smtp.security is SmtpSecurity.OPPORTUNISTIC
    assert production(smtp_url="smtp://mail.example.org:25", mail_from=FROM).smtp.security is (  # type: ignore[union-attr]
        SmtpSecurity.STARTTLS
    )


def test_credentials_are_decoded_and_the_password_stays_secret():
    settings = production(
        smtp_url="smtp://mailer%40hospital:p%40ss%3Aword@mail.example.org", mail_from=FROM
    )

    assert settings.smtp is not None
    assert settings.smtp.username == "mailer@hospital"
    assert settings.smtp.password is not None
    assert settings.smtp.password.get_secret_value() == "p@ss:word"
    assert "p%40ss" not in repr(settings)
    assert "p@ss" not in repr(settings.smtp)


def test_a_bad_url_is_refused_without_repeating_the_password():
    with pytest.raises(ValidationError) as error:
        production(smtp_url="http://mailer:hunter2-secret@mail.example.org", mail_from=FROM)

    assert "smtp://user:password@host:587" in str(error.value)
    assert "hunter2-secret" not in str(error.value)


def test_production_needs_a_from_address_with_smtp():
    with pytest.raises(ValidationError, match="VALUELOOP_MAIL_FROM is required"):
        production(smtp_url="smtps://user:pw@mail.example.org")
    with pytest.raises(ValidationError, match="must be an address"):
        production(mail_from="ValueLoop")


def test_no_smtp_url_means_no_email():
    assert production().smtp is None
    assert production(smtp_url=" ").smtp is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [(None, "email notifications are off"), ("smtp://u:hunter2@127.0.0.1:2525", "are on")],
)
def test_startup_says_whether_email_goes_out_and_never_the_password(url, expected):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("app.notifications.email.channel")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        log_configuration(Settings(mode=Mode.DEMO, smtp_url=url))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    assert expected in stream.getvalue()
    assert "hunter2" not in stream.getvalue()
