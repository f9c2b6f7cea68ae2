"""The artwork layer around the ranking core: a page of rows, each title with the variant the
bandit chose for this member and context, and the decision's event id for the reward.

Pages come from the newest trained ranking artifact (``artwork ranking train``), swapped in
the background when a newer one appears; without one, the page builder is fitted on a snapshot
of the catalogue and refitted when titles or interactions change. A title with no approved
variant cannot be shown and is left off the page. Each page's rows are logged (impressions) to
train the learned page model.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from artwork.bandit.profile import member_profile
from artwork.bandit.service import ArtworkBandit
from artwork.catalog.repository import Catalog
from artwork.config import Settings
from artwork.domain import (
    Context,
    Decision,
    Interaction,
    Row,
    RowImpression,
    Title,
    Variant,
    VariantStatus,
)
from artwork.errors import (
    ArtworkError,
    InvalidInputError,
    TitleNotFoundError,
    VariantNotFoundError,
)
from artwork.ranking.artifacts import ArtifactStore, ranking_dir
from artwork.ranking.model import RankingConfig
from artwork.ranking.page import PageBuilder, PagePlan
from artwork.ranking.page_model import FEATURE_NAMES, page_features
from artwork.ranking.training import catalog_snapshot

_logger = logging.getLogger(__name__)
#: Longest a request waits for another request's load of the first ranking artifact.
_FIRST_LOAD_WAIT_S = 120.0


@dataclass(frozen=True, slots=True)
class ArtworkChoice:
    title: Title
    variant: Variant
    decision: Decision


@dataclass(frozen=True, slots=True)
class ArtworkRow:
    row: Row
    items: tuple[ArtworkChoice, ...]


@dataclass(frozen=True, slots=True)
class ArtworkPage:
    user_id: str
    rows: tuple[ArtworkRow, ...]


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
    ) -> None:
        self.catalog = catalog
        self.bandit = bandit
        self._clock = clock or (lambda: datetime.now(UTC))
        # --- ranking: the page builder, served from the newest trained artifact -------------
        # With settings, the service serves the newest artifact under ranking_dir(settings),
        # looking for a newer one every ranking_reload_s and loading it in the background;
        # without one (or without settings) it fits on the catalogue when titles or plays
        # change, which suits small demo catalogues.
        config = RankingConfig.from_settings(settings) if settings else RankingConfig()
        self._factory = page_builder_factory or (lambda: PageBuilder(config=config))
        self._artifacts = artifacts
        if self._artifacts is None and settings is not None:
            self._artifacts = ArtifactStore(ranking_dir(settings))
        self._reload_s = settings.ranking_reload_s if settings else 10.0
        self._log_pages = settings.log_impressions if settings else True
        self._lock = threading.Lock()
        self._builder: PageBuilder | None = None
        self._fitted_on: tuple[int, int] | None = None
        self._served: tuple[PageBuilder, int] | None = None
        self._loading: int | None = None
        self._first_load = threading.Event()
        self._failed: set[int] = set()
        self._checked_at = -math.inf

    def page(self, context: Context, selector: str | None = None) -> ArtworkPage:
        """The member's homepage, each title annotated with a logged artwork decision.

        Args:
            context: the request.
            selector: a row selector's name (``artwork.ranking.selectors``); default: the
                configured one (``ARTWORK_ROW_SELECTOR``).

        Raises:
            InvalidInputError: ``selector`` names no row selector.
        """
        builder, version = self._current_builder()
        if selector is not None and selector not in builder.selectors:
            raise InvalidInputError(
                f"selector must be one of {', '.join(sorted(builder.selectors))}, got {selector!r}"
            )
        assert builder.model is not None
        plays = self.catalog.interactions(context.user_id)
        member = builder.model.index.member(context.user_id, plays)
        plan = builder.plan(member, selector)
        homepage = plan.homepage
        title_ids = [item.title_id for row in homepage.rows for item in row.items]
        approved = self.catalog.variants_for(title_ids, VariantStatus.APPROVED)
        titles = builder.titles
        # One decision per title per page: a title in two rows shows the same artwork. The
        # page's decisions are made and logged together (one read, one write).
        requests = {t: approved[t] for t in title_ids if approved.get(t)}
        context = self._with_profile(context, titles, plays)
        decisions = self.bandit.choose_many(context, list(requests.items()))
        chosen: dict[str, ArtworkChoice] = {}
        for decision in decisions:
            variant = next(
                v for v in requests[decision.title_id] if v.variant_id == decision.chosen_variant_id
            )
            chosen[decision.title_id] = ArtworkChoice(titles[decision.title_id], variant, decision)
        rows = []
        for row in homepage.rows:
            items = tuple(chosen[item.title_id] for item in row.items if item.title_id in chosen)
            if items:
                rows.append(ArtworkRow(row, items))
        page = ArtworkPage(context.user_id, tuple(rows))
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
        ``plays`` are the member's interactions when the caller has read them already.
        """
        if context.profile is not None:
            return context
        if plays is None:
            plays = self.catalog.interactions(context.user_id)
        if not plays:
            return context
        played = {play.title_id for play in plays}
        if titles is None:
            titles = {}
            for title_id in played:
                with contextlib.suppress(TitleNotFoundError):
                    titles[title_id] = self.catalog.get_title(title_id)
        variants = self.catalog.variants_for(played, VariantStatus.APPROVED)
        profile = member_profile(plays, titles, variants)
        return context if profile is None else replace(context, profile=profile)

    def title_artwork(self, context: Context, title_id: str) -> ArtworkChoice:
        """The artwork of one title for this member, as a logged decision.

        Raises:
            TitleNotFoundError: no such title.
            VariantNotFoundError: the title has no approved variant yet.
        """
        title = self.catalog.get_title(title_id)
        variants = self.catalog.variants(title_id, VariantStatus.APPROVED)
        if not variants:
            raise VariantNotFoundError(
                f"title {title_id!r} has no approved artwork yet; approve a variant with "
                "`artwork variants approve VARIANT_ID`"
            )
        context = self._with_profile(context, None)
        decision = self.bandit.choose(context, title_id, variants)
        variant = next(v for v in variants if v.variant_id == decision.chosen_variant_id)
        return ArtworkChoice(title, variant, decision)

    @property
    def model_version(self) -> str:
        """What pages are built from now: ``artifact:<version>`` or ``fitted:<titles>:<plays>``."""
        with self._lock:
            if self._served is not None:
                return f"artifact:{self._served[1]}"
            if self._fitted_on is not None:
                return "fitted:{}:{}".format(*self._fitted_on)
        return "none"

    def refresh(self, wait: bool = False) -> int | None:
        """Look for a newer ranking artifact now and load it (in the background unless ``wait``).

        Returns:
            The version being served once this returns (None: none yet).
        """
        with self._lock:
            self._checked_at = -math.inf
        self._check_artifacts(wait=wait)
        with self._lock:
            return self._served[1] if self._served is not None else None

    def _current_builder(self) -> tuple[PageBuilder, str]:
        if self._artifacts is not None:
            self._check_artifacts(wait=False)
            with self._lock:
                served, loading = self._served, self._loading
            if served is None and loading is not None:
                # Another request is loading the first version: wait for it (a load, not a
                # training) rather than fitting on the whole catalogue meanwhile.
                self._first_load.wait(timeout=_FIRST_LOAD_WAIT_S)
                with self._lock:
                    served = self._served
            if served is not None:
                return served[0], f"artifact:{served[1]}"
        return self._fitted_builder()

    def _check_artifacts(self, wait: bool) -> None:
        """Start loading a newer artifact if there is one; never blocks once one is served."""
        if self._artifacts is None:
            return
        now = time.monotonic()
        with self._lock:
            if now - self._checked_at < self._reload_s or self._loading is not None:
                return
            self._checked_at = now
            current = self._served[1] if self._served is not None else 0
        latest = self._artifacts.latest()
        if latest is None or latest <= current or latest in self._failed:
            return
        with self._lock:
            if self._loading is not None:
                return
            self._loading = latest
            first = self._served is None
        if wait or first:
            # Nothing trained is served yet: loading now beats fitting on the request path.
            self._load(latest)
        else:
            threading.Thread(
                target=self._load, args=(latest,), name=f"ranking-load-{latest}", daemon=True
            ).start()

    def _load(self, version: int) -> None:
        assert self._artifacts is not None
        try:
            model, _ = self._artifacts.load(version)
            builder = self._factory().use(model)
        except Exception as exc:  # whatever is wrong with a version, keep serving the last one
            reason = exc.message if isinstance(exc, ArtworkError) else repr(exc)
            _logger.warning("cannot serve ranking artifact %s: %s", version, reason)
            with self._lock:
                self._failed.add(version)
                self._loading = None
            self._first_load.set()
            return
        with self._lock:
            if self._served is None or self._served[1] < version:
                self._served = (builder, version)
            self._loading = None
        self._first_load.set()
        _logger.info("serving ranking artifact %s", version)

    def _fitted_builder(self) -> tuple[PageBuilder, str]:
        version = (self.catalog.count_titles(), self.catalog.count_interactions())
        with self._lock:
            if self._builder is None or self._fitted_on != version:
                self._builder = self._factory().fit(catalog_snapshot(self.catalog, self._clock()))
                self._fitted_on = version
            return self._builder, "fitted:{}:{}".format(*version)

    def _log_impressions(self, plan: PagePlan, page: ArtworkPage, version: str) -> None:
        """Log the rows as shown (titles without artwork left out) with their features."""
        shown: list[Row] = []
        for r in page.rows:
            kept = {c.title.title_id for c in r.items}
            shown.append(replace(r.row, items=tuple(i for i in r.row.items if i.title_id in kept)))
        features = page_features(shown, plan.context)
        impression_id = uuid.uuid4().hex
        created = self._clock()
        logged = [
            RowImpression(
                impression_id=impression_id,
                created_at=created,
                user_id=page.user_id,
                selector=plan.selector,
                model_version=version,
                position=position,
                row_id=row.row_id,
                source=row.source,
                score=row.score,
                title_ids=tuple(item.title_id for item in row.items),
                features=dict(zip(FEATURE_NAMES, map(float, features[position]), strict=True)),
            )
            for position, row in enumerate(shown)
        ]
        try:
            self.catalog.log_impressions(logged)
        except SQLAlchemyError as exc:  # the page matters more than its log
            _logger.warning("cannot log homepage impressions: %s", exc)
