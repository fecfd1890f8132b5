"""The transparency report and the shared system-wide totals (``/api/v1``).

Handlers parse, call one service function and return the representation asked for.
Permissions are dependencies; what the caller may see is the session's scope.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from app.auth.dependencies import CanReadFlags
from app.db import SessionDep
from app.reports import formats, pdf, transparency
from app.reports.dependencies import PeriodDep
from app.reports.formats import CSV_MEDIA_TYPE, PDF_MEDIA_TYPE, ReportFormat
from app.reports.schemas import SharedTotals, TransparencyReport

router = APIRouter(prefix="/api/v1", tags=["registry"])

_REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {CSV_MEDIA_TYPE: {}, PDF_MEDIA_TYPE: {}},
        "description": "JSON by default; `format=csv` (one number per line) or `format=pdf`.",
    }
}


def _download(body: str | bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/reports/transparency", response_model=TransparencyReport, responses=_REPORT_RESPONSES)
async def transparency_report(
    session: SessionDep,
    principal: CanReadFlags,
    period: PeriodDep,
    organization: Annotated[
        str | None,
        Query(
            max_length=20,
            description="An organization's code; without it, every organization you can see "
            "(an organization's staff see only their own, whatever this says).",
        ),
    ] = None,
    fmt: Annotated[
        ReportFormat, Query(alias="format", description="json, csv or pdf.")
    ] = ReportFormat.JSON,
) -> Any:
    """What was flagged, answered, done and saved in a period, small cells suppressed."""
    report = await transparency.report(
        session,
        period,
        organization_code=organization,
        caller_organization=principal.organization_id,
    )
    if fmt is ReportFormat.JSON:
        return report
    who = report.organization.code if report.organization else "all"
    name = f"valueloop-transparency-{who}-{period.date_from}-to-{period.date_to}"
    if fmt is ReportFormat.CSV:
        return _download(formats.as_csv(formats.lines(report)), CSV_MEDIA_TYPE, f"{name}.csv")
    return _download(await pdf.as_pdf(report), PDF_MEDIA_TYPE, f"{name}.pdf")


@router.get("/stats/shared")
async def shared_totals(
    session: SessionDep, principal: CanReadFlags, period: PeriodDep
) -> SharedTotals:
    """System-wide totals every organization's staff see: aggregates only, small cells
    suppressed (also where the other organizations' part of a cell is small)."""
    return await transparency.shared_totals(session, period, reader=principal.organization_id)
