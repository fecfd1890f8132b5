"""What an improvement aims at, as order codes the registry can count.

An improvement names order codes (FHIR system and code) and/or low-value rules of the
published catalog (``lowvalue``). Its flags are counted on its codes and on every code the
organization's flags carry that one of its rules' order code sets holds (the catalog matches
ranges and prefixes, so "lumbar spine imaging" finds 72148 without listing it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import lowvalue
from app.improvements.errors import UnknownTarget
from app.improvements.models import Improvement
from app.kit.time import utcnow
from lowvalue.codes import Coding

Code = tuple[str, str]  # (system, code)


def checked_rules(rule_ids: Iterable[str]) -> list[str]:
    """``rule_ids`` in the order given, each once, every one a rule of the catalog."""
    catalog = lowvalue.default_catalog()
    known = {rule.id for rule in catalog.rules}
    wanted = list(dict.fromkeys(rule_ids))
    unknown = [rule_id for rule_id in wanted if rule_id not in known]
    if unknown:
        raise UnknownTarget(
            f"No low-value rule {', '.join(repr(rule_id) for rule_id in unknown)} in the "
            "catalog; GET /cds-services/catalog lists the rule ids.",
            unknown_rules=unknown,
        )
    return wanted


def rule_matches(rule_ids: Sequence[str], known: Iterable[Code]) -> list[Code]:
    """The codes among ``known`` (those the organization's flags carry) that one of these
    rules' order code sets holds, ranges and prefixes included (the catalog's own matching)."""
    catalog = lowvalue.default_catalog()
    code_sets = [catalog.rule(rule_id).order.codes for rule_id in rule_ids]
    return [
        (system, code)
        for system, code in known
        if any(
            code_set.match([Coding(system, code)], utcnow().date()) is not None
            for code_set in code_sets
        )
    ]


def codes_of(improvement: Improvement, known: Iterable[Code]) -> list[Code]:
    """Every order code the improvement's flags are counted on, each once: its own targets,
    and the codes of its rules among ``known``."""
    explicit = [(target["system"], target["code"]) for target in improvement.targets]
    matched = rule_matches(improvement.rules, known) if improvement.rules else []
    return list(dict.fromkeys([*explicit, *matched]))
