"""What a flag records of the low-value rules that agreed with it (``flag.rule_agreement``).

A rule is named by id and version, with its title and first source as the catalog has them
at flag time, so the quality team reads "a rule agreed" with its evidence even after the
catalog moves on.
"""

from __future__ import annotations

from collections.abc import Iterable

import lowvalue
from app.flags.schemas import RuleAgreementIn


def agreement_for(rule_id: str, rule_version: str) -> RuleAgreementIn:
    """One rule that agreed; a rule the catalog no longer holds is kept by its id alone."""
    try:
        rule = lowvalue.default_catalog().rule(rule_id)
    except lowvalue.VariantError:
        return RuleAgreementIn(rule_id=rule_id, rule_version=rule_version, title=rule_id)
    source = rule.sources[0]
    return RuleAgreementIn(
        rule_id=rule_id,
        rule_version=rule_version,
        title=rule.title,
        source_title=source.title,
        source_url=source.url,
    )


def agreement_of(found: Iterable[tuple[str, str]] | None) -> list[RuleAgreementIn] | None:
    """The agreement for ``(rule_id, rule_version)`` pairs; None (no rule was run) stays None."""
    if found is None:
        return None
    return [agreement_for(rule_id, version) for rule_id, version in found]
