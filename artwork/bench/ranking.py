"""The ranking benchmark (``scripts/bench_ranking.py``): accuracy of every ranker, quality and
speed of pages, and training time, on simulated data with known taste structure or on a CSV.

1. Data: ``simulate_catalogue`` (default 10,000 titles, 100,000 members, 1,000,000 plays), or
   ``--csv FILE`` in the ``artwork interactions import`` format (titles are the ids it names).
2. Training time: every ranker fitted on the whole log, as ``artwork ranking train`` does.
3. Accuracy: a temporal split (the last 10% of plays are the test period); recall@10 and
   nDCG@10 of each ranker on the titles members first watched in the test period, next to
   popularity; continue watching on the titles members resumed.
4. Pages: for a sample of members (and some new ones), every row selector builds a 40-row x
   25-title page; its build time, distinct titles and genres on the first screen, and (on
   simulated data) the click model's chance that the member plays something from it. The
   learned selector's page model is fitted on simulated logged homepages first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from artwork.bench.catalogue import SyntheticCatalogue, simulate_catalogue
from artwork.bench.pages import (
    ROW_ATTENTION,
    SLOT_ATTENTION,
    expected_play,
    play_probabilities,
    simulate_impressions,
)
from artwork.domain import Title
from artwork.ranking.config import RankingConfig
from artwork.ranking.data import RankingData
from artwork.ranking.interactions import InteractionLog, Member, from_epoch
from artwork.ranking.intervals import MemberBootstrap
from artwork.ranking.metrics import TemporalSplit, evaluate, first_screen, sample_members, targets
from artwork.ranking.model import RankingModel
from artwork.ranking.page import PageBuilder
from artwork.ranking.page_model import PageModel
from artwork.ranking.protocols import PROTOCOLS, ProtocolResult, member_protocol, summarise
from artwork.ranking.rankers import ContinueWatchingRanker, PopularityRanker
from artwork.ranking.registry import ROW_SELECTORS
from artwork.ranking.selectors import RowRankingSelector


@dataclass(frozen=True)
class BenchmarkOptions:
    """What to measure, and on what."""

    titles: int = 10_000
    users: int = 100_000
    interactions: int = 1_000_000
    genres: int = 32
    csv: Path | None = None
    seed: int = 0
    test_fraction: float = 0.1
    k: int = 10
    eval_users: int = 2000
    page_users: int = 300
    pages: int = 2000
    ease_max_titles: int = 4000
    ease_l2: float = 200.0
    because_you_watched_rows: int = 8
    full_train: bool = True
    splits: tuple[str, ...] = PROTOCOLS
    holdout: float = 0.2
    snapshots: int = 3
    snapshot_spacing: float = 0.1
    resamples: int = 1000

    def __post_init__(self) -> None:
        for name in (
            "titles",
            "users",
            "interactions",
            "genres",
            "k",
            "eval_users",
            "page_users",
            "pages",
            "ease_max_titles",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        unknown = [s for s in self.splits if s not in PROTOCOLS]
        if unknown or not self.splits:
            raise ValueError(f"splits must be some of {PROTOCOLS}, got {self.splits}")


def _load(options: BenchmarkOptions) -> tuple[RankingData, SyntheticCatalogue | None, str]:
    if options.csv is None:
        world = simulate_catalogue(
            titles=options.titles,
            users=options.users,
            interactions=options.interactions,
            genres=options.genres,
            seed=options.seed,
        )
        return world.ranking_data(), world, f"synthetic (seed {options.seed})"
    from artwork.ranking.importer import read_interactions_csv

    parsed = read_interactions_csv(options.csv)
    runtime: dict[str, float] = {}
    for play in parsed.interactions:
        if play.duration_s:
            runtime[play.title_id] = max(runtime.get(play.title_id, 0.0), play.duration_s)
    ids = sorted({p.title_id for p in parsed.interactions})
    titles = {t: Title(t, t, (), runtime.get(t)) for t in ids}
    log = InteractionLog.from_interactions(parsed.interactions, ids)
    if len(log) == 0:
        raise ValueError(f"{options.csv} holds no usable plays")
    now = from_epoch(float(log.timestamp[-1]))
    note = f"{options.csv} ({len(parsed.rejected)} rows rejected)"
    return RankingData(titles, log, now), None, note


def run(
    options: BenchmarkOptions, log: Callable[[str], None] = lambda _line: None
) -> dict[str, Any]:
    """Run the benchmark; returns the JSON-able result (see ``format_table``)."""
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    base, world, source = _load(options)
    generate_seconds = time.perf_counter() - start
    log(
        f"data: {source}, {len(base.titles)} titles, {len(base.log)} plays "
        f"({generate_seconds:.1f}s)"
    )
    config = RankingConfig(
        ease_max_titles=options.ease_max_titles,
        ease_l2=options.ease_l2,
        because_you_watched_rows=options.because_you_watched_rows,
    )

    train_seconds: float | None = None
    train_cpu_seconds: float | None = None
    full_fit: dict[str, float] = {}
    if options.full_train:
        start, cpu = time.perf_counter(), time.process_time()
        full = RankingModel.fit(base, config)
        train_seconds = time.perf_counter() - start
        # CPU time of every thread: on a busy machine, closer to the wall time of an idle one.
        train_cpu_seconds = time.process_time() - cpu
        full_fit = full.fit_seconds
        del full
        log(
            f"trained on all {len(base.log)} plays in {train_seconds:.1f}s "
            f"({train_cpu_seconds:.1f}s of CPU)"
        )

    split = TemporalSplit.by_fraction(base.log, options.test_fraction)
    train = split.train_data(base)
    start = time.perf_counter()
    model = RankingModel.fit(train, config)
    split_seconds = time.perf_counter() - start
    log(f"trained on the {len(split.train)} plays before the cut-off in {split_seconds:.1f}s")

    wanted = targets(split, train)
    chosen = sample_members(wanted.new, options.eval_users, options.seed)
    discovery = {n: r for n, r in model.rankers.items() if n != ContinueWatchingRanker.name}
    k = options.k
    protocols: dict[str, dict[str, Any]] = {}
    if "global" in options.splits:
        viewers = np.bincount(train.log.pairs()[1], minlength=len(train.index))
        scores = evaluate(
            discovery,
            train,
            {u: wanted.new[u] for u in chosen},
            k,
            cold_titles=viewers == 0,
        )
        protocols["global"] = summarise(
            ProtocolResult(
                "global",
                scores,
                {
                    "cutoff": from_epoch(split.cutoff).isoformat(),
                    "eligible_members": len(wanted.new),
                },
            ),
            k,
            options.resamples,
            options.seed,
        )
        log(f"global split: evaluated {len(chosen)} of {len(wanted.new)} members")
    if "member" in options.splits:
        result = member_protocol(
            base,
            config,
            list(discovery),
            holdout=options.holdout,
            snapshots=options.snapshots,
            spacing=options.snapshot_spacing,
            eval_users=options.eval_users,
            k=k,
            seed=options.seed,
            log=log,
        )
        protocols["member"] = summarise(result, k, options.resamples, options.seed)
        log(f"member split: evaluated {result.members} members")
    resume_ids = sample_members(wanted.resumed, options.eval_users, options.seed)
    resume = evaluate(
        {n: model.rankers[n] for n in (ContinueWatchingRanker.name, PopularityRanker.name)},
        train,
        {u: wanted.resumed[u] for u in resume_ids},
        k,
        exclude_seen=False,
        target="resume",
    )
    resumed = resume[ContinueWatchingRanker.name]
    baseline = resume[PopularityRanker.name]
    continue_watching = {
        f"recall@{k}": round(resumed.recall, 4),
        f"ndcg@{k}": round(resumed.ndcg, 4),
        f"popularity_recall@{k}": round(baseline.recall, 4),
        "lift_vs_popularity": round(resumed.recall / baseline.recall, 2)
        if baseline.recall
        else None,
        "target": "resume",
        "members": resumed.members,
    }
    first = protocols[options.splits[0]]
    rankers: dict[str, dict[str, Any]] = {
        **first["rankers"],
        ContinueWatchingRanker.name: continue_watching,
    }

    builder = PageBuilder(config=config).use(model)
    page_model_info: dict[str, Any] | None = None
    if world is not None:
        builder.data = train
        start = time.perf_counter()
        # Logged homepages from the training period: ten minutes apart, the last just before
        # the cut-off, each member answering with what appealed to them at that moment.
        simulated = simulate_impressions(
            world,
            builder,
            pages=options.pages,
            seed=options.seed,
            keep_impressions=False,
            at=from_epoch(split.cutoff - 600.0 * options.pages),
        )
        page_model = PageModel.fit(simulated.features, simulated.labels)
        model.page_model = page_model
        builder.use(model)
        page_model_info = {
            "pages": options.pages,
            "rows": page_model.examples,
            "positives": page_model.positives,
            "seconds": round(time.perf_counter() - start, 2),
            "coef": {
                n: round(float(c), 3)
                for n, c in zip(page_model.feature_names, page_model.coef, strict=True)
                if abs(c) > 1e-9
            },
        }
        log(f"page model fitted on {page_model.examples} simulated rows")

    test_moment = from_epoch((split.cutoff + base.now.timestamp()) / 2.0)
    selectors, page_lift = _pages(
        builder, train, world, chosen, {u: wanted.new[u] for u in chosen}, test_moment, options
    )
    slowest = max(s["page_ms_p50"] for s in selectors.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "data": {
            "source": source,
            "titles": len(base.titles),
            "members": len(base.log.user_ids),
            "interactions": len(base.log),
            "train_interactions": len(split.train),
            "test_interactions": len(split.test),
            "cutoff": from_epoch(split.cutoff).isoformat(),
            "generate_seconds": round(generate_seconds, 2),
        },
        "config": config.to_dict(),
        "k": k,
        "splits": protocols,
        "rankers": rankers,
        "page_ms_p50": slowest,
        "selectors": selectors,
        "page_lift": page_lift,
        "page_model": page_model_info,
        "train_seconds": None if train_seconds is None else round(train_seconds, 4),
        "train_cpu_seconds": None if train_cpu_seconds is None else round(train_cpu_seconds, 2),
        "train_fit_seconds": {n: round(s, 3) for n, s in full_fit.items()},
        "train_split_seconds": round(split_seconds, 2),
        "ease_titles": len(model.rankers["personalized"].get_state()["head"])
        if "personalized" in model.rankers
        else 0,
        "peak_rss_mb": round(peak, 1),
        # Timings are wall-clock: other work on the machine inflates them.
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
    }


def _pages(
    builder: PageBuilder,
    train: RankingData,
    world: SyntheticCatalogue | None,
    members: Sequence[str],
    wanted: Mapping[str, set[int]],
    at: datetime,
    options: BenchmarkOptions,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Per selector: build time, first-screen distinct titles and genres, and two page-level
    outcomes per member (pages built at the cut-off): the held-out titles the page shows,
    weighted by the attention their slot gets, and (simulated data) the click model's chance
    of a play in the middle of the test period. Also each selector's lift over row-ranking on
    those outcomes, with paired bootstrap intervals over members."""
    config = builder.config
    ids = list(members[: options.page_users])
    histories = [train.member(u) for u in ids]
    cold = [Member.cold(f"new-member-{i}") for i in range(max(1, len(ids) // 10))]
    index = train.index
    visible = config.first_screen_titles
    for member in histories[:20]:  # warm caches and code paths before timing
        builder.build(member, "stagewise")
    result: dict[str, dict[str, Any]] = {}
    outcomes: dict[str, dict[str, NDArray[np.float64]]] = {}
    for name in ROW_SELECTORS:
        times: list[float] = []
        cpu_times: list[float] = []
        distinct: list[float] = []
        genres: list[int] = []
        rows: list[int] = []
        width: list[float] = []
        plays: list[float] = []
        noticed: list[float] = []
        cold_distinct: list[float] = []
        cold_genres: list[int] = []
        for member in [*histories, *cold]:
            start, cpu = time.perf_counter_ns(), time.thread_time_ns()
            page = builder.build(member, name)
            times.append((time.perf_counter_ns() - start) / 1e6)
            cpu_times.append((time.thread_time_ns() - cpu) / 1e6)
            screen = first_screen(page, index, config.first_screen_rows, visible)
            rows.append(len(page.rows))
            width.append(float(np.mean([len(r.items) for r in page.rows])) if page.rows else 0.0)
            if member.is_cold:
                cold_distinct.append(screen.distinct_share)
                cold_genres.append(screen.genres)
                continue
            distinct.append(screen.distinct_share)
            genres.append(screen.genres)
            titles = [np.array([index.position[i.title_id] for i in r.items]) for r in page.rows]
            noticed.append(_held_out_attention(titles, wanted.get(member.user_id, set()), visible))
            if world is not None:
                u = world.log.user_index[member.user_id]
                chance = play_probabilities(
                    world, u, titles, member.seen_mask(len(index)), visible, at
                )
                plays.append(expected_play(chance))
        outcomes[name] = {"held_out_attention": np.array(noticed), "play_rate": np.array(plays)}
        result[name] = {
            "page_ms_p50": round(float(np.percentile(times, 50)), 3),
            "page_ms_p95": round(float(np.percentile(times, 95)), 3),
            # CPU time of the building thread: what the build costs when the machine is busy.
            "page_cpu_ms_p50": round(float(np.percentile(cpu_times, 50)), 3),
            "rows_per_page": round(float(np.mean(rows)), 1),
            "titles_per_row": round(float(np.mean(width)), 1),
            "first_screen_distinct": round(float(np.mean(distinct)), 4) if distinct else None,
            "first_screen_genres": round(float(np.mean(genres)), 2) if genres else None,
            "cold_first_screen_distinct": round(float(np.mean(cold_distinct)), 4),
            "cold_first_screen_genres": round(float(np.mean(cold_genres)), 2),
            "simulated_play_rate": round(float(np.mean(plays)), 4) if plays else None,
            "held_out_attention": round(float(np.mean(noticed)), 4) if noticed else None,
            "pages": len(times),
        }
    boot = MemberBootstrap(len(histories), options.resamples, options.seed)
    base = outcomes[RowRankingSelector.name]
    lift: dict[str, Any] = {"members": len(histories), "baseline": RowRankingSelector.name}
    for name, values in outcomes.items():
        if name == RowRankingSelector.name:
            continue
        entry: dict[str, Any] = {}
        for metric, numbers in values.items():
            if len(numbers) and float(base[metric].mean()) > 0:
                ratio = boot.ratio(numbers, base[metric])
                entry[metric] = round(ratio.estimate, 3)
                entry[f"{metric}_ci"] = ratio.as_list(3)
        lift[name] = entry
    return result, lift


def _held_out_attention(
    page: Sequence[NDArray[np.integer]], relevant: set[int], visible: int
) -> float:
    """Held-out titles a page shows, each weighted by the attention its slot gets (the click
    model's fall-off down rows and across titles; only the visible part of each row)."""
    total = 0.0
    for r, titles in enumerate(page):
        for s, t in enumerate(titles[:visible].tolist()):
            if t in relevant:
                total += ROW_ATTENTION**r * SLOT_ATTENTION**s
    return total


def format_table(result: dict[str, Any]) -> str:
    """The result as a few aligned tables."""
    data, k = result["data"], result["k"]
    lines = [
        f"ranking benchmark: {data['titles']:,} titles, {data['members']:,} members, "
        f"{data['interactions']:,} plays ({data['source']}); global cut-off {data['cutoff']}",
    ]
    for split, table in result["splits"].items():
        lines += [
            "",
            f"{split} split: {table['members']:,} members evaluated (of "
            f"{table['eligible_members']:,} eligible); 95% bootstrap intervals over members",
            f"{'ranker':<22}{'recall@' + str(k):>22}{'ndcg@' + str(k):>22}"
            f"{'ndcg x popularity':>22}{'new-title recall':>18}",
        ]
        for name, row in table["rankers"].items():
            cold = row[f"new_title_recall@{k}"]
            recall_ci, ndcg_ci = row[f"recall@{k}_ci"], row[f"ndcg@{k}_ci"]
            lift_ci = row.get("ndcg_vs_popularity_ci", [float("nan")] * 2)
            lines.append(
                f"{name:<22}"
                f"{row[f'recall@{k}']:>8.4f} [{recall_ci[0]:.4f},{recall_ci[1]:.4f}]"
                f"{row[f'ndcg@{k}']:>8.4f} [{ndcg_ci[0]:.4f},{ndcg_ci[1]:.4f}]"
                f"{row.get('ndcg_vs_popularity', float('nan')):>8.2f}x "
                f"[{lift_ci[0]:.2f},{lift_ci[1]:.2f}]"
                f"{'-' if cold is None else f'{cold:.4f}':>18}"
            )
        versus = table.get("comparison")
        if versus:
            ratio_ci = versus[f"ndcg@{k}_ratio_ci"]
            lines.append(
                f"{versus['ranker']} / {versus['best_non_personalised']} (best non-personalised) "
                f"nDCG@{k}: {versus[f'ndcg@{k}_ratio']:.2f}x [{ratio_ci[0]:.2f}, {ratio_ci[1]:.2f}]"
            )
    cw = result["rankers"].get("continue_watching")
    if cw:
        lines += [
            "",
            f"continue_watching on titles resumed after the global cut-off: recall@{k} "
            f"{cw[f'recall@{k}']:.4f}, nDCG@{k} {cw[f'ndcg@{k}']:.4f} (popularity recall "
            f"{cw[f'popularity_recall@{k}']:.4f}; {cw['members']} members)",
        ]
    lines += [
        "",
        f"{'selector':<14}{'ms p50':>8}{'ms p95':>8}{'cpu p50':>9}{'rows':>6}{'width':>7}"
        f"{'distinct':>10}"
        f"{'genres':>8}{'cold distinct':>15}{'cold genres':>13}{'play rate':>11}",
    ]
    for name, row in result["selectors"].items():
        distinct = row["first_screen_distinct"]
        genres = row["first_screen_genres"]
        play = row["simulated_play_rate"]
        lines.append(
            f"{name:<14}{row['page_ms_p50']:>8.2f}{row['page_ms_p95']:>8.2f}"
            f"{row['page_cpu_ms_p50']:>9.2f}"
            f"{row['rows_per_page']:>6.0f}{row['titles_per_row']:>7.1f}"
            f"{'-' if distinct is None else f'{distinct:.3f}':>10}"
            f"{'-' if genres is None else f'{genres:.1f}':>8}"
            f"{row['cold_first_screen_distinct']:>15.3f}{row['cold_first_screen_genres']:>13.1f}"
            f"{'-' if play is None else f'{play:.4f}':>11}"
        )
    lift = result.get("page_lift") or {}
    for name, entry in lift.items():
        if not isinstance(entry, dict) or not entry:
            continue
        parts = [
            f"{metric} {entry[metric]:.3f}x [{entry[metric + '_ci'][0]:.3f}, "
            f"{entry[metric + '_ci'][1]:.3f}]"
            for metric in ("held_out_attention", "play_rate")
            if metric in entry
        ]
        lines.append(
            f"{name} / {lift['baseline']} over {lift['members']} members: " + "; ".join(parts)
        )
    train = result["train_seconds"]
    lines += [
        "",
        f"training: {'-' if train is None else f'{train:.1f}s'} on all plays "
        f"({'-' if result['train_cpu_seconds'] is None else result['train_cpu_seconds']}s CPU; "
        f"{', '.join(f'{n} {s:.2f}s' for n, s in result['train_fit_seconds'].items())}); "
        f"{result['train_split_seconds']:.1f}s on the training split; EASE over "
        f"{result['ease_titles']} titles",
        f"data generated in {data['generate_seconds']:.1f}s; "
        f"peak RSS {result['peak_rss_mb']:.0f} MB; load average "
        f"{result['load_average'][0]:.1f} -> {result['load_average'][1]:.1f} on "
        f"{result['cpus']} CPUs",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/bench_ranking.py``: parse arguments, run, print a table or JSON."""
    defaults = BenchmarkOptions()
    parser = argparse.ArgumentParser(
        prog="bench_ranking.py",
        description="Benchmark the ranking core: ranker accuracy on a temporal split, page "
        "quality and build time per row selector, training time.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument(
        "--csv",
        type=Path,
        help="plays CSV (user_id,title_id,timestamp,seconds[,duration]) instead of simulated data",
    )
    parser.add_argument("--titles", type=int, default=defaults.titles)
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--interactions", type=int, default=defaults.interactions)
    parser.add_argument("--genres", type=int, default=defaults.genres)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--eval-users", type=int, default=defaults.eval_users)
    parser.add_argument("--page-users", type=int, default=defaults.page_users)
    parser.add_argument(
        "--pages",
        type=int,
        default=defaults.pages,
        help="simulated logged homepages the page model is fitted on",
    )
    parser.add_argument("--ease-max-titles", type=int, default=defaults.ease_max_titles)
    parser.add_argument("--ease-l2", type=float, default=defaults.ease_l2)
    parser.add_argument("--test-fraction", type=float, default=defaults.test_fraction)
    parser.add_argument(
        "--no-full-train", action="store_true", help="skip timing a fit on the whole log"
    )
    parser.add_argument(
        "--split",
        choices=(*PROTOCOLS, "both"),
        default="both",
        help="evaluation protocol: 'global' (one cut-off time for everyone), 'member' (each "
        "member's last plays held out, scored as of their own cut-off) or both",
    )
    parser.add_argument(
        "--holdout", type=float, default=defaults.holdout, help="member split: share held out"
    )
    parser.add_argument(
        "--snapshots",
        type=int,
        default=defaults.snapshots,
        help="member split: model snapshots (each a full fit)",
    )
    parser.add_argument(
        "--resamples", type=int, default=defaults.resamples, help="bootstrap resamples"
    )
    args = parser.parse_args(argv)
    try:
        options = BenchmarkOptions(
            titles=args.titles,
            users=args.users,
            interactions=args.interactions,
            genres=args.genres,
            csv=args.csv,
            seed=args.seed,
            test_fraction=args.test_fraction,
            eval_users=args.eval_users,
            page_users=args.page_users,
            pages=args.pages,
            ease_max_titles=args.ease_max_titles,
            ease_l2=args.ease_l2,
            full_train=not args.no_full_train,
            splits=PROTOCOLS if args.split == "both" else (args.split,),
            holdout=args.holdout,
            snapshots=args.snapshots,
            resamples=args.resamples,
        )
    except ValueError as exc:
        parser.error(str(exc))
    from artwork.errors import ArtworkError

    try:
        result = run(options, log=lambda line: print(line, file=sys.stderr))
    except (ArtworkError, ValueError) as exc:
        message = exc.message if isinstance(exc, ArtworkError) else str(exc)
        print(f"bench_ranking: error: {message}", file=sys.stderr)
        return 1
    print(json.dumps(result) if args.json else format_table(result))
    return 0
