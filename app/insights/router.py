"""Statistics and exports over flags (``/api/v1``): JSON, or a CSV table or an SVG chart.

Handlers parse, call one service function, record the audit event and return. Permissions are
dependencies; the transaction belongs to the session dependency.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from app.audit.service import AuditAction, StaffAuditor
from app.auth.dependencies import CanExportFlags, CanReadFlags
from app.db import SessionDep
from app.dependencies import SettingsDep
from app.errors import UnprocessableContent
from app.flags.dependencies import FiltersDep
from app.insights import cds, formats, improvements, statistics
from app.insights.dependencies import OrderCodeDep, PeriodDep
from app.insights.export import ExportFormat, export_stream
from app.insights.formats import CSV_MEDIA_TYPE, SVG_MEDIA_TYPE, StatsFormat
from app.insights.repository import Dimension
from app.insights.schemas import (
    Breakdown,
    CdsDaily,
    CdsRules,
    CloseTimes,
    CycleTime,
    ImprovementsLive,
    LoopStats,
    Outcomes,
    ReplyTimes,
    WeeklyTrend,
)
from app.insights.statistics import BreakdownSort
from app.interop.dependencies import ResourceTypesDep
from app.interop.responses import FHIR_NDJSON_CONTENT
from app.kit.time import utcnow

router = APIRouter(prefix="/api/v1", tags=["registry"])

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
    by: Annotated[Dimension, Query(description="What to count flags by.")],
    sort: Annotated[
        BreakdownSort, Query(description="Order the rows by flag count or by estimated cost.")
    ] = BreakdownSort.COUNT,
    fmt: FormatQuery = StatsFormat.JSON,
) -> Any:
    """Counts and estimated cost by service, reason, driver or department (a Pareto table)."""
    result = await statistics.breakdown(session, by, filters, sort)
    return _represented(
        result,
        fmt,
        name=f"breakdown-by-{by.value}",
        as_csv=formats.breakdown_csv,
        as_svg=formats.breakdown_svg,
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
        as_csv=formats.weekly_csv,
        as_svg=formats.weekly_svg,
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
        as_csv=formats.reply_times_csv,
        as_svg=formats.reply_times_svg,
    )


@router.get("/stats/outcomes", response_model=Outcomes, responses=_STATS_RESPONSES)
async def outcomes(
    session: SessionDep, _: CanReadFlags, filters: FiltersDep, fmt: FormatQuery = StatsFormat.JSON
) -> Any:
    """Flags by status, and the share of ended reviews that closed with an action taken."""
    result = await statistics.outcomes(session, filters)
    return _represented(result, fmt, name="outcomes", as_csv=formats.outcomes_csv, as_svg=None)


@router.get("/stats/close-times", response_model=CloseTimes, responses=_STATS_RESPONSES)
async def close_times(
    session: SessionDep, _: CanReadFlags, filters: FiltersDep, fmt: FormatQuery = StatsFormat.JSON
) -> Any:
    """Median time from flag to the end of its review, overall and by reason."""
    result = await statistics.close_times(session, filters)
    return _represented(
        result,
        fmt,
        name="close-times",
        as_csv=formats.close_times_csv,
        as_svg=formats.close_times_svg,
    )


@router.get("/stats/cycle-time", response_model=CycleTime, responses=_STATS_RESPONSES)
async def cycle_time(
    session: SessionDep, _: CanReadFlags, filters: FiltersDep, fmt: FormatQuery = StatsFormat.JSON
) -> Any:
    """Median time spent in each status of the workflow (cycle time), per stay."""
    result = await statistics.cycle_time(session, filters)
    return _represented(
        result, fmt, name="cycle-time", as_csv=formats.cycle_time_csv, as_svg=formats.cycle_time_svg
    )


@router.get("/stats/cds", response_model=CdsRules, responses=_STATS_RESPONSES)
async def cds_rules(
    session: SessionDep, _: CanReadFlags, period: PeriodDep, fmt: FormatQuery = StatsFormat.JSON
) -> Any:
    """Per CDS rule: orders evaluated, cards shown, accepted, overridden (with reasons),
    beside clinician flags on the orders it covers and the catches it made."""
    result = await cds.by_rule(session, period)
    return _represented(result, fmt, name="cds-rules", as_csv=formats.cds_rules_csv, as_svg=None)


@router.get("/stats/improvements", response_model=ImprovementsLive, responses=_STATS_RESPONSES)
async def improvements_live(
    session: SessionDep, _: CanReadFlags, period: PeriodDep, fmt: FormatQuery = StatsFormat.JSON
) -> Any:
    """Improvements that went live in the period (by go-live date): the flags they resolved,
    the yearly cost at stake and each one's measured change."""
    result = await improvements.live_in_period(session, period, today=utcnow().date())
    return _represented(
        result, fmt, name="improvements", as_csv=formats.improvements_csv, as_svg=None
    )


@router.get("/stats/cds/daily", response_model=CdsDaily, responses=_STATS_RESPONSES)
async def cds_daily(
    session: SessionDep,
    _: CanReadFlags,
    filters: OrderCodeDep,
    rule: Annotated[
        str | None, Query(max_length=100, description="A rule id from GET /api/v1/stats/cds.")
    ] = None,
    fmt: FormatQuery = StatsFormat.JSON,
) -> Any:
    """CDS counts per day, for one rule and order code if given: did an order-set change work?"""
    result = await cds.daily(session, filters, rule)
    return _represented(result, fmt, name="cds-daily", as_csv=formats.cds_daily_csv, as_svg=None)


@router.get(
    "/exports/flags",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {}, "application/x-ndjson": {}, **FHIR_NDJSON_CONTENT},
            "description": "CSV or NDJSON rows, one per flag; or with `format=fhir-ndjson` the "
            "flags' FHIR R4 resources, one per line (docs/fhir.md).",
        }
    },
)
async def export_flags(
    request: Request,
    auditor: StaffAuditor,
    principal: CanExportFlags,
    filters: FiltersDep,
    settings: SettingsDep,
    types: ResourceTypesDep,
    fmt: Annotated[
        ExportFormat,
        Query(
            alias="format",
            description="csv (one row per flag), ndjson, or fhir-ndjson (DetectedIssue, Task, "
            "Communication and Provenance resources).",
        ),
    ] = ExportFormat.CSV,
) -> StreamingResponse:
    """Export the matching flags as CSV, NDJSON or FHIR NDJSON, streamed."""
    body = export_stream(
        request.app.state.session_factory,
        filters,
        fmt,
        base_url=settings.base_url,
        scope=principal.scope,
        types=types,
    )
    described = {"types": sorted(types)} if types is not None else {}
    # The session dependency commits this record before the first byte of the body is sent.
    auditor.record(
        AuditAction.EXPORT,
        "flag",
        details={"filters": filters.describe(), "format": fmt.value, **described},
    )
    filename = f"valueloop-flags-{utcnow().date().isoformat()}.{fmt.extension}"
    return StreamingResponse(
        body,
        media_type=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
