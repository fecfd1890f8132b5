"""The quality team's REST API over the registry (``/api/v1``).

Handlers parse, call one service function, record the audit event and return. Permissions are
dependencies; the transaction belongs to the session dependency.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from app.audit.service import AuditAction, StaffAuditor
from app.auth.dependencies import (
    CanAssignFlags,
    CanExportFlags,
    CanReadFlags,
    CanWorkFlags,
    Principal,
)
from app.db import SessionDep
from app.errors import PreconditionFailed, PreconditionRequired, UnprocessableContent
from app.kit.time import CalendarDay, utcnow
from app.registry import service, statistics, stats_formats, views, vocabulary
from app.registry.catalog import Driver, Priority, Reason, ReporterRole
from app.registry.export import ExportFormat, stream_export
from app.registry.models import Flag
from app.registry.repository import Dimension, FlagFilters, FlagSort
from app.registry.schemas import (
    Breakdown,
    BulkOwnerIn,
    BulkResult,
    BulkTransitionIn,
    Catalog,
    FilterOptions,
    FlagDetail,
    FlagList,
    FlagPage,
    FlagPatch,
    LoopStats,
    MessageIn,
    Outcomes,
    OwnerIn,
    ReplyTimes,
    TransitionIn,
    WeeklyTrend,
)
from app.registry.statistics import BreakdownSort
from app.registry.stats_formats import CSV_MEDIA_TYPE, SVG_MEDIA_TYPE, StatsFormat
from app.registry.workflow import Status

router = APIRouter(prefix="/api/v1", tags=["registry"])

MAX_PAGE_SIZE = 200
_ETAG = re.compile(r'^"v(\d{1,10})"$')


async def flag_filters(
    status: Annotated[
        list[Status] | None, Query(description="Repeat to match any of several.")
    ] = None,
    reason: Annotated[list[Reason] | None, Query()] = None,
    driver: Annotated[list[Driver] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    department: Annotated[list[str] | None, Query(max_length=200)] = None,
    reporter_role: Annotated[list[ReporterRole] | None, Query()] = None,
    order_code: Annotated[
        str | None,
        Query(max_length=600, description="A FHIR token: 'code' or 'system|code'."),
    ] = None,
    reporter: Annotated[
        str | None,
        Query(
            max_length=500, description="Reporter's fhirUser; matches identified reporters only."
        ),
    ] = None,
    owner: Annotated[
        str | None,
        Query(max_length=200, description="A lead's name; matches a lead or either dyad member."),
    ] = None,
    assigned: Annotated[bool | None, Query(description="Whether the flag has an owner.")] = None,
    answered: Annotated[
        bool | None, Query(description="Whether the reporter has had a reply.")
    ] = None,
    created_from: Annotated[
        CalendarDay | None, Query(description="First day, inclusive (UTC), as YYYY-MM-DD.")
    ] = None,
    created_to: Annotated[
        CalendarDay | None, Query(description="Last day, inclusive (UTC), as YYYY-MM-DD.")
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=2, max_length=200, description="Text in the note or the order's name."),
    ] = None,
) -> FlagFilters:
    if created_from and created_to and created_from > created_to:
        raise UnprocessableContent(
            f"created_from ({created_from}) is after created_to ({created_to}); swap them."
        )
    system, code = None, order_code
    if order_code is not None and "|" in order_code:
        system, code = order_code.split("|", 1)
        system = system or None
        if not code:
            raise UnprocessableContent("order_code 'system|' needs a code after the '|'.")
    return FlagFilters(
        status=status or (),
        reason=reason or (),
        driver=driver or (),
        priority=priority or (),
        department=department or (),
        reporter_role=reporter_role or (),
        order_system=system,
        order_code=code,
        reporter=reporter,
        owner=owner,
        assigned=assigned,
        answered=answered,
        created_from=created_from,
        created_to=created_to,
        text=q,
    )


FiltersDep = Annotated[FlagFilters, Depends(flag_filters)]


def _if_match_versions(if_match: str | None, *, required: bool) -> frozenset[int] | None:
    """The versions a write may apply to, from If-Match (RFC 9110 section 13.1.1).

    The condition holds when any listed entity tag matches (strong comparison, so weak tags
    never match); ``*`` or, where allowed, no header at all means no condition (None).
    """
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "Send the flag's ETag from your last GET as 'If-Match', so a change someone "
                "made in the meantime is not silently overwritten."
            )
        return None
    if if_match.strip() == "*":
        return None
    versions = frozenset(
        int(match.group(1))
        for candidate in if_match.split(",")
        if (match := _ETAG.match(candidate.strip()))
    )
    if not versions:
        raise PreconditionFailed(
            'If-Match does not hold an ETag this API issued (like "v3"). Use the ETag header '
            "of the flag's last GET."
        )
    return versions


def _actor(principal: Principal) -> service.Actor:
    return service.Actor(name=principal.name, role=principal.role.value)


async def _detail_response(session: SessionDep, flag: Flag, response: Response) -> FlagDetail:
    response.headers["ETag"] = views.etag(flag)
    return views.detail(flag, await service.timeline(session, flag))


@router.get("/flags")
async def list_flags(
    session: SessionDep,
    auditor: StaffAuditor,
    _: CanReadFlags,
    filters: FiltersDep,
    sort: FlagSort = FlagSort.NEWEST,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> FlagPage:
    """List flags with filters, in a stable order, one page at a time."""
    page = await service.page(session, filters, sort=sort, limit=limit, cursor=cursor)
    auditor.record(
        AuditAction.SEARCH,
        "flag",
        details={"filters": filters.describe(), "flag_ids": [str(flag.id) for flag in page.flags]},
    )
    return FlagPage(
        items=[views.summary(flag) for flag in page.flags], next_cursor=page.next_cursor
    )


@router.post("/flags/bulk/transitions")
async def bulk_transition(
    change: BulkTransitionIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
) -> BulkResult:
    """Move many flags at once; each item names the version it was based on. All or none:
    any conflict (412, with ``conflicts``) or refusal (422, with ``failures``) changes nothing."""
    flags = await service.bulk_transition(session, change, actor=_actor(principal))
    for flag in flags:
        auditor.record(
            AuditAction.UPDATE,
            "flag",
            entity_id=str(flag.id),
            issuer=flag.issuer,
            details={"transition": change.to.value, "bulk": True},
        )
    return BulkResult(items=[views.summary(flag) for flag in flags])


@router.post("/flags/bulk/owner")
async def bulk_assign(
    change: BulkOwnerIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanAssignFlags,
) -> BulkResult:
    """Assign many flags to the same lead or dyad; all or none, as for bulk transitions."""
    flags = await service.bulk_assign(session, change, actor=_actor(principal))
    for flag in flags:
        auditor.record(
            AuditAction.UPDATE,
            "flag",
            entity_id=str(flag.id),
            issuer=flag.issuer,
            details={"assignment": True, "bulk": True},
        )
    return BulkResult(items=[views.summary(flag) for flag in flags])


@router.get("/flags/{flag_id}")
async def get_flag(
    flag_id: uuid.UUID,
    session: SessionDep,
    auditor: StaffAuditor,
    _: CanReadFlags,
    response: Response,
) -> FlagDetail:
    """One flag with its timeline; the ETag header is what writes send back as If-Match."""
    flag = await service.get_flag(session, flag_id)
    auditor.record(AuditAction.READ, "flag", entity_id=str(flag.id), issuer=flag.issuer)
    return await _detail_response(session, flag, response)


@router.get("/flags/{flag_id:uuid}/duplicate-candidates")
async def duplicate_candidates(
    flag_id: uuid.UUID, session: SessionDep, auditor: StaffAuditor, _: CanReadFlags
) -> FlagList:
    """Flags that may be the original of this one: the same order, or the same kind of order
    for the same patient (oldest first)."""
    flags = await service.duplicate_candidates(session, flag_id)
    auditor.record(
        AuditAction.SEARCH,
        "flag",
        entity_id=str(flag_id),
        details={"duplicate_candidates": [str(flag.id) for flag in flags]},
    )
    return FlagList(items=[views.summary(flag) for flag in flags])


@router.post("/flags/{flag_id:uuid}/transitions")
async def transition_flag(
    flag_id: uuid.UUID,
    change: TransitionIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> FlagDetail:
    """Move a flag along the workflow (with the reply, owner or original it needs)."""
    flag = await service.transition(
        session,
        flag_id,
        change,
        actor=_actor(principal),
        if_match=_if_match_versions(if_match, required=True),
    )
    auditor.record(
        AuditAction.UPDATE,
        "flag",
        entity_id=str(flag.id),
        issuer=flag.issuer,
        details={"transition": change.to.value},
    )
    return await _detail_response(session, flag, response)


@router.post("/flags/{flag_id:uuid}/comments", status_code=201)
async def comment_on_flag(
    flag_id: uuid.UUID,
    message: MessageIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> FlagDetail:
    """Add an internal comment (not shown to the reporter)."""
    flag = await service.comment(
        session,
        flag_id,
        message.body,
        actor=_actor(principal),
        if_match=_if_match_versions(if_match, required=False),
    )
    auditor.record(AuditAction.UPDATE, "flag", entity_id=str(flag.id), issuer=flag.issuer)
    return await _detail_response(session, flag, response)


@router.post("/flags/{flag_id:uuid}/replies", status_code=201)
async def reply_to_reporter(
    flag_id: uuid.UUID,
    message: MessageIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> FlagDetail:
    """Send a reply the reporter sees the next time they open ValueLoop."""
    flag = await service.reply(
        session,
        flag_id,
        message.body,
        actor=_actor(principal),
        if_match=_if_match_versions(if_match, required=False),
    )
    auditor.record(AuditAction.UPDATE, "flag", entity_id=str(flag.id), issuer=flag.issuer)
    return await _detail_response(session, flag, response)


@router.put("/flags/{flag_id:uuid}/owner")
async def assign_flag(
    flag_id: uuid.UUID,
    owner: OwnerIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanAssignFlags,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> FlagDetail:
    """Assign the flag to a lead or a clinical + operational dyad."""
    flag = await service.assign(
        session,
        flag_id,
        owner,
        actor=_actor(principal),
        if_match=_if_match_versions(if_match, required=True),
    )
    auditor.record(AuditAction.UPDATE, "flag", entity_id=str(flag.id), issuer=flag.issuer)
    return await _detail_response(session, flag, response)


@router.patch("/flags/{flag_id}")
async def update_flag(
    flag_id: uuid.UUID,
    patch: FlagPatch,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> FlagDetail:
    """Change the flag's priority or tags."""
    flag = await service.update(
        session,
        flag_id,
        patch,
        actor=_actor(principal),
        if_match=_if_match_versions(if_match, required=True),
    )
    auditor.record(AuditAction.UPDATE, "flag", entity_id=str(flag.id), issuer=flag.issuer)
    return await _detail_response(session, flag, response)


@router.get("/catalog")
async def catalog(_: CanReadFlags) -> Catalog:
    """Reasons, drivers, statuses (with the workflow's rules), reporter roles and priorities,
    with the labels people read."""
    return vocabulary.catalog()


@router.get("/filter-options")
async def filter_options(session: SessionDep, _: CanReadFlags) -> FilterOptions:
    """Departments and services (order codes) that flags carry, for filter choices."""
    return await vocabulary.filter_options(session)


_STATS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            CSV_MEDIA_TYPE: {},
            SVG_MEDIA_TYPE: {},
        },
        "description": "JSON by default; `format=csv` for a table, `format=svg` for a chart.",
    }
}
FormatQuery = Annotated[
    StatsFormat, Query(alias="format", description="json, csv (a table) or svg (a chart).")
]


def _represented(
    model: BaseModel,
    fmt: StatsFormat,
    *,
    name: str,
    as_csv: Callable[[Any], str],
    as_svg: Callable[[Any], str] | None,
) -> Any:
    """The statistic in the format asked for: the model itself (JSON), or a CSV or SVG body."""
    if fmt is StatsFormat.CSV:
        # The period in the name: two downloads of different ranges must not look alike.
        first, last = getattr(model, "date_from", None), getattr(model, "date_to", None)
        period = f"{first or 'start'}-to-{last or utcnow().date()}"
        filename = f"valueloop-{name}-{period}.csv"
        return Response(
            as_csv(model),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    if fmt is StatsFormat.SVG:
        if as_svg is None:
            raise UnprocessableContent(f"{name} has no chart; ask for format=json or format=csv.")
        return Response(as_svg(model), media_type=SVG_MEDIA_TYPE)
    return model


@router.get("/stats/breakdown", response_model=Breakdown, responses=_STATS_RESPONSES)
async def breakdown(
    session: SessionDep,
    _: CanReadFlags,
    filters: FiltersDep,
    by: Dimension,
    sort: BreakdownSort = BreakdownSort.COUNT,
    fmt: FormatQuery = StatsFormat.JSON,
) -> Any:
    """Counts and estimated cost by service, reason, driver or department (a Pareto table)."""
    result = await statistics.breakdown(session, by, filters, sort)
    return _represented(
        result,
        fmt,
        name=f"breakdown-by-{by.value}",
        as_csv=stats_formats.breakdown_csv,
        as_svg=stats_formats.breakdown_svg,
    )


@router.get("/stats/weekly", response_model=WeeklyTrend, responses=_STATS_RESPONSES)
async def weekly_trend(
    session: SessionDep, _: CanReadFlags, filters: FiltersDep, fmt: FormatQuery = StatsFormat.JSON
) -> Any:
    """Flags and estimated cost per ISO week."""
    result = await statistics.weekly(session, filters)
    return _represented(
        result,
        fmt,
        name="weekly",
        as_csv=stats_formats.weekly_csv,
        as_svg=stats_formats.weekly_svg,
    )


@router.get("/stats/loop")
async def closed_loop(session: SessionDep, _: CanReadFlags, filters: FiltersDep) -> LoopStats:
    """How well the loop closes: replies, the closed-loop rate, median time to first reply."""
    return await statistics.loop(session, filters)


@router.get("/stats/reply-times", response_model=ReplyTimes, responses=_STATS_RESPONSES)
async def reply_times(
    session: SessionDep, _: CanReadFlags, filters: FiltersDep, fmt: FormatQuery = StatsFormat.JSON
) -> Any:
    """Time from flag to first reply, in bands, with the median."""
    result = await statistics.reply_times(session, filters)
    return _represented(
        result,
        fmt,
        name="reply-times",
        as_csv=stats_formats.reply_times_csv,
        as_svg=stats_formats.reply_times_svg,
    )


@router.get("/stats/outcomes", response_model=Outcomes, responses=_STATS_RESPONSES)
async def outcomes(
    session: SessionDep, _: CanReadFlags, filters: FiltersDep, fmt: FormatQuery = StatsFormat.JSON
) -> Any:
    """Flags by status, and the share of ended reviews that closed with an action taken."""
    result = await statistics.outcomes(session, filters)
    return _represented(
        result, fmt, name="outcomes", as_csv=stats_formats.outcomes_csv, as_svg=None
    )


@router.get(
    "/exports/flags",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
async def export_flags(
    request: Request,
    auditor: StaffAuditor,
    _: CanExportFlags,
    filters: FiltersDep,
    fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.CSV,
) -> StreamingResponse:
    """Export the matching flags as CSV or NDJSON, streamed."""
    # The session dependency commits this record before the first byte of the body is sent.
    auditor.record(
        AuditAction.EXPORT, "flag", details={"filters": filters.describe(), "format": fmt.value}
    )
    filename = f"valueloop-flags-{utcnow().date().isoformat()}.{fmt.value}"
    return StreamingResponse(
        stream_export(request.app.state.session_factory, filters, fmt),
        media_type=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
