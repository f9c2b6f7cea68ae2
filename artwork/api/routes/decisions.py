"""GET /v1/decisions/{event_id}: the logged decision behind an artwork response."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter

from artwork.api.deps import ClientKey, ServicesDep
from artwork.api.responses import AUTH, errors
from artwork.api.schemas import DecisionPublic

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])


@router.get("/{event_id}", response_model=DecisionPublic, responses=errors(*AUTH, 404))
def get_decision(event_id: str, services: ServicesDep, _client: ClientKey) -> DecisionPublic:
    bandit = services.bandit
    decision = bandit.log.get(event_id)
    reward = bandit.log.reward_of(event_id)
    deadline = decision.created_at + timedelta(seconds=bandit.settings.reward_wait_s)
    status: Literal["rewarded", "pending", "default"]
    if reward is not None:
        status = "rewarded"
    elif bandit.log.now() > deadline:
        status = "default"
    else:
        status = "pending"
    return DecisionPublic(
        event_id=decision.event_id,
        created_at=decision.created_at,
        user_id=decision.user_id,
        title_id=decision.title_id,
        action_ids=list(decision.action_ids),
        probabilities=list(decision.probabilities),
        chosen_variant_id=decision.chosen_variant_id,
        chosen_probability=decision.chosen_probability,
        model_version=decision.model_version,
        policy=dict(decision.policy),
        reward=reward,
        reward_status=status,
        reward_deadline=deadline,
    )
