"""The quality team's REST API over flags (``/api/v1``).

Handlers parse, call one service function, record the audit event and return. Permissions are
dependencies; the transaction belongs to the session dependency.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Sequence
from functools import partial
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Header, Query, Response

from app.audit.service import AuditAction, Auditor, StaffAuditor
from app.auth.dependencies import (
    CanAssignFlags,
    CanReadFlags,
    CanWorkFlags,
    Principal,
)
from app.db import SessionDep
from app.flags import owners, review, service, views, vocabulary
from app.flags.dependencies import FiltersDep
from app.flags.models import Flag
from app.flags.repository import FlagSort
from app.flags.schemas import (
    BulkOwnerIn,
    BulkResult,
    BulkTransitionIn,
    Catalog,
    ClassificationIn,
    FilterOptions,
    FlagDetail,
    FlagList,
    FlagPage,
    FlagPatch,
    FlagSummary,
    MessageIn,
    OwnerIn,
    ReplyIn,
    TransitionIn,
)
from app.kit.etags import if_match_versions

router = APIRouter(prefix="/api/v1", tags=["registry"])

MAX_PAGE_SIZE = 200


def _if_match_versions(if_match: str | None, *, required: bool) -> review.Versions:
    return if_match_versions(if_match, required=required, thing="flag")


def _actor(principal: Principal) -> review.Actor:
    return review.Actor(name=principal.name, role=principal.role.value, staff_id=principal.staff_id)


def _audit_change(auditor: Auditor, flag: Flag, details: dict[str, Any] | None = None) -> None:
    auditor.record(
        AuditAction.UPDATE, "flag", entity_id=str(flag.id), issuer=flag.issuer, details=details
    )


async def _detail_response(session: SessionDep, flag: Flag, response: Response) -> FlagDetail:
    response.headers["ETag"] = views.etag(flag)
    people = await owners.people_for(session, [flag])
    return views.detail(flag, await service.timeline(session, flag), people)


async def _summaries(session: SessionDep, flags: Sequence[Flag]) -> list[FlagSummary]:
    """The flags as the list shows them, their owners read in one query."""
    people = await owners.people_for(session, flags)
    return [views.summary(flag, people) for flag in flags]


class _Write(Protocol):
    """A change to one flag, waiting for the versions it may apply to."""

    def __call__(self, *, if_match: review.Versions) -> Awaitable[Flag]: ...


async def _written(
    write: _Write,
    if_match: str | None,
    session: SessionDep,
    auditor: Auditor,
    response: Response,
    *,
    required: bool,
    details: dict[str, Any] | None = None,
) -> FlagDetail:
    """What every write to one flag does around its change: check If-Match, audit, and answer
    with the flag as it now stands (and its new ETag)."""
    flag = await write(if_match=_if_match_versions(if_match, required=required))
    _audit_change(auditor, flag, details)
    return await _detail_response(session, flag, response)


@router.get("/flags")
async def list_flags(
    session: SessionDep,
    auditor: StaffAuditor,
    _: CanReadFlags,
    filters: FiltersDep,
    sort: Annotated[
        FlagSort,
        Query(description="new_first: submitted flags first; a leading '-' means descending."),
    ] = FlagSort.NEWEST,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Flags per page.")] = 50,
    cursor: Annotated[
        str | None,
        Query(
            max_length=500, description="The `next_cursor` of the page before; omit for the first."
        ),
    ] = None,
) -> FlagPage:
    """List flags with filters, in a stable order, one page at a time."""
    page = await service.page(session, filters, sort=sort, limit=limit, cursor=cursor)
    auditor.record(
        AuditAction.SEARCH,
        "flag",
        details={"filters": filters.describe(), "flag_ids": [str(flag.id) for flag in page.flags]},
    )
    return FlagPage(items=await _summaries(session, page.flags), next_cursor=page.next_cursor)


@router.post("/flags/bulk/transitions")
async def bulk_transition(
    change: BulkTransitionIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
) -> BulkResult:
    """Move many flags at once; each item names the version it was based on. All or none:
    any conflict (412, with ``conflicts``) or refusal (422, with ``failures``) changes nothing."""
    flags = await review.bulk_transition(session, change, actor=_actor(principal))
    for flag in flags:
        _audit_change(auditor, flag, {"transition": change.to.value, "bulk": True})
    return BulkResult(items=await _summaries(session, flags))


@router.post("/flags/bulk/owner")
async def bulk_assign(
    change: BulkOwnerIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanAssignFlags,
) -> BulkResult:
    """Assign many flags to the same lead or dyad; all or none, as for bulk transitions."""
    flags = await review.bulk_assign(session, change, actor=_actor(principal))
    for flag in flags:
        _audit_change(auditor, flag, {"assignment": True, "bulk": True})
    return BulkResult(items=await _summaries(session, flags))


@router.get("/flags/{flag_id}")
async def get_flag(
    flag_id: uuid.UUID,
    session: SessionDep,
    auditor: StaffAuditor,
    _: CanReadFlags,
    response: Response,
) -> FlagDetail:
    """One flag with its timeline; the ETag header is what writes send back as If-Match."""
    flag = await service.get_flag(session, flag_id)
    auditor.record(AuditAction.READ, "flag", entity_id=str(flag.id), issuer=flag.issuer)
    return await _detail_response(session, flag, response)


@router.get("/flags/{flag_id:uuid}/duplicate-candidates")
async def duplicate_candidates(
    flag_id: uuid.UUID, session: SessionDep, auditor: StaffAuditor, _: CanReadFlags
) -> FlagList:
    """Flags that may be the original of this one: the same order, or the same kind of order
    for the same patient (oldest first)."""
    flags = await service.duplicate_candidates(session, flag_id)
    auditor.record(
        AuditAction.SEARCH,
        "flag",
        entity_id=str(flag_id),
        details={"duplicate_candidates": [str(flag.id) for flag in flags]},
    )
    return FlagList(items=await _summaries(session, flags))


@router.post("/flags/{flag_id:uuid}/transitions")
async def transition_flag(
    flag_id: uuid.UUID,
    change: TransitionIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> FlagDetail:
    """Move a flag along the workflow (with the reply, owner or original it needs)."""
    write = partial(review.transition, session, flag_id, change, actor=_actor(principal))
    return await _written(
        write,
        if_match,
        session,
        auditor,
        response,
        required=True,
        details={"transition": change.to.value},
    )


@router.post("/flags/{flag_id:uuid}/comments", status_code=201)
async def comment_on_flag(
    flag_id: uuid.UUID,
    message: MessageIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> FlagDetail:
    """Add an internal comment (not shown to the reporter)."""
    write = partial(review.comment, session, flag_id, message.body, actor=_actor(principal))
    return await _written(write, if_match, session, auditor, response, required=False)


@router.post("/flags/{flag_id:uuid}/replies", status_code=201)
async def reply_to_reporter(
    flag_id: uuid.UUID,
    message: ReplyIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> FlagDetail:
    """Send a reply the reporter sees the next time they open ValueLoop (``shareable``: it may
    be quoted in the transparency report, once checked for patient and clinician data)."""
    write = partial(
        review.reply,
        session,
        flag_id,
        message.body,
        actor=_actor(principal),
        shareable_reply=message.shareable,
    )
    return await _written(write, if_match, session, auditor, response, required=False)


@router.put("/flags/{flag_id:uuid}/owner")
async def assign_flag(
    flag_id: uuid.UUID,
    owner: OwnerIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanAssignFlags,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> FlagDetail:
    """Assign the flag to a lead or a clinical + operational dyad, by staff id (GET
    /api/v1/staff); unknown or deactivated people are refused (422, naming the field)."""
    write = partial(review.assign, session, flag_id, owner, actor=_actor(principal))
    return await _written(write, if_match, session, auditor, response, required=True)


@router.patch("/flags/{flag_id}")
async def update_flag(
    flag_id: uuid.UUID,
    patch: FlagPatch,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> FlagDetail:
    """Change the flag's priority or tags."""
    write = partial(review.update, session, flag_id, patch, actor=_actor(principal))
    return await _written(write, if_match, session, auditor, response, required=True)


@router.post("/flags/{flag_id:uuid}/classification")
async def reclassify_flag(
    flag_id: uuid.UUID,
    change: ClassificationIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> FlagDetail:
    """Reclassify the reason or suspected driver; the timeline keeps the earlier values."""
    write = partial(review.reclassify, session, flag_id, change, actor=_actor(principal))
    return await _written(
        write,
        if_match,
        session,
        auditor,
        response,
        required=True,
        details={"reclassification": True},
    )


@router.get("/catalog")
async def catalog(_: CanReadFlags) -> Catalog:
    """Reasons, drivers, statuses (with the workflow's rules), reporter roles and priorities,
    with the labels people read."""
    return vocabulary.catalog()


@router.get("/filter-options")
async def filter_options(session: SessionDep, _: CanReadFlags) -> FilterOptions:
    """Departments and services (order codes) that flags carry, for filter choices."""
    return await vocabulary.filter_options(session)
