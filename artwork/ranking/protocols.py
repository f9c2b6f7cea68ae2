"""The two offline evaluation protocols of the ranking benchmark, and their summary with
bootstrap intervals.

- ``global``: one cut-off time for everyone (the last 10 % of plays by time are the test
  period); rankers are fitted on the plays before it and each member with a history is asked
  for the titles they first watched after it. Realistic (a model trained yesterday serves
  today), but only members active in the test period count, which on a small real log is a
  few dozen.
- ``member``: each member's last 20 % of plays are held out (``MemberSplit``), so every
  member with two plays or more can count. A member is scored by the newest model snapshot
  fitted before their own cut-off, from their plays before it, so no feature looks past the
  cut-off (popularity and trending at a later time would leak what the member went on to
  watch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from artwork.ranking.config import RankingConfig
from artwork.ranking.data import RankingData
from artwork.ranking.intervals import MemberBootstrap
from artwork.ranking.metrics import MemberSplit, RankerScore, evaluate_members, sample_members
from artwork.ranking.model import RankingModel

#: Rankers whose list is the same for every member.
NON_PERSONALISED = ("popularity", "trending")
PROTOCOLS = ("global", "member")


@dataclass(frozen=True)
class ProtocolResult:
    """Every ranker's per-member metrics under one protocol.

    Attributes:
        name: ``global`` or ``member``.
        scores: per ranker, metrics over the same members in the same order.
        info: what the protocol used (cut-off, snapshots, members eligible).
    """

    name: str
    scores: Mapping[str, RankerScore]
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def members(self) -> int:
        """Members evaluated."""
        return next(iter(self.scores.values())).members if self.scores else 0


def merge(parts: Sequence[Mapping[str, RankerScore]]) -> dict[str, RankerScore]:
    """Scores of disjoint groups of members, as one (members in the groups' order)."""
    names = list(parts[0]) if parts else []
    merged: dict[str, RankerScore] = {}
    for name in names:
        recall = np.concatenate([p[name].per_member_recall for p in parts])
        ndcg = np.concatenate([p[name].per_member_ndcg for p in parts])
        cold = [p[name] for p in parts if p[name].cold_recall is not None]
        cold_members = sum(p.cold_members for p in cold)
        cold_recall = (
            sum(p.cold_recall * p.cold_members for p in cold if p.cold_recall is not None)
            / cold_members
            if cold_members
            else None
        )
        merged[name] = RankerScore(
            float(recall.mean()) if len(recall) else 0.0,
            float(ndcg.mean()) if len(ndcg) else 0.0,
            len(recall),
            parts[0][name].target,
            cold_recall,
            cold_members,
            recall,
            ndcg,
        )
    return merged


def member_protocol(
    base: RankingData,
    config: RankingConfig,
    rankers: Sequence[str],
    *,
    holdout: float = 0.2,
    snapshots: int = 3,
    spacing: float = 0.1,
    eval_users: int = 2000,
    k: int = 10,
    seed: int = 0,
    log: Any = None,
) -> ProtocolResult:
    """Evaluate ``rankers`` under the member protocol (see the module docstring).

    Args:
        base: every play.
        config: the rankers' hyperparameters.
        rankers: names of the rankers to fit and evaluate.
        holdout: share of each member's plays held out.
        snapshots: model snapshots (each a full fit).
        spacing: snapshots sit at the play-time quantiles 1 - spacing, 1 - 2 spacing, ...
        eval_users: members evaluated at most (a seeded sample).
        k: list length.
        seed: RNG seed of the sample.
        log: called with progress lines.
    """
    split = MemberSplit.by_member(base.log, holdout, snapshots, spacing)
    groups = split.eligible()
    pool = {base.log.user_ids[u]: (j, u) for j, members in groups.items() for u in members}
    chosen = sample_members(pool, eval_users, seed)
    by_snapshot: dict[int, list[int]] = {}
    for user_id in chosen:
        j, u = pool[user_id]
        by_snapshot.setdefault(j, []).append(u)
    parts: list[dict[str, RankerScore]] = []
    for j in sorted(by_snapshot):
        data = split.train_data(base, j)
        model = RankingModel.fit(data, config, rankers=rankers)
        viewers = np.bincount(data.log.pairs()[1], minlength=len(data.index))
        histories, wanted = [], []
        for u in by_snapshot[j]:
            member = split.history(data.index, u)
            relevant = split.held_out(u, member.seen_mask(len(data.index)))
            if relevant and not member.is_cold:
                histories.append(member)
                wanted.append(relevant)
        if histories:
            parts.append(
                evaluate_members(model.rankers, histories, wanted, k, cold_titles=viewers == 0)
            )
        if log is not None:
            log(f"member split: snapshot {j + 1}/{snapshots}, {len(histories)} members scored")
    return ProtocolResult(
        "member",
        merge(parts),
        {
            "holdout": holdout,
            "snapshots": [float(t) for t in split.snapshots],
            "eligible_members": len(pool),
        },
    )


def summarise(
    result: ProtocolResult, k: int, resamples: int = 1000, seed: int = 0, focus: str | None = None
) -> dict[str, Any]:
    """The protocol's table: per ranker, recall@k and nDCG@k with 95 % bootstrap intervals
    over members and nDCG@k relative to popularity; and the ``focus`` ranker (default: the
    "Top picks" ranker, else EASE) against the best non-personalised ranker, paired."""
    boot = MemberBootstrap(result.members, resamples, seed)
    scores = result.scores
    popular = scores.get("popularity")
    rankers: dict[str, dict[str, Any]] = {}
    for name, score in scores.items():
        recall = boot.mean(score.per_member_recall)
        ndcg = boot.mean(score.per_member_ndcg)
        row: dict[str, Any] = {
            f"recall@{k}": round(recall.estimate, 4),
            f"recall@{k}_ci": recall.as_list(),
            f"ndcg@{k}": round(ndcg.estimate, 4),
            f"ndcg@{k}_ci": ndcg.as_list(),
            "members": score.members,
            "target": score.target,
            f"new_title_recall@{k}": None
            if score.cold_recall is None
            else round(score.cold_recall, 4),
        }
        if popular is not None:
            lift = boot.ratio(score.per_member_ndcg, popular.per_member_ndcg)
            row["ndcg_vs_popularity"] = round(lift.estimate, 3)
            row["ndcg_vs_popularity_ci"] = lift.as_list(3)
            row["lift_vs_popularity"] = (
                round(score.recall / popular.recall, 2) if popular.recall else None
            )
        rankers[name] = row
    summary: dict[str, Any] = {
        "members": result.members,
        "rankers": rankers,
        **dict(result.info),
    }
    focus = focus or next((n for n in ("top_picks", "personalized") if n in scores), None)
    plain = [n for n in NON_PERSONALISED if n in scores]
    if focus is not None and plain:
        best = max(plain, key=lambda n: scores[n].ndcg)
        versus = boot.ratio(scores[focus].per_member_ndcg, scores[best].per_member_ndcg)
        summary["comparison"] = {
            "ranker": focus,
            "best_non_personalised": best,
            f"ndcg@{k}_ratio": round(versus.estimate, 3),
            f"ndcg@{k}_ratio_ci": versus.as_list(3),
        }
    return summary
