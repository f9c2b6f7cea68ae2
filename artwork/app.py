"""The FastAPI application factory: the API's routers and the web pages in one app.

It sits above both :mod:`artwork.api` and :mod:`artwork.web` (the pages use the API's keys,
dependencies and upload handling), so neither package imports the other in a circle.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

import artwork
from artwork.api import metrics as service_metrics
from artwork.api.auth import RateLimiter
from artwork.api.errors import install_error_handlers
from artwork.api.homepage_fast_path import HomepageFastPath
from artwork.api.jobs import JobRunner
from artwork.api.middleware import RequestMiddleware, record_route
from artwork.api.reward_fast_path import RewardFastPath
from artwork.api.routes import (
    decisions,
    health,
    homepage,
    interactions,
    jobs,
    keys,
    metrics,
    rewards,
    titles,
    uploads,
    variants,
)
from artwork.catalog.jobs import JobStore
from artwork.catalog.keys import KeyStore
from artwork.config import Settings, get_settings
from artwork.web import routes as pages
from artwork.wiring import Services

DESCRIPTION = """Personalised artwork and homepage rows, with rewards for learning.

Every endpoint but `/healthz`, `/readyz` and `/metrics` needs an API key with a scope:
`Authorization: Bearer KEY` (or the `artwork_key` cookie). Keys come from
`artwork keys create --scope client|editor|admin`. `/metrics` is open: keep it on an
internal network."""


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app. Nothing is opened until startup (or until ``services`` is passed in).

    Args:
        settings: defaults to ``services.settings``, then :func:`artwork.config.get_settings`.
        services: already-built services to serve (tests); otherwise built at startup.
    """
    resolved = settings or (services.settings if services else None) or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or Services.from_settings(resolved)
        app.state.keys = KeyStore(
            app.state.services.engine, poll_s=app.state.services.settings.catalog_poll_s
        )
        app.state.jobs = JobStore(app.state.services.engine)
        app.state.job_runner = JobRunner.start(app.state.services, app.state.jobs)
        # Start the bandit thread now, not at the first page: a restarted server must take
        # over learning (and follow snapshots) before any traffic arrives.
        _ = app.state.services.bandit
        service_metrics.set_model_version(lambda: _model_version(app.state.services))
        service_metrics.set_queue_depth(
            "decision_log", lambda: float(app.state.services.learner_status().queue_depth)
        )
        service_metrics.watch_learner(
            lambda: float(app.state.services.learner_status().learning),
            lambda: float(app.state.services.learner_status().learner_restarts),
        )
        try:
            yield
        finally:
            app.state.job_runner.close()
            if owned:
                app.state.services.close()

    app = FastAPI(
        title="artwork",
        version=artwork.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(record_route)],
    )
    app.state.settings = resolved
    app.state.rate_limiter = RateLimiter.from_settings(resolved)
    install_error_handlers(app)
    routers = (
        health,
        metrics,
        homepage,
        uploads,
        titles,
        variants,
        jobs,
        rewards,
        interactions,
        decisions,
        keys,
        pages,
    )
    for module in routers:
        app.include_router(module.router)
    media_dir = services.media.root if services else resolved.resolved_media_dir
    media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=media_dir, check_dir=False), name="media")
    # Added first, so it runs inside RequestMiddleware (request ids, limits, headers, metrics).
    app.add_middleware(RewardFastPath)
    app.add_middleware(HomepageFastPath)
    app.add_middleware(RequestMiddleware, settings=resolved)
    return app


def _model_version(services: Services) -> float:
    try:
        return float(services.bandit.model_version)
    except Exception:  # a scrape must not fail because the model is unavailable
        return -1.0
