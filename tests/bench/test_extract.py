"""The benchmark's parts: cut scoring, the cached film, one run on a tiny film, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from artwork.bench.extract import bench_video, cut_scores, main, run_benchmark
from artwork.config import Settings
from artwork.testing.films import film_truth


def test_cut_scores_allow_one_frame() -> None:
    planted = [1.0, 2.0, 3.0]
    found = [1.04, 2.2, 3.0, 5.0]  # 1 frame off, 5 frames off, exact, extra
    recall, precision = cut_scores(found, planted, fps=25)
    assert recall == pytest.approx(2 / 3) and precision == pytest.approx(2 / 4)
    assert cut_scores([], [], fps=25) == (1.0, 1.0)


def test_the_film_is_generated_once_and_its_truth_recomputed(tmp_path: Path) -> None:
    messages: list[str] = []
    first = bench_video(0.25, width=160, height=90, folder=tmp_path, log=messages.append)
    assert first.path.is_file() and len(messages) == 1
    assert first.path.name == "film-0.25min-160x90-24fps-seed0-v1.mp4"
    stamp = first.path.stat().st_mtime_ns
    again = bench_video(0.25, width=160, height=90, folder=tmp_path, log=messages.append)
    assert again == first and len(messages) == 1
    assert again.path.stat().st_mtime_ns == stamp
    assert list(tmp_path.iterdir()) == [first.path]  # no partial file left
    assert first == film_truth(first.path, seconds=15, width=160, height=90, seed=0)
    assert first.cuts_s and first.duration_s == pytest.approx(15)
    with pytest.raises(ValueError, match="minutes must be > 0, got 0"):
        bench_video(0, folder=tmp_path)
    with pytest.raises(ValueError, match="grain must be >= 0, got -1"):
        bench_video(0.25, grain=-1, folder=tmp_path)


def test_a_grainier_film_is_another_file(tmp_path: Path) -> None:
    plain = bench_video(0.05, width=160, height=90, folder=tmp_path)
    grainy = bench_video(0.05, width=160, height=90, grain=12, folder=tmp_path)
    assert grainy.path.name == "film-0.05min-160x90-24fps-seed0-grain12-v1.mp4"
    assert grainy.cuts_s == plain.cuts_s  # the same film under more grain
    assert grainy.path.stat().st_size > plain.path.stat().st_size


@pytest.mark.slow
def test_a_run_reports_speed_memory_and_accuracy(tmp_path: Path) -> None:
    truth = bench_video(0.5, width=320, height=180, folder=tmp_path)
    settings = Settings(home=tmp_path / "home", embedder="mobilenet_v2", shot_detector="keyframes")
    result = run_benchmark(truth.path, truth, settings, batch=2, first_ingest=True)
    assert result.detector == "keyframes"
    assert result.video_seconds == pytest.approx(30, abs=0.1)
    assert result.inprocess_realtime_factor == pytest.approx(30 / result.wall_seconds, rel=0.05)
    assert result.process_wall_seconds is not None and result.realtime_factor is not None
    assert result.realtime_factor == pytest.approx(30 / result.process_wall_seconds, rel=0.05)
    assert result.process_peak_rss_mb and result.process_peak_rss_mb > 0
    assert result.process_cpu_seconds and result.process_cpu_seconds > 0
    assert result.models_prepare_seconds is not None and result.models_prepare_seconds > 0
    # The first ingest on a machine exports the model: slower than the warm one.
    assert result.first_ingest_wall_seconds is not None
    assert result.first_ingest_wall_seconds > result.process_wall_seconds
    assert result.batch_files == 2 and result.batch_wall_seconds and result.batch_vs_single
    assert result.pyscenedetect_wall_seconds and result.ratio_vs_pyscenedetect
    assert result.ratio_vs_pyscenedetect == pytest.approx(
        result.process_wall_seconds / result.pyscenedetect_wall_seconds, rel=0.05
    )
    assert result.peak_rss_mb > 0
    assert result.cut_recall == 1.0 and result.cut_precision == 1.0
    assert result.pyscenedetect_cut_recall is not None
    assert 0 < result.frames_decoded < result.frames_total
    assert result.candidates >= 1


@pytest.mark.slow
def test_main_prints_one_json_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTWORK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ARTWORK_EMBEDDER", "mobilenet_v2")
    from artwork.config import get_settings
    from artwork.testing.synthetic import write_synthetic_video

    get_settings.cache_clear()
    video = write_synthetic_video(tmp_path / "v.mp4", seconds=4).path
    try:
        assert main(["--video", str(video), "--json", "--no-reference", "--no-process"]) == 0
    finally:
        get_settings.cache_clear()
    payload = json.loads(capsys.readouterr().out)
    for key in (
        "video_seconds",
        "wall_seconds",
        "realtime_factor",
        "inprocess_realtime_factor",
        "process_wall_seconds",
        "process_cpu_seconds",
        "first_ingest_wall_seconds",
        "models_prepare_seconds",
        "load_average",
        "pyscenedetect_wall_seconds",
        "ratio_vs_pyscenedetect",
        "peak_rss_mb",
        "shots_found",
        "frames_decoded",
    ):
        assert key in payload
    assert payload["cut_recall"] is None  # no planted truth for a given file
    assert payload["realtime_factor"] is None  # --no-process: no whole-process figure
    assert payload["first_ingest_wall_seconds"] is None
