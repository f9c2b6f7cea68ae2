"""``artwork models prepare``: make the embedder's runtime files ready before the first ingest.

The default embedder (MobileNetV2 on ONNX Runtime, ``artwork.scoring.mobilenet_onnx``) runs
an ONNX export of the packaged weights, made once with torch and cached, checksum-tied, under
``$ARTWORK_HOME/models/onnx`` (``ARTWORK_MODEL_CACHE_DIR``). The first ingest on a machine
exports it when it is missing, which adds several seconds to that ingest; this command does it
ahead (in a Dockerfile, after installing). Running it again checks the cached file and exports
it again only when it is missing or does not match its record.

Exit codes: 0 prepared (or nothing to prepare for the configured embedder), 1 the export
failed or the weights are missing (the reason on stderr).
"""

from __future__ import annotations

import argparse
import json

from artwork.cli.base import EXIT_OK, Subcommands
from artwork.config import Settings


def register(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "models",
        help="prepare model files (the ONNX export of the default embedder)",
        description="Manage the model files artwork derives from its model artifacts.",
    )
    actions = parser.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    prepare = actions.add_parser(
        "prepare",
        help="export the default embedder to ONNX once, so no ingest has to",
        description="Export MobileNetV2 to ONNX (with torch) into the model cache, or verify "
        "the cached export; a no-op for embedders that need no export.",
    )
    prepare.add_argument("--json", action="store_true", help="print one JSON object")
    prepare.set_defaults(handler=run_prepare)


def run_prepare(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.scoring.registry import embedder_name_for, mobilenet_runtime_for

    name = embedder_name_for(settings)
    runtime = mobilenet_runtime_for(settings) if name == "mobilenet_v2" else None
    if runtime != "onnx":
        reason = (
            f"the {name} embedder loads its weights directly"
            if runtime is None
            else f"the {name} embedder runs on {runtime} (ARTWORK_EMBEDDER_RUNTIME)"
        )
        if args.json:
            print(json.dumps({"embedder": name, "runtime": runtime, "prepared": None}))
        else:
            print(f"nothing to prepare: {reason}")
        return EXIT_OK

    from artwork.scoring.mobilenet_onnx import onnx_dir, prepare

    done = prepare(onnx_dir(settings.resolved_model_cache_dir))
    if args.json:
        payload = {
            "embedder": name,
            "runtime": runtime,
            "prepared": str(done.path),
            "exported": done.exported,
            "seconds": round(done.seconds, 3),
        }
        print(json.dumps(payload))
    else:
        what = "exported" if done.exported else "already prepared, verified"
        print(f"{name} (onnx): {done.path} ({what} in {done.seconds:.1f}s)")
    return EXIT_OK
