"""Liveness and readiness: the database answers and the bandit model is loaded."""

from __future__ import annotations

from fastapi import APIRouter

from artwork.api.deps import ServicesDep
from artwork.api.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthPublic)
def healthz(services: ServicesDep) -> HealthPublic:
    return HealthPublic(
        status="ok",
        titles=services.catalog.count_titles(),
        model_version=services.bandit.model_version,
    )
