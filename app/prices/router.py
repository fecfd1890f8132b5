"""Admin endpoints for the organization's price list (``/api/v1/prices``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.auth.dependencies import CanManagePrices
from app.db import SessionDep
from app.prices import service
from app.prices.errors import PriceListNotCsv
from app.prices.price_file import COLUMNS
from app.prices.schemas import PriceList

router = APIRouter(prefix="/api/v1/prices", tags=["prices"])

_CSV_BODY = {
    "requestBody": {
        "required": True,
        "description": "CSV, UTF-8, with a header naming the columns: "
        + ", ".join(name.replace("_", " ") for name in COLUMNS)
        + ".",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


async def _csv_text(request: Request) -> str:
    """The body as text, if it is CSV (RFC 4180 registers text/csv) in UTF-8."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "text/csv":
        raise PriceListNotCsv(
            f"Send the price list with 'Content-Type: text/csv' (got {media_type or 'none'!r})."
        )
    try:
        return (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PriceListNotCsv(
            "The price list is not UTF-8 text; save it as 'CSV UTF-8' and send it again."
        ) from exc


@router.get("")
async def get_prices(session: SessionDep, _: CanManagePrices) -> PriceList:
    """The organization's price list, as last loaded."""
    return await service.price_list(session)


@router.post("", openapi_extra=_CSV_BODY)
async def load_prices(request: Request, session: SessionDep, admin: CanManagePrices) -> PriceList:
    """Replace the price list with a CSV file, all or nothing; bad lines are listed."""
    return await service.load(session, await _csv_text(request), loaded_by=admin.name)
