"""The organization's price list: one row per code and effective date.

Prices are stored in whole US cents, the registry's one currency (see ``price_file``: a list in
another currency is refused, not stored), with the source the organization names and the day
the price takes effect. A price holds from its effective date until the next one for the same
code; the list is replaced as a whole on each load, so what is stored is always exactly the
last file an admin loaded.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import BigIntId, UTCDateTime

CODE_SYSTEM_MAX_LENGTH = 500
CODE_MAX_LENGTH = 100
SOURCE_MAX_LENGTH = 200


class PriceListEntry(SQLModel, table=True):
    """One price of the organization's list: a code's price from its effective date on."""

    __tablename__ = "price_list"
    # The unique key also serves the lookup "latest effective date on or before the order's
    # date" for a code: an index range scan read backwards, one row per code.
    __table_args__ = (
        sa.UniqueConstraint(
            "code_system", "code", "effective_date", name="uq_price_list_code_effective"
        ),
    )

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    code_system: str = Field(max_length=CODE_SYSTEM_MAX_LENGTH)
    code: str = Field(max_length=CODE_MAX_LENGTH)
    price_cents: int = Field(ge=0)
    source: str = Field(max_length=SOURCE_MAX_LENGTH)
    effective_date: date
    # The file's line, so a question about a price can be answered from the file itself.
    line: int
    loaded_at: datetime = Field(sa_type=UTCDateTime)
    loaded_by: str = Field(max_length=200)
