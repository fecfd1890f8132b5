"""What an order is estimated to cost: the organization's own price, else a Medicare
national reference price.

The reference prices come from ``shared/clinical/low-value-services.md``: unadjusted national
amounts (CLFS national limit; PFS non-facility amount). Shown as "Medicare national reference
price (source, year)", never as the patient's charge or the hospital's cost. CPT codes only; no
descriptor text.

An organization that loads its own price list (``app.prices``) is telling us what an order
costs *it*; that beats a national average, so its price wins wherever it has one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

CPT = "http://www.ama-assn.org/go/cpt"
CLFS = "Medicare national reference price (CLFS)"
PFS = "Medicare national reference price (PFS, non-facility)"


@dataclass(frozen=True)
class Price:
    """A price in whole US cents with where it comes from and its year; a flag keeps all
    three, so an estimate can always be traced to its source."""

    cents: int
    source: str
    year: int

    @property
    def amount(self) -> Decimal:
        return cents_to_amount(self.cents)


def cents_to_amount(cents: int) -> Decimal:
    """Whole cents as dollars with two decimals, as the API and exports show money."""
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


REFERENCE_PRICES: dict[tuple[str, str], Price] = {
    (CPT, "82306"): Price(2960, CLFS, 2025),
    (CPT, "72148"): Price(20764, PFS, 2022),
    (CPT, "84153"): Price(1839, CLFS, 2025),
    (CPT, "71046"): Price(3461, PFS, 2022),
    (CPT, "93306"): Price(20487, PFS, 2022),
    (CPT, "94010"): Price(2734, PFS, 2022),
    (CPT, "85025"): Price(777, CLFS, 2025),
    (CPT, "80048"): Price(846, CLFS, 2025),
    (CPT, "80053"): Price(1056, CLFS, 2025),
    (CPT, "85610"): Price(429, CLFS, 2025),
    (CPT, "85730"): Price(601, CLFS, 2025),
    (CPT, "70450"): Price(11316, PFS, 2022),
    (CPT, "84480"): Price(1418, CLFS, 2025),
    (CPT, "84481"): Price(1694, CLFS, 2025),
    (CPT, "83090"): Price(1792, CLFS, 2025),
    (CPT, "83970"): Price(4128, CLFS, 2025),
    (CPT, "77080"): Price(3807, PFS, 2022),
}


Codings = Sequence[tuple[str | None, str | None]]


def reference_price(codings: Codings) -> Price | None:
    """The first known reference price among an order's codings (system, code)."""
    return _first_priced(codings, REFERENCE_PRICES)


def choose_price(codings: Codings, organization: Mapping[tuple[str, str], Price]) -> Price | None:
    """The price an order's flag is estimated at: the organization's own price for any of its
    codings (``organization`` holds those in effect on the order's date), else the reference
    price. Among several codings the first one priced wins, as the EHR ordered them."""
    return _first_priced(codings, organization) or reference_price(codings)


def _first_priced(codings: Codings, prices: Mapping[tuple[str, str], Price]) -> Price | None:
    for system, code in codings:
        if system and code and (system, code) in prices:
            return prices[(system, code)]
    return None
