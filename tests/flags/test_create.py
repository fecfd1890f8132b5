"""Creating flags: idempotent per reporter and key, anonymous means not stored, inputs bounded."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.flags import service
from app.flags.errors import ConcurrentCreate, IdempotencyKeyReused
from app.flags.models import Flag, FlagEvent
from app.flags.schemas import FlagCreate
from app.flags.workflow import Status
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from tests.factories import SECRET_KEY, flag_create


async def create(factory: async_sessionmaker[AsyncSession], data: FlagCreate) -> service.Created:
    async with factory() as session:
        created = await service.create_flag(
            session, data, organization_id=DEFAULT_ORGANIZATION_ID, secret_key=SECRET_KEY
        )
        await session.commit()
        return created


async def count(session: AsyncSession, model: type[Flag] | type[FlagEvent]) -> int:
    return (await session.execute(sa.select(sa.func.count()).select_from(model))).scalar_one()


def payload(**overrides: Any) -> dict[str, Any]:
    """The factory's flag as JSON data, for inputs the schema must refuse."""
    data = flag_create().model_dump(mode="json")
    data.update(overrides)
    return data


def reporter(fhir_user: str, display: str = "Dr. Sam Example") -> dict[str, Any]:
    return {
        "fhir_user": fhir_user,
        "display": display,
        "role": "nurse",
        "department": "Emergency Department",
    }


# --- idempotency --------------------------------------------------------------------------------


async def test_the_same_request_twice_makes_one_flag(session_factory, session):
    data = flag_create()

    first = await create(session_factory, data)
    second = await create(session_factory, data)

    assert (first.created, second.created) == (True, False)
    assert second.flag.id == first.flag.id
    assert (await count(session, Flag), await count(session, FlagEvent)) == (1, 1)


async def test_a_new_flag_is_submitted_with_a_created_event(session_factory, session):
    created = await create(session_factory, flag_create(note="Repeat lipid panel."))

    events = await service.timeline(session, created.flag)
    assert created.flag.status == Status.SUBMITTED
    assert created.flag.version == 1
    assert created.receipt_token is None
    assert [(e.kind, e.to_status, e.actor_name, e.actor_role) for e in events] == [
        ("created", "submitted", "Dr. Avery Sample", "physician")
    ]


async def test_the_same_key_for_a_different_flag_is_refused(session_factory, session):
    await create(session_factory, flag_create(idempotency_key="key-0000001"))

    with pytest.raises(IdempotencyKeyReused, match="Generate a new key"):
        await create(
            session_factory, flag_create(idempotency_key="key-0000001", reason="low_benefit")
        )
    assert await count(session, Flag) == 1


async def test_the_same_key_from_two_reporters_makes_two_flags(session_factory, session):
    first = await create(
        session_factory,
        flag_create(idempotency_key="shared-key-1", reporter=reporter("Practitioner/pr-1")),
    )
    second = await create(
        session_factory,
        flag_create(idempotency_key="shared-key-1", reporter=reporter("Practitioner/pr-2")),
    )

    assert (first.created, second.created) == (True, True)
    assert first.flag.id != second.flag.id
    assert await count(session, Flag) == 2


async def test_the_same_key_from_two_ehrs_makes_two_flags(session_factory, session):
    for issuer in ("https://ehr-a.example.test/fhir", "https://ehr-b.example.test/fhir"):
        created = await create(
            session_factory, flag_create(issuer=issuer, idempotency_key="shared-key-2")
        )
        assert created.created is True
    assert await count(session, Flag) == 2


async def test_concurrent_creates_with_one_key_make_exactly_one_flag(
    session_factory, session, database_url
):
    data = flag_create()

    async def attempt() -> service.Created | ConcurrentCreate:
        try:
            return await create(session_factory, data)
        except ConcurrentCreate as exc:
            return exc

    outcomes = await asyncio.gather(*(attempt() for _ in range(10)))

    created = [o for o in outcomes if isinstance(o, service.Created)]
    assert [o.created for o in created].count(True) == 1
    assert len({o.flag.id for o in created}) == 1
    # Each later insert of the key waits for the first (PostgreSQL: ON CONFLICT on the unique
    # key; SQLite: one writer) and then finds its flag: nobody is told to retry.
    assert len(created) == 10
    retried = await create(session_factory, data)
    assert (retried.created, retried.flag.id) == (False, created[0].flag.id)
    assert (await count(session, Flag), await count(session, FlagEvent)) == (1, 1)


# --- anonymous flags ----------------------------------------------------------------------------


async def test_an_anonymous_flag_keeps_only_the_reporters_role(session_factory, session):
    created = await create(session_factory, flag_create(anonymity="anonymous"))

    stored = await session.get(Flag, created.flag.id)
    assert stored is not None
    assert (
        stored.reporter_fhir_user,
        stored.reporter_display,
        stored.reporter_department,
        stored.idempotency_scope,
    ) == (None, None, None, "")
    assert stored.reporter_role == "physician"
    (event,) = await service.timeline(session, stored)
    assert event.actor_name == "Anonymous reporter"


async def test_an_anonymous_flag_returns_a_receipt_of_which_only_the_hash_is_stored(
    session_factory, session
):
    created = await create(session_factory, flag_create(anonymity="anonymous"))

    assert created.receipt_token is not None
    assert len(created.receipt_token) >= 32
    stored = await session.get(Flag, created.flag.id)
    assert stored is not None
    assert stored.receipt_token_hash == hashlib.sha256(created.receipt_token.encode()).hexdigest()
    stored_text = " ".join(str(value) for value in stored.model_dump().values())
    assert created.receipt_token not in stored_text


async def test_an_anonymous_retry_gets_the_same_receipt_back(session_factory, session):
    data = flag_create(anonymity="anonymous")

    first = await create(session_factory, data)
    retry = await create(session_factory, data)

    assert (first.created, retry.created) == (True, False)
    assert retry.flag.id == first.flag.id
    assert retry.receipt_token == first.receipt_token


async def test_anonymous_receipts_depend_on_the_servers_secret(session_factory):
    data = flag_create(anonymity="anonymous")

    assert service.receipt_for(data, secret_key=SECRET_KEY) != service.receipt_for(
        data, secret_key="another-secret-key-" + "y" * 32
    )


async def test_two_anonymous_flags_with_different_keys_are_separate(session_factory, session):
    first = await create(session_factory, flag_create(anonymity="anonymous"))
    second = await create(session_factory, flag_create(anonymity="anonymous"))

    assert (first.created, second.created) == (True, True)
    assert first.flag.id != second.flag.id
    assert first.receipt_token != second.receipt_token
    assert await count(session, Flag) == 2


async def test_nothing_stored_for_an_anonymous_flag_depends_on_who_reported_it(
    session_factory, session
):
    # Same content, two different (anonymous) reporters in the same role.
    first = await create(
        session_factory,
        flag_create(anonymity="anonymous", reporter=reporter("Practitioner/pr-1", "Dr. One")),
    )
    second = await create(
        session_factory,
        flag_create(anonymity="anonymous", reporter=reporter("Practitioner/pr-2", "Dr. Two")),
    )

    stored = [await session.get(Flag, created.flag.id) for created in (first, second)]
    # A stored value computed from the reporter's identity would let anyone with a list of
    # practitioners re-identify the reporter by recomputing it for each candidate.
    assert stored[0] is not None
    assert stored[1] is not None
    assert stored[0].request_fingerprint == stored[1].request_fingerprint


async def test_a_confidential_flag_stores_the_reporter_so_the_loop_can_close(
    session_factory, session
):
    created = await create(session_factory, flag_create(anonymity="confidential"))

    stored = await session.get(Flag, created.flag.id)
    assert stored is not None
    assert (stored.reporter_fhir_user, stored.receipt_token_hash) == ("Practitioner/pr-1", None)
    assert created.receipt_token is None


# --- what the schema refuses --------------------------------------------------------------------


def refused(data: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as raised:
        FlagCreate.model_validate(data)
    return [dict(error) for error in raised.value.errors()]


def test_naive_datetimes_are_refused_with_the_fix_in_the_message():
    order = payload()["order"] | {"authored_on": "2026-03-02T09:20:00"}

    (error,) = refused(payload(order=order))

    assert error["loc"] == ("order", "authored_on")
    assert "time zone offset" in error["msg"]


def test_aware_datetimes_in_any_offset_are_accepted():
    order = payload()["order"] | {"authored_on": "2026-03-02T09:20:00-05:00"}

    accepted = FlagCreate.model_validate(payload(order=order))

    assert accepted.order.authored_on is not None
    assert accepted.order.authored_on.utcoffset() is not None


@pytest.mark.parametrize("fhir_id", ["pt/1", "pt 1", "pt_1", "", "p" * 65])
def test_patient_ids_must_be_fhir_ids(fhir_id):
    errors = refused(payload(patient={"fhir_id": fhir_id}))

    assert [error["loc"] for error in errors] == [("patient", "fhir_id")]


def test_a_fhir_id_of_64_letters_digits_dashes_and_dots_is_accepted():
    fhir_id = "Ab-9." + "x" * 59

    assert FlagCreate.model_validate(payload(patient={"fhir_id": fhir_id})).patient.fhir_id == (
        fhir_id
    )


def test_a_note_over_1000_characters_is_refused():
    assert FlagCreate.model_validate(payload(note="n" * 1000)).note == "n" * 1000

    (error,) = refused(payload(note="n" * 1001))

    assert error["loc"] == ("note",)


def test_unknown_fields_are_refused_at_any_level():
    patient = payload()["patient"] | {"name": "Jane Doe"}

    errors = refused(payload(mrn="123456", patient=patient))

    assert sorted(error["loc"] for error in errors) == [("mrn",), ("patient", "name")]
    assert {error["type"] for error in errors} == {"extra_forbidden"}


@pytest.mark.parametrize("tag", ["Order-set", "-leading", "has space", "x" * 41, ""])
def test_tags_must_be_short_lowercase_slugs(tag):
    errors = refused(payload(tags=["ok", tag]))

    assert [error["loc"] for error in errors] == [("tags", 1)]


def test_tags_in_the_allowed_pattern_are_accepted_up_to_ten():
    tags = ["order-set", "pre_op", "2026q1"]

    assert FlagCreate.model_validate(payload(tags=tags)).tags == tags
    assert [error["loc"] for error in refused(payload(tags=[f"t{i}" for i in range(11)]))] == [
        ("tags",)
    ]


@pytest.mark.parametrize("key", ["short", "has space in it", "k" * 101])
def test_idempotency_keys_are_bounded_url_safe_strings(key):
    errors = refused(payload(idempotency_key=key))

    assert [error["loc"] for error in errors] == [("idempotency_key",)]
