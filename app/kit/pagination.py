"""Cursor (keyset) pagination, written once.

A cursor is an opaque, URL-safe string holding the sort key of the last row a client saw and
the sort it was made for. Pages come from ``WHERE (sort, id) > (last_sort, last_id)``, so they
stay stable while rows are added and cost the same on page 1 and page 10,000.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from app.errors import BadRequest


class InvalidCursor(BadRequest):
    slug = "invalid-cursor"
    title = "Invalid cursor"


@dataclass(frozen=True)
class Cursor:
    sort: str
    values: list[Any]

    def encode(self) -> str:
        raw = json.dumps({"s": self.sort, "v": self.values}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, *, expected_sort: str, arity: int) -> Cursor:
        """Read a cursor from a client; anything it did not get from us is refused."""
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            sort, values = data["s"], data["v"]
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise InvalidCursor(
                "The cursor is not one this API issued. Start again from the first page "
                "(leave out 'cursor') and follow 'next_cursor'."
            ) from exc
        if sort != expected_sort:
            raise InvalidCursor(
                f"The cursor was made for sort {sort!r}, not {expected_sort!r}. Keep the same "
                "sort while paging, or start again from the first page."
            )
        if not isinstance(values, list) or len(values) != arity:
            raise InvalidCursor("The cursor is damaged. Start again from the first page.")
        return cls(sort=sort, values=values)


def after(
    columns: Sequence[Any],
    values: Sequence[Any],
    *,
    descending: bool,
) -> ColumnElement[bool]:
    """The keyset condition: rows strictly after ``values`` in the page order.

    ``columns`` are mapped attributes or column expressions; each value is bound with its
    column's type so, for example, UTC timestamps compare the same way on SQLite.
    """
    left = sa.tuple_(*columns)
    right = sa.tuple_(
        *(
            sa.literal(
                value,
                sa.inspect(column).type
                if isinstance(column, sa.orm.InstrumentedAttribute)
                else column.type,
            )
            for column, value in zip(columns, values, strict=True)
        )
    )
    return left < right if descending else left > right
