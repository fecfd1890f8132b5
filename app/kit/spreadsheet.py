"""CSV that is safe to open in a spreadsheet.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula (CSV injection, OWASP). Text that people or other systems wrote
(names, notes, department names) is written with a leading apostrophe instead, which shows the
text as it was and runs nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: Any) -> Any:
    """``value``, or a text that no spreadsheet reads as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_lines(rows: Iterable[Sequence[Any]], *, header: Sequence[str] | None = None) -> bytes:
    """Rows (and a header first, when given) as CSV lines (RFC 4180 line ends), UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise_formula(value) for value in row])
    return buffer.getvalue().encode()
