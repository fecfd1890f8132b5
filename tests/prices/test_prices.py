"""The organization's price list: all-or-nothing loads, every bad line named, and the price in
effect on the order's date winning over the Medicare reference price."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.flags.costs import CPT, PFS, Price
from app.prices import service
from app.prices.errors import PriceListInvalid
from app.prices.price_file import read_price_file

HEADER = "code system,code,price,currency,source,effective date\n"
GOOD = (
    HEADER
    + "CPT,72148,412.00,USD,Riverside chargemaster 2026,2026-01-01\n"
    + "CPT,72148,380.50,USD,Riverside chargemaster 2025,2025-01-01\n"
    + "http://loinc.org,2345-7,3.10,usd,Riverside lab contract,2025-07-01\n"
)
MRI = [(CPT, "72148")]


def problems_of(text: str) -> list[tuple[int, str | None, str]]:
    with pytest.raises(PriceListInvalid) as caught:
        read_price_file(text)
    return [(p["line"], p["column"], p["detail"]) for p in caught.value.extensions["problems"]]


def test_a_good_file_reads_every_price_with_short_code_system_names_expanded():
    prices = read_price_file("\ufeff" + GOOD + "\n")

    assert [(p.line, p.code_system, p.code, p.cents, p.effective_date) for p in prices] == [
        (2, CPT, "72148", 41200, date(2026, 1, 1)),
        (3, CPT, "72148", 38050, date(2025, 1, 1)),
        (4, "http://loinc.org", "2345-7", 310, date(2025, 7, 1)),
    ]


def test_every_bad_line_is_named_with_its_column_and_why():
    text = (
        HEADER
        + "CPT,1,-5.00,USD,S,2026-01-01\n"
        + "CPT,2,5.00,EUR,S,2026-01-01\n"
        + "CPT,3,5.00,US$,S,2026-01-01\n"
        + "CPT,4,5.00,USD,S,2026-02-30\n"
        + "CPT,5,5.00,USD,S,01/02/2026\n"
        + "CPT,6,5.001,USD,S,2026-01-01\n"
        + "CPT,7,abc,USD,,2026-01-01\n"
        + "ICD,8,5.00,USD,S,2026-01-01\n"
        + "CPT,9,5.00,USD,S,2026-01-01\n"
        + "CPT,9,6.00,USD,S,2026-01-01\n"
        + "CPT,10,5.00\n"
    )

    found = problems_of(text)

    assert [(line, column) for line, column, _ in found] == [
        (2, "price"),
        (3, "currency"),
        (4, "currency"),
        (5, "effective_date"),
        (6, "effective_date"),
        (7, "price"),
        (8, "price"),
        (8, "source"),
        (9, "code_system"),
        (11, "effective_date"),
        (12, None),
    ]
    details = {(line, column): detail for line, column, detail in found}
    assert "negative price" in details[(2, "price")]
    assert "not accepted" in details[(3, "currency")]
    assert "convert the list to USD" in details[(3, "currency")]
    assert "unknown currency" in details[(4, "currency")]
    assert "not a day" in details[(5, "effective_date")]
    assert "YYYY-MM-DD" in details[(6, "effective_date")]
    assert "two decimal places" in details[(7, "price")]
    assert "unknown code system" in details[(9, "code_system")]
    assert "duplicate code and effective date: line 10" in details[(11, "effective_date")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("code,price\n", "no 'code_system' column"),
        (HEADER.replace("source", "origin"), "unknown column 'origin'"),
        (HEADER, "no prices"),
        (HEADER + "CPT,1,5\x00,USD,S,2026-01-01\n", "NUL"),
    ],
)
def test_files_that_are_not_a_price_list_are_refused_with_a_reason(text, expected):
    assert expected in problems_of(text)[0][2]


async def test_a_load_replaces_the_list_and_a_bad_file_leaves_the_old_one(session):
    await service.load(session, GOOD, loaded_by="Admin A")
    await session.commit()

    with pytest.raises(PriceListInvalid):
        await service.load(session, HEADER + "CPT,1,-1,USD,S,2026-01-01\n", loaded_by="B")
    await session.rollback()
    kept = await service.price_list(session)
    assert (kept.count, kept.loaded_by) == (3, "Admin A")

    await service.load(session, HEADER + "CPT,82306,1.00,USD,New,2026-01-01\n", loaded_by="C")
    await session.commit()
    replaced = await service.price_list(session)
    assert [(e.code, e.price) for e in replaced.entries] == [("82306", Decimal("1.00"))]


@pytest.mark.parametrize(
    ("ordered_on", "expected"),
    [
        (date(2026, 3, 1), Price(41200, "Riverside chargemaster 2026", 2026)),
        (date(2026, 1, 1), Price(41200, "Riverside chargemaster 2026", 2026)),
        (date(2025, 12, 31), Price(38050, "Riverside chargemaster 2025", 2025)),
        (date(2024, 12, 31), Price(20764, PFS, 2022)),  # before the list: the reference price
    ],
)
async def test_the_price_in_effect_on_the_order_date_wins_over_the_reference(
    session, ordered_on, expected
):
    await service.load(session, GOOD, loaded_by="Admin A")
    await session.commit()

    assert await service.price_for(session, MRI, on=ordered_on) == expected


async def test_codes_without_an_organization_price_keep_the_reference_price(session):
    await service.load(session, GOOD, loaded_by="Admin A")
    await session.commit()

    vitamin_d = [(CPT, "82306")]
    reference = await service.price_for(session, vitamin_d, on=date(2026, 3, 1))
    assert reference is not None
    assert reference.source.startswith("Medicare")
    assert await service.price_for(session, [(CPT, "00000")], on=date(2026, 3, 1)) is None
    # An organization price on a second coding beats a reference price on the first.
    both = [(CPT, "82306"), ("http://loinc.org", "2345-7")]
    assert await service.price_for(session, both, on=date(2026, 3, 1)) == Price(
        310, "Riverside lab contract", 2025
    )


async def test_admins_load_and_read_the_list_over_the_api(client, tokens):
    response = await client.post(
        "/api/v1/prices",
        content=GOOD,
        headers={**tokens.header("admin"), "Content-Type": "text/csv; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 3
    assert response.json()["loaded_by"] == "Test admin"

    listed = await client.get("/api/v1/prices", headers=tokens.header("admin"))
    assert [e["price"] for e in listed.json()["entries"]] == ["3.10", "380.50", "412.00"]


async def test_a_bad_upload_is_a_problem_listing_lines_and_loads_nothing(client, tokens):
    response = await client.post(
        "/api/v1/prices",
        content=HEADER + "CPT,1,5.00,EUR,S,2026-01-01\nCPT,2,-1,USD,S,2026-01-01\n",
        headers={**tokens.header("admin"), "Content-Type": "text/csv"},
    )

    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "urn:valueloop:problem:price-list-invalid"
    assert [(p["line"], p["column"]) for p in body["problems"]] == [
        (2, "currency"),
        (3, "price"),
    ]
    assert "Nothing was loaded" in body["detail"]
    listed = await client.get("/api/v1/prices", headers=tokens.header("admin"))
    assert listed.json()["count"] == 0


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(GOOD.encode(), "application/json"), ("é".encode("latin-1") + b"\n", "text/csv")],
)
async def test_uploads_that_are_not_utf8_csv_are_refused(client, tokens, content, content_type):
    response = await client.post(
        "/api/v1/prices",
        content=content,
        headers={**tokens.header("admin"), "Content-Type": content_type},
    )

    assert response.status_code == 415
    assert response.json()["type"] == "urn:valueloop:problem:price-list-not-csv"
    document = (await client.get("/openapi.json")).json()
    assert "415" in document["paths"]["/api/v1/prices"]["post"]["responses"]


@pytest.mark.parametrize("role", ["analyst", "lead"])
async def test_only_admins_manage_prices(client, tokens, role):
    for response in (
        await client.get("/api/v1/prices", headers=tokens.header(role)),
        await client.post(
            "/api/v1/prices",
            content=GOOD,
            headers={**tokens.header(role), "Content-Type": "text/csv"},
        ),
    ):
        assert response.status_code == 403


def test_the_command_loads_a_file_and_lists_bad_lines(
    settings, clean_tables, tmp_path, monkeypatch
):
    monkeypatch.setenv("VALUELOOP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VALUELOOP_MODE", "demo")
    monkeypatch.setenv("VALUELOOP_DATA_DIR", str(tmp_path))
    from app.config import get_settings

    get_settings.cache_clear()
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(HEADER + "CPT,1,5.00,GBP,S,2026-01-01\n", encoding="utf-8")
    runner = CliRunner()
    try:
        loaded = runner.invoke(cli, ["prices", "load", str(good)])
        refused = runner.invoke(cli, ["prices", "load", str(bad)])
        listed = runner.invoke(cli, ["prices", "list"])
    finally:
        get_settings.cache_clear()

    assert loaded.exit_code == 0, loaded.output
    assert "Loaded 3 prices" in loaded.output
    assert refused.exit_code == 1
    assert "line 2 (currency): currency GBP is not accepted" in refused.output
    assert "412.00 USD  Riverside chargemaster 2026" in listed.output
