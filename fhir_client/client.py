"""The FHIR REST client: read and search (FHIR R4 http.html) over an injected httpx client.

Everything here is a GET with a bearer token, so the rules that matter are about where the
token goes (only under the FHIR base: :mod:`fhir_client.paging`), how long we wait (a timeout
per attempt, retries only for transient failures: :mod:`fhir_client.retry`), how much we read
(a byte cap, checked while streaming), and what we accept (``fhir.resources`` R4B models:
:mod:`fhir_client.resources`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar, overload

import httpx
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource
from pydantic import BaseModel

from fhir_client.errors import (
    FhirConnectionError,
    FhirError,
    FhirForbiddenError,
    FhirHttpError,
    FhirInvalidRequestError,
    FhirInvalidResponseError,
    FhirNotFoundError,
    FhirRateLimitedError,
    FhirResponseTooLargeError,
    FhirTimeoutError,
    FhirUnauthorizedError,
    FhirUnsafeLinkError,
)
from fhir_client.outcomes import error_outcome, issue_texts
from fhir_client.paging import FhirBase, Pages, read_page
from fhir_client.resources import ID_PATTERN, parse_as, parse_resource, resource_class
from fhir_client.retry import RetryPolicy, parse_retry_after, retrying

__all__ = ["FHIR_JSON", "FhirClient", "SearchResult"]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
P = TypeVar("P")
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")
T4 = TypeVar("T4")
T5 = TypeVar("T5")
T6 = TypeVar("T6")
T7 = TypeVar("T7")

# FHIR R4 http.html#mime-type: the one JSON media type for FHIR.
FHIR_JSON = "application/fhir+json"
MAX_REDIRECTS = 3
_REDACTED = "[redacted]"
_ISSUES_IN_MESSAGE = 3

_HTTP_ERRORS: dict[int, type[FhirHttpError]] = {
    401: FhirUnauthorizedError,
    403: FhirForbiddenError,
    404: FhirNotFoundError,
    410: FhirNotFoundError,
    429: FhirRateLimitedError,
}


@dataclass(frozen=True)
class SearchResult:
    """Everything a search returned, across all the pages that were read.

    - ``resources``: the matches (``search.mode`` ``match``, or no mode), of the type searched
      for, in the server's order, each once (a resource seen on two pages, as happens when
      records change while we page, is kept the first time);
    - ``outcomes``: OperationOutcomes the server put beside the matches (``search.mode``
      ``outcome``), typically "parameter X ignored" (FHIR R4 search.html#errors);
    - ``truncated``: ``max_pages`` pages were read and the server still had a ``next`` link;
    - ``invalid``: one line per entry left out because it was not valid FHIR, so that one
      untidy record does not hide all the others;
    - ``included``: resources the server added with ``search.mode = include`` (``_include``);
    - ``total``: ``Bundle.total`` of the first page, when the server sent it.
    """

    resources: list[Resource]
    outcomes: list[OperationOutcome]
    truncated: bool
    invalid: list[str] = field(default_factory=list)
    included: list[Resource] = field(default_factory=list)
    total: int | None = None

    def outcome_issues(self) -> list[str]:
        """The texts of every issue in ``outcomes``, in order."""
        return [text for outcome in self.outcomes for text in issue_texts(outcome)]


def _query(params: Mapping[str, str | Sequence[str]]) -> tuple[tuple[str, str], ...]:
    """Search parameters as query items; a sequence repeats the name (FHIR R4
    search.html#combining: repeating a parameter means AND, commas inside a value mean OR)."""
    items: list[tuple[str, str]] = []
    for name, value in params.items():
        if not name:
            raise FhirInvalidRequestError("a search parameter name is empty")
        values = [value] if isinstance(value, str) else list(value)
        items.extend((name, item) for item in values)
    return tuple(items)


def _check_type(resource_type: str) -> None:
    if resource_class(resource_type) is None:
        raise FhirInvalidRequestError(
            "the resource type is not a FHIR R4 resource type (FHIR R4 resourcelist.html)"
        )


def _check_id(resource_type: str, resource_id: str) -> None:
    # The id becomes a path segment; one with '/' or '..' would change the endpoint.
    if not ID_PATTERN.fullmatch(resource_id) or resource_id in (".", ".."):
        raise FhirInvalidRequestError(
            f"the {resource_type} id is not a valid FHIR id (FHIR R4 datatypes.html#id)"
        )


async def _awaited(call: Awaitable[T]) -> T:
    return await call


def _first_leaf(group: BaseExceptionGroup[Exception]) -> Exception:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


class FhirClient:
    """Reads and searches one FHIR R4 server with one access token.

    The caller owns ``http`` (its connection pool, proxies, TLS settings) and shares it
    between clients; this class only adds the FHIR rules. Create one ``FhirClient`` per
    token (per launch), it is cheap::

        async with httpx.AsyncClient() as http:
            fhir = FhirClient(http, "https://ehr.example/fhir/R4", access_token, timeout=5)
            patient, orders = await fhir.gather(
                fhir.read("Patient", "123"),
                fhir.search("MedicationRequest", {"patient": "123", "_count": "100"}),
            )
            for order in orders.resources:
                ...

    - ``timeout``: seconds for one attempt, body included (retries get their own);
    - ``max_retries``: extra attempts after a 429, 502, 503, 504, timeout or connection error;
    - ``max_response_bytes``: the most of one body we read before giving up;
    - ``max_pages``: the most searchset pages one search follows;
    - ``backoff_base``: seconds of the first backoff (doubled each retry, jittered).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        access_token: str | None,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        max_response_bytes: int = 5_000_000,
        max_pages: int = 20,
        backoff_base: float = 0.2,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if max_retries < 0:
            raise ValueError("max_retries must be zero or more")
        if max_response_bytes < 1:
            raise ValueError("max_response_bytes must be positive")
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        if backoff_base < 0:
            raise ValueError("backoff_base must be zero or more")
        self._http = http
        self._base = FhirBase.parse(base_url)
        self._token = access_token or None
        self._timeout = timeout
        self._max_response_bytes = max_response_bytes
        self._max_pages = max_pages
        self._retry = RetryPolicy(max_retries=max_retries, backoff_base=backoff_base)

    def __repr__(self) -> str:
        # Never the token: reprs end up in logs and tracebacks.
        return f"FhirClient(base_url={str(self._base)!r})"

    @property
    def base_url(self) -> str:
        """The FHIR base this client talks to, without a trailing slash."""
        return str(self._base)

    # --- Interactions ---

    async def read(self, resource_type: str, resource_id: str) -> Resource:
        """``GET [base]/[type]/[id]`` (FHIR R4 http.html#read) as its R4B model class.

        Raises :class:`FhirNotFoundError` for an unknown id, and
        :class:`FhirInvalidResponseError` when the server answers with another type or id.
        """
        return await self._read(resource_type, resource_id, parse_resource)

    async def read_as(self, model: type[M], resource_type: str, resource_id: str) -> M:
        """``GET [base]/[type]/[id]`` validated into the caller's own pydantic ``model``.

        For hot paths that need a few elements: a model that declares only those (and ignores
        the rest) validates in a fraction of the time the full R4B class takes. The checks
        are :meth:`read`'s: the resourceType and id must be the ones asked for.

            class OrderStatus(BaseModel):
                status: str

            status = await fhir.read_as(OrderStatus, "ServiceRequest", "sr-1")
        """
        return await self._read(resource_type, resource_id, partial(parse_as, model))

    async def _read(self, resource_type: str, resource_id: str, parse: Callable[..., P]) -> P:
        with self._scrubbed():
            _check_type(resource_type)
            _check_id(resource_type, resource_id)
            what = f"read of {resource_type}"
            body = await self._get_json(self._base.resource_url(resource_type, resource_id), what)
            try:
                resource = parse(body, expected=resource_type)
            except FhirInvalidResponseError as error:
                raise FhirInvalidResponseError(f"the {what} answered: {error}") from None
            found = body.get("id") if isinstance(body, dict) else None
            if found is not None and found != resource_id:
                raise FhirInvalidResponseError(
                    f"the {what} answered a different {resource_type} than the one asked for"
                )
            return resource

    async def search(
        self, resource_type: str, params: Mapping[str, str | Sequence[str]]
    ) -> SearchResult:
        """``GET [base]/[type]?params`` (FHIR R4 http.html#search), following ``next`` links.

        Pages are read one after another (each ``next`` link is only known from the page
        before it) up to ``max_pages``. Every link is checked against the FHIR base before
        it is requested; one that leaves it raises :class:`FhirUnsafeLinkError`.
        """
        with self._scrubbed():
            _check_type(resource_type)
            what = f"search of {resource_type}"
            url: httpx.URL | None = self._base.resource_url(resource_type).copy_merge_params(
                _query(params)
            )
            pages = Pages()
            visited: set[str] = set()
            while url is not None and pages.count < self._max_pages:
                page_what = f"{what} (page {pages.count + 1})"
                visited.add(str(url))
                body = await self._get_json(url, page_what)
                try:
                    page = read_page(body, resource_type, page_number=pages.count + 1)
                except FhirInvalidResponseError as error:
                    raise FhirInvalidResponseError(f"the {page_what} answered: {error}") from None
                pages.add(page)
                current, url = url, None
                if page.next_link:
                    following = self._base.resolve(
                        page.next_link, relative_to=current, what=f"next link of the {what}"
                    )
                    # A next link back to a page already read would otherwise keep us paging
                    # in a circle until max_pages.
                    if str(following) not in visited:
                        url = following
            return SearchResult(
                resources=pages.matches,
                outcomes=pages.outcomes,
                truncated=url is not None,
                invalid=pages.invalid,
                included=pages.included,
                total=pages.total,
            )

    @overload
    async def gather(self, c1: Awaitable[T1], /) -> tuple[T1]: ...
    @overload
    async def gather(self, c1: Awaitable[T1], c2: Awaitable[T2], /) -> tuple[T1, T2]: ...
    @overload
    async def gather(
        self, c1: Awaitable[T1], c2: Awaitable[T2], c3: Awaitable[T3], /
    ) -> tuple[T1, T2, T3]: ...
    @overload
    async def gather(
        self, c1: Awaitable[T1], c2: Awaitable[T2], c3: Awaitable[T3], c4: Awaitable[T4], /
    ) -> tuple[T1, T2, T3, T4]: ...
    @overload
    async def gather(
        self,
        c1: Awaitable[T1],
        c2: Awaitable[T2],
        c3: Awaitable[T3],
        c4: Awaitable[T4],
        c5: Awaitable[T5],
        /,
    ) -> tuple[T1, T2, T3, T4, T5]: ...
    @overload
    async def gather(
        self,
        c1: Awaitable[T1],
        c2: Awaitable[T2],
        c3: Awaitable[T3],
        c4: Awaitable[T4],
        c5: Awaitable[T5],
        c6: Awaitable[T6],
        /,
    ) -> tuple[T1, T2, T3, T4, T5, T6]: ...
    @overload
    async def gather(
        self,
        c1: Awaitable[T1],
        c2: Awaitable[T2],
        c3: Awaitable[T3],
        c4: Awaitable[T4],
        c5: Awaitable[T5],
        c6: Awaitable[T6],
        c7: Awaitable[T7],
        /,
    ) -> tuple[T1, T2, T3, T4, T5, T6, T7]: ...
    @overload
    async def gather(self, *calls: Awaitable[T]) -> tuple[T, ...]: ...
    async def gather(self, *calls: Awaitable[Any]) -> tuple[Any, ...]:
        """Runs independent requests at once; the results come back in argument order.

        Built on :class:`asyncio.TaskGroup` rather than :func:`asyncio.gather`: when one call
        fails, the others are cancelled instead of running on unobserved, and none outlives
        this call. The first failure is raised as itself, not wrapped in an ExceptionGroup,
        so callers catch :class:`FhirError` as with a single request.
        """
        tasks: list[asyncio.Task[Any]] = []
        failure: Exception | None = None
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(_awaited(call)) for call in calls]
        except ExceptionGroup as errors:
            failure = _first_leaf(errors)
        if failure is not None:
            # Raised outside the except block, so its context is its own cause, not the group.
            raise failure
        return tuple(task.result() for task in tasks)

    # --- One GET, with retries ---

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": FHIR_JSON}
        if self._token:
            # RFC 6750 section 2.1: the Authorization request header field.
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    @contextmanager
    def _scrubbed(self) -> Iterator[None]:
        """Removes the access token from any error leaving a public method.

        Our own messages never include it; this catches what we relay: diagnostics an EHR
        wrote, validation text, an URL a server named.
        """
        try:
            yield
        except FhirError as error:
            token = self._token
            if token:
                error.args = tuple(
                    arg.replace(token, _REDACTED) if isinstance(arg, str) else arg
                    for arg in error.args
                )
                if isinstance(error, FhirHttpError):
                    error.issues = tuple(text.replace(token, _REDACTED) for text in error.issues)
                    if error.outcome is not None and token in error.outcome.model_dump_json():
                        error.outcome = None
            raise

    async def _get_json(self, url: httpx.URL, what: str) -> object:
        """The parsed JSON body of a successful GET, retried per :mod:`fhir_client.retry`."""

        async def attempt() -> object:
            return await self._attempt(url, what)

        return await retrying(attempt, self._retry)

    async def _attempt(self, url: httpx.URL, what: str) -> object:
        """One try, redirects and body included, within ``timeout`` seconds in all.

        httpx's own timeouts bound each phase (connect, each read); the overall deadline also
        catches a server that dribbles a body a byte at a time.
        """
        try:
            async with asyncio.timeout(self._timeout):
                return await self._exchange(url, what)
        except TimeoutError:
            raise FhirTimeoutError(f"the {what} took longer than {self._timeout:g} s") from None

    async def _exchange(self, url: httpx.URL, what: str) -> object:
        timeout = httpx.Timeout(self._timeout)
        for _ in range(MAX_REDIRECTS + 1):
            # Every URL is checked, not only links: the last line of defence for the token.
            if not self._base.contains(url):
                raise FhirUnsafeLinkError(
                    f"the {what} would go outside the FHIR base {self._base}; it was not sent"
                )
            request = self._http.build_request("GET", url, headers=self._headers(), timeout=timeout)
            try:
                # follow_redirects=False whatever the shared client says: a redirect is a URL
                # the server names, and is checked like a paging link before we follow it.
                response = await self._http.send(request, stream=True, follow_redirects=False)
                try:
                    if response.is_redirect:
                        url = self._base.resolve(
                            response.headers["location"],
                            relative_to=request.url,
                            what=f"redirect of the {what}",
                        )
                        continue
                    content = await self._read_body(response, what)
                finally:
                    await response.aclose()
            except httpx.TimeoutException as exc:
                raise FhirTimeoutError(
                    f"the {what} timed out ({type(exc).__name__}) after {self._timeout:g} s"
                ) from exc
            except httpx.TransportError as exc:
                raise FhirConnectionError(
                    f"the {what} could not reach {self._base.origin} ({type(exc).__name__})"
                ) from exc
            except httpx.DecodingError:
                raise FhirInvalidResponseError(
                    f"the {what} answered a body that could not be decoded (Content-Encoding)"
                ) from None
            if response.is_success:
                return self._json(content, what)
            raise self._http_error(response, content, what)
        raise FhirInvalidResponseError(f"the {what} was redirected more than {MAX_REDIRECTS} times")

    async def _read_body(self, response: httpx.Response, what: str) -> bytes:
        """The body, read in chunks and abandoned past ``max_response_bytes``.

        Counted after decompression (``aiter_bytes``), so a small gzip bomb is caught too. An
        error body past the cap is dropped instead: the status alone still says what failed.
        """
        limit = self._max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return self._oversized(response, what)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                return self._oversized(response, what)
        return bytes(body)

    def _oversized(self, response: httpx.Response, what: str) -> bytes:
        if response.is_error:
            return b""
        raise FhirResponseTooLargeError(
            f"the {what} answered more than {self._max_response_bytes} bytes; the rest was not read"
        )

    def _json(self, content: bytes, what: str) -> object:
        try:
            return json.loads(content)
        except json.JSONDecodeError as exc:
            raise FhirInvalidResponseError(
                f"the {what} answered malformed JSON ({exc.msg} at line {exc.lineno} "
                f"column {exc.colno})"
            ) from None
        except (ValueError, RecursionError):  # not UTF-8, or nested beyond reason
            raise FhirInvalidResponseError(f"the {what} answered a body that is not JSON") from None

    def _http_error(self, response: httpx.Response, content: bytes, what: str) -> FhirHttpError:
        status = response.status_code
        issues, outcome = error_outcome(content)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        message = f"the {what} failed: HTTP {status} {httpx.codes.get_reason_phrase(status)}"
        if retry_after is not None:
            message += f" (Retry-After: {retry_after:g} s)"
        if issues:
            message += ": " + "; ".join(issues[:_ISSUES_IN_MESSAGE])
        error_class = _HTTP_ERRORS.get(status, FhirHttpError)
        return error_class(
            message.rstrip(),
            status=status,
            issues=issues,
            outcome=outcome,
            retry_after=retry_after,
        )
