"""``artwork upload``: many titles, from flags or a CSV, retried, waited for, as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from artwork.cli.upload import UploadItem, UploadOptions, items_from_csv, upload_titles
from artwork.demo.footage import sample_clip
from artwork.errors import InvalidInputError
from artwork.testing.keys import api_client
from artwork.wiring import Services


def test_upload_and_wait_for_several_titles(ingesting_services: Services, tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video " * 50)
    items = [
        UploadItem(sample_clip("bikes.mp4"), "bikes", "Bikes", ("sports",)),
        UploadItem(text, "notes", "Notes"),
    ]
    options = UploadOptions(wait=True, poll_s=0.05)
    with api_client(ingesting_services, "editor") as client:
        outcomes = list(upload_titles(client, items, options))
    bikes, notes = outcomes
    assert bikes.ok and bikes.state == "succeeded" and bikes.job_id
    assert bikes.variants and {v["status"] for v in bikes.variants} == {"proposed"}
    assert set(bikes.as_json()) == {"title_id", "job_id", "state", "variants"}
    assert not notes.ok and "415" in notes.message


def test_transient_failures_are_retried_with_backoff(tmp_path: Path) -> None:
    video = tmp_path / "a.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\0" * 100)
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            request.read()
            if calls.count("POST /v1/titles") == 1:
                raise httpx.ConnectError("connection reset")
            if calls.count("POST /v1/titles") == 2:
                return httpx.Response(429, headers={"Retry-After": "7"}, json={})
            return httpx.Response(202, json={"job_id": "j1", "state": "queued"})
        if request.url.path == "/v1/jobs/j1":
            if calls.count("GET /v1/jobs/j1") == 1:
                return httpx.Response(503, json={})
            return httpx.Response(200, json={"state": "succeeded", "progress": 1.0})
        return httpx.Response(200, json={"variants": []})

    slept: list[float] = []
    options = UploadOptions(wait=True, sleep=slept.append)
    with httpx.Client(base_url="http://server", transport=httpx.MockTransport(handler)) as client:
        (outcome,) = upload_titles(client, [UploadItem(video, "a", "A")], options)
    assert outcome.ok and outcome.state == "succeeded"
    assert calls.count("POST /v1/titles") == 3
    assert slept[:2] == [0.5, 7.0]


def test_give_up_after_the_retries(tmp_path: Path) -> None:
    video = tmp_path / "a.mp4"
    video.write_bytes(b"x")

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        return httpx.Response(503, json={"error": {"code": "storage_error", "message": "busy"}})

    options = UploadOptions(retries=2, sleep=lambda _s: None)
    with httpx.Client(base_url="http://server", transport=httpx.MockTransport(handler)) as client:
        (outcome,) = upload_titles(client, [UploadItem(video, "a", "A")], options)
    assert not outcome.ok and "503" in outcome.message


def test_csv_rows(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").write_bytes(b"x")
    sheet = tmp_path / "titles.csv"
    sheet.write_text("title_id,name,genres,video\na,Alpha,drama|comedy,a.mp4\n")
    (item,) = items_from_csv(sheet)
    assert (item.title_id, item.name, item.genres) == ("a", "Alpha", ("drama", "comedy"))
    assert item.video == (tmp_path / "a.mp4").resolve()
    sheet.write_text("title_id,name,genres,video\na,Alpha,,missing.mp4\n")
    with pytest.raises(InvalidInputError, match="does not exist"):
        items_from_csv(sheet)


def test_the_command_needs_a_key(
    run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARTWORK_API_KEY", raising=False)
    result = run_cli("upload", str(sample_clip("bikes.mp4")))
    assert result.exit_code == 1 and "ARTWORK_API_KEY" in result.stderr


def test_the_command_against_nowhere_exits_1_with_json(
    run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTWORK_API_KEY", "ak_000000000000_" + "x" * 43)
    args = ["upload", str(sample_clip("bikes.mp4")), "--server", "http://127.0.0.1:9"]
    result = run_cli(*args, "--retries", "0", "--json")
    assert result.exit_code == 1
    line = json.loads(result.stdout)
    assert line["title_id"] == "bikes" and line["state"] == "failed"
