"""What the reporter has read of the replies to their flags."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import BigIntId, UTCDateTime


class ReporterReadMarker(SQLModel, table=True):
    """How far the reporter has read a flag's replies. Kept apart from the flag so reading a
    reply does not change the flag (and its ETag) under an analyst's feet."""

    __tablename__ = "reporter_read_marker"

    flag_id: uuid.UUID = Field(foreign_key="flag.id", primary_key=True)
    read_through_event_id: int = Field(sa_type=BigIntId)
    read_at: datetime = Field(sa_type=UTCDateTime)
