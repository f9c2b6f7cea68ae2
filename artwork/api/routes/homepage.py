"""GET /v1/homepage: the member's rows, each title with its chosen artwork and event id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from artwork.api.deps import ClientKey, ServicesDep
from artwork.api.responses import AUTH, errors
from artwork.api.routes.artwork_urls import Aspect
from artwork.api.schemas import ArtworkPublic, HomepagePublic, RowItemPublic, RowPublic
from artwork.domain import Variant
from artwork.ranking.selectors import ROW_SELECTORS
from artwork.serving import make_context

router = APIRouter(prefix="/v1", tags=["homepage"])

UserId = Annotated[str, Query(min_length=1, max_length=128, description="The member.")]
Device = Annotated[str, Query(min_length=1, max_length=64, description="tv, mobile, web, ...")]
Country = Annotated[str, Query(min_length=1, max_length=64, description="ISO country code.")]
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
    # A page has ~200 images: resolve the media mount's URL once, not per image (url_for
    # walks the routes; the path is appended unquoted, exactly as url_for does).
    media = str(request.url_for("media", path=""))
    body = HomepagePublic(
        user_id=page.user_id,
        rows=[
            RowPublic(
                id=r.row.row_id,
                title=r.row.heading,
                items=[
                    RowItemPublic(
                        title_id=c.title.title_id,
                        name=c.title.name,
                        artwork=ArtworkPublic(
                            variant_id=c.variant.variant_id,
                            url=media + _image_path(c.variant, aspect),
                            event_id=c.decision.event_id,
                        ),
                    )
                    for c in r.items
                ],
            )
            for r in page.rows
        ],
    )
    # Validated once above; returned as bytes so it is not validated a second time.
    return Response(body.model_dump_json(), media_type="application/json")


def _image_path(variant: Variant, aspect: str | None) -> str:
    crop = variant.crops.get(aspect) if aspect is not None else None
    return crop.image_path if crop is not None else variant.image_path
