"""The price list as the admin API shows it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


class PriceEntryPublic(BaseModel):
    code_system: str
    code: str
    price: Decimal
    currency: Literal["USD"] = "USD"
    source: str
    effective_date: date = Field(description="The price holds from this day until the next one.")
    line: int = Field(description="The line of the loaded file this price came from.")


class PriceList(BaseModel):
    """The organization's price list: exactly the last file an admin loaded."""

    count: int
    loaded_at: datetime | None
    loaded_by: str | None
    entries: list[PriceEntryPublic]
