"""The web pages, one router per page family in ``artwork.web``, included as one router."""

from __future__ import annotations

from fastapi import APIRouter

from artwork.web import editor, home, login, policy, rendering

router = APIRouter(include_in_schema=False)
for _module in (rendering, login, home, editor, policy):
    router.include_router(_module.router)
