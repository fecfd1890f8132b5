"""Text no database should be asked to store: NUL characters and lone UTF-16 surrogates.

PostgreSQL refuses NUL in text (``psycopg.DataError``) and cannot encode a lone surrogate to
UTF-8; SQLite stores both and hands back strings other tools choke on. Neither has a place in
a note, a name or a filter, so requests that carry them are refused before any handler runs
(``app.middleware.TextInputMiddleware``), with the field named.

The checks are cheap byte scans; a request is only parsed here when a scan finds a candidate,
which ordinary traffic never does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl

# A character a database must not store: NUL, or a surrogate code point (in a decoded str,
# only a lone one can remain: a valid pair decodes to one character).
_UNSAFE_CHAR = re.compile("[\x00\ud800-\udfff]")
# In JSON text: the escapes that decode to those characters (a raw NUL is already invalid JSON).
_JSON_CANDIDATE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def is_unsafe(text: str) -> bool:
    return _UNSAFE_CHAR.search(text) is not None


def unsafe_query_fields(query_string: bytes) -> list[str]:
    """The names of query parameters whose name or value holds an unsafe character."""
    if b"%00" not in query_string and b"\x00" not in query_string:
        return []  # percent-decoding turns invalid UTF-8 into U+FFFD, never a surrogate
    found = []
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if is_unsafe(name) or is_unsafe(value):
            found.append(_printable(name))
    return found


def unsafe_json_fields(body: bytes) -> list[str]:
    """The dotted paths of JSON strings (values or keys) holding an unsafe character."""
    if _JSON_CANDIDATE.search(body) is None:
        return []
    try:
        document = json.loads(body)
    except ValueError:
        return []  # malformed JSON: the handler's own parsing says so
    return sorted(set(_unsafe_paths(document, ())))


def _unsafe_paths(value: object, path: tuple[str, ...]) -> Iterator[str]:
    if isinstance(value, str):
        if is_unsafe(value):
            yield ".".join(path) or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            name = _printable(str(key))
            if is_unsafe(str(key)):
                yield ".".join((*path, name))
            yield from _unsafe_paths(item, (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unsafe_paths(item, (*path, str(index)))


def _printable(name: str) -> str:
    """A field name fit to echo back in an error (the unsafe characters made visible)."""
    return _UNSAFE_CHAR.sub(lambda match: f"\\u{ord(match.group()):04x}", name)[:100]
