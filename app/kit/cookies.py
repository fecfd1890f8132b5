"""Cookies for pages inside another site's frame: ``Secure; HttpOnly; SameSite=None;
Partitioned`` (CHIPS). Written by hand because Python's http.cookies learns ``Partitioned``
only in 3.14.

Names start with ``__Host-`` (RFC 6265bis 4.1.3.2): the browser then insists on ``Secure``,
``Path=/`` and no ``Domain``, so no sibling host or other path can plant or shadow them.
"""

from __future__ import annotations

import re

from starlette.responses import Response

_TOKEN = re.compile(r"^[A-Za-z0-9_\-.~]+$")


def set_partitioned_cookie(response: Response, name: str, value: str, *, max_age: int) -> None:
    if not name.startswith("__Host-") or not _TOKEN.match(name) or not _TOKEN.match(value):
        raise ValueError("cookie names here start with __Host-; names and values are tokens")
    response.headers.append(
        "set-cookie",
        f"{name}={value}; Max-Age={max_age}; Path=/; Secure; HttpOnly; SameSite=None; Partitioned",
    )


def delete_partitioned_cookie(response: Response, name: str) -> None:
    set_partitioned_cookie(response, name, "deleted", max_age=0)
