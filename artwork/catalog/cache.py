"""What a serving process keeps of the catalogue in memory, and when it lets go of it.

A homepage needs the approved variants (with their crops) of about 200 titles and the
member's plays; reading them from the database for every page cost more than the rest of the
page together. :class:`CatalogCache` keeps them in memory and polls the catalogue's change
counters (one tiny query, at most every ``poll_s``): when an editor approves a variant, or a
title is ingested or replaced, in this process or any other on the same database, every
cached copy of the catalogue is dropped and read again on next use. So a change shows on the
next page of every worker within ``poll_s`` plus one request, and at once in the process that
made it (the catalogue tells its caches).

Plays arrive all the time (every member's), so they are dropped member by member: the plays
counter moves by one per play added, and one more query (one snapshot) reads the counter and
the members of the plays added since the last look. When as many plays are found as the
counter moved, exactly those members' plays are dropped; otherwise (plays deleted, a
transaction that committed out of order, more than ``MEMBERS_DROPPED_ONE_BY_ONE``) every
member's are.
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

MEMBERS_DROPPED_ONE_BY_ONE = 10_000
"""Plays added between two looks above which every member's plays are dropped at once."""


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
        # The plays counter and the newest play's number when the plays were last looked at;
        # the count of drops of members' plays (a read that overlapped one is not kept).
        self._plays_seen: tuple[int, int] | None = None
        self._plays_dropped = 0
        self._generation = 0
        self._catalog_generation = 0
        catalog.on_change(self._written)

    def _written(self) -> None:
        """This process wrote the catalogue: look at the counters on the next read."""
        self._checked_at = -float("inf")

    @property
    def generation(self) -> int:
        """Changes whenever anything cached is dropped (for caches derived from this one)."""
        self.check()
        return self._generation

    @property
    def catalog_generation(self) -> int:
        """Changes whenever the cached catalogue (titles, variants) is dropped; not with
        plays (a cache derived from one member's plays keeps their list and compares it)."""
        self.check()
        return self._catalog_generation

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
            if before is not None and before.get(CATALOG) != counters.get(CATALOG):
                self._approved = {}
                self._titles = {}
                self._generation += 1
                self._catalog_generation += 1
        if before is None or before.get(INTERACTIONS) != counters.get(INTERACTIONS):
            self._drop_changed_plays()

    def _drop_changed_plays(self) -> None:
        """Drop the plays of the members who played since the last look (every member's when
        that cannot be told exactly); on the first look, only note where the plays stand."""
        seen = self._plays_seen
        try:
            if seen is None:  # where the plays stand: no members to read
                looked = self.catalog.plays_since(0, 0)
            else:
                looked = self.catalog.plays_since(seen[1], MEMBERS_DROPPED_ONE_BY_ONE + 1)
        except ArtworkError:
            looked = None  # cannot tell who played: everyone's, and look afresh next poll
        with self._lock:
            changed: list[str] | None = None  # None: every member's
            if looked is None:
                self._plays_seen = None
            else:
                counter, newest, members = looked
                self._plays_seen = (counter, newest)
                if seen is None:
                    if not self._plays:
                        return
                    # else a look that failed before: what is cached may be stale
                elif counter == seen[0]:
                    return
                elif len(members) == counter - seen[0] <= MEMBERS_DROPPED_ONE_BY_ONE:
                    changed = members
            if changed is None:
                self._plays = {}
            else:
                for user_id in changed:
                    self._plays.pop(user_id, None)
            self._plays_dropped += 1
            self._generation += 1

    def invalidate(self) -> None:
        """Drop everything now (this process changed the catalogue)."""
        with self._lock:
            self._approved, self._titles, self._plays = {}, {}, {}
            self._plays_dropped += 1
            self._generation += 1
            self._catalog_generation += 1
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
        found = self._plays.get(user_id)
        if found is None:
            dropped = self._plays_dropped
            found = self.catalog.interactions(user_id)
            with self._lock:
                # Kept only if nothing was dropped meanwhile: what we read may be stale then.
                if self._plays_dropped == dropped:
                    if len(self._plays) >= MEMBERS_CACHED:
                        self._plays.clear()
                    self._plays[user_id] = found
        return found
