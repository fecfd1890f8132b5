"""Which variant of a published measure each rule runs: the installation's choice
(``VALUELOOP_CDS_RULE_VARIANTS``), and each organization's own on top of it.

A health system and an affiliated practice may read the same measure differently (the PSA
measure's "sensitive" variant from age 70, its "specific" one from 75), so the choice belongs
to the organization whose CDS client calls or whose EHR launched ValueLoop. A rule neither
names runs its default variant.
"""

from __future__ import annotations

from collections.abc import Mapping

import lowvalue


class UnknownVariant(ValueError):
    """A variant choice that names no rule of the catalog, or a variant the rule lacks."""


def checked(choices: Mapping[str, str]) -> dict[str, lowvalue.VariantName]:
    """``choices`` if every rule exists and has the variant named; UnknownVariant otherwise."""
    catalog = lowvalue.default_catalog()
    for rule_id, variant in choices.items():
        try:
            rule = catalog.rule(rule_id)
        except lowvalue.VariantError as exc:
            raise UnknownVariant(str(exc)) from exc
        if variant not in rule.variants:
            raise UnknownVariant(
                f"rule {rule_id!r} has no {variant} variant "
                f"(it has: {', '.join(sorted(rule.variants)) or 'none'})"
            )
    return {rule_id: variant for rule_id, variant in choices.items()}  # type: ignore[misc]


def effective(
    installation: Mapping[str, lowvalue.VariantName],
    organization: Mapping[str, str] | None,
) -> dict[str, lowvalue.VariantName]:
    """The organization's choices over the installation's (both already checked)."""
    return {**installation, **(organization or {})}  # type: ignore[dict-item]
