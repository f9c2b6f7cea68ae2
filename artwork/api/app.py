"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import artwork
from artwork.api.auth import RateLimiter
from artwork.api.errors import install_error_handlers
from artwork.api.routes import (
    decisions,
    health,
    homepage,
    keys,
    pages,
    rewards,
    titles,
    uploads,
)
from artwork.catalog.keys import KeyStore
from artwork.config import Settings, get_settings
from artwork.services import Services


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app. Nothing is opened until startup (or until ``services`` is passed in).

    Args:
        settings: defaults to :func:`artwork.config.get_settings`.
        services: already-built services to serve (tests); otherwise built at startup.
    """
    resolved = settings or (services.settings if services else None) or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or Services.from_settings(resolved)
        app.state.keys = KeyStore(app.state.services.engine)
        try:
            yield
        finally:
            if owned:
                app.state.services.close()

    app = FastAPI(
        title="artwork",
        version=artwork.__version__,
        description="Personalised artwork and homepage rows, with rewards for learning.",
        lifespan=lifespan,
    )
    app.state.rate_limiter = RateLimiter.from_settings(resolved)
    install_error_handlers(app)
    for module in (health, homepage, titles, uploads, rewards, decisions, keys, pages):
        app.include_router(module.router)
    media_dir = services.media.root if services else resolved.resolved_media_dir
    media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=media_dir, check_dir=False), name="media")
    return app
