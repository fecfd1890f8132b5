"""Whether ValueLoop may call a URL an admin configured: absolute http(s), and https unless
the host is this machine or the app runs in demo mode."""

from __future__ import annotations

from urllib.parse import urlsplit

from app.config import LOOPBACK_HOSTS, Mode


def outbound_url_problem(url: str, *, mode: Mode) -> str | None:
    """Why ValueLoop must not call ``url`` (a sentence naming it), or None when it may.

    Plain http is refused off this machine outside demo mode: what travels on it (a signed
    body, a key set we trust) must not cross a network in clear or be swapped on the way.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return f"{url!r} is not an absolute http(s) URL."
    if parts.scheme != "https" and mode is not Mode.DEMO and parts.hostname not in LOOPBACK_HOSTS:
        return f"{url!r} must use https (plain http only on this machine or in demo mode)."
    if parts.fragment:
        return f"{url!r}: a URL ValueLoop calls has no #fragment."
    return None
