"""Liveness (``/healthz``: the process answers, nothing else is touched) and readiness
(``/readyz``: the database, the media store, the model and, where this process runs it, the
learner). Both are open: no API key."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from artwork.api.deps import ServicesDep
from artwork.api.schemas import HealthPublic, ReadyPublic
from artwork.services import Services

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthPublic)
async def healthz() -> HealthPublic:
    # async and without dependencies: answers even when every worker thread is stuck on a lock
    return HealthPublic()


def learner_status(services: Services) -> str:
    """'ok', 'off' (this process runs no learner) or what is wrong with the learner.

    Reads the bandit thread of :class:`~artwork.services.Services`; the one place to switch
    to a health method of the services when they offer one.
    """
    if services.settings.learner != "background":
        return "off"
    worker = services._worker
    if worker is None:
        return "not started"
    thread = worker._thread
    return "ok" if thread is not None and thread.is_alive() else "the learner thread has stopped"


@router.get(
    "/readyz",
    response_model=ReadyPublic,
    responses={503: {"model": ReadyPublic, "description": "A check failed."}},
)
def readyz(services: ServicesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    titles = model_version = None
    try:
        titles = services.catalog.count_titles()
        checks["database"] = "ok"
    except Exception as exc:  # a readiness probe reports, it does not fail
        checks["database"] = f"unavailable ({type(exc).__name__})"
    media = services.media.root
    checks["media"] = "ok" if media.is_dir() else "the media folder is missing"
    try:
        model_version = services.bandit.model_version
        checks["model"] = "ok"
    except Exception as exc:
        checks["model"] = f"unavailable ({type(exc).__name__})"
    checks["learner"] = learner_status(services)
    ready = all(v in ("ok", "off") for v in checks.values())
    body = ReadyPublic(
        status="ready" if ready else "unavailable",
        checks=checks,
        titles=titles,
        model_version=model_version,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
