"""POST /v1/rewards: a client reports what came of an artwork decision."""

from __future__ import annotations

from fastapi import APIRouter

from artwork.api.deps import ServicesDep
from artwork.api.schemas import ErrorPublic, RewardIn, RewardPublic

router = APIRouter(prefix="/v1", tags=["rewards"])


@router.post(
    "/rewards",
    response_model=RewardPublic,
    responses={404: {"model": ErrorPublic}, 422: {"model": ErrorPublic}},
)
def post_reward(body: RewardIn, services: ServicesDep) -> RewardPublic:
    outcome = services.bandit.reward(body.event_id, body.value)
    return RewardPublic(
        event_id=outcome.event_id,
        value=outcome.value,
        learned=outcome.learned,
        model_version=outcome.model_version,
    )
