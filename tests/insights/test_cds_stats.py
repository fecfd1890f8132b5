"""Caught at ordering over HTTP, on known data: each CDS rule's counts, override reasons,
clinician flags on the orders it covers and its catches, for a period; the daily series for
one order code; CSV; who may read them; and bad input as 422 problems."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

import lowvalue
from app.cds.models import CardFeedback, CdsDailyCount, IssuedCard
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from tests.insights.test_statistics import flag_at, order

pytestmark = pytest.mark.usefixtures("clean_tables")

CPT = "http://www.ama-assn.org/go/cpt"
BACK_PAIN = "low-back-pain-imaging"
VITAMIN_D = "vitamin-d-testing"
SIGN = "valueloop-order-sign"
SELECT = "valueloop-order-select"
MARCH_2 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MARCH_3 = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
APRIL_1 = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
IN_MARCH = {"created_from": "2026-03-01", "created_to": "2026-03-31"}


def daily(day: date, rule: str, code: str, service: str = SIGN, **counters: int) -> CdsDailyCount:
    return CdsDailyCount(
        organization_id=DEFAULT_ORGANIZATION_ID,
        day=day,
        service_id=service,
        rule_id=rule,
        order_code_system=CPT,
        order_code=code,
        **{"evaluated": 0, "shown": 0, "accepted": 0, "overridden": 0, **counters},
    )


def card(rule: str, issued_at: datetime) -> IssuedCard:
    return IssuedCard(
        organization_id=DEFAULT_ORGANIZATION_ID,
        id=uuid.uuid4(),
        service_id=SIGN,
        hook_instance=uuid.uuid4(),
        rule_id=rule,
        rule_version="1",
        order_ref="ServiceRequest/sr1",
        patient_id="p1",
        user_id="Practitioner/prac-1",
        client_iss="https://ehr.example.org/fhir",
        suggestion_id=uuid.uuid4(),
        issued_at=issued_at,
        snapshot={},
        order_code_system=CPT,
        order_code="72148",
        feedback_counted=True,
    )


def said(
    given: IssuedCard, outcome: str, reason: tuple[str, str] | None = None, **extra: Any
) -> CardFeedback:
    code, display = reason or (None, None)
    return CardFeedback(
        card_id=given.id,
        outcome=outcome,
        accepted_suggestion=outcome == "accepted",
        override_code=code,
        override_display=display,
        user_comment="Patient Jane Doe insisted" if outcome == "overridden" else None,
        **{
            "outcome_at": given.issued_at,
            "received_at": given.issued_at,
            "counted": True,
            **extra,
        },
    )


SHARED = ("shared-decision", "Shared decision with the patient")
PROTOCOL = ("protocol", "Follows a local protocol")


@pytest.fixture
async def known(session_factory) -> None:
    """March: back pain MRI evaluated 11 (sign 7 + select 4), shown 8, accepted 2, overridden
    3 (shared decision 2, no reason 1; a later override of the same card not counted); vitamin
    D evaluated 1. April: back pain evaluated 5, shown 5, overridden 1 (protocol).
    Flags: MRI 72148 by clinicians twice in March and once in April, CT 72131 (in the same
    rule's code set) once in March, vitamin D 82306 once in March, an office visit once in
    March; one MRI catch in March."""
    caught = await flag_at(session_factory, MARCH_3, order=order("72148", "MRI"))
    for at, code in [(MARCH_2, "72148"), (MARCH_3, "72148"), (APRIL_1, "72148")]:
        await flag_at(session_factory, at, order=order(code, "MRI lumbar spine"))
    await flag_at(session_factory, MARCH_2, order=order("72131", "CT lumbar spine"))
    await flag_at(session_factory, MARCH_2, order=order("82306", "Vitamin D"))
    await flag_at(session_factory, MARCH_2, order=order("99213", "Office visit"))
    march = [card(BACK_PAIN, MARCH_2) for _ in range(4)]
    april = card(BACK_PAIN, APRIL_1)
    async with session_factory() as session:
        session.add_all(
            [
                daily(
                    MARCH_2.date(),
                    BACK_PAIN,
                    "72148",
                    evaluated=5,
                    shown=4,
                    accepted=1,
                    overridden=3,
                ),
                daily(MARCH_2.date(), BACK_PAIN, "72148", SELECT, evaluated=4, shown=2),
                daily(MARCH_3.date(), BACK_PAIN, "72148", evaluated=2, shown=2, accepted=1),
                daily(MARCH_3.date(), VITAMIN_D, "82306", evaluated=1),
                daily(APRIL_1.date(), BACK_PAIN, "72148", evaluated=5, shown=5, overridden=1),
                *march,
                april,
            ]
        )
        await session.flush()
        session.add_all(
            [
                said(march[0], "accepted", flag_id=caught.id),
                said(march[1], "overridden", SHARED),
                said(march[2], "overridden", SHARED),
                said(march[3], "overridden"),
                said(march[3], "overridden", PROTOCOL, counted=False, outcome_at=MARCH_3),
                said(april, "overridden", PROTOCOL),
            ]
        )
        await session.commit()


def rule_row(body: dict[str, Any], rule_id: str) -> dict[str, Any]:
    [row] = [row for row in body["rules"] if row["rule_id"] == rule_id]
    return dict(row)


@pytest.mark.usefixtures("known")
async def test_each_rule_shows_its_hits_beside_the_clinician_flags_on_its_orders(client, tokens):
    response = await client.get("/api/v1/stats/cds", params=IN_MARCH, headers=tokens.header("lead"))

    assert response.status_code == 200, response.text
    body = response.json()
    back_pain = rule_row(body, BACK_PAIN)
    assert {key: back_pain[key] for key in back_pain if key not in {"title", "source_title"}} == {
        "rule_id": BACK_PAIN,
        "source_url": "https://doi.org/10.1001/jamainternmed.2014.1541",
        "evaluated": 11,
        "shown": 8,
        "accepted": 2,
        "overridden": 3,
        "acceptance_rate": 0.25,
        "override_reasons": [
            {"code": "shared-decision", "label": SHARED[1], "count": 2},
            {"code": None, "label": "No reason given", "count": 1},
        ],
        "clinician_flags": 3,  # two MRIs and the CT; not the catch, not April's MRI
        "catches": 1,
    }
    vitamin_d = rule_row(body, VITAMIN_D)
    assert [vitamin_d[k] for k in ("evaluated", "shown", "acceptance_rate", "clinician_flags")] == [
        1,
        0,
        None,
        1,
    ]
    assert [row["rule_id"] for row in body["rules"][:2]] == [BACK_PAIN, VITAMIN_D]
    assert len(body["rules"]) == len(lowvalue.default_catalog().rules)  # quiet ones as zeros
    assert "Jane" not in response.text  # users' comments never leave the feedback table


@pytest.mark.usefixtures("known")
async def test_without_a_period_every_day_counts(client, tokens):
    response = await client.get("/api/v1/stats/cds", headers=tokens.header("analyst"))

    back_pain = rule_row(response.json(), BACK_PAIN)
    assert [back_pain[k] for k in ("evaluated", "shown", "accepted", "overridden")] == [
        16,
        13,
        2,
        4,
    ]
    assert {(r["code"], r["count"]) for r in back_pain["override_reasons"]} == {
        ("shared-decision", 2),
        ("protocol", 1),
        (None, 1),
    }
    assert (back_pain["clinician_flags"], back_pain["catches"]) == (4, 1)


@pytest.mark.usefixtures("known")
async def test_the_daily_series_of_one_order_code_has_every_day_of_the_period(client, tokens):
    response = await client.get(
        "/api/v1/stats/cds/daily",
        params={
            "created_from": "2026-03-01",
            "created_to": "2026-03-04",
            "order_code": f"{CPT}|72148",
            "rule": BACK_PAIN,
        },
        headers=tokens.header("lead"),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["rule_id"], body["order_code"]) == (BACK_PAIN, f"{CPT}|72148")
    assert [
        (d["day"], d["evaluated"], d["shown"], d["accepted"], d["overridden"]) for d in body["days"]
    ] == [
        ("2026-03-01", 0, 0, 0, 0),
        ("2026-03-02", 9, 6, 1, 3),
        ("2026-03-03", 2, 2, 1, 0),
        ("2026-03-04", 0, 0, 0, 0),
    ]


@pytest.mark.usefixtures("known")
async def test_both_are_csv_tables_too(client, tokens):
    rules = await client.get(
        "/api/v1/stats/cds",
        params={**IN_MARCH, "format": "csv"},
        headers=tokens.header("lead"),
    )
    days = await client.get(
        "/api/v1/stats/cds/daily",
        params={"created_from": "2026-03-02", "created_to": "2026-03-02", "format": "csv"},
        headers=tokens.header("lead"),
    )

    assert rules.headers["content-type"].startswith("text/csv")
    assert (
        'filename="valueloop-cds-rules-2026-03-01-to-2026-03-31.csv"'
        in (rules.headers["content-disposition"])
    )
    lines = rules.text.splitlines()
    assert lines[0] == (
        "rule_id,title,orders_evaluated,cards_shown,accepted,overridden,acceptance_rate,"
        "override_reasons,clinician_flags,catches"
    )
    assert lines[1].startswith(f"{BACK_PAIN},")
    assert lines[1].endswith(",11,8,2,3,0.25,shared-decision=2; none=1,3,1")
    assert days.text.splitlines() == [
        "day,orders_evaluated,cards_shown,accepted,overridden",
        "2026-03-02,9,6,1,3",
    ]


async def test_a_caller_without_a_staff_credential_is_refused(client):
    anonymous = await client.get("/api/v1/stats/cds")
    forged = await client.get(
        "/api/v1/stats/cds/daily", headers={"Authorization": "Bearer not-a-token"}
    )

    assert (anonymous.status_code, forged.status_code) == (401, 401)
    assert anonymous.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("path", "params", "said"),
    [
        ("/api/v1/stats/cds", {"created_from": "2026-04-01", "created_to": "2026-03-01"}, "swap"),
        ("/api/v1/stats/cds", {"created_from": "1 March"}, "created_from"),
        ("/api/v1/stats/cds", {"format": "svg"}, "no chart"),
        ("/api/v1/stats/cds/daily", {"rule": "no-such-rule"}, "no rule"),
        ("/api/v1/stats/cds/daily", {"order_code": f"{CPT}|"}, "needs a code"),
        (
            "/api/v1/stats/cds/daily",
            {"created_from": "2000-01-01", "created_to": "2026-01-01"},
            "at most 3660 days",
        ),
    ],
)
async def test_bad_input_is_a_422_problem_that_says_what_is_wrong(
    client, tokens, path, params, said
):
    response = await client.get(path, params=params, headers=tokens.header("analyst"))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert said in response.text
