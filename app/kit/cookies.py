"""Cookies for pages inside another site's frame: ``Secure; HttpOnly; SameSite=None;
Partitioned`` (CHIPS). Written by hand because Python's http.cookies learns ``Partitioned``
only in 3.14."""

from __future__ import annotations

import re

from starlette.responses import Response

_TOKEN = re.compile(r"^[A-Za-z0-9_\-.~]+$")


def set_partitioned_cookie(
    response: Response, name: str, value: str, *, max_age: int, path: str = "/"
) -> None:
    if not _TOKEN.match(name) or not _TOKEN.match(value):
        raise ValueError("cookie names and values here are URL-safe tokens")
    response.headers.append(
        "set-cookie",
        f"{name}={value}; Max-Age={max_age}; Path={path}; Secure; HttpOnly; SameSite=None; "
        "Partitioned",
    )


def delete_partitioned_cookie(response: Response, name: str, *, path: str = "/") -> None:
    set_partitioned_cookie(response, name, "deleted", max_age=0, path=path)
