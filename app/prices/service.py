"""Loading the organization's price list, and the price a new flag is estimated at.

Functions here change the session and flush; they never commit (the request's session
dependency, or the command line, commits).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.flags.costs import Codings, Price, cents_to_amount, choose_price
from app.kit.expiring import ExpiringCache
from app.kit.time import utcnow
from app.prices import repository
from app.prices.price_file import read_price_file
from app.prices.schemas import PriceEntryPublic, PriceList

# The price each order's codings get on a day, read again after 5 s (app/kit/expiring.py):
# every flag write prices its order. Loading a list clears this process's copy.
PRICES_IN_EFFECT: ExpiringCache[tuple[Codings, date], tuple[Price | None]] = ExpiringCache(
    ttl_seconds=5.0, max_entries=4096
)


async def load(session: AsyncSession, text: str, *, loaded_by: str) -> PriceList:
    """Replace the price list with the file's prices, all or nothing.

    Every line is checked first (:class:`~app.prices.errors.PriceListInvalid` lists each bad
    one); only a clean file replaces the stored list. Flags already made keep the price they
    were estimated at: a flag's cost is a snapshot with its source and year.
    """
    prices = read_price_file(text)
    now = utcnow()
    await repository.replace_all(
        session,
        [
            {
                "code_system": price.code_system,
                "code": price.code,
                "price_cents": price.cents,
                "source": price.source,
                "effective_date": price.effective_date,
                "line": price.line,
                "loaded_at": now,
                "loaded_by": loaded_by,
            }
            for price in prices
        ],
    )
    PRICES_IN_EFFECT.clear()  # this process prices from the new list at once
    return await price_list(session)


async def price_list(session: AsyncSession) -> PriceList:
    entries = await repository.all_entries(session)
    latest = max(entries, key=lambda entry: entry.loaded_at, default=None)
    return PriceList(
        count=len(entries),
        loaded_at=latest.loaded_at if latest else None,
        loaded_by=latest.loaded_by if latest else None,
        entries=[
            PriceEntryPublic(
                code_system=entry.code_system,
                code=entry.code,
                price=cents_to_amount(entry.price_cents),
                source=entry.source,
                effective_date=entry.effective_date,
                line=entry.line,
            )
            for entry in entries
        ],
    )


async def price_for(session: AsyncSession, codings: Codings, *, on: date) -> Price | None:
    """The price a flag on an order with these codings, ordered on ``on``, is estimated at: the
    organization's price in effect that day (the latest effective date on or before it), else
    the Medicare reference price. Its source and year go on the flag with it."""
    key = (tuple(codings), on)
    if (cached := PRICES_IN_EFFECT.get(key)) is not None:
        return cached[0]
    codes = [(system, code) for system, code in codings if system and code]
    in_effect = await repository.in_effect(session, codes, on)
    organization = {
        key: Price(entry.price_cents, entry.source, entry.effective_date.year)
        for key, entry in in_effect.items()
    }
    price = choose_price(codings, organization)
    PRICES_IN_EFFECT.put(key, (price,))
    return price
