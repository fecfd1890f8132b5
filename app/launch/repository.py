"""Every query on pending launches and app sessions."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.kit.crypto import SecretBox, digest
from app.launch.models import AppSession, PendingLaunch, PendingLaunchRecord


def add(session: AsyncSession, app_session: AppSession) -> None:
    session.add(app_session)


class PendingLaunches:
    """``smart.StateStore`` on the pending_launch table, so any app process can finish a
    launch: the state kept hashed, the PKCE verifier encrypted. The table keeps when the
    launch started; ``lifetime`` turns that into the expiry ``smart`` checks, and back."""

    def __init__(self, session: AsyncSession, box: SecretBox, *, lifetime: timedelta) -> None:
        self._session = session
        self._box = box
        self._lifetime = lifetime

    async def save(self, pending: PendingLaunch) -> None:
        self._session.add(
            PendingLaunchRecord(
                state_hash=digest(pending.state),
                issuer=pending.issuer,
                launch=pending.launch,
                pkce_verifier_encrypted=self._box.encrypt(pending.pkce_verifier),
                nonce=pending.nonce,
                redirect_uri=pending.redirect_uri,
                requested_scopes=list(pending.requested_scopes),
                browser_binding_hash=pending.browser_binding_hash,
                created_at=pending.expires_at - self._lifetime,
            )
        )

    async def take(self, state: str) -> PendingLaunch | None:
        """Read and delete in one statement, so two callbacks with one state cannot both win."""
        result = await self._session.scalars(
            sa.delete(PendingLaunchRecord)
            .where(col(PendingLaunchRecord.state_hash) == digest(state))
            .returning(PendingLaunchRecord)
        )
        record = result.first()
        if record is None:
            return None
        return PendingLaunch(
            state=state,
            issuer=record.issuer,
            launch=record.launch,
            pkce_verifier=self._box.decrypt(record.pkce_verifier_encrypted),
            nonce=record.nonce,
            redirect_uri=record.redirect_uri,
            requested_scopes=tuple(record.requested_scopes),
            browser_binding_hash=record.browser_binding_hash,
            expires_at=record.created_at + self._lifetime,
        )


async def session_by_handle(session: AsyncSession, handle_hash: str) -> AppSession | None:
    result = await session.scalars(
        select(AppSession).where(col(AppSession.handle_hash) == handle_hash)
    )
    return result.first()


async def session_for_update(session: AsyncSession, session_id: uuid.UUID) -> AppSession | None:
    """The session row, locked until the transaction ends (PostgreSQL; SQLite has one writer)."""
    result = await session.scalars(
        select(AppSession)
        .where(col(AppSession.id) == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.first()


async def touch(session: AsyncSession, session_id: uuid.UUID, at: datetime) -> None:
    """Record activity without loading or versioning the row (parallel requests are normal)."""
    await session.execute(
        sa.update(AppSession).where(col(AppSession.id) == session_id).values(last_seen_at=at)
    )


async def keep_learned(
    session: AsyncSession, session_id: uuid.UUID, values: dict[str, Any]
) -> None:
    """Keep what a context read learned (flag facts, who is signed in) on the session row."""
    await session.execute(
        sa.update(AppSession).where(col(AppSession.id) == session_id).values(**values)
    )
