"""The simulated EHR's FHIR data: resources as FHIR R4 JSON, held in memory, indexed by id."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

Resource = dict[str, Any]


class ResourceStore:
    """Resources by type and id, in insertion order (which is also search order)."""

    def __init__(self, resources: Iterable[Resource] = ()) -> None:
        self._by_type: dict[str, dict[str, Resource]] = {}
        for resource in resources:
            self.add(resource)

    def add(self, resource: Resource) -> None:
        self._by_type.setdefault(resource["resourceType"], {})[resource["id"]] = resource

    def get(self, resource_type: str, resource_id: str) -> Resource | None:
        return self._by_type.get(resource_type, {}).get(resource_id)

    def all(self, resource_type: str) -> Iterator[Resource]:
        return iter(self._by_type.get(resource_type, {}).values())

    def types(self) -> list[str]:
        return sorted(self._by_type)

    def count(self, resource_type: str) -> int:
        return len(self._by_type.get(resource_type, {}))
