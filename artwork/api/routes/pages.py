"""GET /: the member's homepage rendered as HTML, each tile the artwork chosen for them."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from artwork.api.deps import ClientKey, ServicesDep
from artwork.api.params import Device, UserId
from artwork.api.routes.artwork_urls import image_url
from artwork.serving import make_context

router = APIRouter(tags=["pages"])
_TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[2] / "web" / "templates")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def homepage_html(
    request: Request,
    services: ServicesDep,
    _client: ClientKey,
    user_id: UserId = "member-0000",
    device: Device = "web",
) -> HTMLResponse:
    page = services.homepage.page(make_context(user_id, device))
    rows = [
        {
            "title": r.row.heading,
            "items": [
                {
                    "name": c.title.name,
                    "url": image_url(request, c.variant),
                    "event_id": c.decision.event_id,
                    "title_id": c.title.title_id,
                }
                for c in r.items
            ],
        }
        for r in page.rows
    ]
    return _TEMPLATES.TemplateResponse(request, "homepage.html", {"user_id": user_id, "rows": rows})
