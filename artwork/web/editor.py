"""Editor pages: the titles with their review state, one title's variants to approve or reject,
and the upload form that extracts a new title.

``POST /editor/variants/{variant_id}/status`` sets a variant's editorial state in the
catalogue (as ``artwork variants approve|reject`` does); ``POST /editor/upload`` runs the same
upload as ``POST /v1/titles``. Both answer JSON to the pages' script and redirect a plain form.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from artwork.api.deps import EditorKey, ServicesDep
from artwork.api.routes.uploads import upload_title
from artwork.domain import Variant, VariantStatus
from artwork.errors import ArtworkError
from artwork.web.charts import Point, interval_chart
from artwork.web.queries import Rate, review_states, variant_performance
from artwork.web.rendering import media_path, render, wants_json
from artwork.web.security import check_csrf, require

router = APIRouter(prefix="/editor", include_in_schema=False)
_editor = Depends(require("editor"))
CROP_FORMATS: tuple[str, ...] = ("16:9", "2:3")


@router.get("", response_class=HTMLResponse, dependencies=[_editor])
def editor_titles(
    request: Request,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=128)] = "",
    notice: Annotated[str | None, Query(max_length=512)] = None,
) -> HTMLResponse:
    return render(
        request,
        "editor_titles.html",
        {"titles": review_states(services.catalog, q), "q": q, "notice": notice},
    )


@router.get("/titles/{title_id}", response_class=HTMLResponse, dependencies=[_editor])
def editor_title(
    request: Request,
    services: ServicesDep,
    title_id: str,
    notice: Annotated[str | None, Query(max_length=512)] = None,
) -> HTMLResponse:
    title = services.catalog.get_title(title_id)
    title_variants = services.catalog.variants(title_id)
    performance = variant_performance(services.bandit.log, title_id)
    chart = interval_chart(
        [
            (f"#{v.rank} {v.variant_id[:10]}", _point(performance[v.variant_id]))
            for v in title_variants
            if v.variant_id in performance
        ],
        title=f"Take fraction per variant of {title.name}, with 95% intervals",
        x_label="take fraction (rewarded impressions / impressions)",
        x_range=(0.0, 1.0),
    )
    return render(
        request,
        "editor_title.html",
        {
            "title": title,
            "variants": [
                _variant(request, v, performance.get(v.variant_id)) for v in title_variants
            ],
            "chart": chart,
            "notice": notice,
        },
    )


def _point(rate: Rate) -> Point:
    return Point(0.0, rate.value, rate.low, rate.high)


def _variant(request: Request, variant: Variant, rate: Rate | None) -> dict[str, Any]:
    crops = [
        (name, media_path(variant, name), variant.crops[name])
        for name in CROP_FORMATS
        if name in variant.crops
    ]
    return {
        "id": variant.variant_id,
        "rank": variant.rank,
        "status": variant.status.value,
        "score": variant.score,
        "scores": sorted(variant.scores.items()),
        "tags": sorted(variant.tags.items(), key=lambda t: -t[1]),
        "explanation": variant.explanation,
        "frame_time_s": variant.frame_time_s,
        "url": media_path(variant),
        "width": variant.width,
        "height": variant.height,
        "crops": crops,
        "rate": rate,
    }


@router.post("/variants/{variant_id}/status", dependencies=[_editor, Depends(check_csrf)])
def set_status(
    request: Request,
    services: ServicesDep,
    variant_id: str,
    status: Annotated[Literal["approved", "rejected", "proposed"], Form()],
) -> Response:
    services.catalog.set_variant_status(variant_id, VariantStatus(status))
    variant = services.catalog.get_variant(variant_id)
    if wants_json(request):
        return JSONResponse(
            {"variant_id": variant_id, "title_id": variant.title_id, "status": variant.status.value}
        )
    notice = quote(f"variant {variant_id} is now {variant.status.value}")
    return RedirectResponse(
        f"/editor/titles/{quote(variant.title_id)}?notice={notice}#v-{variant_id}", status_code=303
    )


@router.post("/upload", dependencies=[Depends(check_csrf)])
async def upload(request: Request, services: ServicesDep, editor: EditorKey) -> Response:
    """Upload a title as ``POST /v1/titles`` does: the body streams, extraction runs as a job.

    The page's script follows the job it answers with (202 and the job); a plain form post is
    sent back to the editor's list with a notice.
    """
    try:
        answer = await upload_title(request, services, editor)
    except ArtworkError as exc:
        if wants_json(request):
            raise
        return RedirectResponse(f"/editor?notice={quote(exc.message)}", status_code=303)
    if wants_json(request):
        return answer
    notice = quote("uploaded: the artwork is being extracted; reload to see its progress")
    return RedirectResponse(f"/editor?notice={notice}", status_code=303)
