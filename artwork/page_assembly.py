"""Page assembly: a ranked page plus the bandit's decisions become the page a member sees.

Pure functions over values, no I/O: which titles need a decision (those with approved
artwork, each once per page), the artwork-annotated rows (titles without artwork left out),
and the rows as logged for the page model (impressions).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from artwork.domain import Decision, Homepage, Row, RowImpression, Title, Variant
from artwork.ranking.page import PagePlan
from artwork.ranking.page_model import FEATURE_NAMES, page_features


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


def decision_requests(
    homepage: Homepage, approved: Mapping[str, Sequence[Variant]]
) -> dict[str, Sequence[Variant]]:
    """``title_id -> approved variants`` for every title on the page that has artwork, once
    each: a title in two rows shows the same artwork."""
    requests: dict[str, Sequence[Variant]] = {}
    for row in homepage.rows:
        for item in row.items:
            variants = approved.get(item.title_id)
            if variants and item.title_id not in requests:
                requests[item.title_id] = variants
    return requests


def assemble_page(
    homepage: Homepage,
    decisions: Sequence[Decision],
    requests: Mapping[str, Sequence[Variant]],
    titles: Mapping[str, Title],
) -> ArtworkPage:
    """The rows with each title's chosen variant; titles without a decision are left out,
    and so are rows left empty."""
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
    return ArtworkPage(homepage.user_id, tuple(rows))


def impression_rows(
    plan: PagePlan, page: ArtworkPage, model_version: str, created_at: datetime
) -> list[RowImpression]:
    """The rows as shown (titles without artwork left out) with their page-model features."""
    shown: list[Row] = []
    for r in page.rows:
        kept = {c.title.title_id for c in r.items}
        shown.append(replace(r.row, items=tuple(i for i in r.row.items if i.title_id in kept)))
    features = page_features(shown, plan.context)
    impression_id = uuid.uuid4().hex
    return [
        RowImpression(
            impression_id=impression_id,
            created_at=created_at,
            user_id=page.user_id,
            selector=plan.selector,
            model_version=model_version,
            position=position,
            row_id=row.row_id,
            source=row.source,
            score=row.score,
            title_ids=tuple(item.title_id for item in row.items),
            features=dict(zip(FEATURE_NAMES, map(float, features[position]), strict=True)),
        )
        for position, row in enumerate(shown)
    ]
