"""The organizations that share one registry.

A health system and the practices it works with report into one ValueLoop. Every registered
EHR and CDS client belongs to one organization, every flag carries the organization of the
EHR it came from, and staff belong to one organization or to the system level (no
organization: they see every organization's flags).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime

CODE_MAX_LENGTH = 20
NAME_MAX_LENGTH = 200
# The organization every installation from before organizations existed runs as (migration
# 0019 makes it and moves every EHR, CDS client and flag into it). A fixed id keeps that
# migration one statement per table on both databases.
DEFAULT_ORGANIZATION_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
DEFAULT_ORGANIZATION_CODE = "main"


class Organization(SQLModel, table=True):
    __tablename__ = "organization"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Short and stable: what people type (``--org``, ``?organization=``) and read in reports.
    code: str = Field(max_length=CODE_MAX_LENGTH, unique=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    # Per rule id, the published measure's variant this organization's CDS calls and launches
    # run, over the installation's (app.rules.variants); None: the installation's choices.
    cds_rule_variants: dict[str, str] | None = Field(
        default=None, sa_type=sa.JSON(none_as_null=True)
    )
    created_at: datetime = Field(sa_type=UTCDateTime)
