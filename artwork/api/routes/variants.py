"""Editorial state of variants: approve (the bandit may show it) or reject."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request

from artwork.api.deps import EditorKey, ServicesDep
from artwork.api.responses import AUTH, errors
from artwork.api.routes.titles import variant_public
from artwork.api.schemas import VariantPublic
from artwork.domain import VariantStatus

router = APIRouter(prefix="/v1/variants", tags=["variants"])

VariantId = Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="From GET /v1/titles/{id}.")


def _set(
    request: Request, services: ServicesDep, variant_id: str, state: VariantStatus
) -> VariantPublic:
    services.catalog.set_variant_status(variant_id, state)
    return variant_public(request, services.catalog.get_variant(variant_id))


@router.post("/{variant_id}/approve", response_model=VariantPublic, responses=errors(*AUTH, 404))
def approve(
    request: Request, services: ServicesDep, _editor: EditorKey, variant_id: str = VariantId
) -> VariantPublic:
    return _set(request, services, variant_id, VariantStatus.APPROVED)


@router.post("/{variant_id}/reject", response_model=VariantPublic, responses=errors(*AUTH, 404))
def reject(
    request: Request, services: ServicesDep, _editor: EditorKey, variant_id: str = VariantId
) -> VariantPublic:
    return _set(request, services, variant_id, VariantStatus.REJECTED)
