"""GET /v1/homepage: the member's rows, each title with its chosen artwork and event id."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from artwork.api import metrics
from artwork.api.deps import ClientKey, ServicesDep
from artwork.api.params import Country, Device, UserId
from artwork.api.responses import AUTH, errors
from artwork.api.routes.artwork_urls import Aspect, artwork_json, public_base_url
from artwork.api.schemas import HomepagePublic
from artwork.homepage import make_context
from artwork.ranking.registry import ROW_SELECTORS

router = APIRouter(prefix="/v1", tags=["homepage"])

Selector = Annotated[
    str | None,
    Query(
        pattern=f"^({'|'.join(ROW_SELECTORS)})$",
        description="How rows are chosen: " + ", ".join(ROW_SELECTORS) + " (default: "
        "ARTWORK_ROW_SELECTOR).",
    ),
]


@router.get("/homepage", response_model=HomepagePublic, responses=errors(*AUTH))
def get_homepage(
    request: Request,
    services: ServicesDep,
    principal: ClientKey,
    user_id: UserId,
    device: Device = "unknown",
    country: Country = "unknown",
    selector: Selector = None,
    aspect: Aspect = None,
) -> Response:
    page = services.homepage.page(
        make_context(user_id, device, country), selector=selector, principal=principal.key_id
    )
    decisions = [c.decision for r in page.rows for c in r.items]
    if decisions:
        metrics.record_decisions(str(decisions[0].policy.get("name", "unknown")), len(decisions))
    # The page is the hottest response: built as plain JSON values (the shape of
    # HomepagePublic, which documents it; tests validate responses against it) rather than
    # ~600 validated models.
    base_url = public_base_url(request.app.state.settings)
    body = {
        "user_id": page.user_id,
        "rows": [
            {
                "id": r.row.row_id,
                "title": r.row.heading,
                "items": [
                    {
                        "title_id": c.title.title_id,
                        "name": c.title.name,
                        "artwork": artwork_json(base_url, c, aspect),
                    }
                    for c in r.items
                ],
            }
            for r in page.rows
        ],
    }
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        media_type="application/json",
    )
