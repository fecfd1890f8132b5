"""``valueloop rules list`` and ``valueloop rules explain``: the low-value rule catalog.

For people who write or review rules: every rule with its version, variants and published
sources; and the decision and trace of every rule that is about one of a CDS Hooks request's
draft orders, as text or as JSON. Bad input exits with status 2 and one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, get_args

import typer

from app.commands import bad_input, read_json_file
from lowvalue import (
    LowValueError,
    VariantName,
    case_from_cds_request,
    default_catalog,
    evaluate,
    render_text,
)

rules_cli = typer.Typer(
    help="The low-value rule catalog: list its rules, explain its decisions on a case.",
    no_args_is_help=True,
)


@rules_cli.command("list")
def list_rules(
    as_json: Annotated[bool, typer.Option("--json", help="Print the rules as JSON.")] = False,
) -> None:
    """Every rule in the catalog, with its version, variants and published sources."""
    rules = default_catalog().rules
    if as_json:
        listed = [
            {
                "id": rule.id,
                "version": rule.version,
                "title": rule.title,
                "order_types": list(rule.order.resource_types),
                "variants": sorted(rule.variants),
                "default_variant": rule.default_variant,
                "sources": [{"title": s.title, "url": str(s.url)} for s in rule.sources],
            }
            for rule in rules
        ]
        typer.echo(json.dumps({"rules": listed}, indent=2))
        return
    for rule in rules:
        variants = ""
        if rule.variants:
            names = ", ".join(sorted(rule.variants))
            variants = f"; variants {names} (default {rule.default_variant})"
        typer.echo(f"{rule.id} v{rule.version}: {rule.title}{variants}")
        for source in rule.sources:
            typer.echo(f"  source: {source.title} <{source.url}>")
    typer.echo(f"{len(rules)} rules.")


def _variants(choices: list[str]) -> dict[str, VariantName]:
    allowed = get_args(VariantName)
    parsed: dict[str, VariantName] = {}
    for choice in choices:
        rule_id, _, variant = choice.partition("=")
        if not rule_id or variant not in allowed:
            raise bad_input(f"--variant {choice!r}: write RULE_ID=sensitive or RULE_ID=specific")
        parsed[rule_id] = variant  # type: ignore[assignment]  # checked against allowed above
    return parsed


@rules_cli.command("explain")
def explain(
    case_file: Annotated[
        Path, typer.Argument(help="A CDS Hooks request: context.draftOrders and prefetch.")
    ],
    variant: Annotated[
        list[str] | None,
        typer.Option(help="RULE_ID=sensitive|specific, the organization's choice; repeatable."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every decision as JSON.")] = False,
) -> None:
    """Show each rule's decision on the request's draft orders, with its trace."""
    body = read_json_file(case_file)
    chosen = _variants(variant or [])
    try:
        decisions = evaluate(case_from_cds_request(body), variants=chosen)
    except LowValueError as exc:
        raise bad_input(f"{case_file}: {exc}") from None
    if as_json:
        typer.echo(json.dumps({"decisions": [d.to_json() for d in decisions]}, indent=2))
        return
    about = [decision for decision in decisions if decision.applicable]
    for decision in about:
        typer.echo(render_text(decision) + "\n")
    others = len(decisions) - len(about)
    typer.echo(f"{len(about)} decisions on matching orders; {others} rule checks did not match.")
