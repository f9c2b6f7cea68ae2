"""The real thing: `artwork serve` as a process, spoken to over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from artwork.config import Settings
from artwork.demo.footage import sample_clip
from artwork.testing.catalog import seed_title
from artwork.testing.keys import bearer, make_key
from artwork.testing.server import free_port, running_server
from artwork.wiring import Services

pytestmark = pytest.mark.slow


@dataclass
class Server:
    base: str
    client_key: str
    editor_key: str
    log: Path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    home = tmp_path / "home"
    services = Services.from_settings(Settings(home=home))
    seed_title(services.catalog, services.media, "t1", variants=3)
    client_key = make_key(services.engine, "client")
    editor_key = make_key(services.engine, "editor")
    services.close()
    with running_server(home) as base:
        yield Server(base, client_key, editor_key, home / "server.log")


def test_served_homepage_images_and_rewards(server: Server) -> None:
    auth = bearer(server.client_key)
    assert httpx.get(f"{server.base}/v1/homepage?user_id=u1", timeout=10).status_code == 401
    page = httpx.get(
        f"{server.base}/v1/homepage", params={"user_id": "u1"}, headers=auth, timeout=10
    ).json()
    item = page["rows"][0]["items"][0]
    image = httpx.get(item["artwork"]["url"], timeout=10)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    ok = httpx.post(
        f"{server.base}/v1/rewards",
        json={"event_id": item["artwork"]["event_id"], "value": 1},
        headers=auth,
        timeout=10,
    )
    assert ok.status_code == 200
    unknown = httpx.post(
        f"{server.base}/v1/rewards",
        json={"event_id": "nope", "value": 1},
        headers=auth,
        timeout=10,
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "event_not_found"
    assert httpx.get(f"{server.base}/readyz", timeout=10).json()["status"] == "ready"
    assert "artwork_http_requests_total" in httpx.get(f"{server.base}/metrics", timeout=10).text
    # No line per request unless asked for (ARTWORK_ACCESS_LOG, --access-log).
    assert '"artwork.access"' not in server.log.read_text()


def test_the_access_log_writes_a_json_line_per_request(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with running_server(home, env={"ARTWORK_ACCESS_LOG": "true"}) as base:
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        assert httpx.get(f"{base}/v1/homepage?user_id=u1", timeout=10).status_code == 401
    lines = [
        json.loads(line)
        for line in (home / "server.log").read_text().splitlines()
        if '"artwork.access"' in line
    ]
    assert {(line["route"], line["status"]) for line in lines} >= {
        ("/healthz", 200),
        ("/v1/homepage", 401),
    }
    assert all(line["request_id"] for line in lines)


def test_upload_script_against_the_server(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    from artwork.cli.main import main

    args = ["upload", str(sample_clip("bikes.mp4")), "--server", server.base]
    args += ["--key", server.editor_key, "--no-progress"]
    assert main([*args, "--title-id", "bikes", "--name", "Bikes", "--wait", "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["state"] == "succeeded" and line["variants"]
    assert main([*args, "--title-id", "bikes", "--name", "Bikes"]) == 1
    assert "409" in capsys.readouterr().err


def test_upload_to_nowhere_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from artwork.cli.main import main

    args = ["upload", str(sample_clip("bikes.mp4")), "--title-id", "b", "--name", "B"]
    args += ["--key", "ak_000000000000_" + "x" * 43, "--retries", "0"]
    assert main([*args, "--server", f"http://127.0.0.1:{free_port()}", "--timeout", "5"]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_workers_default_to_the_settings_then_the_cores() -> None:
    from artwork.cli.serve import serve_workers

    assert serve_workers(3, Settings(workers=2)) == 3
    assert serve_workers(None, Settings(workers=2)) == 2
    assert serve_workers(None, Settings()) >= 1
    with pytest.raises(ValueError, match="--workers"):
        serve_workers(0, Settings())
