"""A bounded schema fuzz of the whole OpenAPI surface: no 5xx, every response as documented.

Schemathesis reads ``/openapi.json`` from a fresh app on the PostgreSQL test database and
drives every operation in-process (ASGI) with an admin token and a real clinician session.
Each operation gets schema-valid and schema-violating requests as generated, plus valid ones
aimed at things that exist (the ids below, ``If-Match: *``, an order of the launch), so the
requests reach the code that reads and writes instead of stopping at a 404. The budget is
fixed (``EXAMPLES_PER_OPERATION``, about 2,000 requests in all) and Hypothesis is
derandomized with no example database, so the same code gets the same requests every run.
Schemathesis's pytest plugin ends the app's lifespan (engine, HTTP client) with the test.
The launch fixtures (a simulated EHR registered with ValueLoop) come from tests/sim_ehr.py.

The operations are driven from one test with Hypothesis strategies (``as_strategy``), not
with ``schemathesis.pytest.from_fixture``, whose lazy loading assigns ``Node._nodeid``, which
pytest 9.2 no longer has (schemathesis 4.32.5). Every operation runs even when one fails, and
the failure lists them all, each with a curl command or the app's traceback.
"""

from __future__ import annotations

import os
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth import service as token_service
from app.auth.models import Role
from app.config import Settings
from app.ehrs import service as ehrs
from app.ehrs.secrets import secret_box
from app.main import create_app
from tests.conftest import Tokens
from tests.factories import make_flag
from tests.sim_ehr import Ehr, full_launch

Operation = APIOperation[Any, Any, Any, Any]

# 34 operations: about 2,000 requests (fewer where there is little to vary). A longer fuzz, by
# hand: VALUELOOP_FUZZ_EXAMPLES=2000 .venv/bin/pytest tests/test_openapi_fuzz.py (bench/README).
EXAMPLES_PER_OPERATION = int(os.environ.get("VALUELOOP_FUZZ_EXAMPLES", "66"))
# Fewer would mean the fuzz silently stopped fuzzing (a Hypothesis or schemathesis change).
MIN_REQUESTS = 1_500 * EXAMPLES_PER_OPERATION // 66
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    # A busy machine must not fail the run: no deadline per request, and no complaint that
    # generating schemathesis's larger bodies is slow.
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@dataclass(frozen=True)
class World:
    """What the requests carry and what they can aim at."""

    headers: dict[str, str]
    ids: dict[str, list[str]]
    order: dict[str, str]

    def about_a_launch_order(self, case: Case[Any]) -> Case[Any]:
        """A clinician's flag names an order of this launch, or it stops at a 422."""
        if isinstance(case.body, dict) and "order_id" in case.body:
            case.body = {
                **case.body,
                "resource_type": self.order["resource_type"],
                "order_id": self.order["fhir_id"],
            }
        return case


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    ehr: Ehr,
    ehr_http: httpx.AsyncClient,
    tokens: Tokens,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> World:
    staff = tokens.header("admin")
    clinician = {"X-ValueLoop-Session": await full_launch(client, ehr_http, ehr.sim)}
    context = await client.get("/api/v1/clinician/context", headers=clinician)
    order = context.json()["orders"][0]
    reported = await client.post(
        "/api/v1/clinician/flags",
        json={
            "resource_type": order["resource_type"],
            "order_id": order["fhir_id"],
            "reason": "not_indicated",
            "reporter_role": "physician",
            "idempotency_key": uuid.uuid4().hex,
        },
        headers=clinician,
    )
    flag_id = reported.json()["flag_id"]
    replied = await client.post(
        f"/api/v1/flags/{flag_id}/replies", json={"body": "Thanks, noted."}, headers=staff
    )
    assert replied.status_code == 201, replied.text
    other = await make_flag(session_factory)
    # Ones the fuzz may revoke or delete: never the admin token or the launching EHR. The
    # spare EHR's address refuses connections at once (the app warms up every EHR at start).
    async with session_factory() as session:
        spare_token = token_service.issue(session, name="Spare", role=Role.LEAD, created_by="tests")
        spare_ehr = await ehrs.register(
            session,
            issuer="https://127.0.0.1:1/spare-fhir",
            client_id="spare",
            client_auth=ehrs.ClientAuthKind.NONE,
            box=secret_box(settings),
            frame_origins=[],
        )
        await session.commit()
    return World(
        # Lower case: the session header's name as a parameter in the schema, so that the
        # fuzz sends it as given instead of generating it.
        headers={key.lower(): value for key, value in {**staff, **clinician}.items()},
        ids={
            "flag_id": [flag_id, str(other.id)],
            "token_id": [str(spare_token.record.id)],
            "ehr_id": [str(spare_ehr.id)],
        },
        order=order,
    )


def cases(operation: Operation, world: World) -> st.SearchStrategy[Case[Any]]:
    """Generated cases, valid and not, and valid ones about things that exist."""
    generated = [
        operation.as_strategy(generation_mode=mode, headers=world.headers)
        for mode in GenerationMode
    ]
    names = [p.name for p in operation.path_parameters if p.name in world.ids]

    def about(ids: dict[str, str]) -> st.SearchStrategy[Case[Any]]:
        headers = {**world.headers, "if-match": "*"}
        strategy: st.SearchStrategy[Case[Any]] = operation.as_strategy(
            path_parameters=ids, headers=headers
        )
        return strategy

    existing = (
        st.fixed_dictionaries({name: st.sampled_from(world.ids[name]) for name in names})
        .flatmap(about)
        .map(world.about_a_launch_order)
    )
    return st.one_of(*generated, existing)


def fuzz(operation: Operation, world: World, count: Callable[[], None]) -> str | None:
    """Run one operation's budget; the failure Hypothesis settled on, if any."""

    @SETTINGS
    @hypothesis.given(case=cases(operation, world))
    def requests_answer_as_documented(case: Case[Any]) -> None:
        count()
        try:
            case.call_and_validate(checks=CHECKS)
        except Exception as error:  # the app raised (ServerErrorMiddleware re-raises a 500)
            error.add_note(f"Request: {case.as_curl_command()}")
            raise

    try:
        requests_answer_as_documented()
    # A failed check is a FailureGroup (a BaseExceptionGroup); an error the app did not
    # handle comes through as itself, with its traceback.
    except (Exception, schemathesis.errors.FailureGroup) as failure:
        return f"{operation.label}\n{''.join(traceback.format_exception(failure))}"
    return None


@POSTGRES_ONLY
def test_every_operation_answers_without_server_errors_and_as_documented(
    settings: Settings, world: World
) -> None:
    app = create_app(settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=schemathesis.Config())
    requests = 0

    def count() -> None:
        nonlocal requests
        requests += 1

    operations = [operation for methods in schema.values() for operation in methods.values()]
    failures = [failure for operation in operations if (failure := fuzz(operation, world, count))]

    assert not failures, "\n\n".join(failures)
    assert requests >= MIN_REQUESTS


async def test_every_error_response_is_documented_as_a_problem(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    responses = {
        f"{method.upper()} {path}": operation["responses"]
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }

    errors = {
        label: {int(status): entry for status, entry in entries.items() if int(status) >= 400}
        for label, entries in responses.items()
    }
    assert all(entry["content"] == PROBLEM for each in errors.values() for entry in each.values())
    assert "HTTPValidationError" not in document["components"]["schemas"]
    transition = set(errors["POST /api/v1/flags/{flag_id}/transitions"])
    assert transition == {400, 401, 403, 404, 409, 412, 413, 422, 428, 503}
    # The cookie-only session check: no role and, for a read, no CSRF or cross-site refusal.
    assert set(errors["GET /api/v1/session"]) == {401, 422, 503}
    assert set(errors["GET /api/v1/clinician/context"]) == {401, 422, 502, 503}
    assert "admin" in errors["POST /api/v1/tokens"][403]["description"]
