"""SMART style hints (SMART App Launch 2.x, "smart_style_url"): the EHR's colours and font,
applied where they keep the page readable.

Only fetched from the launching EHR's own origin (the URL comes from the token response, but
we still never let it point our server elsewhere), small, cached, and never required: without
them the page keeps its own look.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

MAX_BYTES = 20_000
CACHE_SECONDS = 3600
MIN_CONTRAST_ON_WHITE = 4.5  # WCAG 2.1 1.4.3: the accent is text and button colour on white

_HEX = re.compile(r"^#([0-9a-fA-F]{6})$")
_FONT = re.compile(r"^[A-Za-z0-9 ,\"'\-]{1,100}$")


@dataclass(frozen=True)
class StyleHints:
    accent: str | None
    font_family: str | None


_cache: dict[str, tuple[float, StyleHints | None]] = {}


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def readable_accent(value: object) -> str | None:
    """The EHR's highlight colour, if white text on it (and it on white) stays readable."""
    if not isinstance(value, str) or not _HEX.match(value):
        return None
    contrast = 1.05 / (_luminance(value) + 0.05)
    return value.lower() if contrast >= MIN_CONTRAST_ON_WHITE else None


def safe_font(value: object) -> str | None:
    return value if isinstance(value, str) and _FONT.match(value) else None


def _same_origin(url: str, issuer: str) -> bool:
    a, b = urlsplit(url), urlsplit(issuer)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port) and a.scheme in {
        "http",
        "https",
    }


async def style_hints(http: httpx.AsyncClient, url: str | None, issuer: str) -> StyleHints | None:
    if not url or not _same_origin(url, issuer):
        return None
    cached = _cache.get(url)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    hints: StyleHints | None = None
    try:
        response = await http.get(url, timeout=3.0, headers={"Accept": "application/json"})
        if response.status_code == 200 and len(response.content) <= MAX_BYTES:
            data = json.loads(response.content)
            if isinstance(data, dict):
                hints = StyleHints(
                    accent=readable_accent(data.get("color_highlight")),
                    font_family=safe_font(data.get("font_family_base")),
                )
    except (httpx.HTTPError, ValueError):
        hints = None  # hints are optional: the page keeps its own look
    _cache[url] = (time.monotonic(), hints)
    return hints
