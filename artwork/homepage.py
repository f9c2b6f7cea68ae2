"""The artwork layer around the ranking core: a page of rows, each title with the variant the
bandit chose for this member and context, and the decision's event id for the reward.

Pages come from the newest trained ranking artifact (``artwork ranking train``), swapped in
the background when a newer one appears (:class:`~artwork.ranking.artifacts.ArtifactReloader`);
without one, the page builder is fitted on a snapshot of the catalogue: again on the next page
when titles or variants change, and beside the pages, at most every ``ranking_reload_s``,
when plays do. A title with no approved variant cannot be shown and is left off the
page. Approved variants, the member's plays and profile come from the process's
:class:`~artwork.catalog.cache.CatalogCache` when it has one. Decisions and each page's rows
(impressions, which train the learned page model) go to the group-commit writer when there is
one, so a page does no synchronous write; page assembly itself is in
:mod:`artwork.page_assembly`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from artwork.bandit.artwork_bandit import ArtworkBandit
from artwork.bandit.profile import member_profile
from artwork.bandit.writer import DecisionWriter
from artwork.catalog.cache import CatalogCache
from artwork.catalog.repository import Catalog
from artwork.config import Settings
from artwork.domain import Context, Interaction, Title
from artwork.errors import (
    ArtworkError,
    InvalidInputError,
    OverloadedError,
    TitleNotFoundError,
    VariantNotFoundError,
)
from artwork.fifo_gate import FifoGate
from artwork.page_assembly import (
    ArtworkChoice,
    ArtworkPage,
    ArtworkRow,
    assemble_page,
    decision_requests,
    impression_rows,
)
from artwork.ranking.artifacts import ArtifactReloader, ArtifactStore, ranking_dir
from artwork.ranking.config import RankingConfig
from artwork.ranking.page import PageBuilder, PagePlan
from artwork.ranking.training import catalog_snapshot

__all__ = ["ArtworkChoice", "ArtworkPage", "ArtworkRow", "HomepageService", "make_context"]

_logger = logging.getLogger(__name__)
#: Longest a request waits for another request's load of the first ranking artifact.
_FIRST_LOAD_WAIT_S = 120.0
#: Members whose profile is kept (until the catalogue or their plays change).
_PROFILES_CACHED = 100_000


def make_context(
    user_id: str, device: str = "unknown", country: str = "unknown", now: datetime | None = None
) -> Context:
    """The bandit context of a request: member, device, country and the time of day (UTC)."""
    if not user_id:
        raise ValueError("user_id must not be empty")
    moment = now or datetime.now(UTC)
    return Context(user_id, device, moment.hour, moment.weekday(), country)


class HomepageService:
    """Builds artwork-annotated pages and single-title artwork choices."""

    def __init__(
        self,
        catalog: Catalog,
        bandit: ArtworkBandit,
        page_builder_factory: Callable[[], PageBuilder] | None = None,
        clock: Callable[[], datetime] | None = None,
        *,
        settings: Settings | None = None,
        artifacts: ArtifactStore | None = None,
        cache: CatalogCache | None = None,
        writer: DecisionWriter | None = None,
    ) -> None:
        self.catalog = catalog
        self.bandit = bandit
        self._clock = clock or (lambda: datetime.now(UTC))
        # Without a cache every page reads the catalogue (fine for tests and small demos).
        self._cache = cache if cache is not None else CatalogCache(catalog, poll_s=0.0)
        self._writer = writer
        # --- ranking: the page builder, served from the newest trained artifact -------------
        # With settings, the service serves the newest artifact under ranking_dir(settings),
        # looking for a newer one every ranking_reload_s and loading it in the background;
        # without one (or without settings) it fits on the catalogue (see _fitted_builder),
        # which suits small demo catalogues.
        config = RankingConfig.from_settings(settings) if settings else RankingConfig()
        self._factory = page_builder_factory or (lambda: PageBuilder(config=config))
        if artifacts is None and settings is not None:
            artifacts = ArtifactStore(ranking_dir(settings))
        self._reloader: ArtifactReloader[PageBuilder] | None = None
        if artifacts is not None:
            self._reloader = ArtifactReloader(
                artifacts,
                lambda model: self._factory().use(model),
                reload_s=settings.ranking_reload_s if settings else 10.0,
                first_load_wait_s=_FIRST_LOAD_WAIT_S,
            )
        self._log_pages = settings.log_impressions if settings else True
        # Pages are CPU-bound Python: built a few at a time per process, in arrival order.
        self._builders = FifoGate(settings.page_builders if settings else 1)
        self._lock = threading.Lock()
        self._builder: PageBuilder | None = None
        self._fitted_on: tuple[int, int] | None = None
        self._fitted_generation = -1
        self._fitted_catalog = -1
        # Refits for new plays run in a thread of their own, at most every refit_s.
        self._refit_s = settings.ranking_reload_s if settings else 10.0
        self._refit: threading.Thread | None = None
        self._refit_started = -float("inf")
        # user_id -> (catalogue generation, the plays it was made from, the profiled context)
        self._profiles: dict[str, tuple[int, Sequence[Interaction], Context]] = {}

    def page(
        self, context: Context, selector: str | None = None, *, principal: str = ""
    ) -> ArtworkPage:
        """The member's homepage, each title annotated with a logged artwork decision.

        Args:
            context: the request.
            selector: a row selector's name (``artwork.ranking.selectors``); default: the
                configured one (``ARTWORK_ROW_SELECTOR``).
            principal: who asks (an API key id), bound into every event id of the page.

        Raises:
            InvalidInputError: ``selector`` names no row selector.
            OverloadedError: the decision log cannot keep up (HTTP 503 with Retry-After).
        """
        with self._builders:
            return self._page(context, selector, principal)

    def _page(self, context: Context, selector: str | None, principal: str) -> ArtworkPage:
        builder, version = self._current_builder()
        if selector is not None and selector not in builder.selectors:
            raise InvalidInputError(
                f"selector must be one of {', '.join(sorted(builder.selectors))}, got {selector!r}"
            )
        assert builder.model is not None
        plays = self._cache.plays(context.user_id)
        member = builder.model.index.member(context.user_id, plays)
        plan = builder.plan(member, selector)
        homepage = plan.homepage
        approved = self._cache.approved(
            item.title_id for row in homepage.rows for item in row.items
        )
        # One decision per title per page: a title in two rows shows the same artwork. The
        # page's decisions are made and logged together.
        requests = decision_requests(homepage, approved)
        titles = builder.titles
        context = self._with_profile(context, titles, plays)
        decisions = self.bandit.choose_many(context, list(requests.items()), principal=principal)
        page = assemble_page(homepage, decisions, requests, titles)
        if self._log_pages:
            self._log_impressions(plan, page, version)
        return page

    def _with_profile(
        self,
        context: Context,
        titles: Mapping[str, Title] | None,
        plays: Sequence[Interaction] | None = None,
    ) -> Context:
        """The context with the member's genre and tag affinities, unless it has a profile.

        ``titles`` holds the played titles (the page builder's catalogue); None looks them up.
        ``plays`` are the member's interactions when the caller has read them already. The
        profile is kept until the catalogue or the member's plays change (the cache hands out
        a new list of plays then).
        """
        if context.profile is not None:
            return context
        generation = self._cache.catalog_generation
        if plays is None:
            plays = self._cache.plays(context.user_id)
        cached = self._profiles.get(context.user_id)
        if cached is not None and cached[0] == generation and cached[1] is plays:
            return replace(context, profile=cached[2].profile)
        profiled = context
        if plays:
            played = {play.title_id for play in plays}
            if titles is None:
                titles = {}
                for title_id in played:
                    with contextlib.suppress(TitleNotFoundError):
                        titles[title_id] = self._cache.title(title_id)
            variants = self._cache.approved(played)
            profile = member_profile(plays, titles, variants)
            if profile is not None:
                profiled = replace(context, profile=profile)
        if len(self._profiles) >= _PROFILES_CACHED:
            self._profiles.clear()
        self._profiles[context.user_id] = (generation, plays, profiled)
        return profiled

    def title_artwork(
        self, context: Context, title_id: str, *, principal: str = ""
    ) -> ArtworkChoice:
        """The artwork of one title for this member, as a logged decision.

        Raises:
            TitleNotFoundError: no such title.
            VariantNotFoundError: the title has no approved variant yet.
            OverloadedError: the decision log cannot keep up.
        """
        title = self._cache.title(title_id)
        variants = self._cache.approved([title_id]).get(title_id, [])
        if not variants:
            raise VariantNotFoundError(
                f"title {title_id!r} has no approved artwork yet; approve a variant with "
                "`artwork variants approve VARIANT_ID`"
            )
        context = self._with_profile(context, None)
        decision = self.bandit.choose(context, title_id, variants, principal=principal)
        variant = next(v for v in variants if v.variant_id == decision.chosen_variant_id)
        return ArtworkChoice(title, variant, decision)

    @property
    def model_version(self) -> str:
        """What pages are built from now: ``artifact:<version>`` or ``fitted:<titles>:<plays>``."""
        served = self._reloader.served if self._reloader is not None else None
        if served is not None:
            return f"artifact:{served[1]}"
        with self._lock:
            if self._fitted_on is not None:
                return "fitted:{}:{}".format(*self._fitted_on)
        return "none"

    def refresh(self, wait: bool = False) -> int | None:
        """Look for a newer ranking artifact now and load it (in the background unless ``wait``).

        Returns:
            The version being served once this returns (None: none yet).
        """
        return self._reloader.refresh(wait=wait) if self._reloader is not None else None

    def _current_builder(self) -> tuple[PageBuilder, str]:
        if self._reloader is not None:
            served = self._reloader.current()
            if served is not None:
                return served[0], f"artifact:{served[1]}"
        return self._fitted_builder()

    def _fitted_builder(self) -> tuple[PageBuilder, str]:
        """The builder fitted on the catalogue: fitted on the request path for the first
        page and after a change of titles or variants (an editor's, rare, and expected on
        the next page); after new plays only (all the time) refitted in a thread of its own,
        at most every ``ranking_reload_s``, while the current one serves (a fit of the
        benchmark's catalogue takes ~6 s)."""
        catalog = self._cache.catalog_generation
        generation = self._cache.generation
        with self._lock:
            if self._builder is None or self._fitted_catalog != catalog:
                self._fit(generation, catalog)
            elif self._fitted_generation != generation:
                self._refit_later(generation, catalog)
            assert self._builder is not None and self._fitted_on is not None
            return self._builder, "fitted:{}:{}".format(*self._fitted_on)

    def _fit(self, generation: int, catalog: int) -> None:
        """Fit on the catalogue if its counts moved (the caller holds the lock)."""
        version, builder = self._fitted_if_moved()
        if builder is not None:
            self._builder, self._fitted_on = builder, version
        self._fitted_generation, self._fitted_catalog = generation, catalog

    def _fitted_if_moved(self) -> tuple[tuple[int, int], PageBuilder | None]:
        """The catalogue's counts, and a builder fitted on it if they moved since the last
        fit (or there is none yet)."""
        version = (self.catalog.count_titles(), self.catalog.count_interactions())
        if self._builder is not None and self._fitted_on == version:
            return version, None
        return version, self._factory().fit(catalog_snapshot(self.catalog, self._clock()))

    def _refit_later(self, generation: int, catalog: int) -> None:
        """Start a refit for new plays unless one runs or one started within ``refit_s``
        (the caller holds the lock)."""
        now = time.monotonic()
        running = self._refit is not None and self._refit.is_alive()
        if running or now - self._refit_started < self._refit_s:
            return
        self._refit_started = now
        self._refit = threading.Thread(
            target=self._refit_now, args=(generation, catalog), name="artwork-refit", daemon=True
        )
        self._refit.start()

    def _refit_now(self, generation: int, catalog: int) -> None:
        try:
            version, builder = self._fitted_if_moved()
        except (ArtworkError, SQLAlchemyError) as exc:
            _logger.warning("cannot refit the ranking on new plays (serving the last): %s", exc)
            return
        with self._lock:
            if self._fitted_catalog != catalog:
                return  # the catalogue changed meanwhile: fitted on the request path since
            if builder is not None:
                self._builder, self._fitted_on = builder, version
            self._fitted_generation = max(self._fitted_generation, generation)

    def _log_impressions(self, plan: PagePlan, page: ArtworkPage, version: str) -> None:
        """Log the rows as shown; the page matters more than its log, so failures only warn."""
        logged = impression_rows(plan, page, version, self._clock())
        if self._writer is not None:
            try:
                self._writer.submit((), logged)
            except OverloadedError as exc:
                _logger.warning("homepage impressions not logged: %s", exc.message)
            return
        try:
            self.catalog.log_impressions(logged)
        except SQLAlchemyError as exc:
            _logger.warning("cannot log homepage impressions: %s", exc)
