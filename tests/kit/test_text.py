"""Finding text a database must not store: NUL and lone surrogates, and only those."""

from __future__ import annotations

import json

import pytest

from app.kit.text import unsafe_json_fields, unsafe_query_fields


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        (b"department=%00", ["department"]),
        (b"a=1&reporter=x%00y&b=2", ["reporter"]),
        (b"na%00me=1", ["na\\u0000me"]),
        (b"q=%ED%A0%80", []),  # invalid UTF-8 decodes to U+FFFD, which is harmless
        (b"q=caf%C3%A9&status=new", []),
        (b"", []),
    ],
)
def test_unsafe_query_fields_names_each_parameter_holding_nul(query, fields):
    assert unsafe_query_fields(query) == fields


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b'{"note": "a\\u0000b"}', ["note"]),
        (b'{"note": "\\ud800"}', ["note"]),
        (b'{"note": "\\uDC00 tail"}', ["note"]),
        (b'{"reporter": {"name": "x\\u0000"}}', ["reporter.name"]),
        (b'{"items": [{"to": "ok"}, {"to": "\\u0000"}]}', ["items.1.to"]),
        (b'{"k\\u0000": 1}', ["k\\u0000"]),
        (b'"\\u0000"', ["body"]),
    ],
)
def test_unsafe_json_fields_names_the_path_of_each_bad_string(body, fields):
    assert unsafe_json_fields(body) == fields


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"note": "an emoji \U0001f600 as a surrogate pair"}).encode(),
        b'{"note": "a literal backslash-u: \\\\u0000"}',
        b'{"note": "plain"}',
        b'{"note": "\\u0000',  # malformed: left to the handler's own JSON error
        b"",
    ],
)
def test_unsafe_json_fields_passes_everything_else(body):
    assert unsafe_json_fields(body) == []
