"""A simulated viewing history over a small catalogue, for the demo.

Each member draws a taste over genres from a Dirichlet; titles have a latent popularity. A
member's plays pick titles with probability proportional to popularity x taste for the title's
genres. Watch time is a fraction of the runtime: most plays finish, some stop part-way (they
feed "continue watching").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from artwork.domain import Interaction, Title

#: Runtime assumed for titles without a known duration, in seconds.
DEFAULT_DURATION_S = 60.0


def simulate_history(
    titles: Sequence[Title],
    *,
    users: int,
    plays_per_user: float,
    now: datetime,
    days: float = 30.0,
    seed: int = 0,
    finish_rate: float = 0.7,
    user_prefix: str = "member-",
) -> list[Interaction]:
    """Plays of ``users`` simulated members over the ``days`` before ``now``, oldest first.

    Args:
        titles: the catalogue; genres shape the members' tastes.
        users: how many members (ids ``{user_prefix}0000`` ...).
        plays_per_user: mean plays per member (Poisson, at least one).
        now: end of the simulated period (timezone-aware).
        days: length of the simulated period.
        seed: RNG seed; the same inputs give the same history.
        finish_rate: probability that a play reaches the end of the title.
        user_prefix: prefix of generated member ids.

    Raises:
        ValueError: an argument is out of range (named in the message).
    """
    if not titles:
        raise ValueError("titles must not be empty")
    if users < 1:
        raise ValueError(f"users must be >= 1, got {users}")
    if plays_per_user <= 0:
        raise ValueError(f"plays_per_user must be > 0, got {plays_per_user}")
    if not 0.0 <= finish_rate <= 1.0:
        raise ValueError(f"finish_rate must be in [0, 1], got {finish_rate}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rng = np.random.default_rng(seed)
    genres = sorted({g for t in titles for g in t.genres}) or ["all"]
    genre_index = {g: i for i, g in enumerate(genres)}
    membership = np.zeros((len(titles), len(genres)))
    for row, title in enumerate(titles):
        for g in title.genres or ("all",):
            membership[row, genre_index.get(g, 0)] = 1.0
    membership /= membership.sum(axis=1, keepdims=True)
    popularity = rng.lognormal(mean=0.0, sigma=0.8, size=len(titles))

    plays: list[Interaction] = []
    for u in range(users):
        taste = rng.dirichlet(np.full(len(genres), 0.5))
        weights = popularity * (membership @ taste + 0.02)
        weights /= weights.sum()
        count = max(1, int(rng.poisson(plays_per_user)))
        picks = rng.choice(len(titles), size=min(count, len(titles)), replace=False, p=weights)
        for pick in picks:
            title = titles[int(pick)]
            duration = title.duration_s or DEFAULT_DURATION_S
            fraction = 1.0 if rng.random() < finish_rate else float(rng.uniform(0.1, 0.8))
            when = now - timedelta(days=float(rng.uniform(0.0, days)))
            plays.append(
                Interaction(
                    user_id=f"{user_prefix}{u:04d}",
                    title_id=title.title_id,
                    timestamp=when,
                    seconds=round(duration * fraction, 3),
                    duration_s=title.duration_s,
                )
            )
    plays.sort(key=lambda p: (p.timestamp, p.user_id))
    return plays
