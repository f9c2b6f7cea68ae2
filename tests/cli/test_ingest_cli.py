from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from artwork.catalog.database import create_database_engine
from artwork.catalog.repository import Catalog
from artwork.testing.footage import sample_clip


def _catalogue_is_empty(home: Path) -> bool:
    catalog = Catalog(create_database_engine(f"sqlite:///{home / 'artwork.db'}"))
    media = home / "media"
    files = [p for p in media.rglob("*") if p.is_file()] if media.exists() else []
    return catalog.count_titles() == 0 and files == []


def _ingest(run_cli: Callable[..., Any], video: Path, *extra: str) -> Any:
    return run_cli("ingest", str(video), "--title-id", "t1", "--name", "T1", *extra)


def test_missing_file(run_cli: Callable[..., Any], home: Path, tmp_path: Path) -> None:
    result = _ingest(run_cli, tmp_path / "absent.mp4")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "absent.mp4" in result.stderr
    assert _catalogue_is_empty(home)


def test_zero_byte_file(run_cli: Callable[..., Any], home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    result = _ingest(run_cli, empty)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "empty" in result.stderr
    assert _catalogue_is_empty(home)


def test_text_file_named_mp4(run_cli: Callable[..., Any], home: Path, tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 50)
    result = _ingest(run_cli, fake)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "notes.mp4" in result.stderr
    assert _catalogue_is_empty(home)


def test_bad_title_id(run_cli: Callable[..., Any], home: Path) -> None:
    result = run_cli("ingest", str(sample_clip("bikes.mp4")), "--title-id", "../x", "--name", "X")
    assert result.exit_code == 1
    assert "title id" in result.stderr
    assert _catalogue_is_empty(home)


def test_usage_error_exits_2(run_cli: Callable[..., Any]) -> None:
    assert run_cli("ingest").exit_code == 2


def test_ingest_real_clip_prints_json(run_cli: Callable[..., Any], home: Path) -> None:
    result = run_cli(
        "ingest",
        str(sample_clip("bikes.mp4")),
        "--title-id",
        "bikes",
        "--name",
        "Bikes",
        "--genre",
        "Sports",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["title_id"] == "bikes"
    assert payload["embedder"].startswith("mobilenet_v2")
    variants = payload["variants"]
    assert len(variants) == 5
    for v in variants:
        assert {"variant_id", "frame_time_s", "score", "scores", "image_path"} <= set(v)
        assert {"sharpness", "exposure", "contrast"} <= set(v["scores"])
        assert Path(v["image_path"]).is_file()
    assert len({v["frame_time_s"] for v in variants}) == 5
    # Ingesting the same id again is refused and changes nothing.
    again = run_cli("ingest", str(sample_clip("bikes.mp4")), "--title-id", "bikes", "--name", "B")
    assert again.exit_code == 1 and "--replace" in again.stderr
    assert len([p for p in (home / "media").rglob("*.jpg")]) == 5


@pytest.mark.slow
def test_ingest_big_buck_bunny(run_cli: Callable[..., Any]) -> None:
    result = run_cli(
        "ingest",
        str(sample_clip("bigbuckbunny.mp4")),
        "--title-id",
        "bbb",
        "--name",
        "BBB",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["variants"]) == 5


def test_variants_approve_and_reject(run_cli: Callable[..., Any]) -> None:
    result = run_cli("variants", "approve", "nope")
    assert result.exit_code == 1 and "nope" in result.stderr
