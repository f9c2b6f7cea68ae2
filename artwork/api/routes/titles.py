"""Titles: the catalogue, one title with its variants, and one title's artwork for a member."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from artwork.api.deps import ClientKey, EditorKey, ServicesDep
from artwork.api.params import Country, Device, TitleId, UserId
from artwork.api.responses import AUTH, BODY, errors
from artwork.api.routes.artwork_urls import Aspect, artwork_public, crops_public, image_url
from artwork.api.schemas import (
    TitleArtworkPublic,
    TitlePublic,
    TitlesImportIn,
    TitlesImportPublic,
    TitleSummaryPublic,
    VariantPublic,
)
from artwork.catalog.titles_import import TitleRecord, delete_metadata, import_titles, load_metadata
from artwork.domain import Variant
from artwork.homepage import make_context

router = APIRouter(prefix="/v1/titles", tags=["titles"])


@router.get("", response_model=list[TitleSummaryPublic], responses=errors(*AUTH))
def list_titles(services: ServicesDep, _editor: EditorKey) -> list[TitleSummaryPublic]:
    return [
        TitleSummaryPublic(
            title_id=t.title_id, name=t.name, genres=list(t.genres), duration_s=t.duration_s
        )
        for t in services.catalog.list_titles()
    ]


@router.get("/{title_id}", response_model=TitlePublic, responses=errors(*AUTH, 404))
def get_title(
    title_id: TitleId, request: Request, services: ServicesDep, _editor: EditorKey
) -> TitlePublic:
    title = services.catalog.get_title(title_id)
    year, description = load_metadata(services.catalog, title_id)
    return TitlePublic(
        title_id=title.title_id,
        name=title.name,
        genres=list(title.genres),
        duration_s=title.duration_s,
        created_at=title.created_at,
        year=year,
        description=description,
        variants=[variant_public(request, v) for v in services.catalog.variants(title_id)],
    )


@router.get("/{title_id}/artwork", response_model=TitleArtworkPublic, responses=errors(*AUTH, 404))
def get_title_artwork(
    title_id: TitleId,
    request: Request,
    services: ServicesDep,
    principal: ClientKey,
    user_id: UserId,
    device: Device = "unknown",
    country: Country = "unknown",
    aspect: Aspect = None,
) -> TitleArtworkPublic:
    choice = services.homepage.title_artwork(
        make_context(user_id, device, country), title_id, principal=principal.key_id
    )
    return TitleArtworkPublic(
        title_id=choice.title.title_id,
        name=choice.title.name,
        artwork=artwork_public(request, choice, aspect),
    )


def variant_public(request: Request, v: Variant) -> VariantPublic:
    return VariantPublic(
        variant_id=v.variant_id,
        rank=v.rank,
        status=v.status.value,
        frame_time_s=v.frame_time_s,
        score=v.score,
        scores=dict(v.scores),
        tags=dict(v.tags),
        embedder=v.embedder,
        width=v.width,
        height=v.height,
        url=image_url(request, v),
        explanation=v.explanation,
        crops=crops_public(request, v),
    )


@router.get(
    "/{title_id}/variants", response_model=list[VariantPublic], responses=errors(*AUTH, 404)
)
def list_variants(
    title_id: TitleId, request: Request, services: ServicesDep, _editor: EditorKey
) -> list[VariantPublic]:
    services.catalog.get_title(title_id)  # 404 for an unknown title
    return [variant_public(request, v) for v in services.catalog.variants(title_id)]


@router.delete(
    "/{title_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(*AUTH, 404) | {204: {"description": "Deleted, with its images."}},
)
def delete_title(title_id: TitleId, services: ServicesDep, _editor: EditorKey) -> Response:
    """Delete a title, its variants, plays and images (its logged decisions stay: evidence)."""
    services.catalog.get_title(title_id)
    delete_metadata(services.catalog, title_id)
    for path in services.catalog.delete_title(title_id):
        services.media.delete(path)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/import", response_model=TitlesImportPublic, responses=errors(*AUTH, *BODY))
def import_titles_api(
    body: TitlesImportIn, services: ServicesDep, _editor: EditorKey
) -> TitlesImportPublic:
    """Titles without video (metadata only); existing ids are reported, not changed."""
    report = import_titles(
        services.catalog,
        (
            TitleRecord(t.title_id, t.name, tuple(t.genres), t.year, t.description)
            for t in body.titles
        ),
    )
    return TitlesImportPublic(imported=report.imported, problems=report.problems)
