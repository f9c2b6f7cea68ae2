"""Simulated homepages over a synthetic catalogue: a click model of what members play from the
rows they are shown, and logs of pages served with an exploring row order (to train and score
the learned page model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from artwork.bench.catalogue import SyntheticCatalogue
from artwork.domain import Interaction, RowImpression
from artwork.ranking.interactions import Member

if TYPE_CHECKING:
    from artwork.ranking.page import PageBuilder


#: Runtime assumed for titles without a known duration, in seconds.
DEFAULT_DURATION_S = 60.0
#: Click model: attention falls by these factors per row down and per title across.
ROW_ATTENTION = 0.85
SLOT_ATTENTION = 0.8
#: Chance a member plays a title they are shown, at full appeal.
PLAY_RATE = 0.35
#: A title already shown higher up the page (and passed over), or already watched, appeals less.
REPEAT_DISCOUNT = 0.3
WATCHED_DISCOUNT = 0.1


def play_probabilities(
    world: SyntheticCatalogue,
    user: int,
    page: Sequence[NDArray[np.integer]],
    seen: NDArray[np.bool_],
    visible: int,
    at: datetime | None = None,
) -> NDArray[np.float64]:
    """The click model: for each visible slot of each row, the chance the member would play
    that title if they got that far (independently of other slots).

    Args:
        world: the ground truth.
        user: member index.
        page: title indices of each row, top to bottom.
        seen: titles the member has watched.
        visible: titles per row a member looks at without scrolling sideways.
        at: when the page is shown (what is popular then); default: ``world.now``.

    Returns:
        rows x ``visible`` probabilities (0 where a row is shorter).
    """
    result = np.zeros((len(page), visible))
    shown = np.zeros(len(seen), dtype=bool)
    for r, titles in enumerate(page):
        part = np.asarray(titles[:visible], dtype=np.int64)
        if not len(part):
            continue
        value = PLAY_RATE * world.appeal(user, part, at)
        value *= np.where(seen[part], WATCHED_DISCOUNT, 1.0)
        value *= np.where(shown[part], REPEAT_DISCOUNT, 1.0)
        attention = ROW_ATTENTION**r * SLOT_ATTENTION ** np.arange(len(part))
        result[r, : len(part)] = attention * value
        shown[part] = True
    return result


def expected_play(probabilities: NDArray[np.float64]) -> float:
    """Chance the member plays something from the page."""
    return float(1.0 - np.prod(1.0 - probabilities))


@dataclass(frozen=True)
class SimulatedPages:
    """Homepages served with an exploring row order, and the plays that followed."""

    impressions: list[RowImpression]
    plays: list[Interaction]
    features: NDArray[np.float64]
    labels: NDArray[np.int64]


def simulate_impressions(
    world: SyntheticCatalogue,
    builder: PageBuilder,
    *,
    pages: int,
    seed: int = 0,
    temperature: float = 0.5,
    at: datetime | None = None,
    keep_impressions: bool = True,
) -> SimulatedPages:
    """Serve ``pages`` homepages to random members who have a history, with rows in a
    randomised order (row scores plus Gumbel noise at ``temperature``, so the logs cover
    many arrangements), and draw what each member plays from the click model (at most one
    title per page, in reading order). Pages are ten minutes apart; a play comes two
    minutes after its page.

    Args:
        world: the ground truth.
        builder: fitted on (part of) ``world``'s history; members come from its data.
        pages: homepages to serve.
        seed: RNG seed.
        temperature: spread of the random row order (0: row-ranking order).
        at: when the first page is served (default: ``world.now``).
        keep_impressions: build ``RowImpression`` records (to store); features and labels
            are returned either way.

    Raises:
        ValueError: ``pages`` < 1 or ``temperature`` < 0.
    """
    from artwork.ranking.page_model import FEATURE_NAMES, page_features

    if pages < 1:
        raise ValueError(f"pages must be >= 1, got {pages}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    model = builder.model
    if model is None:
        raise ValueError("builder must be fitted")
    rng = np.random.default_rng(seed)
    moment = at or world.now
    log = builder.data.log if builder.data is not None else world.log
    active = np.unique(log.user)
    visible = builder.config.first_screen_titles
    impressions: list[RowImpression] = []
    plays: list[Interaction] = []
    features: list[NDArray[np.float64]] = []
    labels: list[int] = []
    index = model.index
    for p in range(pages):
        u = int(rng.choice(active))
        user_id = world.log.user_ids[u]
        member = builder.data.member(user_id) if builder.data is not None else Member.cold(user_id)
        plan = builder.plan(member, "row_ranking")
        noisy = [
            replace(row, score=row.score + temperature * float(rng.gumbel()))
            for row in plan.homepage.rows
        ]
        order = sorted(range(len(noisy)), key=lambda i: -noisy[i].score)
        rows = [plan.homepage.rows[i] for i in order]
        x = page_features(rows, plan.context)
        page = [plan.context.titles_of(r) for r in rows]
        when = moment + timedelta(minutes=10.0 * p)
        chance = play_probabilities(world, u, page, member.seen_mask(len(index)), visible, when)
        hit = np.flatnonzero(rng.random(chance.size) < chance.ravel())
        played_row = int(hit[0] // visible) if len(hit) else -1
        impression_id = f"sim-{seed}-{p}"
        features.extend(x)
        labels.extend(int(position == played_row) for position in range(len(rows)))
        for position, row in enumerate(rows if keep_impressions else ()):
            impressions.append(
                RowImpression(
                    impression_id,
                    when,
                    user_id,
                    "simulated",
                    "simulated",
                    position,
                    row.row_id,
                    row.source,
                    row.score,
                    tuple(i.title_id for i in row.items),
                    dict(zip(FEATURE_NAMES, map(float, x[position]), strict=True)),
                )
            )
        if played_row >= 0:
            slot = int(hit[0] % visible)
            t = int(page[played_row][slot])
            plays.append(
                Interaction(
                    user_id,
                    index.title_ids[t],
                    when + timedelta(minutes=2),
                    float(np.nan_to_num(index.duration[t], nan=DEFAULT_DURATION_S)),
                    None,
                )
            )
    return SimulatedPages(
        impressions,
        plays,
        np.array(features).reshape(-1, len(FEATURE_NAMES)),
        np.array(labels, dtype=np.int64),
    )
