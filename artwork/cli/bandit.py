"""``artwork learn|evaluate|decisions|simulate``: the bandit's learner, offline evaluation, log
import/export as VW DSJSON, and the simulated world."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from artwork.cli.base import EXIT_ERROR, EXIT_OK, Subcommands
from artwork.config import Settings


def register(commands: Subcommands) -> None:
    learn = commands.add_parser(
        "learn", help="learn from the decision log and save model snapshots (one per database)"
    )
    learn.add_argument("--once", action="store_true", help="learn what is ready, then exit")
    learn.add_argument(
        "--interval",
        type=_positive,
        default=None,
        metavar="S",
        help="seconds between passes (default ARTWORK_LEARN_INTERVAL_S)",
    )
    learn.add_argument(
        "--rebuild",
        action="store_true",
        help="learn the whole log again with the configured policy (to change exploration)",
    )
    learn.add_argument(
        "--parent",
        type=int,
        default=None,
        metavar="PID",
        help="stop (saving a snapshot) once process PID has exited; artwork serve starts its "
        "learner process so",
    )
    learn.set_defaults(handler=run_learn)

    evaluate = commands.add_parser(
        "evaluate", help="off-policy evaluation of target policies on the decision log"
    )
    evaluate.add_argument(
        "--policy",
        action="append",
        default=None,
        metavar="SPEC",
        help="a policy to evaluate, e.g. softmax:lambda=5, epsilon_greedy:learning_rate=0.1, "
        "always:rank=1, always:variant=ID, baseline, uniform (repeatable; default: logged, "
        "current, baseline, uniform)",
    )
    evaluate.add_argument("--plot", type=Path, default=None, help="write a PNG chart here")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument("--confidence", type=float, default=0.95, help="interval level")
    evaluate.add_argument(
        "--bootstrap", type=int, default=0, metavar="N", help="bootstrap resamples (0: normal)"
    )
    evaluate.add_argument("--warmup", type=int, default=0, help="events learned, not scored")
    evaluate.add_argument(
        "--min-ess",
        type=float,
        default=None,
        metavar="N",
        help="warn about policies whose effective sample size is below N (default 100)",
    )
    evaluate.set_defaults(handler=run_evaluate)

    decisions = commands.add_parser("decisions", help="export or import the decision log")
    verbs = decisions.add_subparsers(dest="verb", required=True, metavar="VERB")
    export = verbs.add_parser("export", help="write resolved decisions as VW DSJSON")
    export.add_argument("file", type=Path, help="output file (.dsjson; '-' for stdout)")
    export.set_defaults(handler=run_export)
    imported = verbs.add_parser("import", help="add decisions from a VW DSJSON file")
    imported.add_argument("file", type=Path, help="input file")
    imported.set_defaults(handler=run_import)

    simulate = commands.add_parser(
        "simulate", help="run the simulated world: random, best single image, bandit, oracle"
    )
    simulate.add_argument("--decisions", type=int, default=20_000, help="artwork decisions")
    simulate.add_argument("--members", type=int, default=2000)
    simulate.add_argument("--titles", type=int, default=100)
    simulate.add_argument("--variants", type=int, default=8)
    simulate.add_argument("--page-size", type=int, default=5)
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument(
        "--reward-delay", type=float, default=120.0, metavar="S", help="mean reward delay"
    )
    simulate.add_argument(
        "--export", type=Path, default=None, help="write the bandit's decision log as DSJSON"
    )
    simulate.add_argument("--json", action="store_true", help="print one JSON object")
    simulate.set_defaults(handler=run_simulate)


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def run_learn(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.bandit.learner import Learner
    from artwork.bandit.learner_lock import learner_lock_for
    from artwork.catalog.database import create_database_engine

    engine = create_database_engine(settings.resolved_database_url)
    # One learner per database: serving workers (ARTWORK_LEARNER=background) and the learner
    # process of every `artwork serve` (ARTWORK_LEARNER=process) take the same lock, so this
    # waits for it (or, with --once, gives up) rather than learning twice.
    lock = learner_lock_for(engine)
    stop = threading.Event()
    # --once ends by itself (Ctrl-C interrupts it as any command); a learner that runs on
    # stops at the end of its pass, saving a snapshot.
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set())
        for sig in ((signal.SIGINT, signal.SIGTERM) if not args.once else ())
    }
    if args.parent is not None and not args.once:
        # The parent stops it (SIGTERM) once it has stopped serving: Ctrl-C in a terminal,
        # which reaches every process of the foreground group, is the parent's to handle.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        threading.Thread(
            target=_stop_with_parent, args=(args.parent, stop), name="parent-watch", daemon=True
        ).start()
    try:
        if not lock.try_acquire():
            if args.once:
                print(
                    "another process runs the learner for this database (artwork serve's "
                    "learner process or worker, or artwork learn); it learns already",
                    file=sys.stderr,
                )
                return EXIT_ERROR
            print("artwork: waiting for the learner lock held by another process", file=sys.stderr)
            while not lock.try_acquire():
                if stop.wait(1.0):
                    return EXIT_OK
        learner = Learner(engine, settings, rebuild=args.rebuild)
        if args.once:
            learned = learner.catch_up()
            print(
                f"learned {learned} events; model version {learner.version} "
                f"({learner.events_learned} events), cursor {learner.state.cursor}"
            )
            return EXIT_OK
        # The server's log shows this line: the database's password stays out of it.
        where = engine.url.render_as_string(hide_password=True)
        print(
            f"artwork: learning from {where} (model version {learner.version}); stop with Ctrl-C",
            file=sys.stderr,
        )
        learner.run(stop, interval_s=args.interval)
        print(f"stopped at model version {learner.version} ({learner.events_learned} events)")
        return EXIT_OK
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        lock.release()
        engine.dispose()


def _stop_with_parent(parent: int, stop: threading.Event, every_s: float = 1.0) -> None:
    """Set ``stop`` once process ``parent`` is gone (this process is then re-parented)."""
    while not stop.wait(every_s):
        if os.getppid() != parent:
            stop.set()


def run_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.bandit.log import DecisionLog
    from artwork.bandit.ope.evaluate import MIN_ESS, evaluate, resolved_events
    from artwork.bandit.ope.report import as_json, format_table, plot
    from artwork.bandit.ope.specs import parse_target
    from artwork.bandit.vw_policy import configured_interactions
    from artwork.catalog.database import create_database_engine
    from artwork.errors import InvalidInputError

    specs = args.policy or ["logged", "current", "baseline", "uniform"]
    try:
        targets = [parse_target(spec, settings) for spec in specs]
        interactions = configured_interactions(settings)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc
    engine = create_database_engine(settings.resolved_database_url)
    try:
        log = DecisionLog(engine)
        events, pending = resolved_events(log, settings, log.now())
    finally:
        engine.dispose()
    try:
        results = evaluate(
            events,
            targets,
            warmup=args.warmup,
            confidence=args.confidence,
            bootstrap=args.bootstrap,
            bits=settings.bandit_bits,
            interactions=interactions,
            min_ess=MIN_ESS if args.min_ess is None else args.min_ess,
        )
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc
    if args.plot is not None:
        plot(results, args.plot, title=f"off-policy estimates over {len(events)} decisions")
    if args.json:
        payload: dict[str, Any] = {"events": len(events), "pending": pending}
        payload["policies"] = as_json(results)
        print(json.dumps(payload))
    else:
        print(
            f"{len(events)} resolved decisions ({pending} still pending), "
            f"{args.confidence:.0%} intervals"
        )
        print(format_table(results))
        if args.plot is not None:
            print(f"plot: {args.plot}")
    return EXIT_OK


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.bandit.dsjson import export_dsjson
    from artwork.bandit.log import DecisionLog
    from artwork.catalog.database import create_database_engine
    from artwork.errors import InvalidInputError

    engine = create_database_engine(settings.resolved_database_url)
    try:
        log = DecisionLog(engine)
        if str(args.file) == "-":
            report = export_dsjson(log, sys.stdout, settings, log.now())
        else:
            try:
                args.file.parent.mkdir(parents=True, exist_ok=True)
                temporary = args.file.with_name(args.file.name + ".partial")
                with temporary.open("w", encoding="utf-8") as out:
                    report = export_dsjson(log, out, settings, log.now())
                temporary.replace(args.file)
            except OSError as exc:
                raise InvalidInputError(f"cannot write {args.file}: {exc}") from exc
    finally:
        engine.dispose()
    print(
        f"exported {report.exported} decisions ({report.pending} pending left out)",
        file=sys.stderr if str(args.file) == "-" else sys.stdout,
    )
    return EXIT_OK


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.bandit.dsjson import import_dsjson
    from artwork.bandit.log import DecisionLog
    from artwork.catalog.database import create_database_engine

    engine = create_database_engine(settings.resolved_database_url)
    try:
        report = import_dsjson(DecisionLog(engine), args.file)
    finally:
        engine.dispose()
    print(
        f"imported {report.imported} decisions with {report.rewards} rewards "
        f"({report.skipped} already in the log)"
    )
    return EXIT_OK


def run_simulate(args: argparse.Namespace, settings: Settings) -> int:
    import tempfile

    from artwork.bandit.dsjson import export_dsjson
    from artwork.bandit.simulator import WorldConfig, simulate
    from artwork.errors import InvalidInputError

    try:
        config = WorldConfig(
            members=args.members, titles=args.titles, variants=args.variants, seed=args.seed
        )
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc
    if not 1 <= args.page_size <= args.titles or args.decisions < args.page_size:
        raise InvalidInputError(
            f"--page-size must be in 1..{args.titles} and --decisions >= --page-size"
        )
    with tempfile.TemporaryDirectory(prefix="artwork-simulate-") as scratch:
        simulation = simulate(
            config,
            settings,
            f"sqlite:///{Path(scratch) / 'simulation.db'}",
            decisions=args.decisions,
            page_size=args.page_size,
            reward_delay_s=args.reward_delay,
            seed=args.seed,
        )
        log = simulation.bandit.log
        try:
            if args.export is not None:
                args.export.parent.mkdir(parents=True, exist_ok=True)
                with args.export.open("w", encoding="utf-8") as out:
                    export_dsjson(log, out, settings, log.now())
        finally:
            log.engine.dispose()
    result = simulation.summary()
    if args.json:
        print(json.dumps(result))
        return EXIT_OK
    print(f"{result['decisions']} decisions, {config.members} members, {config.titles} titles")
    print(f"{'policy':<12}{'take (after)':>14}{'online':>10}")
    for name, value in result["take_fraction"].items():
        print(f"{name:<12}{value:>14.4f}{result['online'][name]:>10.4f}")
    print(f"rewards {result['rewards']} ({result['late_rewards']} late, refused)")
    if args.export is not None:
        print(f"decision log: {args.export}")
    return EXIT_OK
