"""The member homepage (``GET /``) and its play button (``POST /play``).

Each tile is the artwork the bandit chose for this member and device, with a "why this image"
panel: the variant's scores and tags, the probability it was shown with and the features that
set it apart. Pressing a tile records a play (watched through, as a simulated member would)
as the reward of that tile's event id, so a person can reload and watch the choices change.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from artwork.api.auth import Principal
from artwork.api.deps import ServicesDep
from artwork.api.params import Device, UserId
from artwork.bandit.rewards import RewardEvent
from artwork.errors import ArtworkError, TitleNotFoundError
from artwork.homepage import ArtworkChoice, make_context
from artwork.web.queries import members, top_features
from artwork.web.rendering import media_path, render, wants_json
from artwork.web.security import check_csrf, require
from artwork.wiring import Services

router = APIRouter(include_in_schema=False)
DEVICES: tuple[str, ...] = ("web", "tv", "mobile", "tablet")
DEFAULT_ROWS = 10
"""Rows the page shows at first (a page holds up to ``ARTWORK_PAGE_ROWS``); "more rows" adds ten."""
_viewer = Depends(require("client", "editor"))


@router.get("/", response_class=HTMLResponse)
def homepage_page(
    request: Request,
    services: ServicesDep,
    principal: Annotated[Principal, _viewer],
    user_id: UserId = "member-0000",
    device: Device = "web",
    played: Annotated[str | None, Query(max_length=512)] = None,
    notice: Annotated[str | None, Query(max_length=512)] = None,
    rows: Annotated[int, Query(ge=1, le=100)] = DEFAULT_ROWS,
) -> HTMLResponse:
    page = services.homepage.page(make_context(user_id, device), principal=principal.key_id)
    shown = [
        {"heading": r.row.heading, "items": [_tile(request, c) for c in r.items]}
        for r in page.rows[:rows]
    ]
    more = (
        f"/?{urlencode({'user_id': user_id, 'device': device, 'rows': rows + DEFAULT_ROWS})}"
        if len(page.rows) > rows
        else None
    )
    return render(
        request,
        "homepage.html",
        {
            "user_id": user_id,
            "device": device,
            "devices": DEVICES if device in DEVICES else (*DEVICES, device),
            "members": members(services.catalog),
            "rows": shown,
            "more": more,
            "total_rows": len(page.rows),
            "played": played,
            "notice": notice,
        },
    )


def _tile(request: Request, choice: ArtworkChoice) -> dict[str, Any]:
    variant, decision = choice.variant, choice.decision
    shown = sorted(
        zip(decision.action_ids, decision.probabilities, strict=True), key=lambda p: -p[1]
    )
    return {
        "title_id": choice.title.title_id,
        "name": choice.title.name,
        "url": media_path(variant, "16:9"),
        "event_id": decision.event_id,
        "variant_id": variant.variant_id,
        "rank": variant.rank,
        "score": variant.score,
        "scores": sorted(variant.scores.items()),
        "tags": sorted(variant.tags.items(), key=lambda t: -t[1]),
        "probability": decision.chosen_probability,
        "probabilities": shown,
        "model_version": decision.model_version,
        "policy": decision.policy.get("name", decision.policy.get("mode", "")),
        "mode": decision.policy.get("mode", ""),
        "features": top_features(decision),
    }


@router.post("/play", dependencies=[Depends(check_csrf)])
def play(
    request: Request,
    services: ServicesDep,
    principal: Annotated[Principal, _viewer],
    event_id: Annotated[str, Form(min_length=1, max_length=1024)],
    title_id: Annotated[str, Form(min_length=1, max_length=128)],
    user_id: Annotated[str, Form(min_length=1, max_length=128)] = "member-0000",
    device: Annotated[str, Form(min_length=1, max_length=64)] = "web",
) -> Response:
    """Record a play of the tile's title as the reward of its event id.

    The page's script asks for JSON and shows the outcome in place; a plain form post is sent
    back to the homepage with the outcome in a notice.
    """
    try:
        name, seconds = _title_name_and_length(services, title_id)
        outcome = services.bandit.reward(
            event_id, event=RewardEvent("play", seconds), principal=principal.key_id
        )
    except ArtworkError as exc:
        if wants_json(request):
            raise
        return _back(user_id, device, notice=exc.message)
    message = (
        f"Recorded a play of {name}: reward {outcome.value:g} for this image"
        if outcome.recorded
        else f"{name} was already played from this page: its first reward "
        f"({outcome.value:g}) stands"
    )
    if wants_json(request):
        return JSONResponse(
            {
                "event_id": outcome.event_id,
                "title_id": title_id,
                "value": outcome.value,
                "recorded": outcome.recorded,
                "model_version": outcome.model_version,
                "message": message,
            }
        )
    return _back(user_id, device, played=message)


def _title_name_and_length(services: Services, title_id: str) -> tuple[str, float]:
    """The title's name and the seconds a watched-through play lasts.

    Without a known running time, long enough to count in full under every reward definition.
    """
    settings = services.settings
    fallback = max(settings.qualified_play_s, settings.watch_time_cap_s)
    try:
        title = services.catalog.get_title(title_id)
    except TitleNotFoundError:
        return title_id, fallback
    duration = title.duration_s
    return title.name, float(duration) if duration and duration > 0 else fallback


def _back(user_id: str, device: str, **message: str) -> RedirectResponse:
    query = urlencode({"user_id": user_id, "device": device, **message})
    return RedirectResponse(f"/?{query}", status_code=303)
