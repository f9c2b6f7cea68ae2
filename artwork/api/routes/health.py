"""Liveness (``/healthz``: the process answers, nothing else is touched) and readiness
(``/readyz``: the database, the media store, the model and, where this process runs it, the
learner). Both are open: no API key."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from artwork.api.deps import ServicesDep
from artwork.api.schemas import HealthPublic, ReadyPublic
from artwork.wiring import Services

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthPublic)
async def healthz() -> HealthPublic:
    # async and without dependencies: answers even when every worker thread is stuck on a lock
    return HealthPublic()


def learner_status(services: Services) -> str:
    """'ok' (this process learns), 'standby' (another process holds the database's learner
    lock and this one takes over if it dies), 'process' (``ARTWORK_LEARNER=process``: the
    learner runs in a process of its own, which ``artwork serve`` keeps running), 'off'
    (``ARTWORK_LEARNER=off``) or what is wrong.
    """
    if services.settings.learner != "background":
        return services.settings.learner
    status = services.learner_status()
    if not status.worker_alive:
        return "the bandit thread has stopped"
    return "ok" if status.learning else "standby"


def decision_log_status(services: Services) -> str:
    """'ok', or why decisions are not being written."""
    status = services.learner_status()
    if status.queue_depth >= status.queue_capacity:
        return "the decision queue is full"
    if status.queue_depth and not status.writer_alive:
        return "the decision writer has stopped"
    return "ok"


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
    checks["decision_log"] = decision_log_status(services)
    ready = all(v in ("ok", "off", "standby", "process") for v in checks.values())
    body = ReadyPublic(
        status="ready" if ready else "unavailable",
        checks=checks,
        titles=titles,
        model_version=model_version,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
