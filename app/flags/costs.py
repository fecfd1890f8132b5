"""Medicare national reference prices for the low-value services we know, by order code.

From ``shared/clinical/low-value-services.md``: unadjusted national amounts (CLFS national
limit; PFS non-facility amount). Shown as "Medicare national reference price (source, year)",
never as the patient's charge or the hospital's cost. CPT codes only; no descriptor text.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

CPT = "http://www.ama-assn.org/go/cpt"
CLFS = "Medicare national reference price (CLFS)"
PFS = "Medicare national reference price (PFS, non-facility)"


@dataclass(frozen=True)
class ReferencePrice:
    cents: int
    source: str
    year: int

    @property
    def amount(self) -> Decimal:
        return cents_to_amount(self.cents)


def cents_to_amount(cents: int) -> Decimal:
    """Whole cents as dollars with two decimals, as the API and exports show money."""
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


REFERENCE_PRICES: dict[tuple[str, str], ReferencePrice] = {
    (CPT, "82306"): ReferencePrice(2960, CLFS, 2025),
    (CPT, "72148"): ReferencePrice(20764, PFS, 2022),
    (CPT, "84153"): ReferencePrice(1839, CLFS, 2025),
    (CPT, "71046"): ReferencePrice(3461, PFS, 2022),
    (CPT, "93306"): ReferencePrice(20487, PFS, 2022),
    (CPT, "94010"): ReferencePrice(2734, PFS, 2022),
    (CPT, "85025"): ReferencePrice(777, CLFS, 2025),
    (CPT, "80048"): ReferencePrice(846, CLFS, 2025),
    (CPT, "80053"): ReferencePrice(1056, CLFS, 2025),
    (CPT, "85610"): ReferencePrice(429, CLFS, 2025),
    (CPT, "85730"): ReferencePrice(601, CLFS, 2025),
    (CPT, "70450"): ReferencePrice(11316, PFS, 2022),
    (CPT, "84480"): ReferencePrice(1418, CLFS, 2025),
    (CPT, "84481"): ReferencePrice(1694, CLFS, 2025),
    (CPT, "83090"): ReferencePrice(1792, CLFS, 2025),
    (CPT, "83970"): ReferencePrice(4128, CLFS, 2025),
    (CPT, "77080"): ReferencePrice(3807, PFS, 2022),
}


def reference_price(codings: list[tuple[str | None, str | None]]) -> ReferencePrice | None:
    """The first known price among an order's codings (system, code)."""
    for system, code in codings:
        if system and code and (system, code) in REFERENCE_PRICES:
            return REFERENCE_PRICES[(system, code)]
    return None
