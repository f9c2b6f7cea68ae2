"""Turning a chosen variant into the public artwork object with an absolute image URL."""

from __future__ import annotations

from fastapi import Request

from artwork.api.schemas import ArtworkPublic
from artwork.domain import Variant
from artwork.serving import ArtworkChoice


def image_url(request: Request, variant: Variant) -> str:
    return str(request.url_for("media", path=variant.image_path))


def artwork_public(request: Request, choice: ArtworkChoice) -> ArtworkPublic:
    return ArtworkPublic(
        variant_id=choice.variant.variant_id,
        url=image_url(request, choice.variant),
        event_id=choice.decision.event_id,
    )
