"""Member profiles: genre and tag affinities computed from a member's plays.

The bandit never queries the catalogue; the caller (the serving layer, a simulator) builds a
:class:`~artwork.domain.MemberProfile` and passes it in the request's
:class:`~artwork.domain.Context`. A play counts by how much of the title it covered (completion;
1 when the title's length is unknown), so a finished film says more than a sampled minute.

- genre affinity: the completion-weighted share of plays in each genre (sums to 1);
- tag affinity: the completion-weighted mean, over played titles, of the mean tag confidence
  of each title's approved variants (what the member's titles show: faces, landscapes, ...).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from artwork.domain import Interaction, MemberProfile, Title, Variant


def member_profile(
    plays: Iterable[Interaction],
    titles: Mapping[str, Title],
    variants: Mapping[str, Sequence[Variant]] | None = None,
) -> MemberProfile | None:
    """A member's genre and tag affinities from their plays.

    Args:
        plays: The member's interactions (plays of titles unknown to ``titles`` are skipped).
        titles: Titles by id (their genres).
        variants: Variants by title id (their tags); None leaves tag affinities empty.

    Returns:
        The profile, or None when the member has no usable play (a new member).
    """
    genre_weight: dict[str, float] = defaultdict(float)
    tag_weight: dict[str, float] = defaultdict(float)
    total = 0.0
    for play in plays:
        title = titles.get(play.title_id)
        if title is None:
            continue
        completion = play.completion
        weight = 1.0 if completion is None else max(completion, 0.05)
        total += weight
        for genre in title.genres:
            genre_weight[genre] += weight / len(title.genres)
        for tag, confidence in _title_tags(variants, play.title_id).items():
            tag_weight[tag] += weight * confidence
    if total <= 0.0:
        return None
    genre_total = sum(genre_weight.values()) or 1.0
    return MemberProfile(
        genres={genre: value / genre_total for genre, value in sorted(genre_weight.items())},
        tags={tag: value / total for tag, value in sorted(tag_weight.items())},
    )


def _title_tags(
    variants: Mapping[str, Sequence[Variant]] | None, title_id: str
) -> dict[str, float]:
    if variants is None:
        return {}
    title_variants = variants.get(title_id, ())
    if not title_variants:
        return {}
    sums: dict[str, float] = defaultdict(float)
    for variant in title_variants:
        for tag, confidence in variant.tags.items():
            sums[tag] += float(confidence)
    return {tag: value / len(title_variants) for tag, value in sums.items()}
