"""The catalog refuses bad data with the file, rule and field named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lowvalue import CatalogError, default_catalog, load_catalog
from lowvalue.catalog import DATA


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    shutil.copytree(DATA, tmp_path / "data")
    return tmp_path / "data"


def edit(catalog_dir: Path, rule_id: str, change) -> None:
    path = catalog_dir / "rules" / f"{rule_id}.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_the_shipped_catalog_loads_with_every_reference_measure():
    ids = {rule.id for rule in default_catalog().rules}

    assert len(ids) == 27
    assert {
        "psa-screening-older-men",
        "benzodiazepines-older-adults",
        "preop-chest-xray",
        "branded-drug-with-generic",
    } <= ids


def test_a_window_that_ends_before_it_starts_names_the_rule_and_field(catalog_dir):
    edit(catalog_dir, "vitamin-d-testing", lambda d: d["unless"][1]["window"].update(from_days=5))

    with pytest.raises(CatalogError) as caught:
        load_catalog(catalog_dir)

    assert caught.value.file == "vitamin-d-testing.json"
    assert caught.value.rule == "vitamin-d-testing"
    assert caught.value.field == "unless.1.diagnosis.window"
    assert "from_days is after to_days" in str(caught.value)


def test_a_reversed_code_range_is_refused(catalog_dir):
    edit(
        catalog_dir,
        "sinusitis-ct",
        lambda d: d["order"]["codes"]["codes"][0].update(range="70488-70486"),
    )

    with pytest.raises(CatalogError, match=r"sinusitis-ct.*order\.codes\.codes\.0"):
        load_catalog(catalog_dir)


def test_an_unknown_shared_code_set_is_named(catalog_dir):
    edit(catalog_dir, "headache-eeg", lambda d: d["when"][0].update(codes="no-such-set"))

    with pytest.raises(CatalogError, match="no shared code set named 'no-such-set'") as caught:
        load_catalog(catalog_dir)

    assert caught.value.field == "when.0.codes"


def test_a_misspelt_field_is_refused_not_ignored(catalog_dir):
    edit(catalog_dir, "psa-screening-older-men", lambda d: d["patient"].update(min_agee=80))

    with pytest.raises(CatalogError) as caught:
        load_catalog(catalog_dir)

    assert caught.value.field == "patient.min_agee"


def test_a_default_variant_the_rule_lacks_is_refused(catalog_dir):
    edit(catalog_dir, "psa-screening-older-men", lambda d: d.pop("default_variant"))

    with pytest.raises(CatalogError, match="default_variant is required"):
        load_catalog(catalog_dir)


def test_a_file_that_is_not_json_is_named(catalog_dir):
    (catalog_dir / "rules" / "broken.json").write_text("{not json")

    with pytest.raises(CatalogError, match=r"^broken\.json: not readable JSON"):
        load_catalog(catalog_dir)


def test_unverified_codes_from_the_reference_are_marked_so():
    rule = next(r for r in default_catalog().rules if r.id == "headache-eeg")

    assert [entry.verified for entry in rule.order.codes.codes] == [False, False, False]


def test_an_alternative_on_a_code_range_is_refused(catalog_dir):
    def add_alternative(data):
        data["order"]["codes"]["codes"][0]["alternative"] = {
            "system": "cpt",
            "code": "99999",
            "label": "something else",
        }

    edit(catalog_dir, "sinusitis-ct", add_alternative)

    with pytest.raises(CatalogError, match="an alternative belongs to a single code"):
        load_catalog(catalog_dir)


def test_no_rule_ships_cpt_descriptor_text():
    # Our labels are short and our own; CPT descriptors are long and start with a procedure noun.
    for path in (DATA / "rules").glob("*.json"):
        for line in path.read_text().splitlines():
            if '"label"' in line:
                assert len(line) < 140, (path.name, line)
