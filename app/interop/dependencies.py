"""The bulk export's ``type`` filter, as FHIR Bulk Data's ``_type``: resource types, repeated
or comma-separated; none given means all."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from app.interop.bundle import ALL_TYPES, FlagResourceType
from app.interop.errors import UnknownResourceType

_TYPES_HELP = ", ".join(kind.value for kind in FlagResourceType)


async def resource_types(
    types: Annotated[
        list[str] | None,
        Query(
            alias="type",
            max_length=200,
            description=f"format=fhir-ndjson only: the resource types to export ({_TYPES_HELP}),"
            " comma-separated or repeated; all when left out.",
        ),
    ] = None,
) -> frozenset[FlagResourceType] | None:
    """The types asked for, or None when the parameter was not given."""
    if types is None:
        return None
    names = [name.strip() for value in types for name in value.split(",") if name.strip()]
    unknown = sorted({name for name in names if name not in ALL_TYPES})
    if unknown or not names:
        raise UnknownResourceType(
            f"type {', '.join(unknown) or '(empty)'} is not one this export makes; choose from "
            f"{_TYPES_HELP}.",
        )
    return frozenset(FlagResourceType(name) for name in names)


ResourceTypesDep = Annotated[frozenset[FlagResourceType] | None, Depends(resource_types)]
