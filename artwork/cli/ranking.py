"""``artwork ranking train|versions``: fit the rankers and page model, list saved versions."""

from __future__ import annotations

import argparse
import json
import sys

from artwork.cli.base import EXIT_OK, Subcommands, open_services
from artwork.config import Settings


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("ranking", help="train and inspect the homepage ranking")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    train = verbs.add_parser(
        "train",
        help="fit every ranker (and the page model) on the catalogue; save a new version",
        description="Fit every ranker on the catalogue's titles, plays and artwork embeddings, "
        "and the learned page model on logged homepages (when there are enough), and save "
        "them as a new version under ARTWORK_RANKING_DIR. A running service picks it up.",
    )
    train.add_argument("--json", action="store_true", help="print one JSON object")
    train.set_defaults(handler=run_train)
    versions = verbs.add_parser("versions", help="list saved ranking versions, newest last")
    versions.add_argument("--json", action="store_true", help="print one JSON object")
    versions.set_defaults(handler=run_versions)


def run_train(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.ranking.training import train

    with open_services(settings) as services:
        report = train(
            services.catalog,
            settings,
            log=(lambda _line: None) if args.json else lambda line: print(line, file=sys.stderr),
        )
    if args.json:
        print(
            json.dumps(
                {
                    "version": report.version,
                    "path": str(report.path),
                    "titles": report.titles,
                    "members": report.members,
                    "interactions": report.interactions,
                    "content_titles": report.content_titles,
                    "page_model": {
                        "examples": report.page_model_examples,
                        "positives": report.page_model_positives,
                    }
                    if report.page_model_examples
                    else None,
                    "seconds": round(report.seconds, 3),
                    "fit_seconds": {k: round(v, 3) for k, v in report.fit_seconds.items()},
                }
            )
        )
    else:
        print(
            f"ranking version {report.version}: {report.titles} titles, {report.members} "
            f"members, {report.interactions} plays in {report.seconds:.1f}s -> {report.path}"
        )
    return EXIT_OK


def run_versions(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.ranking.artifacts import ArtifactStore, ranking_dir

    store = ArtifactStore(ranking_dir(settings))
    versions = store.versions()
    if args.json:
        print(json.dumps({"dir": str(store.root), "versions": versions}))
    else:
        for version in versions:
            print(f"{version:6d}  {store.root / f'{version:06d}'}")
        if not versions:
            print(f"no ranking versions under {store.root}", file=sys.stderr)
    return EXIT_OK
