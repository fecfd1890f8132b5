"""``valueloop rules list`` and ``valueloop rules explain``, run as a rule reviewer would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from app.cli import cli
from lowvalue import default_catalog
from tests.lowvalue.factories import encounter, patient, service_request


def cds_request(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "hook": "order-sign",
        "context": {
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": order}]},
        },
        "prefetch": {"patient": patient(age=72), "encounter": encounter()},
    }


def explain(tmp_path: Path, body: object, *args: str) -> Result:
    case = tmp_path / "case.json"
    case.write_text(body if isinstance(body, str) else json.dumps(body))
    return CliRunner().invoke(cli, ["rules", "explain", str(case), *args])


def test_explain_prints_the_decision_and_its_trace(tmp_path):
    result = explain(
        tmp_path,
        cds_request(service_request("cpt", "84153")),
        "--variant",
        "psa-screening-older-men=sensitive",
    )

    assert result.exit_code == 0, result.output
    assert (
        "psa-screening-older-men v2026.1, sensitive variant on ServiceRequest/sr1" in result.output
    )
    assert "LOW-VALUE" in result.output
    assert "age: matched; 72 on 2026-05-01" in result.output


def test_explain_json_lists_every_rule(tmp_path):
    result = explain(tmp_path, cds_request(service_request("cpt", "84153")), "--json")

    decisions = json.loads(result.output)["decisions"]
    assert len(decisions) == 27
    (psa,) = [d for d in decisions if d["rule"] == "psa-screening-older-men"]
    assert (psa["outcome"], psa["variant"]) == ("not-low-value", "specific")


@pytest.mark.parametrize(
    ("body", "args", "message"),
    [
        ("{not json", (), "is not JSON"),
        ({"hook": "order-sign"}, (), "needs a 'context' object"),
        (
            cds_request({"resourceType": "ServiceRequest", "status": "draft"}),
            (),
            "is not valid FHIR R4",
        ),
        (cds_request(service_request()), ("--variant", "psa"), "RULE_ID=sensitive"),
        (cds_request(service_request()), ("--variant", "nope=sensitive"), "no rule 'nope'"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, body, args, message):
    result = explain(tmp_path, body, *args)

    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_list_prints_every_rule_with_its_version_and_sources():
    result = CliRunner().invoke(cli, ["rules", "list"])

    assert result.exit_code == 0, result.output
    catalog = default_catalog()
    for rule in catalog.rules:
        assert f"{rule.id} v{rule.version}: {rule.title}" in result.output
        assert str(rule.sources[0].url) in result.output
    assert "variants sensitive, specific (default" in result.output
    assert result.output.rstrip().endswith(f"{len(catalog.rules)} rules.")


def test_list_as_json_names_each_rules_variants_and_sources():
    result = CliRunner().invoke(cli, ["rules", "list", "--json"])

    assert result.exit_code == 0, result.output
    listed = {rule["id"]: rule for rule in json.loads(result.output)["rules"]}
    assert set(listed) == {rule.id for rule in default_catalog().rules}
    psa = listed["psa-screening-older-men"]
    assert psa["default_variant"] in psa["variants"]
    assert all(source["url"].startswith("https://") for source in psa["sources"])
