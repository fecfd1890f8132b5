"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from app.errors import problem_response
from app.migrate import DatabaseNotMigrated, ensure_migrated

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> dict[str, str] | JSONResponse:
    """The database is reachable and at this release's schema revision."""
    try:
        await ensure_migrated(request.app.state.engine)
    except DatabaseNotMigrated as exc:
        return problem_response(503, "Not ready", str(exc), slug="database-not-migrated")
    except (SQLAlchemyError, OSError):
        logger.warning("readiness check: database unreachable", exc_info=True)
        return problem_response(
            503, "Not ready", "The database is not reachable.", slug="database-unreachable"
        )
    return {"status": "ready"}
