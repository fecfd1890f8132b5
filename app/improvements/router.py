"""The improvements API (``/api/v1/improvements``): improvement work, the flags it answers,
its workflow and its measured effect. The dashboard's Improvements pages use the same.

Handlers parse, call one service function, record the audit event and return. Reading needs
``read_flags`` (an improvement shows its flags); every change needs ``work_flags``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

import lowvalue
from app.audit.service import AuditAction, Auditor, StaffAuditor
from app.auth.dependencies import CanReadFlags, CanWorkFlags, Principal
from app.db import SessionDep
from app.dependencies import SettingsDep
from app.flags import owners
from app.flags import views as flag_views
from app.flags.review import Actor
from app.flags.schemas import FlagList
from app.improvements import measurement, reading, service, workflow
from app.improvements.catalog import (
    KIND_LABELS,
    STATUS_LABELS,
    ImprovementStatus,
    allowed_from,
)
from app.improvements.charts import SVG_MEDIA_TYPE, run_chart_of
from app.improvements.models import Improvement
from app.improvements.schemas import (
    EffectOut,
    ImprovementCatalog,
    ImprovementDetail,
    ImprovementIn,
    ImprovementList,
    ImprovementPatch,
    ImprovementTransitionIn,
    Label,
    LinkIn,
    RuleChoice,
    StatusChoice,
)
from app.kit.etags import etag, if_match_versions
from app.kit.time import utcnow
from app.organizations import service as organizations

router = APIRouter(prefix="/api/v1", tags=["improvements"])


IfMatch = Annotated[
    str | None,
    Header(
        description="The ETag of the improvement's last GET: the change is refused (412) when "
        "someone changed it since. Optional."
    ),
]


def _versions(if_match: str | None) -> service.Versions:
    return if_match_versions(if_match, required=False, thing="improvement")


async def _answer(
    session: SessionDep, improvement: Improvement, response: Response
) -> ImprovementDetail:
    """The improvement as it now stands, with its ETag (what the next write sends back)."""
    response.headers["ETag"] = etag(improvement.version)
    return await reading.detail(session, improvement)


def _actor(principal: Principal) -> Actor:
    return Actor(name=principal.name, role=principal.role.value, staff_id=principal.staff_id)


def _audit(
    auditor: Auditor, action: AuditAction, improvement: Improvement, **details: object
) -> None:
    auditor.record(
        action, "improvement", entity_id=str(improvement.id), details=dict(details) or None
    )


@router.get("/improvements/catalog")
async def catalog(_: CanReadFlags) -> ImprovementCatalog:
    """Kinds, statuses (with the workflow's moves) and the low-value rules an improvement can
    aim at, with the labels people read."""
    return ImprovementCatalog(
        kinds=[Label(value=kind.value, label=label) for kind, label in KIND_LABELS.items()],
        statuses=[
            StatusChoice(
                value=status.value,
                label=label,
                allowed_transitions=[to.value for to in allowed_from(status)],
            )
            for status, label in STATUS_LABELS.items()
        ],
        rules=[
            RuleChoice(id=rule.id, title=rule.title) for rule in lowvalue.default_catalog().rules
        ],
    )


@router.get("/improvements")
async def list_improvements(
    session: SessionDep,
    _: CanReadFlags,
    status: Annotated[
        list[ImprovementStatus] | None, Query(description="Repeat to match any of several.")
    ] = None,
    flag: Annotated[
        uuid.UUID | None, Query(description="The improvement this flag is linked to.")
    ] = None,
    organization: Annotated[
        str | None,
        Query(
            max_length=20,
            description="An organization's code (for system-level staff; everyone else sees "
            "only their own organization's work whatever this says).",
        ),
    ] = None,
) -> ImprovementList:
    """Improvement work, newest first, with each one's flag count and cost at stake."""
    items = await reading.summaries(
        session,
        statuses=status or (),
        flag_id=flag,
        organization_id=await organizations.id_of(session, organization),
    )
    return ImprovementList(items=items)


@router.post("/improvements", status_code=201)
async def create_improvement(
    body: ImprovementIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
    response: Response,
) -> ImprovementDetail:
    """Propose an improvement, optionally linking the flags it starts from."""
    organization_id = await service.organization_for(session, body, principal.organization_id)
    improvement = await service.create(
        session, body, actor=_actor(principal), organization_id=organization_id
    )
    _audit(auditor, AuditAction.CREATE, improvement, flag_ids=[str(f) for f in body.flag_ids])
    response.headers["Location"] = f"/api/v1/improvements/{improvement.id}"
    return await _answer(session, improvement, response)


@router.get("/improvements/{improvement_id}")
async def get_improvement(
    improvement_id: uuid.UUID,
    session: SessionDep,
    auditor: StaffAuditor,
    _: CanReadFlags,
    response: Response,
) -> ImprovementDetail:
    """One improvement: its evidence, linked flags and timeline; the ETag header is what
    writes may send back as If-Match."""
    improvement = await service.get(session, improvement_id)
    found = await _answer(session, improvement, response)
    _audit(auditor, AuditAction.READ, improvement, flag_ids=[str(f.id) for f in found.flags])
    return found


@router.patch("/improvements/{improvement_id}")
async def update_improvement(
    improvement_id: uuid.UUID,
    patch: ImprovementPatch,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
    response: Response,
    if_match: IfMatch = None,
) -> ImprovementDetail:
    """Change the title, notes, owners (the dyad) or the informatics ticket reference."""
    improvement = await service.update(
        session, improvement_id, patch, actor=_actor(principal), if_match=_versions(if_match)
    )
    _audit(auditor, AuditAction.UPDATE, improvement, fields=sorted(patch.model_fields_set))
    return await _answer(session, improvement, response)


@router.post("/improvements/{improvement_id}/flags")
async def link_flags(
    improvement_id: uuid.UUID,
    body: LinkIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
    response: Response,
    if_match: IfMatch = None,
) -> ImprovementDetail:
    """Link flags to the improvement (all or none; a flag belongs to one improvement). Flags
    linked after go-live get the go-live reply at once."""
    improvement = await service.get(session, improvement_id, if_match=_versions(if_match))
    linked = await service.link(session, improvement, body, actor=_actor(principal))
    _audit(auditor, AuditAction.UPDATE, improvement, linked=[str(flag.id) for flag in linked])
    return await _answer(session, improvement, response)


@router.post("/improvements/{improvement_id}/transitions")
async def transition_improvement(
    improvement_id: uuid.UUID,
    change: ImprovementTransitionIn,
    session: SessionDep,
    auditor: StaffAuditor,
    principal: CanWorkFlags,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
) -> ImprovementDetail:
    """Move the improvement along its workflow. Approving an EHR build sends its change
    request to informatics; going live needs ``go_live`` and ``reply`` (sent to every linked
    reporter, whose flags move on to action taken)."""
    improvement = await workflow.transition(
        session,
        improvement_id,
        change,
        actor=_actor(principal),
        dashboard_url=settings.base_url,
        if_match=_versions(if_match),
    )
    _audit(auditor, AuditAction.UPDATE, improvement, transition=change.to.value)
    return await _answer(session, improvement, response)


@router.get(
    "/improvements/{improvement_id}/effect",
    response_model=EffectOut,
    responses={
        200: {
            "content": {SVG_MEDIA_TYPE: {}},
            "description": "JSON by default; `format=svg` for the run chart.",
        }
    },
)
async def improvement_effect(
    improvement_id: uuid.UUID,
    session: SessionDep,
    _: CanReadFlags,
    fmt: Annotated[
        Literal["json", "svg"],
        Query(alias="format", description="json, or svg (the run chart of flags per week)."),
    ] = "json",
) -> Any:
    """The rate of the improvement's target before and after go-live: flags per day (and
    rule hits per 1,000 evaluated orders where the CDS service evaluates them), their rate
    ratio with a 95% interval, and the weekly counts for the run chart. Counts only."""
    improvement = await service.get(session, improvement_id)
    found = await measurement.measure(session, improvement, today=utcnow().date())
    if fmt == "svg":
        return Response(run_chart_of(improvement, found), media_type=SVG_MEDIA_TYPE)
    return found


@router.get("/flags/{flag_id}/siblings")
async def flag_siblings(
    flag_id: uuid.UUID, session: SessionDep, auditor: StaffAuditor, _: CanReadFlags
) -> FlagList:
    """Unlinked flags likely about the same problem: same department, last 90 days, same
    order code or one of the same low-value rules. To start an improvement with."""
    found = await service.siblings(session, flag_id)
    auditor.record(
        AuditAction.SEARCH,
        "flag",
        details={"siblings_of": str(flag_id), "flag_ids": [str(flag.id) for flag in found]},
    )
    people = await owners.people_for(session, found)
    return FlagList(items=[flag_views.summary(flag, people) for flag in found])
