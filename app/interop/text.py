"""Free text as FHIR takes it.

FHIR R4 2.24.0.1 (``string``): ``[ \\r\\n\\t\\S]+``, and no character below U+0020 but tab, CR
and LF: no empty strings, no other whitespace or control characters. A note pasted with a form
feed or a line separator is ordinary in the registry; it must not make invalid FHIR.
"""

from __future__ import annotations

import re

_NOT_IN_STRINGS = re.compile(r"(?![ \r\n\t])[\s\x00-\x1f]")


def fhir_string(text: str | None) -> str | None:
    """``text`` with other whitespace and control characters turned into spaces; None when
    nothing is left."""
    if text is None:
        return None
    cleaned = _NOT_IN_STRINGS.sub(" ", text)
    return cleaned if cleaned.strip() else None
