"""The unsubscribe page and RFC 8058 one-click unsubscribe, through the app."""

from __future__ import annotations

import pytest

from app.notifications.email import repository
from app.notifications.email.links import Subscription, sign
from app.notifications.email.models import EmailKind

pytestmark = pytest.mark.usefixtures("clean_tables")

ADDRESS = "Avery.Sample@Hospital.test"
PATH = "/notifications/unsubscribe"


def token_for(settings, kind: EmailKind = EmailKind.REPLY, address: str = ADDRESS) -> str:
    return sign(Subscription(email=address, kind=kind), secret_key=settings.resolved_secret_key())


async def opted_out(session_factory, kind: EmailKind = EmailKind.REPLY) -> bool:
    async with session_factory() as session:
        return bool(await repository.opted_out(session, [ADDRESS], kind))


async def test_opening_the_link_shows_a_button_and_changes_nothing(
    client, settings, session_factory
):
    response = await client.get(PATH, params={"token": token_for(settings)})

    assert response.status_code == 200
    assert "avery.sample@hospital.test" in response.text
    assert "Stop these emails" in response.text
    assert response.headers["cache-control"] == "no-store"
    assert await opted_out(session_factory) is False


async def test_the_button_unsubscribes_and_the_page_offers_to_resubscribe(
    client, settings, session_factory
):
    response = await client.post(
        PATH, params={"token": token_for(settings)}, data={"action": "unsubscribe"}
    )

    assert response.status_code == 200
    assert "no longer gets email" in response.text
    assert "Send me these emails again" in response.text
    assert await opted_out(session_factory) is True
    assert await opted_out(session_factory, EmailKind.DIGEST) is False


async def test_resubscribing_on_the_same_page_sends_the_emails_again(
    client, settings, session_factory
):
    params = {"token": token_for(settings)}
    await client.post(PATH, params=params, data={"action": "unsubscribe"})

    response = await client.post(PATH, params=params, data={"action": "resubscribe"})

    assert response.status_code == 200
    assert "Stop these emails" in response.text
    assert await opted_out(session_factory) is False


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
async def test_a_mail_clients_one_click_post_unsubscribes(
    client, settings, session_factory, encoding
):
    # RFC 8058 section 3.1: the body is "List-Unsubscribe=One-Click", either encoding.
    body = {"List-Unsubscribe": "One-Click"}
    send = (
        {"data": body}
        if encoding == "urlencoded"
        else {"files": {"List-Unsubscribe": (None, "One-Click")}}
    )

    response = await client.post(PATH, params={"token": token_for(settings)}, **send)
    again = await client.post(PATH, params={"token": token_for(settings)}, data=body)

    assert response.status_code == again.status_code == 200
    assert await opted_out(session_factory) is True


async def test_a_link_with_a_forged_signature_is_refused(client, settings, session_factory):
    token = token_for(settings)
    payload, _signature = token.split(".")
    forged = f"{payload}.{token_for(settings, EmailKind.DIGEST).split('.')[1]}"

    response = await client.post(PATH, params={"token": forged}, data={"action": "unsubscribe"})

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "not made by ValueLoop" in response.json()["detail"]
    assert await opted_out(session_factory) is False


async def test_a_link_signed_with_another_key_is_refused(client):
    other = sign(Subscription(email=ADDRESS, kind=EmailKind.REPLY), secret_key="k" * 40)

    response = await client.get(PATH, params={"token": other})

    assert response.status_code == 403


async def test_a_link_cut_short_is_a_bad_request(client, settings):
    response = await client.get(PATH, params={"token": token_for(settings).split(".")[0]})

    assert response.status_code == 400
    assert response.json()["title"] == "Unsubscribe link is incomplete"


async def test_a_link_without_a_token_says_which_field_is_missing(client):
    response = await client.get(PATH)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "token"
