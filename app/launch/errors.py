"""Launch errors. Shown to a clinician in the EHR frame, so each says what to do next."""

from __future__ import annotations

from app.errors import BadRequest, Unauthorized


class LaunchFailed(BadRequest):
    slug = "launch-failed"
    title = "The launch could not be completed"


class SessionExpired(Unauthorized):
    slug = "session-expired"
    title = "Session expired"
