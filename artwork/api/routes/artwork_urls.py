"""Turning a chosen variant into the public artwork object with an absolute image URL.

Image URLs start with ``ARTWORK_PUBLIC_BASE_URL`` (default ``http://ARTWORK_HOST:ARTWORK_PORT``),
never with the request's ``Host`` header, which the caller controls.

``?aspect=16:9`` (or ``2:3``) asks for the variant's crop in that artwork format; a variant
without that crop (ingested before crops existed) falls back to its full frame.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query, Request

from artwork.api.schemas import ArtworkPublic, CropPublic
from artwork.config import Settings
from artwork.domain import Variant
from artwork.homepage import ArtworkChoice

#: An artwork format, ``width:height``.
ASPECT = r"^[0-9]{1,3}:[0-9]{1,3}$"

Aspect = Annotated[
    str | None,
    Query(
        pattern=ASPECT,
        description="Artwork format of the image: 16:9 (rows) or 2:3 (posters); default the "
        "full frame.",
    ),
]


#: Bind-all addresses are no address a client can use: such a server's URLs name this host.
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}


def public_base_url(settings: Settings) -> str:
    """``ARTWORK_PUBLIC_BASE_URL``, or where ``artwork serve`` binds (loopback for 0.0.0.0)."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    host = _WILDCARDS.get(settings.host, settings.host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


#: A media path quoted for a URL; a page repeats the same few thousand paths.
_quoted = lru_cache(maxsize=100_000)(quote)


def media_url(request: Request, path: str) -> str:
    settings: Settings = request.app.state.settings
    return media_url_under(public_base_url(settings), path)


def media_url_under(base_url: str, path: str) -> str:
    """The URL of a media path under ``base_url`` (:func:`public_base_url`)."""
    return f"{base_url}/media/{_quoted(path)}"


def image_path(variant: Variant, aspect: str | None = None) -> str:
    """The variant's image in the ``aspect`` crop, or its full frame."""
    crop = variant.crops.get(aspect) if aspect is not None else None
    return crop.image_path if crop is not None else variant.image_path


def image_url(request: Request, variant: Variant, aspect: str | None = None) -> str:
    return media_url(request, image_path(variant, aspect))


def crops_public(request: Request, variant: Variant) -> dict[str, CropPublic]:
    return {
        name: CropPublic(
            url=media_url(request, crop.image_path),
            width=crop.width,
            height=crop.height,
            box=list(crop.box),
        )
        for name, crop in variant.crops.items()
    }


def artwork_json(base_url: str, choice: ArtworkChoice, aspect: str | None = None) -> dict[str, Any]:
    """:class:`ArtworkPublic` as plain JSON values, for responses serialised in bulk.

    ``base_url`` is :func:`public_base_url` (looked up once per response).
    """
    return {
        "variant_id": choice.variant.variant_id,
        "url": media_url_under(base_url, image_path(choice.variant, aspect)),
        "event_id": choice.decision.event_id,
    }


def artwork_public(
    request: Request, choice: ArtworkChoice, aspect: str | None = None
) -> ArtworkPublic:
    settings: Settings = request.app.state.settings
    return ArtworkPublic(**artwork_json(public_base_url(settings), choice, aspect))
