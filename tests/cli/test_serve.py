"""The real thing: `artwork serve` as a process, spoken to over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from artwork.config import Settings
from artwork.services import Services
from artwork.testing.catalog import seed_title
from artwork.testing.footage import sample_clip

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    home = tmp_path / "home"
    services = Services.from_settings(Settings(home=home))
    seed_title(services.catalog, services.media, "t1", variants=3)
    services.close()
    port = _free_port()
    env = os.environ | {"ARTWORK_HOME": str(home)}
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "artwork.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"server did not start within 60 s: {log_path.read_text()}")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_served_homepage_images_and_rewards(server: str) -> None:
    page = httpx.get(f"{server}/v1/homepage", params={"user_id": "u1"}, timeout=10).json()
    item = page["rows"][0]["items"][0]
    image = httpx.get(item["artwork"]["url"], timeout=10)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    ok = httpx.post(
        f"{server}/v1/rewards",
        json={"event_id": item["artwork"]["event_id"], "value": 1},
        timeout=10,
    )
    assert ok.status_code == 200
    unknown = httpx.post(f"{server}/v1/rewards", json={"event_id": "nope", "value": 1}, timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "event_not_found"


def test_upload_script_against_the_server(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    from artwork.cli.main import main

    args = ["upload", str(sample_clip("bikes.mp4")), "--server", server]
    assert main([*args, "--title-id", "bikes", "--name", "Bikes", "--genre", "sports"]) == 0
    assert capsys.readouterr().out.startswith("bikes: ")
    assert main([*args, "--title-id", "bikes", "--name", "Bikes"]) == 1
    assert "409" in capsys.readouterr().err


def test_upload_to_nowhere_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from artwork.cli.main import main

    args = ["upload", str(sample_clip("bikes.mp4")), "--title-id", "b", "--name", "B"]
    assert main([*args, "--server", f"http://127.0.0.1:{_free_port()}", "--timeout", "5"]) == 1
    assert capsys.readouterr().err.count("\n") == 1
