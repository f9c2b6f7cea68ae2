"""Rendering pages: the Jinja2 templates, the context every page gets, and the static files.

Static files are served by a route here rather than a mount, so the page routers carry all
they need and the app factory only includes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from artwork.domain import Variant
from artwork.web.security import csrf_token, current_principal

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=WEB_DIR / "templates")
STATIC_DIR = WEB_DIR / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}

router = APIRouter(include_in_schema=False)


def render(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    """Render ``template`` with the page context: who is signed in and the form token."""
    base = {"principal": current_principal(request), "csrf_token": csrf_token(request)}
    return TEMPLATES.TemplateResponse(request, template, base | context, status_code=status)


def media_path(variant: Variant, aspect: str | None = None) -> str:
    """The site-relative URL of a variant's image (its crop in ``aspect`` when it has one).

    Pages link images relative to themselves, so they load from whatever address the page
    was opened at.
    """
    crop = variant.crops.get(aspect) if aspect is not None else None
    return "/media/" + quote(crop.image_path if crop is not None else variant.image_path)


def wants_json(request: Request) -> bool:
    """Whether the caller asked for JSON (the pages' script) rather than a page."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


@router.get("/static/{name}", name="static")
def static_file(name: str) -> FileResponse:
    """The pages' stylesheet and script (a flat folder: no sub-paths)."""
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
        raise HTTPException(status_code=404, detail=f"no static file {name!r}")
    return FileResponse(
        path, media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "no-cache"}
    )
