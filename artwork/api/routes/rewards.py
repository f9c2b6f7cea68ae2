"""POST /v1/rewards: a client reports what came of an artwork decision.

The reward is recorded, not learned here: the learner picks it up from the log (at once in the
single-process default), so this endpoint stays fast. It answers once the reward is committed
(many requests share one commit). The same event twice records once; unknown, forged or
altered event ids are 404 (checked from the signed id, without a database read), and so are
ids issued to another key (``reward_speaker``); rewards after the wait window 409
``reward_window_closed``.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from artwork.api import metrics
from artwork.api.auth import reward_speaker
from artwork.api.deps import ClientKey, ServicesDep
from artwork.api.responses import AUTH, BODY, errors
from artwork.api.schemas import ErrorPublic, RewardIn, RewardPublic
from artwork.bandit.rewards import RewardEvent
from artwork.errors import InvalidInputError

router = APIRouter(prefix="/v1", tags=["rewards"])


@router.post(
    "/rewards",
    response_model=RewardPublic,
    responses=errors(*AUTH, *BODY)
    | {
        404: {"model": ErrorPublic, "description": "event_not_found"},
        409: {"model": ErrorPublic, "description": "reward_window_closed"},
    },
)
async def post_reward(body: RewardIn, services: ServicesDep, principal: ClientKey) -> RewardPublic:
    # A value against a signed id, the hot case, is checked on the event loop and its commit
    # awaited there (no worker thread waits on it); anything that reads the database first
    # (event kinds, unsigned ids, late or repeated rewards) runs in a worker thread.
    settings = services.settings
    if body.value is not None and not settings.reward_min <= body.value <= settings.reward_max:
        raise InvalidInputError(
            f"value must be within {settings.reward_min:g}..{settings.reward_max:g} "
            f"(ARTWORK_REWARD_MIN..ARTWORK_REWARD_MAX), got {body.value:g}"
        )
    speaker = reward_speaker(principal)
    bandit = services.bandit
    if body.kind is not None:
        event = RewardEvent(body.kind, body.seconds or 0.0)
        outcome = await run_in_threadpool(
            partial(bandit.reward, body.event_id, event=event, principal=speaker)
        )
    else:
        assert body.value is not None
        answered = await bandit.reward_async(body.event_id, body.value, principal=speaker)
        if answered is not None:
            outcome = answered
        else:
            outcome = await run_in_threadpool(
                partial(bandit.reward, body.event_id, body.value, principal=speaker)
            )
    metrics.record_reward("recorded" if outcome.recorded else "duplicate", outcome.join_lag_s)
    return RewardPublic(
        event_id=outcome.event_id,
        value=outcome.value,
        recorded=outcome.recorded,
        model_version=outcome.model_version,
    )
