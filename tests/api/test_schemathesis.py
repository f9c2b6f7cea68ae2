"""Schemathesis against the live service (an editor and client key): no 5xx, no status the
OpenAPI schema does not document, responses that match their schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from artwork.config import Settings
from artwork.testing.catalog import seed_title
from artwork.testing.keys import make_key
from artwork.testing.server import running_server
from artwork.wiring import Services

pytestmark = pytest.mark.slow

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)


def test_the_fuzzer_finds_no_server_error_and_no_undocumented_status(tmp_path: Path) -> None:
    cli = Path(sys.executable).parent / "schemathesis"
    if not cli.exists():
        pytest.skip("schemathesis is not installed beside this Python (requirements/lock.txt)")
    home = tmp_path / "home"
    services = Services.from_settings(Settings(home=home))
    seed_title(services.catalog, services.media, "t1", variants=3)
    key = make_key(services.engine, "client", "editor")
    services.close()
    # The fuzzer is one caller sending fast: rate limits would only hide operations from it.
    no_limits = {f"ARTWORK_RATE_LIMIT_{s}": "0" for s in ("CLIENT", "EDITOR", "ADMIN")}
    with running_server(home, env=no_limits) as base:
        result = subprocess.run(
            [
                str(cli),
                "run",
                f"{base}/openapi.json",
                "--checks",
                CHECKS,
                "--header",
                f"Authorization: Bearer {key}",
                "--max-examples",
                "20",
                "--seed",
                "1",
                "--workers",
                "1",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,  # its cache folder goes there, not into the checkout
        )
        log = (home / "server.log").read_text()
    assert result.returncode == 0, result.stdout[-6000:]
    assert "Traceback" not in log, log[-4000:]
