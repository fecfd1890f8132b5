"""The transparency report as a PDF, drawn on the server with WeasyPrint from
``frontend/templates/reports/transparency.html`` (no external resources: nothing is fetched).

WeasyPrint needs Pango from the system (scripts/_setup.sh installs it); it is imported when a
PDF is asked for, so the rest of the app runs without it and the PDF says what is missing.
"""

from __future__ import annotations

from decimal import Decimal

from starlette.concurrency import run_in_threadpool

from app.errors import AppError
from app.pages import templates
from app.reports import formats
from app.reports.schemas import TransparencyReport


class PdfUnavailable(AppError):
    status = 503
    slug = "pdf-unavailable"
    title = "PDF rendering is not available"


def _money(amount: Decimal | None) -> str:
    text = formats.money_text(amount)
    return text if amount is None else f"${text}"


def html(report: TransparencyReport) -> str:
    organization = report.organization
    scope = organization.name if organization else "All organizations you can see"
    return templates.get_template("reports/transparency.html").render(
        report=report,
        scope=scope,
        fewer=formats.FEWER,
        hidden=formats.HIDDEN,
        count=formats.count_text,
        money=_money,
        share=formats.share_text,
        median=formats.median_text,
    )


def _render(page: str) -> bytes:
    try:
        from weasyprint import HTML
    except OSError as exc:  # Pango or its fonts missing
        raise PdfUnavailable(
            "This server cannot draw PDFs: WeasyPrint needs Pango (Debian: libpango-1.0-0 "
            "libpangoft2-1.0-0). Ask for format=csv or format=json meanwhile."
        ) from exc
    pdf: bytes = HTML(string=page).write_pdf()
    return pdf


async def as_pdf(report: TransparencyReport) -> bytes:
    """The PDF bytes (drawn in a worker thread: it takes a few hundred milliseconds)."""
    return await run_in_threadpool(_render, html(report))
