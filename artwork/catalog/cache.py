"""What a serving process keeps of the catalogue in memory, and when it lets go of it.

A homepage needs the approved variants (with their crops) of about 200 titles and the
member's plays; reading them from the database for every page cost more than the rest of the
page together. :class:`CatalogCache` keeps them in memory and polls the catalogue's change
counters (one tiny query, at most every ``poll_s``): when an editor approves a variant, a
title is ingested or replaced, or plays are posted, in this process or any other on the same
database, every cached copy of that kind is dropped and read again on next use. So a change
shows on the next page of every worker within ``poll_s`` plus one request, and at once in the
process that made it (the catalogue tells its caches).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from artwork.catalog.counters import CATALOG, INTERACTIONS
from artwork.catalog.repository import Catalog
from artwork.domain import Interaction, Title, Variant, VariantStatus
from artwork.errors import ArtworkError

MEMBERS_CACHED = 100_000
"""Members whose plays are kept; the cache starts over when it is full."""


class CatalogCache:
    """Approved variants, titles and members' plays, cached until the catalogue changes.

    Args:
        catalog: The catalogue to read through.
        poll_s: Longest time between looks at the change counters.

    Raises:
        ValueError: ``poll_s`` < 0.
    """

    def __init__(self, catalog: Catalog, *, poll_s: float = 1.0) -> None:
        if poll_s < 0:
            raise ValueError(f"poll_s must be >= 0, got {poll_s}")
        self.catalog = catalog
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self._checked_at = -float("inf")
        self._counters: dict[str, int] | None = None
        self._approved: dict[str, list[Variant]] = {}
        self._titles: dict[str, Title] = {}
        self._plays: dict[str, list[Interaction]] = {}
        self._generation = 0
        catalog.on_change(self._written)

    def _written(self) -> None:
        """This process wrote the catalogue: look at the counters on the next read."""
        self._checked_at = -float("inf")

    @property
    def generation(self) -> int:
        """Changes whenever anything cached is dropped (for caches derived from this one)."""
        self.check()
        return self._generation

    def check(self, force: bool = False) -> None:
        """Drop what changed if the counters moved; polls at most every ``poll_s``."""
        now = time.monotonic()
        if not force and now - self._checked_at < self._poll_s:
            return
        with self._lock:
            if not force and now - self._checked_at < self._poll_s:
                return
            self._checked_at = now
        try:
            counters = self.catalog.change_counters()
        except ArtworkError:
            return  # keep serving what is cached; the next poll tries again
        with self._lock:
            before = self._counters
            self._counters = counters
            if before is None:
                return
            if before.get(CATALOG) != counters.get(CATALOG):
                self._approved = {}
                self._titles = {}
                self._generation += 1
            if before.get(INTERACTIONS) != counters.get(INTERACTIONS):
                self._plays = {}
                self._generation += 1

    def invalidate(self) -> None:
        """Drop everything now (this process changed the catalogue)."""
        with self._lock:
            self._approved, self._titles, self._plays = {}, {}, {}
            self._generation += 1
            self._checked_at = -float("inf")

    def approved(self, title_ids: Iterable[str]) -> dict[str, list[Variant]]:
        """Approved variants of these titles in rank order; titles without any are left out."""
        self.check()
        ids = list(dict.fromkeys(title_ids))
        cached = self._approved
        fresh: dict[str, list[Variant]] = {}
        missing = [t for t in ids if t not in cached]
        if missing:
            found = self.catalog.variants_for(missing, VariantStatus.APPROVED)
            fresh = {t: found.get(t, []) for t in missing}
            with self._lock:
                # Stored only if nothing was dropped meanwhile: what we read may be stale then.
                if self._approved is cached:
                    cached.update(fresh)
        chosen = {t: fresh[t] if t in fresh else cached.get(t, []) for t in ids}
        return {t: v for t, v in chosen.items() if v}

    def title(self, title_id: str) -> Title:
        """One title.

        Raises:
            TitleNotFoundError: No such title.
        """
        self.check()
        found = self._titles.get(title_id)
        if found is None:
            found = self.catalog.get_title(title_id)
            self._titles[title_id] = found
        return found

    def plays(self, user_id: str) -> list[Interaction]:
        """A member's plays, oldest first."""
        self.check()
        cached = self._plays
        found = cached.get(user_id)
        if found is None:
            found = self.catalog.interactions(user_id)
            with self._lock:
                if self._plays is cached:
                    if len(cached) >= MEMBERS_CACHED:
                        cached.clear()
                    cached[user_id] = found
        return found
