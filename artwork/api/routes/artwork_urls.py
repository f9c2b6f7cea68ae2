"""Turning a chosen variant into the public artwork object with an absolute image URL.

``?aspect=16:9`` (or ``2:3``) asks for the variant's crop in that artwork format; a variant
without that crop (ingested before crops existed) falls back to its full frame.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request

from artwork.api.schemas import ArtworkPublic, CropPublic
from artwork.domain import Variant
from artwork.serving import ArtworkChoice

Aspect = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{1,3}:[0-9]{1,3}$",
        description="Artwork format of the image: 16:9 (rows) or 2:3 (posters); default the "
        "full frame.",
    ),
]


def image_url(request: Request, variant: Variant, aspect: str | None = None) -> str:
    crop = variant.crops.get(aspect) if aspect is not None else None
    path = crop.image_path if crop is not None else variant.image_path
    return str(request.url_for("media", path=path))


def crops_public(request: Request, variant: Variant) -> dict[str, CropPublic]:
    return {
        name: CropPublic(
            url=str(request.url_for("media", path=crop.image_path)),
            width=crop.width,
            height=crop.height,
            box=list(crop.box),
        )
        for name, crop in variant.crops.items()
    }


def artwork_public(
    request: Request, choice: ArtworkChoice, aspect: str | None = None
) -> ArtworkPublic:
    return ArtworkPublic(
        variant_id=choice.variant.variant_id,
        url=image_url(request, choice.variant, aspect),
        event_id=choice.decision.event_id,
    )
