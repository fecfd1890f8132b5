"""``valueloop rules explain``: run the low-value rules on a CDS Hooks request and show why.

For people who write or review rules: the decision and trace of every rule that is about one
of the request's draft orders, as text or as JSON. Bad input exits with status 2 and one line.
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
    evaluate,
    render_text,
)

rules_cli = typer.Typer(
    help="The low-value rule catalog: explain its decisions on a case.", no_args_is_help=True
)


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
