"""GET /v1/homepage: the member's rows, each title with its chosen artwork and event id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from artwork.api import metrics
from artwork.api.deps import ClientKey, ServicesDep
from artwork.api.page_json import PageEncoder
from artwork.api.params import Country, Device, UserId
from artwork.api.responses import AUTH, errors
from artwork.api.routes.artwork_urls import Aspect, public_base_url
from artwork.api.schemas import HomepagePublic
from artwork.homepage import ArtworkPage, make_context
from artwork.ranking.registry import ROW_SELECTORS

router = APIRouter(prefix="/v1", tags=["homepage"])

#: Encodes pages for both the route and the fast path.
_ENCODER = PageEncoder()

#: A row selector's name.
SELECTOR = f"^({'|'.join(ROW_SELECTORS)})$"

Selector = Annotated[
    str | None,
    Query(
        pattern=SELECTOR,
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
    return Response(
        homepage_json(page, public_base_url(request.app.state.settings), aspect),
        media_type="application/json",
    )


def homepage_json(page: ArtworkPage, base_url: str, aspect: str | None) -> bytes:
    """The page as ``HomepagePublic`` JSON (counting its decisions in the metrics).

    The page is the hottest response: written from pieces encoded once
    (:mod:`artwork.api.page_json`, the shape of HomepagePublic, which documents it; tests
    validate responses against it) rather than ~600 validated models.
    """
    decisions = sum(len(r.items) for r in page.rows)
    if decisions:
        first = next(r.items[0] for r in page.rows if r.items)
        metrics.record_decisions(str(first.decision.policy.get("name", "unknown")), decisions)
    return _ENCODER.encode(page, base_url, aspect)
