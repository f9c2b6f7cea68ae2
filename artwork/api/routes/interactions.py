"""POST /v1/interactions: a client app reports a member's play (ranking learns from plays)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, status

from artwork.api.deps import ClientKey, ServicesDep
from artwork.api.responses import AUTH, BODY, errors
from artwork.api.schemas import InteractionIn, InteractionPublic
from artwork.domain import Interaction
from artwork.errors import InvalidInputError

router = APIRouter(prefix="/v1", tags=["interactions"])


@router.post(
    "/interactions",
    status_code=status.HTTP_201_CREATED,
    response_model=InteractionPublic,
    responses=errors(*AUTH, *BODY, 404),
)
def post_interaction(
    body: InteractionIn, services: ServicesDep, _client: ClientKey
) -> InteractionPublic:
    when = body.timestamp or datetime.now(UTC)
    if when.tzinfo is None:
        raise InvalidInputError("timestamp must carry a timezone (e.g. 2026-12-01T14:00:00Z)")
    if when > datetime.now(UTC):
        raise InvalidInputError("timestamp must not be in the future")
    play = Interaction(body.user_id, body.title_id, when, body.seconds, body.duration_s)
    return InteractionPublic(recorded=services.catalog.add_interactions([play]))
