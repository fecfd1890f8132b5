"""Searchset pages: where a server-named URL may lead, and what one page holds.

Two jobs that meet at the ``next`` link:

1. :class:`FhirBase` decides whether a URL the server names (a paging link, a redirect's
   ``Location``) stays on the FHIR base: same scheme, host and port, and a path under the
   base's path. Only then may the bearer token go there (DESIGN.md, "Living in an EHR frame
   and on real EHR data"; RFC 6750 section 5.3: "clients MUST NOT send bearer tokens to
   untrusted parties").
2. :func:`read_page` sorts one searchset Bundle's entries (FHIR R4 bundle.html#searchset,
   search.html#errors) into matches, included resources, OperationOutcomes and entries that
   are not valid FHIR, and finds the ``next`` link (FHIR R4 http.html#paging).

Real EHRs are untidy, so one bad entry does not sink a page: it is reported in
``Page.invalid`` and the rest are kept. A page whose envelope is not a Bundle is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from fhir_client.errors import FhirInvalidResponseError, FhirUnsafeLinkError, remote_text
from fhir_client.resources import (
    as_dict,
    describe,
    expect_type,
    parse_resource,
    validation_summary,
)

__all__ = ["FhirBase", "Page", "Pages", "read_page"]


@dataclass(frozen=True)
class FhirBase:
    """The FHIR service base URL (FHIR R4 http.html#root): ``[base]/[type]/[id]``.

    Held as scheme, host, port and a path without its trailing slash, so that
    ``https://ehr.example/fhir/R4/`` and ``https://EHR.example:443/fhir/R4`` are one base.
    """

    url: httpx.URL

    @classmethod
    def parse(cls, base_url: str) -> FhirBase:
        """The base for ``base_url``; it must be an absolute http(s) URL without a query.

        A ValueError here is a configuration mistake, not something an EHR sent.
        """
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("the FHIR base URL must be an absolute http:// or https:// URL")
        if url.query or url.fragment:
            raise ValueError("the FHIR base URL must not have a query or a fragment")
        return cls(url.copy_with(path=url.path.rstrip("/") or "/"))

    def __str__(self) -> str:
        return str(self.url).rstrip("/")

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``, for messages: never a path or query."""
        return str(self.url.copy_with(path="/", query=None, fragment=None)).rstrip("/")

    def _path_prefix(self) -> str:
        return self.url.path.rstrip("/")

    def resource_url(self, *segments: str) -> httpx.URL:
        """``[base]/segment/...``; callers pass segments already checked to be path-safe."""
        return self.url.copy_with(path="/".join((self._path_prefix(), *segments)))

    def contains(self, url: httpx.URL) -> bool:
        """Whether ``url`` is on this base: its origin, and its path at or under the base's.

        Compared on the decoded path, and refusing ``.``/``..`` segments, because a server
        (or a proxy) that decodes ``%2e%2e`` would otherwise resolve ``/fhir/%2e%2e/admin``
        outside the prefix after we had approved it.
        """
        if (url.scheme, url.host, url.port, url.userinfo) != (
            self.url.scheme,
            self.url.host,
            self.url.port,
            self.url.userinfo,
        ):
            return False
        path = url.path
        if any(segment in (".", "..") for segment in path.split("/")):
            return False
        prefix = self._path_prefix()
        return path == prefix or path.startswith(f"{prefix}/")

    def resolve(self, link: str, *, relative_to: httpx.URL, what: str) -> httpx.URL:
        """``link`` (absolute, or relative to the page that named it) if it is on this base.

        Raises :class:`FhirUnsafeLinkError` otherwise, before anything is sent to it. The
        message names the link's origin only: its query may carry anything.
        """
        try:
            url = relative_to.join(link)
        except httpx.InvalidURL:
            message = f"the {what} is not a valid URL; it was not followed"
            raise FhirUnsafeLinkError(message) from None
        if self.contains(url):
            return url
        where = (
            url.copy_with(userinfo=b"", path="/", query=None, fragment=None) if url.host else None
        )
        shown = remote_text(str(where).rstrip("/")) if where else "a URL without a host"
        raise FhirUnsafeLinkError(
            f"the {what} points to {shown}, outside the FHIR base {self}; it was not followed, "
            "so the access token was not sent there"
        )


@dataclass
class Page:
    """One searchset Bundle, sorted (see :func:`read_page`)."""

    matches: list[Resource] = field(default_factory=list)
    included: list[Resource] = field(default_factory=list)
    outcomes: list[OperationOutcome] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    next_link: str | None = None
    total: int | None = None


def _envelope(body: dict[str, Any]) -> Bundle:
    """The Bundle without its entries' resources, validated: links, total, type.

    Entries are left out here and checked one by one, so that one invalid resource costs
    that entry, not the page.
    """
    if body.get("resourceType") != "Bundle":
        raise FhirInvalidResponseError(f"a search answered {describe(body)}, not a Bundle")
    if "entry" in body and not isinstance(body["entry"], list):
        raise FhirInvalidResponseError("the search Bundle's entry is not a list")
    try:
        return Bundle.model_validate({**body, "entry": None})
    except ValidationError as exc:
        raise FhirInvalidResponseError(
            f"the search Bundle is not valid FHIR: {validation_summary(exc)}"
        ) from None


def read_page(body: object, resource_type: str, *, page_number: int) -> Page:
    """Sorts a searchset page's entries by ``search.mode`` (FHIR R4 bundle.html#searchset).

    - ``match``, or no mode, and the type searched for: a match;
    - ``include``, or no mode and another type: an included resource (``_include``);
    - ``outcome``, or an OperationOutcome without a mode: the server's notes about the search,
      such as parameters it ignored (search.html#errors);
    - anything else, or a resource ``fhir.resources`` rejects: a line in ``invalid``.
    """
    data = as_dict(body)
    if data is None:
        raise FhirInvalidResponseError("a search answered something other than a JSON object")
    bundle = _envelope(data)
    page = Page(total=bundle.total)
    for link in bundle.link or []:
        if link.relation == "next" and link.url:
            page.next_link = link.url
            break
    for index, raw in enumerate(data.get("entry") or [], start=1):
        where = f"page {page_number}, entry {index}"
        entry = as_dict(raw)
        if entry is None:
            page.invalid.append(f"{where}: not a JSON object")
            continue
        search = as_dict(entry.get("search")) or {}
        mode = search.get("mode")
        resource = as_dict(entry.get("resource"))
        if resource is None:
            page.invalid.append(f"{where}: no resource")
            continue
        kind = resource.get("resourceType")
        try:
            if kind == "OperationOutcome" and resource_type != "OperationOutcome":
                if mode not in (None, "outcome"):
                    raise FhirInvalidResponseError(f"an OperationOutcome with mode {mode!r}")
                outcome = parse_resource(resource, expected="OperationOutcome")
                page.outcomes.append(expect_type(outcome, OperationOutcome))
            elif mode == "include" or (mode is None and kind != resource_type):
                page.included.append(parse_resource(resource))
            elif mode in (None, "match"):
                page.matches.append(parse_resource(resource, expected=resource_type))
            else:
                shown = remote_text(mode) if isinstance(mode, str) else type(mode).__name__
                raise FhirInvalidResponseError(f"unknown search mode {shown!r}")
        except FhirInvalidResponseError as error:
            page.invalid.append(f"{where}: {error}")
    return page


@dataclass
class Pages:
    """What all the pages of one search hold together.

    A resource on two pages (records changed while we paged, and offset paging shifted) is
    kept the first time: the result is a set of records, not of page slots.
    """

    matches: list[Resource] = field(default_factory=list)
    included: list[Resource] = field(default_factory=list)
    outcomes: list[OperationOutcome] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    total: int | None = None
    count: int = 0  # pages added so far
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def add(self, page: Page) -> None:
        if self.count == 0:
            self.total = page.total
        self.count += 1
        self.matches.extend(self._unseen(page.matches))
        self.included.extend(self._unseen(page.included))
        self.outcomes.extend(page.outcomes)
        self.invalid.extend(page.invalid)

    def _unseen(self, resources: list[Resource]) -> list[Resource]:
        fresh = []
        for resource in resources:
            if resource.id is not None:
                key = (resource.get_resource_type(), resource.id)
                if key in self._seen:
                    continue
                self._seen.add(key)
            fresh.append(resource)
        return fresh
