"""``artwork ingest`` (one file, many files, JSON, progress, Ray) and ``artwork variants``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from artwork.candidates.crops import CROP_FORMATS
from artwork.catalog.database import create_database_engine
from artwork.catalog.repository import Catalog
from artwork.demo.footage import sample_clip
from artwork.domain import VariantStatus
from artwork.scoring.base import Embedder
from artwork.testing.synthetic import Segment, write_synthetic_video

PLAN = [Segment("shot", 1.0), Segment("shot", 1.0), Segment("shot", 1.0)]


@pytest.fixture(autouse=True)
def light_extraction(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer frames and variants than the defaults: these tests are about the command."""
    monkeypatch.setenv("ARTWORK_MAX_SAMPLED_FRAMES", "12")
    monkeypatch.setenv("ARTWORK_VARIANTS_PER_TITLE", "3")


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("cli")
    return [
        write_synthetic_video(folder / "First Film.mp4", plan=PLAN, seed=1).path,
        write_synthetic_video(folder / "second_film.mp4", plan=PLAN, seed=2).path,
    ]


def _catalog(home: Path) -> Catalog:
    return Catalog(create_database_engine(f"sqlite:///{home / 'artwork.db'}"))


def _catalogue_is_empty(home: Path) -> bool:
    media = home / "media"
    files = [p for p in media.rglob("*") if p.is_file()] if media.exists() else []
    return _catalog(home).count_titles() == 0 and files == []


def _ingest(run_cli: Callable[..., Any], video: Path, *extra: str) -> Any:
    return run_cli("ingest", str(video), "--title-id", "t1", "--name", "T1", *extra)


def test_missing_file(run_cli: Callable[..., Any], home: Path, tmp_path: Path) -> None:
    result = _ingest(run_cli, tmp_path / "absent.mp4")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "absent.mp4" in result.stderr
    assert result.stdout == ""
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
    result = _ingest(run_cli, fake, "--json")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "notes.mp4" in result.stderr
    assert result.stdout == ""  # one file: the error goes to stderr only
    assert _catalogue_is_empty(home)


def test_bad_title_id(run_cli: Callable[..., Any], home: Path, videos: list[Path]) -> None:
    result = run_cli("ingest", str(videos[0]), "--title-id", "../x", "--name", "X")
    assert result.exit_code == 1
    assert "title id" in result.stderr and result.stderr.count("\n") == 1
    assert _catalogue_is_empty(home)


def test_usage_errors_exit_2(run_cli: Callable[..., Any], home: Path, videos: list[Path]) -> None:
    assert run_cli("ingest").exit_code == 2
    both = run_cli("ingest", *map(str, videos), "--title-id", "t")
    assert both.exit_code == 2 and "exactly one VIDEO" in both.stderr
    assert run_cli("ingest", *map(str, videos), "--name", "N").exit_code == 2
    assert _catalogue_is_empty(home)


def test_one_file_prints_the_documented_json(
    run_cli: Callable[..., Any], home: Path, videos: list[Path]
) -> None:
    result = run_cli("ingest", str(videos[0]), "--genre", "Drama", "--json")
    assert result.exit_code == 0, result.stderr
    [line] = result.stdout.splitlines()
    payload = json.loads(line)
    assert payload["title_id"] == "first-film"  # from the file name
    assert _catalog(home).get_title("first-film").name == "First Film"
    assert payload["embedder"].startswith("mobilenet_v2")
    assert {"frames_analysed", "seconds", "shots", "detector", "frames_decoded"} <= set(payload)
    assert payload["shots"] == 3 and payload["detector"] == "frames"
    assert 1 <= len(payload["variants"]) <= 3
    for v in payload["variants"]:
        assert {"variant_id", "frame_time_s", "score", "scores", "tags", "status"} <= set(v)
        assert {"sharpness", "exposure", "contrast", "transition"} <= set(v["scores"])
        assert Path(v["image_path"]).is_file()
        assert set(v["crops"]) == set(CROP_FORMATS)
        assert all(Path(c["image_path"]).is_file() for c in v["crops"].values())
    # Ingesting the same id again is refused and changes nothing.
    again = run_cli("ingest", str(videos[0]))
    assert again.exit_code == 1 and "--replace" in again.stderr
    assert _catalog(home).count_titles() == 1


def test_many_files_each_succeed_or_fail_on_their_own(
    run_cli: Callable[..., Any], home: Path, videos: list[Path], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    result = run_cli("ingest", str(videos[0]), str(broken), str(videos[1]), "--json")
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["title_id"] for line in lines] == ["first-film", "broken", "second_film"]
    assert "error" in lines[1] and lines[1]["error"]["code"] == "invalid_video"
    assert all(line.get("variants") for line in (lines[0], lines[2]))
    assert result.stderr.count("\n") == 1 and "broken.mp4" in result.stderr
    assert {t.title_id for t in _catalog(home).list_titles()} == {"first-film", "second_film"}


def test_a_warm_model_cache_ingests_without_importing_torch(
    home: Path, videos: list[Path], embedder: Embedder
) -> None:
    """The default embedder runs on ONNX Runtime: with its export cached (the session's
    ``embedder`` made it), the whole ``artwork ingest`` process never imports torch, nor the
    serving parts (the web framework, the bandit)."""
    heavy = ("torch", "torchvision", "fastapi", "artwork.homepage", "artwork.bandit.artwork_bandit")
    code = (
        "import json, sys\n"
        "from artwork.cli.main import main\n"
        f"code = main(['ingest', {str(videos[0])!r}, '--json', '--no-progress'])\n"
        f"print(json.dumps([code, sorted(m for m in {heavy!r} if m in sys.modules)]))\n"
    )
    env = dict(os.environ, ARTWORK_EMBEDDER_RUNTIME="auto")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr
    title, verdict = done.stdout.strip().splitlines()
    assert json.loads(title)["embedder"] == "mobilenet_v2-imagenet"
    assert json.loads(verdict) == [0, []]


def test_the_ingest_process_ends_without_teardown_and_loses_nothing(
    home: Path, videos: list[Path], tmp_path: Path
) -> None:
    """As the process's own command (no argv given), an ingest ends the process once it has
    closed everything, without the interpreter's teardown: no exit handler runs, yet every
    line is printed and every title stored."""
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    arguments = ["artwork", "ingest", str(videos[0]), str(broken), "--json", "--no-progress"]
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('torn down', file=sys.stderr))\n"
        "from artwork.cli.main import main\n"
        f"sys.argv = {arguments!r}\n"
        "sys.exit(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "torn down" not in done.stderr
    assert "broken.mp4" in done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["title_id"] for line in lines] == ["first-film", "broken"]
    assert lines[0]["variants"]
    assert {t.title_id for t in _catalog(home).list_titles()} == {"first-film"}
    # Another command returns as before, and the interpreter is torn down.
    variant_id = lines[0]["variants"][0]["variant_id"]
    code = code.replace(repr(arguments), repr(["artwork", "variants", "approve", variant_id]))
    listed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert listed.returncode == 0, listed.stderr
    assert variant_id in listed.stdout and "torn down" in listed.stderr


def test_text_output_and_a_progress_bar(
    run_cli: Callable[..., Any], videos: list[Path], tmp_path: Path
) -> None:
    result = run_cli("ingest", str(videos[0]), "--progress")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("first-film: ") and "variants from" in result.stdout
    assert "100%" in result.stderr and "First Film.mp4" in result.stderr
    quiet = run_cli("ingest", str(tmp_path / "absent.mp4"), "--no-progress")
    assert quiet.exit_code == 1 and quiet.stderr.count("\n") == 1  # the reason, no bar


def test_variants_approve_and_reject(
    run_cli: Callable[..., Any], home: Path, videos: list[Path]
) -> None:
    missing = run_cli("variants", "approve", "nope")
    assert missing.exit_code == 1 and "nope" in missing.stderr
    ingested = run_cli("ingest", str(videos[0]), "--json")
    variant_id = json.loads(ingested.stdout)["variants"][0]["variant_id"]
    rejected = run_cli("variants", "reject", variant_id)
    assert rejected.exit_code == 0 and rejected.stdout.strip() == f"{variant_id}: rejected"
    assert _catalog(home).get_variant(variant_id).status is VariantStatus.REJECTED
    approved = run_cli("variants", "approve", variant_id)
    assert approved.exit_code == 0 and approved.stdout.strip() == f"{variant_id}: approved"
    assert _catalog(home).get_variant(variant_id).status is VariantStatus.APPROVED


@pytest.mark.slow
def test_ingest_real_clips(run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTWORK_MAX_SAMPLED_FRAMES", "240")
    monkeypatch.setenv("ARTWORK_VARIANTS_PER_TITLE", "5")
    result = run_cli(
        "ingest", str(sample_clip("bigbuckbunny.mp4")), str(sample_clip("bikes.mp4")), "--json"
    )
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["title_id"] for line in lines] == ["bigbuckbunny", "bikes"]
    assert all(len(line["variants"]) == 5 for line in lines)


@pytest.mark.ray
def test_ingest_on_a_local_ray_instance(
    run_cli: Callable[..., Any], home: Path, videos: list[Path], tmp_path: Path
) -> None:
    pytest.importorskip("ray", reason="needs Ray: pip install 'artwork[ray]'")
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    result = run_cli(
        "ingest", str(videos[0]), str(broken), str(videos[1]), "--ray", "local", "--json"
    )
    assert result.exit_code == 1
    lines = {line["title_id"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert set(lines) == {"first-film", "broken", "second_film"}
    assert lines["broken"]["error"]["code"] == "invalid_video"
    assert lines["first-film"]["variants"] and lines["second_film"]["variants"]
    assert {t.title_id for t in _catalog(home).list_titles()} == {"first-film", "second_film"}
    media = [p for p in (home / "media").rglob("*.jpg")]
    stored = sum(len(lines[t]["variants"]) for t in ("first-film", "second_film"))
    assert len(media) == stored * (1 + len(CROP_FORMATS))


def test_the_command_line_starts_without_the_database_layer() -> None:
    """Every command pays for what `artwork` imports before it runs: the parser must not pull
    in SQLAlchemy or numpy (an ingest starts decoding while they load)."""
    code = (
        "import sys, artwork.cli.main; "
        "print(sorted(m for m in ('sqlalchemy', 'numpy', 'cv2', 'av') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
