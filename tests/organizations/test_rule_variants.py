"""Each organization chooses the variants of published measures its CDS calls and in-EHR
markers run (app.rules.variants): checked against the catalog, set and cleared from the
command line. tests/cds/test_organization_variants.py proves a choice changes the answer."""

from __future__ import annotations

import pytest

from app.organizations import service as organizations
from app.organizations.errors import InvalidVariantChoice
from tests.test_cli import migrated, run

PSA = "psa-screening-older-men"


@pytest.mark.parametrize(
    ("choices", "message"),
    [({"no-such-rule": "sensitive"}, "no-such-rule"), ({PSA: "lenient"}, "no lenient variant")],
)
async def test_a_variant_choice_must_name_a_rule_and_one_of_its_variants(
    session_factory, choices, message
):
    async with session_factory() as session:
        with pytest.raises(InvalidVariantChoice, match=message):
            await organizations.choose_variants(session, "main", choices)


def test_orgs_variants_sets_lists_and_clears_an_organizations_choices(env):
    migrated(env)

    chosen = run(env, "orgs", "variants", "main", f"{PSA}=sensitive")
    listed = run(env, "orgs", "list")
    cleared = run(env, "orgs", "variants", "main", "--clear")
    refused = run(env, "orgs", "variants", "main", f"{PSA}=lenient")

    assert chosen.exit_code == 0, chosen.output
    assert f"[{PSA}=sensitive]" in listed.output
    assert cleared.exit_code == 0
    assert "installation" in cleared.output
    assert refused.exit_code == 1
    assert "no lenient variant" in refused.output
