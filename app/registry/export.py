"""Streamed exports of flags as CSV or NDJSON, in constant memory for any number of rows.

The export reads on its own session because it outlives the request's unit of work: the
response body is produced after the handler has returned.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.registry import repository
from app.registry.repository import FlagFilters
from app.registry.views import EXPORT_COLUMNS, export_record

ROWS_PER_CHUNK = 500
# Spreadsheet programs run cells that start with these as formulas (CSV injection, OWASP).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"

    @property
    def media_type(self) -> str:
        return "text/csv; charset=utf-8" if self is ExportFormat.CSV else "application/x-ndjson"


def neutralise_formula(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_chunk(rows: list[dict[str, Any]], *, header: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([neutralise_formula(row[column]) for column in EXPORT_COLUMNS])
    return buffer.getvalue().encode()


def _ndjson_chunk(rows: list[dict[str, Any]], *, header: bool) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


async def stream_export(
    factory: async_sessionmaker[AsyncSession], filters: FlagFilters, fmt: ExportFormat
) -> AsyncIterator[bytes]:
    """The export's bytes, a few hundred rows at a time."""
    render: Callable[..., bytes] = _csv_chunk if fmt is ExportFormat.CSV else _ndjson_chunk
    header = True
    rows: list[dict[str, Any]] = []
    async with factory() as session:
        async for flag in repository.stream(session, filters):
            rows.append(export_record(flag))
            if len(rows) >= ROWS_PER_CHUNK:
                yield render(rows, header=header)
                header, rows = False, []
    if rows or header:
        yield render(rows, header=header)
