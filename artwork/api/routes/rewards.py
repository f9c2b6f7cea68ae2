"""POST /v1/rewards: a client reports what came of an artwork decision.

The reward is recorded, not learned here: the learner picks it up from the log (at once in the
single-process default), so this endpoint stays fast. It answers once the reward is committed
(many requests share one commit). The same event twice records once; unknown, forged or
altered event ids are 404 (checked from the signed id, without a database read), rewards after
the wait window 409 ``reward_window_closed``.
"""

from __future__ import annotations

from fastapi import APIRouter

from artwork.api.deps import ClientKey, ServicesDep
from artwork.api.responses import AUTH, errors
from artwork.api.schemas import ErrorPublic, RewardIn, RewardPublic
from artwork.bandit.rewards import RewardEvent

router = APIRouter(prefix="/v1", tags=["rewards"])


@router.post(
    "/rewards",
    response_model=RewardPublic,
    responses=errors(*AUTH)
    | {
        404: {"model": ErrorPublic, "description": "event_not_found"},
        409: {"model": ErrorPublic, "description": "reward_window_closed"},
    },
)
def post_reward(body: RewardIn, services: ServicesDep, principal: ClientKey) -> RewardPublic:
    if body.kind is not None:
        event = RewardEvent(body.kind, body.seconds or 0.0)
        outcome = services.bandit.reward(body.event_id, event=event, principal="")
    else:
        outcome = services.bandit.reward(body.event_id, body.value, principal="")
    return RewardPublic(
        event_id=outcome.event_id,
        value=outcome.value,
        recorded=outcome.recorded,
        model_version=outcome.model_version,
    )
